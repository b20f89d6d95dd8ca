#!/usr/bin/env python3
"""Helpers for benches/aerleon/run.sh: turn a zonecheck policy into Aerleon input and into
a naive one-rule-per-flow nftables ruleset, and count what the rulesets contain.

Only the Python standard library is used (it runs outside the Aerleon venv too). The
policy is read as text: this understands the subset of the zonecheck language that the
synthetic generator (src/synth.rs) writes, plus a little more (`service` declarations,
several services per flow, several addresses per system, nested groups). Anything it does
not understand that would change the rules (an `any`, ICMP or `proto/N` service, an
unknown name) is an error, never silently dropped.

    convert.py aerleon POLICY.zc OUTDIR
        writes OUTDIR/def/networks.yaml, OUTDIR/def/services.yaml and
        OUTDIR/policies/pol/zonecheck.yaml (one term per flow, nftables forward chain)
    convert.py linear POLICY.zc OUT.nft [--device NAME] [--tuples OUT.tsv]
        writes one `ip saddr X ip daddr Y tcp dport P accept` rule per
        (flow, address pair, protocol/port); with --device only the address pairs that
        cross that firewall (source and destination zones on different interfaces),
        which is what zonecheck's firewall/NAME.nft enforces
    convert.py compare OUT.tsv RULESET.nft
        compares the (saddr, daddr, proto, port) tuples of the linear ruleset with those
        accepted by another ruleset (zonecheck's set elements, or Aerleon's rules); exit 1
        if they differ
    convert.py count-json < `nft -j list ruleset`
        prints "tables chains rules sets elements"
    convert.py count-aerleon FILE.nft
        prints "chains term_rules jumps" of Aerleon's nftables output
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
from dataclasses import dataclass, field

# zonecheck's built-in services (src/model/builtin.rs), the TCP/UDP ones. `any` and `ping`
# are left out on purpose: they have no port and convert() refuses them.
BUILTIN_SERVICES: dict[str, list[tuple[str, int, int]]] = {
    "http": [("tcp", 80, 80)],
    "https": [("tcp", 443, 443)],
    "http-proxy": [("tcp", 8080, 8080)],
    "ssh": [("tcp", 22, 22)],
    "rdp": [("tcp", 3389, 3389), ("udp", 3389, 3389)],
    "smb": [("tcp", 445, 445)],
    "dns": [("udp", 53, 53), ("tcp", 53, 53)],
    "ntp": [("udp", 123, 123)],
    "smtp": [("tcp", 25, 25)],
    "submission": [("tcp", 587, 587)],
    "imaps": [("tcp", 993, 993)],
    "pop3s": [("tcp", 995, 995)],
    "syslog": [("udp", 514, 514)],
    "syslog-tls": [("tcp", 6514, 6514)],
    "ica": [("tcp", 1494, 1494), ("tcp", 2598, 2598)],
    "ipp": [("tcp", 631, 631)],
    "ipps": [("tcp", 631, 631)],
    "jetdirect": [("tcp", 9100, 9100)],
    "ldap": [("tcp", 389, 389), ("udp", 389, 389)],
    "ldaps": [("tcp", 636, 636)],
    "kerberos": [("tcp", 88, 88), ("udp", 88, 88)],
    "mssql": [("tcp", 1433, 1433)],
    "postgres": [("tcp", 5432, 5432)],
    "amqp": [("tcp", 5672, 5672)],
    "amqps": [("tcp", 5671, 5671)],
    "winrm": [("tcp", 5985, 5985)],
    "winrm-https": [("tcp", 5986, 5986)],
    "snmp": [("udp", 161, 161)],
    "bacnet": [("udp", 47808, 47808)],
}

Port = tuple[str, int, int]  # (protocol, low, high)
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyError(Exception):
    pass


@dataclass
class Flow:
    line: int
    src: list[str]  # endpoint names (system, group or zone)
    dst: list[str]
    services: list[str]  # zonecheck service names or inline tcp/N, udp/N-M
    text: str  # file:line
    what: str  # "FROM -> TO : SERVICES" as written

    def comment(self) -> str:
        """As a double-quoted string, at most 120 bytes (nft allows 128 in a comment)."""
        c = f"flow {self.text} {self.what}".replace('"', "'")
        while len(c.encode()) > 120:
            c = c[:-1]
        return json.dumps(c, ensure_ascii=False)


@dataclass
class Policy:
    zones: dict[str, list[Net]] = field(default_factory=dict)
    systems: dict[str, tuple[str, list[Net]]] = field(default_factory=dict)  # name -> (zone, addresses)
    groups: dict[str, list[str]] = field(default_factory=dict)
    services: dict[str, list[Port]] = field(default_factory=dict)  # declared in the policy
    firewalls: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> zone -> interface
    flows: list[Flow] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Parsing


def statements(text: str):
    """Yield (line, statement) for each top-level statement: comments removed, a statement
    ends at a newline outside braces."""
    buf: list[str] = []
    depth = 0
    in_str = False
    start = 1
    line = 1
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if in_str:
            buf.append(c)
            if c == "\\" and i + 1 < n:
                buf.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
            elif c == "\n":
                line += 1
        elif c == '"':
            in_str = True
            buf.append(c)
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif c == "{":
            depth += 1
            buf.append(c)
        elif c == "}":
            depth -= 1
            buf.append(c)
        elif c == "\n":
            line += 1
            if depth == 0:
                s = "".join(buf).strip()
                if s:
                    yield start, s
                buf = []
                start = line
            else:
                buf.append(c)
        else:
            if not buf and c in " \t\r":
                start = line
            buf.append(c)
        i += 1
    s = "".join(buf).strip()
    if s:
        yield start, s


STRING = r'"(?:[^"\\]|\\.)*"'
NAME = r"[a-z][a-z0-9_-]*"


def body(stmt: str) -> str:
    """The text between the first '{' outside strings and the matching last '}'."""
    no_str = re.sub(STRING, lambda m: " " * len(m.group(0)), stmt)
    a = no_str.find("{")
    b = no_str.rfind("}")
    if a < 0 or b < a:
        return ""
    return stmt[a + 1 : b]


def clauses(block: str) -> list[str]:
    """Split a block body at ';' and newlines (outside strings)."""
    out, buf, in_str = [], [], False
    for c in block:
        if in_str:
            buf.append(c)
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            buf.append(c)
        elif c in ";\n":
            out.append("".join(buf).strip())
            buf = []
        else:
            buf.append(c)
    out.append("".join(buf).strip())
    return [c for c in out if c]


def parse_port(spec: str, where: str) -> Port:
    m = re.fullmatch(r"(tcp|udp)/(\d+)(?:-(\d+))?", spec.strip())
    if not m:
        raise PolicyError(
            f"{where}: service match {spec!r} has no TCP/UDP port; this benchmark converts "
            "only tcp/… and udp/… (no any, icmp, proto/N)"
        )
    lo = int(m.group(2))
    hi = int(m.group(3) or lo)
    return (m.group(1), lo, hi)


def endpoint_list(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        text = text.strip("[]")
    return [t.strip() for t in text.split(",") if t.strip()]


def parse(path: str) -> Policy:
    files = [path]
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".zc"))
    p = Policy()
    for f in files:
        with open(f, encoding="utf-8-sig") as fh:
            text = fh.read()
        for line, st in statements(text):
            where = f"{os.path.basename(f)}:{line}"
            kw = st.split(None, 1)[0]
            if kw == "zone":
                name = st.split()[1]
                nets: list[Net] = []
                for c in clauses(body(st)):
                    if c.startswith("net "):
                        nets += [ipaddress.ip_network(a.strip(), strict=False) for a in c[4:].split(",")]
                p.zones[name] = nets
            elif kw == "system":
                name = st.split()[1]
                zone, addrs = None, []
                for c in clauses(body(st)):
                    if c.startswith("zone "):
                        zone = c.split()[1]
                    elif c.startswith("address "):
                        addrs += [ipaddress.ip_network(a.strip(), strict=False) for a in c[8:].split(",")]
                if zone is None:
                    raise PolicyError(f"{where}: system {name} has no zone")
                p.systems[name] = (zone, addrs)
            elif kw == "group":
                name = st.split()[1]
                p.groups[name] = endpoint_list(body(st).replace("\n", ","))
            elif kw == "service":
                name = st.split()[1]
                ports: list[Port] = []
                for c in clauses(body(st)):
                    if c == "encrypted":
                        continue
                    ports += [parse_port(s, where) for s in c.split(",") if s.strip()]
                p.services[name] = ports
            elif kw in ("firewall", "switch"):
                name = st.split()[1]
                ifaces: dict[str, str] = {}
                for c in clauses(body(st)):
                    m = re.match(rf"interface\s+(\S+)\s+zone\s+({NAME}(?:\s*,\s*{NAME})*)", c)
                    if m:
                        for z in m.group(2).split(","):
                            ifaces[z.strip()] = m.group(1)
                if kw == "firewall":
                    p.firewalls[name] = ifaces
            elif kw == "flow":
                m = re.match(rf"flow\s+(.+?)\s*->\s*(.+?)\s*:\s*([^\"]+?)\s*({STRING})", st, re.S)
                if not m:
                    raise PolicyError(f"{where}: cannot read flow: {st[:80]}")
                p.flows.append(
                    Flow(
                        line=line,
                        src=endpoint_list(m.group(1)),
                        dst=endpoint_list(m.group(2)),
                        services=[s.strip() for s in m.group(3).split(",") if s.strip()],
                        text=f"{os.path.basename(f)}:{line}",
                        what=" ".join(f"{m.group(1)} -> {m.group(2)} : {m.group(3)}".split()),
                    )
                )
    return p


def service_ports(p: Policy, svc: str, where: str) -> list[Port]:
    if svc in p.services:
        return p.services[svc]
    if svc in BUILTIN_SERVICES:
        return BUILTIN_SERVICES[svc]
    if "/" in svc:
        return [parse_port(svc, where)]
    raise PolicyError(f"{where}: unknown or unsupported service {svc!r}")


def expand(p: Policy, name: str, where: str, seen=()) -> list[tuple[str, Net]]:
    """(zone, network) pairs an endpoint stands for."""
    if name in p.systems:
        zone, addrs = p.systems[name]
        return [(zone, a) for a in addrs]
    if name in p.zones:
        return [(name, n) for n in p.zones[name]]
    if name in p.groups:
        if name in seen:
            raise PolicyError(f"{where}: group {name} contains itself")
        out = []
        for m in p.groups[name]:
            out += expand(p, m, where, seen + (name,))
        return out
    raise PolicyError(f"{where}: unknown endpoint {name!r}")


# ---------------------------------------------------------------------------------------
# Aerleon input


def token(kind: str, name: str) -> str:
    return kind + "_" + re.sub(r"\W", "_", name).upper()


def svc_token(svc: str) -> str:
    return token("SVC", svc.replace("/", "_").replace("-", "_"))


def write_aerleon(p: Policy, out: str) -> None:
    os.makedirs(os.path.join(out, "def"), exist_ok=True)
    os.makedirs(os.path.join(out, "policies", "pol"), exist_ok=True)

    # networks.yaml: one object per system (its addresses), per zone (its prefixes), per
    # group (its members by name).
    lines = ["networks:"]
    for name, (_zone, addrs) in p.systems.items():
        lines.append(f"  {token('SYS', name)}:")
        lines.append("    values:")
        lines += [f"      - address: {a}" for a in addrs]
    for name, nets in p.zones.items():
        lines.append(f"  {token('ZONE', name)}:")
        lines.append("    values:")
        lines += [f"      - address: {n}" for n in nets]
    for name, members in p.groups.items():
        lines.append(f"  {token('GRP', name)}:")
        lines.append("    values:")
        lines += [f"      - name: {ref_token(p, m)}" for m in members]
    with open(os.path.join(out, "def", "networks.yaml"), "w") as fh:
        fh.write("\n".join(lines) + "\n")

    # services.yaml: one object per zonecheck service that a flow uses.
    used: dict[str, list[Port]] = {}
    for f in p.flows:
        for s in f.services:
            used.setdefault(s, service_ports(p, s, f.text))
    lines = ["services:"]
    for s, ports in used.items():
        lines.append(f"  {svc_token(s)}:")
        for proto, lo, hi in ports:
            port = str(lo) if lo == hi else f"{lo}-{hi}"
            lines.append(f"    - port: {port}")
            lines.append(f"      protocol: {proto}")
    with open(os.path.join(out, "def", "services.yaml"), "w") as fh:
        fh.write("\n".join(lines) + "\n")

    # The policy: one filter, nftables `inet forward` (Aerleon's "inet" is IPv4 only and
    # becomes nft family `ip`; every synthetic flow is IPv4), default drop; one term per flow.
    lines = [
        "filters:",
        "  - header:",
        "      comment: zonecheck synthetic policy, one term per flow",
        "      targets:",
        "        nftables: inet forward",
        "    terms:",
    ]
    terms = 0
    for i, f in enumerate(p.flows):
        ports = [pt for s in f.services for pt in service_ports(p, s, f.text)]
        by_proto: dict[str, set[tuple[int, int]]] = {}
        for proto, lo, hi in ports:
            by_proto.setdefault(proto, set()).add((lo, hi))
        # A term crosses its protocols with its ports. Split the flow by protocol when the
        # port sets differ (e.g. `dns, https`), so the term allows nothing extra.
        if len({frozenset(v) for v in by_proto.values()}) <= 1:
            parts = [(sorted(by_proto), f.services)]
        else:
            parts = []
            for proto in sorted(by_proto):
                svcs = [s for s in f.services if any(pt[0] == proto for pt in service_ports(p, s, f.text))]
                parts.append(([proto], svcs))
        for k, (protos, svcs) in enumerate(parts):
            suffix = "" if len(parts) == 1 else f"_{protos[0]}"
            lines.append(f"      - name: flow_{i}{suffix}")
            lines.append(f"        comment: {f.comment()}")
            lines.append(f"        source-address: {' '.join(ref_token(p, e) for e in f.src)}")
            lines.append(f"        destination-address: {' '.join(ref_token(p, e) for e in f.dst)}")
            lines.append(f"        destination-port: {' '.join(svc_token(s) for s in svcs)}")
            lines.append(f"        protocol: {' '.join(protos)}")
            lines.append("        action: accept")
            terms += 1
    with open(os.path.join(out, "policies", "pol", "zonecheck.yaml"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(
        f"aerleon input: {len(p.systems) + len(p.zones) + len(p.groups)} networks, "
        f"{len(used)} services, {terms} terms for {len(p.flows)} flows"
    )


def ref_token(p: Policy, name: str) -> str:
    if name in p.systems:
        return token("SYS", name)
    if name in p.zones:
        return token("ZONE", name)
    if name in p.groups:
        return token("GRP", name)
    raise PolicyError(f"unknown endpoint {name!r}")


# ---------------------------------------------------------------------------------------
# One rule per (flow, address pair, port)


def fmt_port(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def write_linear(p: Policy, out: str, device: str | None, tuples_out: str | None) -> None:
    ifaces = None
    if device is not None:
        if device not in p.firewalls:
            raise PolicyError(f"no firewall {device!r} in the policy")
        ifaces = p.firewalls[device]
    rules = []
    tuples = set()
    flows_used = 0
    for f in p.flows:
        src = [x for e in f.src for x in expand(p, e, f.text)]
        dst = [x for e in f.dst for x in expand(p, e, f.text)]
        ports = [pt for s in f.services for pt in service_ports(p, s, f.text)]
        n0 = len(rules)
        for zs, a in src:
            for zd, b in dst:
                if a.version != b.version:
                    continue
                if ifaces is not None:
                    ia, ib = ifaces.get(zs), ifaces.get(zd)
                    if ia is None or ib is None or ia == ib:
                        continue  # does not cross this firewall
                fam = "ip" if a.version == 4 else "ip6"
                sa = str(a.network_address) if a.prefixlen == a.max_prefixlen else str(a)
                sb = str(b.network_address) if b.prefixlen == b.max_prefixlen else str(b)
                for proto, lo, hi in ports:
                    rules.append(
                        f'\t\t{fam} saddr {sa} {fam} daddr {sb} {proto} dport {fmt_port(lo, hi)} '
                        f'accept comment {f.comment()}'
                    )
                    tuples.add((sa, sb, proto, fmt_port(lo, hi)))
        flows_used += len(rules) > n0
    scope = f"flows crossing firewall {device}" if device else "all flows"
    with open(out, "w") as fh:
        fh.write(f"# one rule per (flow, address pair, port): {scope}\n")
        fh.write("table inet zcbench_linear\ndelete table inet zcbench_linear\n")
        fh.write("table inet zcbench_linear {\n\tchain forward {\n")
        fh.write("\t\ttype filter hook forward priority filter; policy drop;\n")
        fh.write("\t\tct state established,related accept\n")
        fh.write("\n".join(rules) + "\n")
        fh.write("\t}\n}\n")
    if tuples_out:
        with open(tuples_out, "w") as fh:
            for t in sorted(tuples):
                fh.write("\t".join(t) + "\n")
    print(f"linear ruleset: {len(rules)} rules ({len(tuples)} distinct) from {flows_used} flows ({scope})")


# ---------------------------------------------------------------------------------------
# Checks and counts

ELEM = re.compile(
    r"^\s*([0-9a-fA-F.:/]+) \. ([0-9a-fA-F.:/]+) \. (tcp|udp) \. (\d+(?:-\d+)?)(?: comment \"[^\"]*\")?,?\s*$"
)
# A rule as Aerleon or write_linear() write it; anonymous sets `{ a, b }` allowed.
ITEM = r"(\{[^}]*\}|\S+)"
RULE = re.compile(rf"\bip6? saddr {ITEM} ip6? daddr {ITEM}.*?\b(tcp|udp) dport {ITEM}")


def items(x: str) -> list[str]:
    return [i.strip() for i in x.strip("{} ").split(",")]


def host(a: str) -> str:
    return a[:-3] if a.endswith("/32") else a[:-4] if a.endswith("/128") else a


def ruleset_tuples(path: str) -> set[tuple[str, ...]]:
    """(saddr, daddr, proto, port) tuples accepted by a ruleset: set elements as zonecheck
    writes them, and single rules as Aerleon and write_linear() write them."""
    out = set()
    with open(path) as fh:
        for l in fh:
            m = ELEM.match(l)
            if m:
                out.add(tuple(host(x) for x in m.groups()))
                continue
            m = RULE.search(l)
            if m and l.rstrip().endswith(("accept", '"')) and " accept" in l:
                for a in items(m.group(1)):
                    for b in items(m.group(2)):
                        for port in items(m.group(4)):
                            out.add((host(a), host(b), m.group(3), port))
    return out


def compare(tuples_file: str, nft_file: str) -> int:
    with open(tuples_file) as fh:
        linear = {tuple(l.rstrip("\n").split("\t")) for l in fh if l.strip()}
    zc = ruleset_tuples(nft_file)
    only_l, only_z = linear - zc, zc - linear
    name = os.path.basename(nft_file)
    if not only_l and not only_z:
        print(f"same tuples: {len(zc)} (saddr, daddr, proto, port) in both")
        return 0
    print(
        f"DIFFERENT: {len(linear)} linear tuples, {len(zc)} in {name}; "
        f"{len(only_l)} only in linear, {len(only_z)} only in {name}"
    )
    for t in sorted(only_l)[:5]:
        print("  only linear:", " . ".join(t))
    for t in sorted(only_z)[:5]:
        print(f"  only {name}:", " . ".join(t))
    return 1


def count_json() -> None:
    data = json.load(sys.stdin)
    counts = {"table": 0, "chain": 0, "rule": 0, "set": 0, "map": 0}
    elements = 0
    for obj in data.get("nftables", []):
        for k in counts:
            if k in obj:
                counts[k] += 1
                if k in ("set", "map"):
                    elements += len(obj[k].get("elem", []))
    print(counts["table"], counts["chain"], counts["rule"], counts["set"] + counts["map"], elements)


def count_aerleon(path: str) -> None:
    """Chains, rules in the per-term chains, and jump rules, of Aerleon's nftables output."""
    chains = rules = jumps = 0
    depth = 0
    with open(path) as fh:
        for l in fh:
            s = l.strip()
            if depth == 1 and s.startswith("chain ") and s.endswith("{"):
                chains += 1
            elif depth == 2 and s and not s.startswith(("comment ", "type ", "ct state established", "}")):
                if s.startswith("jump "):
                    jumps += 1
                else:
                    rules += 1
            depth += s.count("{") - s.count("}")
    print(chains, rules, jumps)


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 3 and argv[0] == "aerleon":
            write_aerleon(parse(argv[1]), argv[2])
        elif len(argv) >= 3 and argv[0] == "linear":
            rest = argv[3:]
            opts = dict(zip(rest[::2], rest[1::2]))
            if len(rest) % 2 or set(opts) - {"--device", "--tuples"}:
                raise PolicyError(f"bad options {rest}")
            write_linear(parse(argv[1]), argv[2], opts.get("--device"), opts.get("--tuples"))
        elif len(argv) == 3 and argv[0] == "compare":
            return compare(argv[1], argv[2])
        elif argv == ["count-json"]:
            count_json()
        elif len(argv) == 2 and argv[0] == "count-aerleon":
            count_aerleon(argv[1])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (PolicyError, OSError, ValueError) as e:
        print(f"convert.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
