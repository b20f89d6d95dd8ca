//! A hostile host inside, in the real kernel (DESIGN.md §4a, issue 18): packets a
//! compromised machine in the closed zone can forge, sent through the compiled firewall.
//!
//! One router namespace runs the compiled `fw` ruleset between three links: `lan0` (the
//! closed zone, with the compromised appliance `app`), `dmz0` (the public DNS server `web`)
//! and `wan0` (an Internet host). The Internet host opens a DNS "connection" to `web`
//! (declared), and then:
//!
//! - `app` sends an ICMP error to the Internet host quoting that connection, with data
//!   appended: conntrack calls it related, so only the pair restriction stops it;
//! - `app` sends a UDP datagram with `web`'s address as its source, matching the answer
//!   direction of that connection: conntrack calls it established, so only anti-spoofing
//!   stops it;
//! - the policy is updated to drop the DNS flow: the open connection must stop, while a
//!   connection of a flow the update keeps goes on.
//!
//! Each hostile packet also has a control: the same packet from the host that may send it
//! arrives, and, with the two defences cut out of the ruleset, the hostile one arrives too,
//! so a "blocked" here is the ruleset's doing. A Linux host ruleset is probed the same way
//! with neighbour solicitations at hop limit 254 (off-link, forged) and 255.
//!
//! Packets are crafted with Python raw sockets inside the namespaces; they go only between
//! addresses of the namespaces this test creates.

#[path = "kernel/netns.rs"]
#[allow(dead_code)] // shared with the other kernel tests; this one uses a few helpers
mod netns;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use netns::{Lab, kernel_ready, note, run};

/// The packet tools, run as `python3 -c TOOLS SUBCOMMAND ARGS…` in a namespace.
const TOOLS: &str = r#"
import socket, struct, sys, time, os, select

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data

def send_raw(dst, packet):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.sendto(packet, (dst, 0))
    except PermissionError:            # the sender's own output hook dropped it
        print("refused", flush=True)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "echo":                      # echo PORT…: UDP echo servers, until killed
    socks = []
    for p in args:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(p)))
        socks.append(s)
    print("ready", flush=True)
    while True:
        for s in select.select(socks, [], [])[0]:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)
elif cmd == "client":                  # client SRC SPORT DST DPORT FLAG: ask, wait for FLAG, ask again
    src, sport, dst, dport, flag = args[0], int(args[1]), args[2], int(args[3]), args[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, sport))
    s.settimeout(2.0)
    def ask(word):
        s.sendto(word.encode(), (dst, dport))
        try:
            return s.recv(2048).decode() == word
        except socket.timeout:
            return False
    print("first", "reply" if ask("one") else "none", flush=True)
    while not os.path.exists(flag):
        time.sleep(0.05)
    print("second", "reply" if ask("two") else "none", flush=True)
elif cmd == "sniff":                   # sniff 4|6 PROTO MARKER SECONDS: prints seen or none
    fam = socket.AF_INET6 if args[0] == "6" else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_RAW, int(args[1]))
    marker, end = args[2].encode()[:14], time.time() + float(args[3])
    print("ready", flush=True)
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            if marker in s.recv(4096):
                print("seen", flush=True); sys.exit(0)
        except socket.timeout:
            break
    print("none", flush=True)
elif cmd == "icmp-error":              # icmp-error SRC DST ISRC ISPORT IDST IDPORT MARKER
    src, dst, isrc, isport, idst, idport, marker = args
    inner = ip4(isrc, idst, 17, udp(int(isport), int(idport), b""))[:28]
    body = struct.pack("!BBHI", 3, 3, 0, 0) + inner + marker.encode()
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    send_raw(dst, ip4(src, dst, 1, body))
elif cmd == "udp-forged":              # udp-forged SRC SPORT DST DPORT MARKER
    src, sport, dst, dport, marker = args
    send_raw(dst, ip4(src, dst, 17, udp(int(sport), int(dport), marker.encode())))
elif cmd == "ns6":                     # ns6 DST HOPS MARKER: a neighbour solicitation
    dst, hops, marker = args[0], int(args[1]), args[2].encode()[:14].ljust(14, b".")
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
    msg = struct.pack("!BBHI", 135, 0, 0, 0) + socket.inet_pton(socket.AF_INET6, dst) + bytes([254, 2]) + marker
    s.sendto(msg, (dst, 0))
"#;

const APP: &str = "10.91.0.10";
const WEB: &str = "10.92.0.10";
const NET: &str = "198.51.100.10";

/// The policy; `dns` says whether the Internet may still ask `web` for DNS.
fn policy(dns: bool) -> String {
    let dns_flow = if dns { "flow internett -> web : dns \"Offentlig DNS\"\n" } else { "" };
    format!(
        "class helse {{ special; confined }}\n\
         zone lukket {{ trust closed; net 10.91.0.0/24 }}\n\
         zone dmz {{ trust dmz; net 10.92.0.0/24 }}\n\
         zone internett {{ trust external; net 0.0.0.0/0 }}\n\
         system app {{ zone lukket; address {APP}; platform appliance; holds helse }}\n\
         system web {{ zone dmz; address {WEB}; platform appliance }}\n\
         {dns_flow}\
         flow internett -> web : ntp \"Offentlig tidstjeneste\"\n\
         firewall fw {{\n  target nftables\n  interface lan0 zone lukket\n  interface dmz0 zone dmz\n  interface wan0 zone internett\n}}\n"
    )
}

/// The ruleset compile writes for `device` (a firewall or a host) from the policy `text`.
fn ruleset_of(text: &str, device: &str) -> String {
    let model = zonecheck::load_str("policy.zc", text).expect("the policy resolves");
    let templates = zonecheck::targets::Templates::builtin().expect("templates");
    let bundle = zonecheck::compile::compile(
        &zonecheck::verify::unverified(&model),
        &zonecheck::compile::Options::default(),
        &templates,
    )
    .expect("compiles");
    let file = bundle.files.iter().find(|f| f.device == device).unwrap_or_else(|| panic!("{device}'s file"));
    String::from_utf8_lossy(&file.bytes).into_owned()
}

fn compile_to(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.nft"));
    std::fs::write(&path, ruleset_of(text, "fw")).expect("write");
    path
}

/// The ruleset with both defences cut out: no anti-spoofing, every related packet accepted.
fn without_defences(text: &str) -> String {
    let out: Vec<String> = text
        .lines()
        .filter(|l| !l.contains("saddr != @zc_sources_"))
        .map(|l| {
            if l.contains("ct state related counter drop") {
                "\t\tct state related accept".to_string()
            } else {
                l.into()
            }
        })
        .collect();
    assert!(out.len() + 2 == text.lines().count(), "both anti-spoofing rules were cut");
    out.join("\n") + "\n"
}

struct Net {
    lab: Lab,
    router: String,
    app: String,
    web: String,
    wan: String,
}

impl Net {
    fn build() -> Net {
        let mut lab = Lab::new("hostile");
        let router = lab.namespace("r", true);
        let (app, web, wan) = (lab.namespace("app", false), lab.namespace("web", false), lab.namespace("wan", false));
        for (iface, ns, addr) in [("lan0", &app, APP), ("dmz0", &web, WEB), ("wan0", &wan, NET)] {
            lab.veth(&router, iface, ns, "eth0");
            lab.ip_batch(
                ns,
                &[format!("addr add {addr}/32 dev eth0"), "route add default via 169.254.0.1 dev eth0 onlink".into()],
            );
        }
        lab.ip_batch(
            &router,
            &[
                "addr add 169.254.0.1/32 dev lan0".into(),
                "addr add 169.254.0.1/32 dev dmz0".into(),
                "addr add 169.254.0.1/32 dev wan0".into(),
                format!("route add {APP}/32 dev lan0"),
                format!("route add {WEB}/32 dev dmz0"),
                format!("route add {NET}/32 dev wan0"),
            ],
        );
        Net { lab, router, app, web, wan }
    }

    fn tool(&self, ns: &str, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", ns, "python3", "-c", TOOLS];
        all.extend_from_slice(args);
        run("ip", &all, Duration::from_secs(20)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A long-running tool; its output is read by [`finish`].
    fn spawn(&self, ns: &str, args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", ns, "python3", "-c", TOOLS])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3")
    }

    /// Does a packet sent by `send` (in `from`) reach the Internet host, seen by a raw
    /// socket of `proto` looking for `marker`?
    fn arrives(&self, proto: &str, marker: &str, from: &str, send: &[&str]) -> bool {
        let sniffer = sniffer(&self.wan, "4", proto, marker);
        self.tool(from, send);
        seen(sniffer)
    }
}

/// A raw-socket sniffer in `ns` for packets of `proto` (IPv4 or IPv6) carrying `marker`,
/// ready once this returns; [`seen`] tells whether it saw one.
fn sniffer(ns: &str, family: &str, proto: &str, marker: &str) -> Child {
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "python3", "-c", TOOLS, "sniff", family, proto, marker, "1.5"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    std::thread::sleep(Duration::from_millis(400));
    child
}

fn seen(sniffer: Child) -> bool {
    String::from_utf8_lossy(&sniffer.wait_with_output().expect("sniffer").stdout).contains("seen")
}

/// The lines a spawned client printed, once it has ended.
fn finish(child: Child) -> Vec<String> {
    let out = child.wait_with_output().expect("wait");
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert!(out.status.success(), "client failed: {lines:?}");
    lines
}

#[test]
fn a_hostile_host_in_the_closed_zone_gets_nothing_out() {
    if !kernel_ready("a_hostile_host_in_the_closed_zone_gets_nothing_out") || !netns::in_path("python3") {
        return;
    }
    let mut net = Net::build();
    let dir = net.lab.dir("rulesets");
    let before = compile_to(&dir, "before", &policy(true));
    let after = compile_to(&dir, "after", &policy(false));
    let weak = dir.join("weak.nft");
    std::fs::write(&weak, without_defences(&std::fs::read_to_string(&before).expect("read"))).expect("write");
    let mut echo = Command::new("ip")
        .args(["netns", "exec", &net.web, "python3", "-c", TOOLS, "echo", "53", "123"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    std::thread::sleep(Duration::from_millis(500));
    net.lab.nft_load(&net.router, &before).unwrap_or_else(|e| panic!("{e}"));

    // The Internet host's DNS and NTP connections to `web`, which hold across the update.
    let flag = dir.join("updated");
    let flag_s = flag.to_string_lossy().to_string();
    let dns = net.spawn(&net.wan, &["client", NET, "40002", WEB, "53", &flag_s]);
    let ntp = net.spawn(&net.wan, &["client", NET, "40003", WEB, "123", &flag_s]);
    // Both ask once now (an answer takes milliseconds; they wait up to 2 s).
    std::thread::sleep(Duration::from_millis(2500));

    let mut failures = Vec::new();
    let mut expect = |what: &str, got: bool, want: bool| {
        note(format!("{what}: {}", if got { "arrives" } else { "blocked" }));
        if got != want {
            failures.push(format!("{what}: {} (expected {})", got, want));
        }
    };
    for (ruleset, label, hostile_passes) in [(&weak, "without the defences", true), (&before, "compiled", false)] {
        net.lab.nft_load(&net.router, ruleset).unwrap_or_else(|e| panic!("{e}"));
        // An ICMP error quoting the DNS connection, with data appended.
        let quote = [NET, "40002", WEB, "53"];
        let from_web = [&["icmp-error", WEB, NET][..], &quote, &["zc-legit-error"]].concat();
        expect(
            &format!("{label}: ICMP error from web quoting its connection"),
            net.arrives("1", "zc-legit-error", &net.web, &from_web),
            true,
        );
        let from_app = [&["icmp-error", APP, NET][..], &quote, &["zc-health-data"]].concat();
        expect(
            &format!("{label}: ICMP error from the closed appliance quoting web's connection"),
            net.arrives("1", "zc-health-data", &net.app, &from_app),
            hostile_passes,
        );
        // A datagram in the answer direction of the DNS connection.
        let legit = ["udp-forged", WEB, "53", NET, "40002", "zc-legit-answer"];
        expect(&format!("{label}: answer from web"), net.arrives("17", "zc-legit-answer", &net.web, &legit), true);
        let forged = ["udp-forged", WEB, "53", NET, "40002", "zc-forged-answer"];
        expect(
            &format!("{label}: answer forged by the closed appliance with web's address"),
            net.arrives("17", "zc-forged-answer", &net.app, &forged),
            hostile_passes,
        );
    }

    // The update: DNS no longer declared. Marks differ, so open connections are re-checked.
    net.lab.nft_load(&net.router, &after).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&flag, "").expect("flag");
    let dns_lines = finish(dns);
    let ntp_lines = finish(ntp);
    note(format!("dns connection: {dns_lines:?}; ntp connection: {ntp_lines:?}"));
    expect("DNS connection before the update", dns_lines.iter().any(|l| l == "first reply"), true);
    expect("DNS connection after the update removed its flow", dns_lines.iter().any(|l| l == "second reply"), false);
    expect("NTP connection before the update", ntp_lines.iter().any(|l| l == "first reply"), true);
    expect("NTP connection after the update kept its flow", ntp_lines.iter().any(|l| l == "second reply"), true);
    let _ = echo.kill();
    let _ = echo.wait();
    let _ = &net.router;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_host_accepts_neighbour_discovery_only_from_its_link() {
    if !kernel_ready("a_host_accepts_neighbour_discovery_only_from_its_link") || !netns::in_path("python3") {
        return;
    }
    let text = "zone z { trust internal; net 10.93.0.0/24, fd93::/64 }\n\
                system h { zone z; address 10.93.0.10, fd93::10; platform linux }\n";
    let compiled = ruleset_of(text, "h");
    let mut lab = Lab::new("nd");
    let path = lab.dir("rulesets").join("h.nft");
    std::fs::write(&path, &compiled).expect("write");
    let (host, peer) = (lab.namespace("h", false), lab.namespace("p", false));
    lab.veth(&host, "eth0", &peer, "eth0");
    lab.ip_batch(&host, &["addr add fd93::10/64 dev eth0 nodad".into()]);
    lab.ip_batch(&peer, &["addr add fd93::20/64 dev eth0 nodad".into()]);
    lab.nft_load(&host, &path).unwrap_or_else(|e| panic!("{e}"));
    let sees = |hops: &str, marker: &str| {
        let sniffer = sniffer(&host, "6", "58", marker);
        run(
            "ip",
            &["netns", "exec", &peer, "python3", "-c", TOOLS, "ns6", "fd93::10", hops, marker],
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        seen(sniffer)
    };
    // Control: without the hop-limit condition the forged one arrives, so a drop below is
    // the condition's doing.
    let text = compiled.replace(" ip6 hoplimit 255 accept", " accept");
    let weak = lab.dir("weak").join("h.nft");
    std::fs::write(&weak, text).expect("write");
    lab.nft_load(&host, &weak).unwrap_or_else(|e| panic!("{e}"));
    assert!(sees("254", "zc-weak-254"), "without the condition, hop limit 254 reaches the host");
    lab.nft_load(&host, &path).unwrap_or_else(|e| panic!("{e}"));
    let on_link = sees("255", "zc-on-link");
    let forged = sees("254", "zc-off-link");
    note(format!("NS at hop limit 255: {on_link}; at 254: {forged}"));
    assert!(on_link, "a neighbour solicitation from the link (hop limit 255) reaches the host");
    assert!(!forged, "a neighbour solicitation at hop limit 254 (routed or forged) is dropped");
}

#[test]
fn a_closed_linux_host_sends_its_icmp_errors_to_the_peer_and_nowhere_else() {
    if !kernel_ready("a_closed_linux_host_sends_its_icmp_errors_to_the_peer_and_nowhere_else")
        || !netns::in_path("python3")
    {
        return;
    }
    // `h` holds health data; `p` may ask it for DNS. `p`'s namespace also answers for an
    // address no flow names (`other`): where a compromised `h` would send data.
    let (h, p, other) = ("10.94.0.10", "10.94.0.20", "10.94.0.30");
    let text = format!(
        "class helse {{ special; confined }}\n\
         zone lukket {{ trust closed; net 10.94.0.0/24 }}\n\
         system h {{ zone lukket; address {h}; platform linux; holds helse }}\n\
         system p {{ zone lukket; address {p}; platform appliance }}\n\
         flow p -> h : dns \"Navneoppslag\"\n"
    );
    let compiled = ruleset_of(&text, "h");
    let mut lab = Lab::new("hrel");
    let (host, peer) = (lab.namespace("h", false), lab.namespace("p", false));
    lab.veth(&host, "eth0", &peer, "eth0");
    lab.ip_batch(&host, &[format!("addr add {h}/24 dev eth0")]);
    lab.ip_batch(&peer, &[format!("addr add {p}/24 dev eth0"), format!("addr add {other}/24 dev eth0")]);
    let mut arrives = |ruleset: &str, label: &str, marker: &str, send: &[&str]| -> bool {
        lab.nft_load_text(&host, label, ruleset).unwrap_or_else(|e| panic!("{e}"));
        let sniffer = sniffer(&peer, "4", "1", marker);
        // The declared peer's DNS query opens the connection (nothing listens: `h`'s own
        // port-unreachable error, quoting the query, is the legitimate error).
        let query = ["udp-forged", p, "40002", h, "53", "zc-legit-quote"];
        let mut args = vec!["netns", "exec", &peer, "python3", "-c", TOOLS];
        args.extend_from_slice(&query);
        run("ip", &args, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        if !send.is_empty() {
            let mut args = vec!["netns", "exec", &host, "python3", "-c", TOOLS];
            args.extend_from_slice(send);
            run("ip", &args, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        }
        seen(sniffer)
    };
    // The hostile error: from `h` to `other`, quoting the peer's query, data appended.
    // (Linux itself calls an error whose destination is not the quoted packet's source
    // invalid, which the ruleset drops too: the restriction to the peers of the host's flows
    // is a second wall. What this test shows is that it costs nothing: the host's own
    // errors still reach the peer that caused them.)
    let forged = ["icmp-error", h, other, p, "40002", h, "53", "zc-health-data"];
    let legit = arrives(&compiled, "legit", "zc-legit-quote", &[]);
    let hostile = arrives(&compiled, "hostile", "zc-health-data", &forged);
    note(format!("port unreachable to the peer: {legit}; forged error to another address: {hostile}"));
    assert!(legit, "the host's own error to the peer that asked arrives");
    assert!(!hostile, "an error quoting the peer's connection, sent elsewhere, does not leave");
}

#[test]
fn a_host_update_cuts_the_connections_it_no_longer_permits() {
    if !kernel_ready("a_host_update_cuts_the_connections_it_no_longer_permits") || !netns::in_path("python3") {
        return;
    }
    // `h` (closed zone, so both chains) answers DNS and NTP to `p`; the update drops DNS.
    let (h, p) = ("10.96.0.10", "10.96.0.20");
    let policy = |dns: bool| {
        format!(
            "zone lukket {{ trust closed; net 10.96.0.0/24 }}\n\
             system h {{ zone lukket; address {h}; platform linux }}\n\
             system p {{ zone lukket; address {p}; platform appliance }}\n\
             {}flow p -> h : ntp \"Tid\"\n",
            if dns { "flow p -> h : dns \"Navneoppslag\"\n" } else { "" }
        )
    };
    let (before, after) = (ruleset_of(&policy(true), "h"), ruleset_of(&policy(false), "h"));
    let mut lab = Lab::new("hupd");
    let (host, peer) = (lab.namespace("h", false), lab.namespace("p", false));
    lab.veth(&host, "eth0", &peer, "eth0");
    lab.ip_batch(&host, &[format!("addr add {h}/24 dev eth0")]);
    lab.ip_batch(&peer, &[format!("addr add {p}/24 dev eth0")]);
    let mut echo = Command::new("ip")
        .args(["netns", "exec", &host, "python3", "-c", TOOLS, "echo", "53", "123"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    std::thread::sleep(Duration::from_millis(500));
    // One round: connections opened under `before`, then `update` loaded.
    let round = |lab: &mut Lab, name: &str, update: &str, ports: (&str, &str)| {
        lab.nft_load_text(&host, &format!("{name}-before"), &before).unwrap_or_else(|e| panic!("{e}"));
        let flag = lab.dir(&format!("flag-{name}")).join("updated");
        let flag_s = flag.to_string_lossy().to_string();
        let client = |port: &str, sport: &str| {
            Command::new("ip")
                .args(["netns", "exec", &peer, "python3", "-c", TOOLS, "client", p, sport, h, port, &flag_s])
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3")
        };
        let (dns, ntp) = (client("53", ports.0), client("123", ports.1));
        std::thread::sleep(Duration::from_millis(2500));
        lab.nft_load_text(&host, name, update).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&flag, "").expect("flag");
        (finish(dns), finish(ntp))
    };
    // Control: an update whose rules trust every established packet lets DNS go on, so a
    // stop below is the re-check's doing.
    let trusting = after.replace(&format!("ct mark {} accept", mark_of(&after)), "accept");
    assert_ne!(trusting, after, "the update marks its connections");
    let (weak_dns, _) = round(&mut lab, "trusting", &trusting, ("40012", "40013"));
    let (dns_lines, ntp_lines) = round(&mut lab, "after", &after, ("40002", "40003"));
    let _ = echo.kill();
    let _ = echo.wait();
    note(format!("host update trusting established: dns {weak_dns:?}"));
    assert!(weak_dns.iter().any(|l| l == "second reply"), "the control's DNS goes on: {weak_dns:?}");
    note(format!("host update: dns connection {dns_lines:?}; ntp connection {ntp_lines:?}"));
    assert!(dns_lines.iter().any(|l| l == "first reply"), "DNS before the update: {dns_lines:?}");
    assert!(dns_lines.iter().any(|l| l == "second none"), "DNS after the update removed its flow: {dns_lines:?}");
    assert!(ntp_lines.iter().any(|l| l == "first reply"), "NTP before the update: {ntp_lines:?}");
    assert!(ntp_lines.iter().any(|l| l == "second reply"), "NTP after the update kept its flow: {ntp_lines:?}");
}

/// The connection mark a compiled ruleset sets (`ct mark set 0x…`).
fn mark_of(ruleset: &str) -> String {
    let at = ruleset.find("ct mark set ").expect("a ruleset that marks connections") + "ct mark set ".len();
    ruleset[at..].split_whitespace().next().unwrap_or_default().to_string()
}

/// The firewall's own address, on its DMZ link.
const FW: &str = "10.92.0.1";

#[test]
fn a_firewall_accepts_to_and_from_itself_only_the_flows_that_name_it() {
    if !kernel_ready("a_firewall_accepts_to_and_from_itself_only_the_flows_that_name_it") {
        return;
    }
    // `web` manages the firewall over SSH; the firewall sends to `web` over HTTPS. Nothing
    // else names it.
    let text = policy(true)
        .replace("firewall fw {\n  target nftables\n", &format!("firewall fw {{\n  target nftables\n  address {FW}\n"))
        + "flow web -> fw : ssh \"Drift av brannmuren\"\nflow fw -> web : https \"Brannmuren henter oppdateringer\"\n";
    let mut net = Net::build();
    net.lab.ip_batch(&net.router.clone(), &[format!("addr add {FW}/32 dev dmz0")]);
    let path = net.lab.dir("rulesets").join("fw.nft");
    std::fs::write(&path, ruleset_of(&text, "fw")).expect("write");
    let attempt = |src_ns: &str, src: &str, dst_ns: &str, dst: &str, port: u16| netns::Attempt {
        src_ns: src_ns.to_string(),
        src: src.parse().expect("address"),
        dst_ns: dst_ns.to_string(),
        dst: dst.parse().expect("address"),
        proto: netns::Proto::Tcp,
        port,
        timeout: Duration::from_millis(700),
    };
    let (r, app, web, wan) = (&net.router, &net.app, &net.web, &net.wan);
    // (attempt, passes under the compiled ruleset)
    let cases = [
        (attempt(web, WEB, r, FW, 22), true),
        (attempt(web, WEB, r, FW, 23), false),
        (attempt(app, APP, r, FW, 22), false),
        (attempt(wan, NET, r, FW, 22), false),
        (attempt(app, APP, r, "169.254.0.1", 22), false),
        (attempt(r, FW, web, WEB, 443), true),
        (attempt(r, FW, web, WEB, 80), false),
        (attempt(r, FW, wan, NET, 443), false),
    ];
    let attempts: Vec<netns::Attempt> = cases.iter().map(|(a, _)| a.clone()).collect();
    // Control: with no ruleset every attempt passes, so a block below is the ruleset's doing.
    for (a, o) in attempts.iter().zip(netns::probe_all(&attempts)) {
        note(format!("no ruleset: {a}: {o}"));
        assert!(o.passed(), "without a ruleset {a} passes (the lab is broken otherwise): {o}");
    }
    net.lab.nft_load(&net.router, &path).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for ((a, want), o) in cases.iter().zip(netns::probe_all(&attempts)) {
        note(format!("compiled: {a}: {o}"));
        if (*want && !o.passed()) || (!*want && !o.blocked()) {
            failures.push(format!("{a}: {o} (expected {})", if *want { "pass" } else { "block" }));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
