//! A firewall's interfaces in the kernel, for sending witnesses through it.
//!
//! One router namespace holds a veth per firewall interface, named exactly as the policy
//! names it, plus one interface no policy names ([`UNNAMED`], for witnesses that arrive on
//! "any other interface"); behind each, a side namespace. A witness is sent from the side of
//! its input interface in an Ethernet frame addressed to the router (a packet socket, see
//! `wire.rs`), and watched for on the side of its output interface: it arrived when the
//! router forwarded it there.
//!
//! No side owns an address. The sender needs none: the packet socket puts the witness on
//! the wire as it is, whatever its source (reverse-path filtering is off in the router, so
//! the router takes any source). The receiver must not own the destination either: a host
//! would answer (SYN-ACK, RST, echo reply), the router's conntrack would see the answer, and
//! the next probe of the same tuple would be "established" instead of the first packet of a
//! connection that `check` models. Instead the router routes each witness destination as a
//! /32 or /128 out of the witness's output interface, to a permanent neighbour entry with
//! the receiving side's MAC, so any destination is reachable (also one that is the source
//! too, or that another witness needs behind another interface), and the sides drop
//! everything they receive after their packet socket has seen it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::netns::{self, Lab, in_ns};
use crate::wire::{Shot, Wire, build};

/// The name of the router's interface that no policy names.
pub const UNNAMED: &str = "zct-other";

struct Side {
    ns: String,
    wire: Wire,
    /// The MAC of this side's device (where the router sends frames).
    mac: [u8; 6],
    /// The MAC of the router's interface on this side (where the side sends frames).
    router_mac: [u8; 6],
}

pub struct Topology {
    pub router: String,
    sides: BTreeMap<String, Side>,
    /// Destination → the interface it is routed out of now.
    routed: BTreeMap<IpAddr, String>,
    batch: PathBuf,
    nonce: u32,
    /// The last packet that did not arrive: (output interface, description, bytes).
    blocked: Option<(String, String, Vec<u8>)>,
}

fn mac_of(ns: &str, dev: &str) -> [u8; 6] {
    let out = netns::must("ip", &["-n", ns, "-j", "link", "show", "dev", dev]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("ip -j link: {e}: {out}"));
    let text = json[0]["address"].as_str().unwrap_or_else(|| panic!("no MAC for {dev} in {ns}: {out}"));
    let mut mac = [0u8; 6];
    let parts: Vec<u8> = text.split(':').map(|h| u8::from_str_radix(h, 16).expect("hex MAC")).collect();
    mac.copy_from_slice(&parts);
    mac
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// What each side loads: drop everything received and everything the side itself would
/// send through its stack (router solicitations, MLD); packet sockets bypass both hooks.
const SINK: &str = "table inet zct_sink {\n\
    \tchain pre { type filter hook prerouting priority -400; policy drop; }\n\
    \tchain out { type filter hook output priority -400; policy drop; }\n\
}\n";

impl Topology {
    /// Builds the router with `interfaces` (and [`UNNAMED`]) and their sides.
    pub fn build(lab: &mut Lab, interfaces: &[String]) -> Topology {
        let router = lab.namespace("r", true);
        let dir = lab.dir("topology");
        let sink = dir.join("sink.nft");
        std::fs::write(&sink, SINK).expect("write the sink ruleset");
        let mut sides = BTreeMap::new();
        assert!(!interfaces.iter().any(|n| n == UNNAMED), "the policy names {UNNAMED}");
        let names: Vec<&str> = interfaces.iter().map(String::as_str).chain([UNNAMED]).collect();
        for (i, name) in names.iter().enumerate() {
            let ns = lab.namespace(&format!("s{i}"), false);
            lab.veth(&router, name, &ns, "eth0");
            lab.nft_load(&ns, &sink).unwrap_or_else(|e| panic!("sink in {ns}: {e}"));
            let wire = Wire::open(&ns, "eth0").unwrap_or_else(|e| panic!("packet socket in {ns}: {e}"));
            let side = Side { mac: mac_of(&ns, "eth0"), router_mac: mac_of(&router, name), ns, wire };
            sides.insert(name.to_string(), side);
        }
        // Reverse-path filtering is off on every interface (the kernel uses the larger of
        // `all` and the interface's own value), so a witness may come from any source.
        let keys: Vec<String> = ["all".to_string()].into_iter().chain(names.iter().map(|n| n.to_string())).collect();
        let values = in_ns(&router, move || {
            keys.iter()
                .map(|k| std::fs::read_to_string(format!("/proc/sys/net/ipv4/conf/{k}/rp_filter")))
                .collect::<std::io::Result<Vec<String>>>()
        })
        .unwrap_or_else(|e| panic!("rp_filter in {router}: {e}"));
        assert!(values.iter().all(|v| v.trim() == "0"), "rp_filter is off in {router}: {values:?}");
        Topology {
            router,
            sides,
            routed: BTreeMap::new(),
            batch: dir.join("route.ip"),
            nonce: 0x5eed_0000,
            blocked: None,
        }
    }

    /// The side of an interface name as `check` writes it (an interface no policy names
    /// reads "(an interface not named anywhere)").
    pub fn side_of(&self, name: &str) -> Option<String> {
        if self.sides.contains_key(name) {
            return Some(name.to_string());
        }
        name.starts_with("(an interface not named").then(|| UNNAMED.to_string())
    }

    /// Routes `dst` out of `iface` in the router (once per change).
    fn route(&mut self, dst: IpAddr, iface: &str) -> Result<(), String> {
        if self.routed.get(&dst).is_some_and(|i| i == iface) {
            return Ok(());
        }
        let len = if dst.is_ipv6() { 128 } else { 32 };
        let mac = mac_text(self.sides[iface].mac);
        let commands = format!(
            "route replace {dst}/{len} dev {iface}\nneigh replace {dst} lladdr {mac} dev {iface} nud permanent\n"
        );
        std::fs::write(&self.batch, commands).map_err(|e| e.to_string())?;
        netns::run("ip", &["-n", &self.router, "-batch", &self.batch.to_string_lossy()], netns::COMMAND_TIMEOUT)?;
        self.routed.insert(dst, iface.to_string());
        Ok(())
    }

    /// Sends `shot` into the router on interface `from` and reports whether it came out of
    /// interface `to` within `timeout`. `Err`: the witness cannot even be put on the wire.
    ///
    /// A packet that did not arrive in time is watched for until the next send (or
    /// [`Topology::settle`]): if it turns up late, the window was too short to call it
    /// blocked, and that is an error.
    pub fn send(&mut self, shot: &Shot, from: &str, to: &str, timeout: Duration) -> Result<bool, String> {
        self.settle(Duration::ZERO)?;
        self.route(shot.dst, to)?;
        self.nonce = self.nonce.wrapping_add(1);
        let packet = build(shot, self.nonce);
        let (sender, receiver) = (&self.sides[from], &self.sides[to]);
        receiver.wire.drain(None).map_err(|e| format!("drain in {}: {e}", receiver.ns))?;
        sender.wire.send(sender.router_mac, &packet).map_err(|e| format!("send from {}: {e}", sender.ns))?;
        let arrived =
            receiver.wire.wait_for(&packet, timeout).map_err(|e| format!("receive in {}: {e}", receiver.ns))?;
        if !arrived {
            self.blocked = Some((to.to_string(), shot.to_string(), packet));
        }
        Ok(arrived)
    }

    /// Waits `grace`, then fails if the last packet judged blocked has arrived after all.
    pub fn settle(&mut self, grace: Duration) -> Result<(), String> {
        let Some((to, shot, packet)) = self.blocked.take() else { return Ok(()) };
        std::thread::sleep(grace);
        let side = &self.sides[&to];
        if side.wire.drain(Some(&packet)).map_err(|e| format!("drain in {}: {e}", side.ns))? {
            return Err(format!("{shot} was judged blocked but arrived at {to} later: the wait is too short"));
        }
        Ok(())
    }
}
