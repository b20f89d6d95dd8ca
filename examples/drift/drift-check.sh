#!/bin/sh
# Scheduled drift check (NSM grunnprinsipp 2.5.1: check regularly that the firewalls
# permit exactly the intended data flows). Run from cron or a CI schedule on a machine
# that holds the policy and can reach the devices read-only:
#
#   15 6 * * *  cd /srv/zonecheck && sh examples/drift/drift-check.sh policies/fjordvik
#
# Each device's live ruleset is dumped over SSH with a read-only account and checked
# against the policy in one run. Exit 0: every device permits exactly what the policy
# permits. Exit 1: a difference (each with a witness packet, the rule on the device and
# the flow in the policy), or a construct zonecheck cannot model (fail closed). Exit 2:
# a dump could not be read. The JUnit report goes to the CI system; keep the dumps as
# evidence for the audit trail.
set -eu
policy=${1:?usage: drift-check.sh POLICY_DIR}
out=dumps/$(date +%Y-%m-%d)
mkdir -p "$out/devices"

# nftables firewalls and Linux hosts: the kernel's ruleset as JSON.
for dev in fw-kjerne backup-repo monitor siem smtp-relay web-proxy; do
    ssh -o BatchMode=yes "zonecheck@$dev" sudo nft -j list ruleset > "$out/devices/$dev.json"
done
# Cisco IOS-XE: the running configuration (ACLs and their bindings).
ssh -o BatchMode=yes zonecheck@sw-core "show running-config" > "$out/devices/sw-core.ios"
# Windows hosts: run examples/drift/windows-export.ps1 on each (e.g. through WinRM or a
# scheduled task) and collect firewall.json as $out/devices/HOST.json.

args=""
for f in "$out"/devices/*; do
    dev=$(basename "$f"); dev=${dev%.*}
    args="$args --device $dev $f"
done
# shellcheck disable=SC2086
zonecheck check "$policy" $args --format junit > "$out/report.xml"
