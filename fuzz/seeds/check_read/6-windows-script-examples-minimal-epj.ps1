﻿#Requires -RunAsAdministrator
# zonecheck 0.1.0 - Windows Defender Firewall for host epj
# policy sha256 4476d63a64a1c50d63d1eda151ec7a90d5ff39c0258d01d971b7d8bd35a99857
#
# Generated: do not edit by hand. Run as administrator, e.g.
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\epj.ps1
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
# Only the policy's flows are allowed.
# Outbound is blocked too, so DNS, DHCP, Active Directory (Kerberos, LDAP, SMB), time
# sync, certificate revocation checks and Windows Update work only where the policy has
# flows for them (e.g. a flow to the domain controllers with the `ad` service). Nothing
# is added silently; give the host a static address or a policy flow for DHCP.

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

Write-Host 'zonecheck 0.1.0: Windows Defender Firewall for host epj'
Write-Host 'Host: EPJ'
Write-Host 'Owner: Helse og omsorg'
Write-Host 'Policy: Minimal (sha256 4476d63a64a1c50d63d1eda151ec7a90d5ff39c0258d01d971b7d8bd35a99857)'

# The rule group this script owns. No wildcard characters: -Group matches patterns.
$group = 'zonecheck'

# 1. Remove this group's old rules.
$old = @(Get-NetFirewallRule -Group $group -PolicyStore PersistentStore -ErrorAction SilentlyContinue)
if ($old.Count -gt 0) {
    $old | Remove-NetFirewallRule
}
Write-Host 'Removed' $old.Count 'old rule(s) of group' $group

# 2. Allow rules: 1 inbound, 0 outbound.
New-NetFirewallRule -PolicyStore PersistentStore -Group $group -Name 'zonecheck-minimal.zc:28-in-1' `
    -DisplayName 'zonecheck: vda -> epj : https (inbound TCP)' `
    -Description 'flow minimal.zc:28 vda -> epj : https: Helsepersonell bruker EPJ fra det publiserte skrivebordet' `
    -Enabled True -Profile Any -Direction Inbound -Action Allow -Protocol TCP `
    -LocalAddress @('10.0.10.10') `
    -RemoteAddress @('10.0.10.20') `
    -LocalPort @('443') | Out-Null
Write-Host 'Created' 1 'rule(s) in group' $group

# 3. Profiles: default Block, allow rules only, log dropped packets.
foreach ($p in @(Get-NetFirewallProfile -Name @('Domain', 'Private', 'Public') -PolicyStore PersistentStore)) {
    Write-Host 'Profile' $p.Name 'was: enabled' $p.Enabled 'inbound' $p.DefaultInboundAction 'outbound' $p.DefaultOutboundAction 'log blocked' $p.LogBlocked
}
Set-NetFirewallProfile -Profile @('Domain', 'Private', 'Public') -PolicyStore PersistentStore -Enabled True -DefaultInboundAction Block -DefaultOutboundAction Block -LogBlocked True -LogMaxSizeKilobytes 16384
Write-Host 'Profiles Domain, Private, Public now: enabled, inbound Block, outbound Block, dropped packets logged'
