# Export a Windows host's firewall for `zonecheck check --device HOST firewall.json`.
# Run in an elevated PowerShell on the host; it writes firewall.json (UTF-8).
$rules = Get-NetFirewallRule -PolicyStore ActiveStore | ForEach-Object {
  $a = $_ | Get-NetFirewallAddressFilter; $p = $_ | Get-NetFirewallPortFilter
  $app = $_ | Get-NetFirewallApplicationFilter; $sec = $_ | Get-NetFirewallSecurityFilter
  [pscustomobject]@{ Name = $_.Name; DisplayName = $_.DisplayName; Description = $_.Description; Group = $_.Group;
    Enabled = "$($_.Enabled)"; Direction = "$($_.Direction)"; Action = "$($_.Action)"; Profile = "$($_.Profile)";
    EdgeTraversalPolicy = "$($_.EdgeTraversalPolicy)"; Owner = $_.Owner;
    LocalAddress = @($a.LocalAddress); RemoteAddress = @($a.RemoteAddress); Protocol = "$($p.Protocol)";
    LocalPort = @($p.LocalPort); RemotePort = @($p.RemotePort); IcmpType = @($p.IcmpType);
    Program = $app.Program; Package = $app.Package; Service = ($_ | Get-NetFirewallServiceFilter).Service;
    InterfaceType = "$(($_ | Get-NetFirewallInterfaceTypeFilter).InterfaceType)";
    InterfaceAlias = @(($_ | Get-NetFirewallInterfaceFilter).InterfaceAlias);
    LocalUser = $sec.LocalUser; RemoteUser = $sec.RemoteUser; RemoteMachine = $sec.RemoteMachine;
    Authentication = "$($sec.Authentication)"; Encryption = "$($sec.Encryption)";
    OverrideBlockRules = "$($sec.OverrideBlockRules)" }
}
$profiles = Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
  [pscustomobject]@{ Name = "$($_.Name)"; Enabled = "$($_.Enabled)";
    DefaultInboundAction = "$($_.DefaultInboundAction)"; DefaultOutboundAction = "$($_.DefaultOutboundAction)";
    AllowInboundRules = "$($_.AllowInboundRules)"; AllowLocalFirewallRules = "$($_.AllowLocalFirewallRules)";
    DisabledInterfaceAliases = @($_.DisabledInterfaceAliases) }
}
@{ Rules = @($rules); Profiles = @($profiles) } | ConvertTo-Json -Depth 5 | Set-Content -Encoding UTF8 firewall.json
