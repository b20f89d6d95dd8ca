﻿#Requires -RunAsAdministrator
# zonecheck 0.1.0 - Windows Defender Firewall for host pki
# policy sha256 7e9fe90e5b47a7a37252c4a6c6c2a75a3b83d652620043a6c47781b4d5444055
#
# Generated: do not edit by hand. Run as administrator, e.g.
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\pki.ps1
#
# What it does, and nothing else:
# 1. Removes every firewall rule of the rule group below from the local (persistent)
#    store. Rules of other groups, made by hand or by Windows, are not touched.
# 2. Creates the policy's allow rules in that group, one per flow, direction and
#    protocol (split when a rule would hold more than 1,000 addresses).
# 3. Sets the Domain, Private and Public profiles to: enabled, inbound Block,
#    outbound Allow, dropped packets logged.
# Re-running it gives the same rules. It prints what it changed.
#
# Windows Firewall has no rule order, and a block rule beats every allow rule: a block
# rule elsewhere can stop a flow the policy allows, and an allow rule elsewhere (by hand,
# from software installers or from Group Policy) widens what this host accepts.
#
# Only the policy's flows are allowed, plus IPv6 neighbour discovery.
# Outbound is allowed (the host is not in a closed zone). The firewall is stateful:
# replies to the host's own connections (DNS, DHCP, Active Directory, updates) need no
# inbound rule.

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

Write-Host 'zonecheck 0.1.0: Windows Defender Firewall for host pki'
Write-Host 'Host: Sertifikattjeneste (AD CS, CRL/AIA)'
Write-Host 'Owner: IT-seksjonen'
Write-Host 'Policy: Fjordvik kommune (sha256 7e9fe90e5b47a7a37252c4a6c6c2a75a3b83d652620043a6c47781b4d5444055)'

# The rule group this script owns. No wildcard characters: -Group matches patterns.
$group = 'zonecheck'

# 1. Remove this group's old rules.
$old = @(Get-NetFirewallRule -Group $group -PolicyStore PersistentStore -ErrorAction SilentlyContinue)
if ($old.Count -gt 0) {
    $old | Remove-NetFirewallRule
}
Write-Host 'Removed' $old.Count 'old rule(s) of group' $group

# 2. Allow rules: 8 inbound, 0 outbound.
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:53-in-1' `
    -DisplayName 'zonecheck: sikker-windows -> pki : http (inbound TCP)' `
    -Description 'flow 42-flows-felles.zc:53 sikker-windows -> pki : http: Sperrelister (CRL) og AIA for sertifikatvalidering' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.50.30', 'fd20:20:0:50::30') `
    -RemoteAddress @(
        '10.20.10.0/24', '10.20.11.0/24', '10.20.12.0/28', '10.20.14.0/24',
        'fd20:20:0:10::/64', 'fd20:20:0:11::/64', 'fd20:20:0:12::/64'
    ) `
    -LocalPort @('80') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:57-in-1' `
    -DisplayName 'zonecheck: adm-windows -> pki : http (inbound TCP)' `
    -Description 'flow 42-flows-felles.zc:57 adm-windows -> pki : http: Sperrelister (CRL) og AIA for sertifikatvalidering' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.50.30', 'fd20:20:0:50::30') `
    -RemoteAddress @(
        '10.20.32.0/20', '10.20.48.0/24', '10.20.60.5', '10.21.0.0/20',
        'fd20:20:0:32::/64', 'fd20:20:0:48::/64', 'fd20:20:0:60::5'
    ) `
    -LocalPort @('80') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:73-in-1' `
    -DisplayName 'zonecheck: monitor -> [adm-srv, infra, dmz, iot] : ping, snmp (inbound UDP)' `
    -Description 'flow 42-flows-felles.zc:73 monitor -> [adm-srv, infra, dmz, iot] : ping, snmp: Overvåking av servere og nettverksutstyr' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol UDP `
    -LocalAddress @('10.20.50.30', 'fd20:20:0:50::30') `
    -RemoteAddress @('10.20.60.30', 'fd20:20:0:60::30') `
    -LocalPort @('161') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:73-in-2' `
    -DisplayName 'zonecheck: monitor -> [adm-srv, infra, dmz, iot] : ping, snmp (inbound ICMPv4)' `
    -Description 'flow 42-flows-felles.zc:73 monitor -> [adm-srv, infra, dmz, iot] : ping, snmp: Overvåking av servere og nettverksutstyr' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol ICMPv4 `
    -LocalAddress @('10.20.50.30') `
    -RemoteAddress @('10.20.60.30') `
    -IcmpType @('8') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:73-in-3' `
    -DisplayName 'zonecheck: monitor -> [adm-srv, infra, dmz, iot] : ping, snmp (inbound ICMPv6)' `
    -Description 'flow 42-flows-felles.zc:73 monitor -> [adm-srv, infra, dmz, iot] : ping, snmp: Overvåking av servere og nettverksutstyr' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol ICMPv6 `
    -LocalAddress @('fd20:20:0:50::30') `
    -RemoteAddress @('fd20:20:0:60::30') `
    -IcmpType @('128') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:97-in-1' `
    -DisplayName 'zonecheck: jump-drift -> [adm-srv, infra, dmz] : rdp, ssh, winrm-https (inbound TCP)' `
    -Description 'flow 42-flows-felles.zc:97 jump-drift -> [adm-srv, infra, dmz] : rdp, ssh, winrm-https: Drift av servere i administrativt nett, infrastruktur og DMZ' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.50.30', 'fd20:20:0:50::30') `
    -RemoteAddress @('10.20.60.5', 'fd20:20:0:60::5') `
    -LocalPort @('22', '3389', '5986') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:97-in-2' `
    -DisplayName 'zonecheck: jump-drift -> [adm-srv, infra, dmz] : rdp, ssh, winrm-https (inbound UDP)' `
    -Description 'flow 42-flows-felles.zc:97 jump-drift -> [adm-srv, infra, dmz] : rdp, ssh, winrm-https: Drift av servere i administrativt nett, infrastruktur og DMZ' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol UDP `
    -LocalAddress @('10.20.50.30', 'fd20:20:0:50::30') `
    -RemoteAddress @('10.20.60.5', 'fd20:20:0:60::5') `
    -LocalPort @('3389') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-ipv6-nd-in' `
    -DisplayName 'zonecheck: IPv6 neighbour discovery (inbound)' `
    -Description 'Not a policy flow: ICMPv6 router and neighbour solicitation and advertisement (types 133-136), without which the host cannot reach its neighbours over IPv6.' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol ICMPv6 `
    -RemoteAddress @('::/0') `
    -IcmpType @('133', '134', '135', '136') | Out-Null
Write-Host 'Created' 8 'rule(s) in group' $group

# 3. Profiles: default Block, allow rules only, log dropped packets.
foreach ($p in @(Get-NetFirewallProfile -Name @('Domain', 'Private', 'Public') -PolicyStore PersistentStore)) {
    Write-Host 'Profile' $p.Name 'was: enabled' $p.Enabled 'inbound' $p.DefaultInboundAction 'outbound' $p.DefaultOutboundAction 'log blocked' $p.LogBlocked
}
Set-NetFirewallProfile -Profile @('Domain', 'Private', 'Public') -PolicyStore PersistentStore -Enabled True -DefaultInboundAction Block -DefaultOutboundAction Allow -LogBlocked True -LogMaxSizeKilobytes 16384
Write-Host 'Profiles Domain, Private, Public now: enabled, inbound Block, outbound Allow, dropped packets logged'
