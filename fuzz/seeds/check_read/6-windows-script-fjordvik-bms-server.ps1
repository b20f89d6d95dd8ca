﻿#Requires -RunAsAdministrator
# zonecheck 0.1.0 - Windows Defender Firewall for host bms-server
# policy sha256 7e9fe90e5b47a7a37252c4a6c6c2a75a3b83d652620043a6c47781b4d5444055
#
# Generated: do not edit by hand. Run as administrator, e.g.
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\bms-server.ps1
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
# Only the policy's flows are allowed.
# Outbound is allowed (the host is not in a closed zone). The firewall is stateful:
# replies to the host's own connections (DNS, DHCP, Active Directory, updates) need no
# inbound rule.

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

Write-Host 'zonecheck 0.1.0: Windows Defender Firewall for host bms-server'
Write-Host 'Host: SD-anlegg – sentral driftskontroll'
Write-Host 'Owner: Eiendomssjef'
Write-Host 'Policy: Fjordvik kommune (sha256 7e9fe90e5b47a7a37252c4a6c6c2a75a3b83d652620043a6c47781b4d5444055)'

# The rule group this script owns. No wildcard characters: -Group matches patterns.
$group = 'zonecheck'

# 1. Remove this group's old rules.
$old = @(Get-NetFirewallRule -Group $group -PolicyStore PersistentStore -ErrorAction SilentlyContinue)
if ($old.Count -gt 0) {
    $old | Remove-NetFirewallRule
}
Write-Host 'Removed' $old.Count 'old rule(s) of group' $group

# 2. Allow rules: 5 inbound, 0 outbound.
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:73-in-1' `
    -DisplayName 'zonecheck: monitor -> [adm-srv, infra, dmz, iot] : ping, snmp (inbound UDP)' `
    -Description 'flow 42-flows-felles.zc:73 monitor -> [adm-srv, infra, dmz, iot] : ping, snmp: Overvåking av servere og nettverksutstyr' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol UDP `
    -LocalAddress @('10.24.0.10') `
    -RemoteAddress @('10.20.60.30') `
    -LocalPort @('161') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:73-in-2' `
    -DisplayName 'zonecheck: monitor -> [adm-srv, infra, dmz, iot] : ping, snmp (inbound ICMPv4)' `
    -Description 'flow 42-flows-felles.zc:73 monitor -> [adm-srv, infra, dmz, iot] : ping, snmp: Overvåking av servere og nettverksutstyr' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol ICMPv4 `
    -LocalAddress @('10.24.0.10') `
    -RemoteAddress @('10.20.60.30') `
    -IcmpType @('8') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:140-in-1' `
    -DisplayName 'zonecheck: sd-undersentraler -> bms-server : bacnet (inbound UDP)' `
    -Description 'flow 42-flows-felles.zc:140 sd-undersentraler -> bms-server : bacnet: Undersentralene sender alarmer og verdiendringer (COV)' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol UDP `
    -LocalAddress @('10.24.0.10') `
    -RemoteAddress @('10.24.8.0/21') `
    -LocalPort @('47808') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:141-in-1' `
    -DisplayName 'zonecheck: jump-drift -> bms-server : https, rdp (inbound TCP)' `
    -Description 'flow 42-flows-felles.zc:141 jump-drift -> bms-server : https, rdp: Drift av SD-anlegget' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.24.0.10') `
    -RemoteAddress @('10.20.60.5') `
    -LocalPort @('443', '3389') | Out-Null
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-42-flows-felles.zc:141-in-2' `
    -DisplayName 'zonecheck: jump-drift -> bms-server : https, rdp (inbound UDP)' `
    -Description 'flow 42-flows-felles.zc:141 jump-drift -> bms-server : https, rdp: Drift av SD-anlegget' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol UDP `
    -LocalAddress @('10.24.0.10') `
    -RemoteAddress @('10.20.60.5') `
    -LocalPort @('3389') | Out-Null
Write-Host 'Created' 5 'rule(s) in group' $group

# 3. Profiles: default Block, allow rules only, log dropped packets.
foreach ($p in @(Get-NetFirewallProfile -Name @('Domain', 'Private', 'Public') -PolicyStore PersistentStore)) {
    Write-Host 'Profile' $p.Name 'was: enabled' $p.Enabled 'inbound' $p.DefaultInboundAction 'outbound' $p.DefaultOutboundAction 'log blocked' $p.LogBlocked
}
Set-NetFirewallProfile -Profile @('Domain', 'Private', 'Public') -PolicyStore PersistentStore -Enabled True -DefaultInboundAction Block -DefaultOutboundAction Allow -LogBlocked True -LogMaxSizeKilobytes 16384
Write-Host 'Profiles Domain, Private, Public now: enabled, inbound Block, outbound Allow, dropped packets logged'
