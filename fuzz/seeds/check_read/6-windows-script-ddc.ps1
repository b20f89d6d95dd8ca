﻿#Requires -RunAsAdministrator
# zonecheck 0.1.0 - Windows Defender Firewall for host ddc
# policy sha256 7e9fe90e5b47a7a37252c4a6c6c2a75a3b83d652620043a6c47781b4d5444055
#
# Generated: do not edit by hand. Run as administrator, e.g.
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\ddc.ps1
#
# What it does, and nothing else:
# 1. Removes every firewall rule of the rule group below from the local (persistent)
#    store. Rules of other groups, made by hand or by Windows, are not touched.
# 2. Creates the policy's allow rules in that group, one per flow, direction and
#    protocol (split when a rule would hold more than 1,000 addresses).
# 3. Sets the Domain, Private and Public profiles to: enabled, inbound Block,
#    outbound Block (the host is in a closed zone), dropped packets logged.
# Re-running it gives the same rules. It prints what it changed.
#
# Windows Firewall has no rule order, and a block rule beats every allow rule: a block
# rule elsewhere can stop a flow the policy allows, and an allow rule elsewhere (by hand,
# from software installers or from Group Policy) widens what this host accepts.
#
# Only the policy's flows are allowed, plus IPv6 neighbour discovery.
# Outbound is blocked too, so DNS, DHCP, Active Directory (Kerberos, LDAP, SMB), time
# sync, certificate revocation checks and Windows Update work only where the policy has
# flows for them (e.g. a flow to the domain controllers with the `ad` service). Nothing
# is added silently; give the host a static address or a policy flow for DHCP.

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

Write-Host 'zonecheck 0.1.0: Windows Defender Firewall for host ddc'
Write-Host 'Host: Citrix Delivery Controller'
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

# 2. Allow rules: 7 inbound, 6 outbound.
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:17-in-1' `
    -DisplayName 'zonecheck: [citrix-gw, storefront] -> ddc : https (inbound TCP)' `
    -Description 'flow 42-flows-felles.zc:17 [citrix-gw, storefront] -> ddc : https: StoreFront (XML-tjenesten) og Gateway (STA) mot Delivery Controller' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.48.40', '10.20.70.10', 'fd20:20:0:48::40') `
    -LocalPort @('443') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:20-in-1' `
    -DisplayName 'zonecheck: vda -> ddc : http (inbound TCP)' `
    -Description 'flow 42-flows-felles.zc:20 vda -> ddc : http: VDA-ene registrerer seg hos Delivery Controller (WCF med Kerberos)' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @(
        '10.20.11.11', '10.20.11.12', '10.20.11.13', '10.20.11.14',
        'fd20:20:0:11::11', 'fd20:20:0:11::12', 'fd20:20:0:11::13', 'fd20:20:0:11::14'
    ) `
    -LocalPort @('80') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:70-in-1' `
    -DisplayName 'zonecheck: monitor -> [sikker-srv, sikker-vdi, sikker-jump, sikker-backup] : ping (inbound ICMPv4)' `
    -Description 'flow 42-flows-felles.zc:70 monitor -> [sikker-srv, sikker-vdi, sikker-jump, sikker-backup] : ping: Tilgjengelighetsovervåking av sikker sone' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol ICMPv4 `
    -LocalAddress @('10.20.11.5') `
    -RemoteAddress @('10.20.60.30') `
    -IcmpType @('8') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:70-in-2' `
    -DisplayName 'zonecheck: monitor -> [sikker-srv, sikker-vdi, sikker-jump, sikker-backup] : ping (inbound ICMPv6)' `
    -Description 'flow 42-flows-felles.zc:70 monitor -> [sikker-srv, sikker-vdi, sikker-jump, sikker-backup] : ping: Tilgjengelighetsovervåking av sikker sone' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol ICMPv6 `
    -LocalAddress @('fd20:20:0:11::5') `
    -RemoteAddress @('fd20:20:0:60::30') `
    -IcmpType @('128') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:107-in-1' `
    -DisplayName 'zonecheck: jump-sikker -> [sikker-srv, sikker-vdi] : rdp, winrm-https (inbound TCP)' `
    -Description 'flow 42-flows-felles.zc:107 jump-sikker -> [sikker-srv, sikker-vdi] : rdp, winrm-https: Administrasjon av servere og VDA-er i sikker sone (PAM-økter med opptak)' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.12.5', 'fd20:20:0:12::5') `
    -LocalPort @('3389', '5986') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:107-in-2' `
    -DisplayName 'zonecheck: jump-sikker -> [sikker-srv, sikker-vdi] : rdp, winrm-https (inbound UDP)' `
    -Description 'flow 42-flows-felles.zc:107 jump-sikker -> [sikker-srv, sikker-vdi] : rdp, winrm-https: Administrasjon av servere og VDA-er i sikker sone (PAM-økter med opptak)' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol UDP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.12.5', 'fd20:20:0:12::5') `
    -LocalPort @('3389') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:32-out-1' `
    -DisplayName 'zonecheck: sikker-windows -> dc : ad (outbound TCP)' `
    -Description 'flow 42-flows-felles.zc:32 sikker-windows -> dc : ad: Domenetjenester for Windows i sikker sone (pålogging, GPO, DNS, tid)' `
    -Enabled True -Profile Any -Direction Outbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.50.10', '10.20.50.11', 'fd20:20:0:50::10', 'fd20:20:0:50::11') `
    -RemotePort @(
        '53', '88', '135', '389', '445', '464', '636', '3268-3269',
        '9389', '49152-65535'
    ) | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:32-out-2' `
    -DisplayName 'zonecheck: sikker-windows -> dc : ad (outbound UDP)' `
    -Description 'flow 42-flows-felles.zc:32 sikker-windows -> dc : ad: Domenetjenester for Windows i sikker sone (pålogging, GPO, DNS, tid)' `
    -Enabled True -Profile Any -Direction Outbound -Action Allow -Protocol UDP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.50.10', '10.20.50.11', 'fd20:20:0:50::10', 'fd20:20:0:50::11') `
    -RemotePort @('53', '88', '123', '389', '464') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:47-out-1' `
    -DisplayName 'zonecheck: sikker-windows -> wsus : wsus (outbound TCP)' `
    -Description 'flow 42-flows-felles.zc:47 sikker-windows -> wsus : wsus: Windows i sikker sone henter godkjente oppdateringer' `
    -Enabled True -Profile Any -Direction Outbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.50.20', 'fd20:20:0:50::20') `
    -RemotePort @('8531') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:53-out-1' `
    -DisplayName 'zonecheck: sikker-windows -> pki : http (outbound TCP)' `
    -Description 'flow 42-flows-felles.zc:53 sikker-windows -> pki : http: Sperrelister (CRL) og AIA for sertifikatvalidering' `
    -Enabled True -Profile Any -Direction Outbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.50.30', 'fd20:20:0:50::30') `
    -RemotePort @('80') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:64-out-1' `
    -DisplayName 'zonecheck: sikker-sone -> siem : syslog-tls (outbound TCP)' `
    -Description 'flow 42-flows-felles.zc:64 sikker-sone -> siem : syslog-tls: Sikkerhetslogger fra sikker sone til SIEM' `
    -Enabled True -Profile Any -Direction Outbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.20.11.5', 'fd20:20:0:11::5') `
    -RemoteAddress @('10.20.60.20', 'fd20:20:0:60::20') `
    -RemotePort @('6514') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-ipv6-nd-in' `
    -DisplayName 'zonecheck: IPv6 neighbour discovery (inbound)' `
    -Description 'Not a policy flow: ICMPv6 router and neighbour solicitation and advertisement (types 133-136), without which the host cannot reach its neighbours over IPv6.' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol ICMPv6 `
    -RemoteAddress @('::/0') `
    -IcmpType @('133', '134', '135', '136') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-ipv6-nd-out' `
    -DisplayName 'zonecheck: IPv6 neighbour discovery (outbound)' `
    -Description 'Not a policy flow: ICMPv6 router and neighbour solicitation and advertisement (types 133-136), without which the host cannot reach its neighbours over IPv6.' `
    -Enabled True -Profile Any -Direction Outbound -Action Allow -Protocol ICMPv6 `
    -RemoteAddress @('::/0') `
    -IcmpType @('133', '134', '135', '136') | Out-Null
Write-Host 'Created' 13 'rule(s) in group' $group

# 3. Profiles: default Block, allow rules only, log dropped packets.
foreach ($p in @(Get-NetFirewallProfile -Name @('Domain', 'Private', 'Public') -PolicyStore PersistentStore)) {
    Write-Host 'Profile' $p.Name 'was: enabled' $p.Enabled 'inbound' $p.DefaultInboundAction 'outbound' $p.DefaultOutboundAction 'log blocked' $p.LogBlocked
}
Set-NetFirewallProfile -Profile @('Domain', 'Private', 'Public') -PolicyStore PersistentStore -Enabled True -DefaultInboundAction Block -DefaultOutboundAction Block -LogBlocked True -LogMaxSizeKilobytes 16384
Write-Host 'Profiles Domain, Private, Public now: enabled, inbound Block, outbound Block, dropped packets logged'
