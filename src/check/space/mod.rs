//! The packet-space engine: exact sets of packets, with union, intersection, difference,
//! emptiness and a witness (one concrete packet of a set).
//!
//! # Representation
//!
//! A packet is a point in [`DIMS`] dimensions ([`Dim`]): the path through the device
//! (input, forward, output), the input and output interface (dictionary-encoded by
//! [`Ifaces`]), the address family, source and destination address (IPv4 in the low 32
//! bits of a `u128`), protocol, source and destination port (for ICMP: code and type), and
//! whether a TCP segment carries ACK or RST (what a stateless ACL's `established` tests).
//!
//! A [`Field`] is a sorted union of disjoint `u128` intervals; a [`Cube`] is the product of
//! one field per dimension ("generalised box"); a set of packets is a union of cubes. This
//! is the representation verification.md §4(b) recommends over bit-level BDDs: a set
//! element, an ACL entry or a firewall rule is one cube, witnesses and explanations come out
//! in the engineer's vocabulary (prefixes, port ranges), and IPv6 costs no more than IPv4.
//!
//! # Complexity
//!
//! - Field intersection and difference: O(a + b) in the number of intervals.
//! - Cube intersection: O(DIMS) field operations; cube difference `a \ b` yields at most
//!   DIMS disjoint cubes (one per dimension where `a` leaves `b`).
//! - Set difference `A \ B`: every cube of `A` is cut by the cubes of `B` that overlap it,
//!   found through an `Index` on the source and destination address and destination
//!   port (cubes grouped by the length classes of the three, each group searched along
//!   one of them, so a query is O(groups · log n + hits); `any -> host`, `net -> any` and
//!   `host -> any port` entries of a long ACL are not met by every query). For rulesets compiled from a policy, and for ACLs written
//!   by hand, cubes overlap few others and this is near-linear. A cube met by many (a
//!   device that permits far more than intended) is split at their boundaries instead, k-d
//!   fashion, until each part is covered by one or cut by few; when the two sets meet each
//!   other everywhere, both are split together. In general the number of pieces can grow
//!   as O(n^DIMS) (firewall equivalence is coNP-complete); the engine stops at `MAX_PIECES`
//!   pieces or `MAX_SPLIT_WORK` steps and says so instead of running away ([`TooFragmented`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use smallvec::{SmallVec, smallvec};

mod sets;
pub(crate) use sets::Index;
pub use sets::Space;

/// The dimensions of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dim {
    /// [`Path`] as 0, 1, 2.
    Path = 0,
    Iif,
    Oif,
    /// 0 for IPv4, 1 for IPv6.
    Family,
    Src,
    Dst,
    Proto,
    /// Source port; for ICMP the code.
    Sport,
    /// Destination port; for ICMP the type.
    Dport,
    /// 0: no ACK or RST (a connection's first packet, or not TCP); 1: ACK or RST set.
    Flags,
    /// The connection-tracking state a stateful device gives the packet ([`Ct`] as 0–4).
    /// Stateless filters match every value alike.
    Ct,
    /// The IPv4 TTL or IPv6 hop limit as the packet arrives (0–255).
    Hops,
}

pub(crate) const DIMS: usize = 12;
pub const ALL_DIMS: [Dim; DIMS] = [
    Dim::Path,
    Dim::Iif,
    Dim::Oif,
    Dim::Family,
    Dim::Src,
    Dim::Dst,
    Dim::Proto,
    Dim::Sport,
    Dim::Dport,
    Dim::Flags,
    Dim::Ct,
    Dim::Hops,
];

/// Connection-tracking state (nft `ct state`) of a packet at a stateful device.
///
/// `check` compares what devices do with connection-opening packets (`New`) and with ICMP
/// errors that conntrack relates to a tracked connection (`Related`: whoever sends one can
/// choose the connection it quotes, so it is a packet an inside host can forge). Packets of
/// established connections are not compared: whether one is accepted depends on the
/// connection it belongs to, which a single packet does not show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ct {
    New = 0,
    Related = 1,
    Established = 2,
    Invalid = 3,
    Untracked = 4,
}

impl Ct {
    pub const ALL: [Ct; 5] = [Ct::New, Ct::Related, Ct::Established, Ct::Invalid, Ct::Untracked];

    pub fn name(self) -> &'static str {
        match self {
            Ct::New => "new",
            Ct::Related => "related",
            Ct::Established => "established",
            Ct::Invalid => "invalid",
            Ct::Untracked => "untracked",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Ct> {
        Ct::ALL.into_iter().find(|c| c.name() == s)
    }

    fn from_value(v: u128) -> Ct {
        Ct::ALL.get(v as usize).copied().unwrap_or(Ct::New)
    }
}

/// Where a packet goes through the device: to it, through it, or from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Path {
    Input = 0,
    Forward = 1,
    Output = 2,
}

impl Path {
    pub const ALL: [Path; 3] = [Path::Input, Path::Forward, Path::Output];

    pub fn name(self) -> &'static str {
        match self {
            Path::Input => "input",
            Path::Forward => "forward",
            Path::Output => "output",
        }
    }

    fn from_value(v: u128) -> Path {
        match v {
            0 => Path::Input,
            1 => Path::Forward,
            _ => Path::Output,
        }
    }
}

/// The largest value of each dimension (addresses: of the family, see [`Cube::any`]).
pub fn dim_max(d: Dim) -> u128 {
    match d {
        Dim::Path => 2,
        Dim::Iif | Dim::Oif => u128::from(u32::MAX),
        Dim::Family | Dim::Flags => 1,
        Dim::Ct => Ct::Untracked as u128,
        Dim::Hops => 255,
        Dim::Src | Dim::Dst => u128::MAX,
        Dim::Proto => 255,
        Dim::Sport | Dim::Dport => 65535,
    }
}

/// The largest address of a family.
pub fn addr_max(v6: bool) -> u128 {
    if v6 { u128::MAX } else { u128::from(u32::MAX) }
}

/// More pieces than this in one difference and the engine gives up (inconclusive).
pub(crate) const MAX_PIECES: usize = 4_000_000;

/// A difference fragmented beyond `MAX_PIECES`, or that would take more steps than a
/// difference or subtraction may, summed over all its parts (`sets::MAX_SPLIT_WORK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooFragmented;

impl fmt::Display for TooFragmented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the packet space fragmented beyond {MAX_PIECES} pieces or {} steps", sets::MAX_SPLIT_WORK)
    }
}

// ---------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------

/// A set of values: sorted, disjoint, non-adjacent inclusive intervals.
///
/// Most fields are one interval of values below 2^32 (every dimension but an IPv6
/// address: IPv4 addresses, interfaces, ports, protocols): those are held inline in 8
/// bytes, the rest behind one thin pointer, so a field is 16 bytes and a [`Cube`] 192
/// (576 with plain `u128` pairs) — cubes are copied, hashed and compared by the million.
/// The representation is canonical (one interval below 2^32 is always `One`, all of
/// `u128` always `AllWide`), so the derived equality and hash are those of the intervals.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Field(Repr);

#[derive(Clone, PartialEq, Eq, Hash, Default)]
enum Repr {
    #[default]
    Empty,
    One(u32, u32),
    /// Every IPv6 address (`0..=u128::MAX`), without an allocation: every rule's reading
    /// starts from it.
    AllWide,
    /// A thin pointer (the slice's length lives on the heap): it keeps the field at 16 bytes.
    Wide(Box<Box<[(u128, u128)]>>),
}

/// The intervals of [`Repr::AllWide`].
static ALL_WIDE: [(u128, u128); 1] = [(0, u128::MAX)];

/// A field's intervals, borrowed as a slice: the heap's (none for an empty field), or the
/// inline interval widened beside it.
pub struct Intervals<'a> {
    one: [(u128, u128); 1],
    held: Option<&'a [(u128, u128)]>,
}

impl std::ops::Deref for Intervals<'_> {
    type Target = [(u128, u128)];
    fn deref(&self) -> &[(u128, u128)] {
        self.held.unwrap_or(&self.one)
    }
}

impl<const N: usize> PartialEq<[(u128, u128); N]> for Intervals<'_> {
    fn eq(&self, o: &[(u128, u128); N]) -> bool {
        **self == o[..]
    }
}

impl Ord for Field {
    /// Lexicographic over the intervals (the order of the sorted lists themselves).
    fn cmp(&self, o: &Field) -> std::cmp::Ordering {
        self.intervals()[..].cmp(&o.intervals()[..])
    }
}

impl PartialOrd for Field {
    fn partial_cmp(&self, o: &Field) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.intervals().iter().map(|(a, b)| if a == b { format!("{a}") } else { format!("{a}-{b}") }))
            .finish()
    }
}

impl Field {
    pub(crate) fn empty() -> Field {
        Field(Repr::Empty)
    }

    pub fn range(lo: u128, hi: u128) -> Field {
        match (u32::try_from(lo), u32::try_from(hi)) {
            _ if lo > hi => Field::empty(),
            (Ok(lo), Ok(hi)) => Field(Repr::One(lo, hi)),
            _ if lo == 0 && hi == u128::MAX => Field(Repr::AllWide),
            _ => Field(Repr::Wide(Box::new(Box::new([(lo, hi)])))),
        }
    }

    pub fn point(v: u128) -> Field {
        Field::range(v, v)
    }

    /// Sorted, disjoint, non-adjacent intervals, in the canonical representation.
    fn of_sorted(v: SmallVec<[(u128, u128); 2]>) -> Field {
        match v.as_slice() {
            [] => Field::empty(),
            &[(lo, hi)] => Field::range(lo, hi),
            _ => Field(Repr::Wide(Box::new(v.into_vec().into_boxed_slice()))),
        }
    }

    /// Any list of intervals, in any order, overlapping or not.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u128, u128)>) -> Field {
        let mut v: Vec<(u128, u128)> = ranges.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        let mut out: SmallVec<[(u128, u128); 2]> = SmallVec::new();
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Field::of_sorted(out)
    }

    /// The addresses of a prefix (IPv4 in the low 32 bits).
    pub fn prefix(net: &IpNet) -> Field {
        let (lo, hi) = net_bounds(net);
        Field::range(lo, hi)
    }

    /// The intervals, in order (a slice through `Deref`).
    pub fn intervals(&self) -> Intervals<'_> {
        match &self.0 {
            Repr::Empty => Intervals { one: [(0, 0)], held: Some(&[]) },
            &Repr::One(lo, hi) => Intervals { one: [(u128::from(lo), u128::from(hi))], held: None },
            Repr::AllWide => Intervals { one: [(0, 0)], held: Some(&ALL_WIDE) },
            Repr::Wide(w) => Intervals { one: [(0, 0)], held: Some(w) },
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self.0, Repr::Empty)
    }

    pub fn first(&self) -> Option<u128> {
        self.intervals().first().map(|r| r.0)
    }

    /// The smallest interval holding the whole field.
    pub fn hull(&self) -> Option<(u128, u128)> {
        let iv = self.intervals();
        Some((iv.first()?.0, iv.last()?.1))
    }

    pub fn contains(&self, v: u128) -> bool {
        // Few intervals in practice; a binary search keeps large unions cheap too.
        let iv = self.intervals();
        let i = iv.partition_point(|r| r.1 < v);
        iv.get(i).is_some_and(|r| r.0 <= v)
    }

    pub(crate) fn intersects(&self, o: &Field) -> bool {
        if let (&Repr::One(a, b), &Repr::One(c, d)) = (&self.0, &o.0) {
            return a <= d && c <= b;
        }
        // Each side skips ahead by binary search: a field of thousands of intervals (every
        // source but those of a zone, after an anti-spoofing rule) meets one interval in
        // O(log n), not O(n).
        let (x, y) = (self.intervals(), o.intervals());
        let (mut i, mut j) = (0, 0);
        while i < x.len() && j < y.len() {
            let (a, b) = (x[i], y[j]);
            if a.1 < b.0 {
                i += x[i..].partition_point(|r| r.1 < b.0);
            } else if b.1 < a.0 {
                j += y[j..].partition_point(|r| r.1 < a.0);
            } else {
                return true;
            }
        }
        false
    }

    pub fn intersect(&self, o: &Field) -> Field {
        if let (&Repr::One(a, b), &Repr::One(c, d)) = (&self.0, &o.0) {
            return if a.max(c) <= b.min(d) { Field(Repr::One(a.max(c), b.min(d))) } else { Field::empty() };
        }
        let (x, y) = (self.intervals(), o.intervals());
        if x.len() == 1 && y.len() == 1 {
            let (a, b) = (x[0], y[0]);
            return Field::range(a.0.max(b.0), a.1.min(b.1));
        }
        let mut out = SmallVec::new();
        let (mut i, mut j) = (0, 0);
        while i < x.len() && j < y.len() {
            let (a, b) = (x[i], y[j]);
            let (lo, hi) = (a.0.max(b.0), a.1.min(b.1));
            if lo <= hi {
                out.push((lo, hi));
            }
            if a.1 < b.1 { i += 1 } else { j += 1 }
        }
        Field::of_sorted(out)
    }

    pub(crate) fn subtract(&self, o: &Field) -> Field {
        let (x, y) = (self.intervals(), o.intervals());
        let mut out = SmallVec::new();
        let mut j = 0;
        for &(mut lo, hi) in x.iter() {
            while j < y.len() && y[j].1 < lo {
                j += 1;
            }
            let mut k = j;
            let mut done = false;
            while k < y.len() && y[k].0 <= hi {
                let (blo, bhi) = y[k];
                if blo > lo {
                    out.push((lo, blo - 1));
                }
                if bhi >= hi {
                    done = true;
                    break;
                }
                lo = bhi + 1;
                k += 1;
            }
            if !done {
                out.push((lo, hi));
            }
        }
        Field::of_sorted(out)
    }

    pub fn union(&self, o: &Field) -> Field {
        Field::from_ranges(self.intervals().iter().chain(o.intervals().iter()).copied())
    }

    pub fn is_subset(&self, o: &Field) -> bool {
        if let (&Repr::One(a, b), &Repr::One(c, d)) = (&self.0, &o.0) {
            return c <= a && b <= d;
        }
        // Each interval lies within one of `o`'s (they are disjoint and not adjacent), found
        // walking both in order; no field is built.
        let (x, y) = (self.intervals(), o.intervals());
        let mut j = 0;
        x.iter().all(|&(lo, hi)| {
            while j < y.len() && y[j].1 < lo {
                j += 1;
            }
            y.get(j).is_some_and(|&(a, b)| a <= lo && hi <= b)
        })
    }

    /// Every value of `0..=max` not in the field.
    pub fn complement(&self, max: u128) -> Field {
        Field::range(0, max).subtract(self)
    }
}

/// The first and last address of a prefix, IPv4 in the low 32 bits.
pub(crate) fn net_bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (u128::from(u32::from(n.network())), u128::from(u32::from(n.broadcast()))),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

pub(crate) fn addr_value(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

pub(crate) fn addr_of(v6: bool, v: u128) -> IpAddr {
    if v6 { IpAddr::V6(Ipv6Addr::from(v)) } else { IpAddr::V4(Ipv4Addr::from(v as u32)) }
}

// ---------------------------------------------------------------------------------------
// Cubes
// ---------------------------------------------------------------------------------------

/// A product of one field per dimension. Addresses always lie in the family's range.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cube([Field; DIMS]);

impl fmt::Debug for Cube {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Cube");
        for d in ALL_DIMS {
            let full = Field::range(0, if matches!(d, Dim::Src | Dim::Dst) { addr_max(self.v6()) } else { dim_max(d) });
            if self.0[d as usize] != full {
                s.field(&format!("{d:?}"), &self.0[d as usize]);
            }
        }
        s.finish()
    }
}

impl Cube {
    /// Every packet of one family.
    pub fn any(v6: bool) -> Cube {
        let mut f: [Field; DIMS] = Default::default();
        for d in ALL_DIMS {
            f[d as usize] = Field::range(0, dim_max(d));
        }
        f[Dim::Family as usize] = Field::point(u128::from(v6));
        f[Dim::Src as usize] = Field::range(0, addr_max(v6));
        f[Dim::Dst as usize] = Field::range(0, addr_max(v6));
        Cube(f)
    }

    /// Every packet of one family that can take a path: a packet to the device has no output
    /// interface, one from it no input interface, a forwarded one both.
    pub fn on_path(v6: bool, path: Path) -> Cube {
        let (iif, oif) = match path {
            Path::Input => (Ifaces::some(), Field::point(0)),
            Path::Forward => (Ifaces::some(), Ifaces::some()),
            Path::Output => (Field::point(0), Ifaces::some()),
        };
        let mut c = Cube::any(v6);
        c.0[Dim::Path as usize] = Field::point(path as u128);
        c.0[Dim::Iif as usize] = iif;
        c.0[Dim::Oif as usize] = oif;
        c
    }

    /// Every packet of both families: two cubes.
    pub(crate) fn universe() -> [Cube; 2] {
        [Cube::any(false), Cube::any(true)]
    }

    /// IPv6? (Cubes hold one family; see [`Cube::any`].)
    pub fn v6(&self) -> bool {
        self.0[Dim::Family as usize].first() == Some(1)
    }

    pub fn field(&self, d: Dim) -> &Field {
        &self.0[d as usize]
    }

    /// This cube narrowed to `f` in dimension `d`; `None` if nothing is left.
    pub fn with(mut self, d: Dim, f: &Field) -> Option<Cube> {
        let n = self.0[d as usize].intersect(f);
        if n.is_empty() {
            return None;
        }
        self.0[d as usize] = n;
        Some(self)
    }

    /// This cube with dimension `d` replaced by `f` (not narrowed: see [`Cube::with`]).
    pub(crate) fn replaced(mut self, d: Dim, f: Field) -> Cube {
        self.0[d as usize] = f;
        self
    }

    pub fn with_value(self, d: Dim, v: u128) -> Option<Cube> {
        self.with(d, &Field::point(v))
    }

    pub fn with_range(self, d: Dim, lo: u128, hi: u128) -> Option<Cube> {
        self.with(d, &Field::range(lo, hi))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().any(Field::is_empty)
    }

    pub fn overlaps(&self, o: &Cube) -> bool {
        // Family and addresses first: they tell cubes apart most often.
        [
            Dim::Family,
            Dim::Dst,
            Dim::Src,
            Dim::Dport,
            Dim::Iif,
            Dim::Oif,
            Dim::Proto,
            Dim::Path,
            Dim::Sport,
            Dim::Flags,
            Dim::Ct,
            Dim::Hops,
        ]
        .iter()
        .all(|d| self.0[*d as usize].intersects(&o.0[*d as usize]))
    }

    pub fn intersect(&self, o: &Cube) -> Option<Cube> {
        if !self.overlaps(o) {
            return None;
        }
        Some(Cube(std::array::from_fn(|d| self.0[d].intersect(&o.0[d]))))
    }

    pub fn is_subset(&self, o: &Cube) -> bool {
        (0..DIMS).all(|d| self.0[d].is_subset(&o.0[d]))
    }

    /// `self \ o` as at most [`DIMS`] disjoint cubes.
    pub(crate) fn subtract(&self, o: &Cube) -> SmallVec<[Cube; 4]> {
        if !self.overlaps(o) {
            return smallvec![self.clone()];
        }
        let mut out = SmallVec::new();
        let mut rest = self.clone();
        for d in 0..DIMS {
            let outside = rest.0[d].subtract(&o.0[d]);
            if !outside.is_empty() {
                let mut piece = rest.clone();
                piece.0[d] = outside;
                out.push(piece);
                rest.0[d] = rest.0[d].intersect(&o.0[d]);
            }
        }
        out
    }

    /// The cube of one packet.
    pub(crate) fn of_packet(p: &Packet) -> Cube {
        Cube(p.values().map(Field::point))
    }

    pub fn contains(&self, p: &Packet) -> bool {
        let v = p.values();
        (0..DIMS).all(|d| self.0[d].contains(v[d]))
    }

    /// One packet of the cube, chosen to be easy to read and to send: TCP before UDP before
    /// ICMP echo, a well-known port, a high source port, a host address rather than a
    /// network address, a connection's first packet.
    pub fn witness(&self) -> Packet {
        let f = |d: Dim| &self.0[d as usize];
        let prefer = |d: Dim, wanted: &[u128]| {
            wanted.iter().copied().find(|v| f(d).contains(*v)).or_else(|| f(d).first()).unwrap_or(0)
        };
        let proto = prefer(Dim::Proto, &[6, 17, 1, 58]) as u8;
        let related = prefer(Dim::Ct, &[0, 1]) == Ct::Related as u128;
        let dport = if matches!(proto, 1 | 58) && related {
            // An ICMP error is what conntrack relates to a connection.
            prefer(Dim::Dport, &[3, 1, 11])
        } else if matches!(proto, 1 | 58) {
            prefer(Dim::Dport, &[8, 128, 0])
        } else {
            prefer(Dim::Dport, &[443, 22, 80, 53, 445, 3389, 389, 636, 123, 514, 1433, 5432])
        } as u16;
        let sport = if matches!(proto, 1 | 58) {
            prefer(Dim::Sport, &[0])
        } else {
            prefer(Dim::Sport, &[49152, 50000, 1024, 33434])
        } as u16;
        // The first host of the first interval (not its network address when there are
        // three or more addresses), outside the blocks no packet comes from on a real
        // network (this network, loopback, link-local, multicast) when the field allows:
        // a witness should be a packet one can send.
        let v6 = self.v6();
        let special = if v6 { special_v6() } else { special_v4() };
        let host = |d: Dim| {
            let usable = f(d).subtract(&special);
            let field = if usable.is_empty() { f(d) } else { &usable };
            let (lo, hi) = field.intervals().first().copied().unwrap_or((0, 0));
            if hi - lo >= 2 { lo + 1 } else { lo }
        };
        Packet {
            path: Path::from_value(prefer(Dim::Path, &[1, 0, 2])),
            iif: prefer(Dim::Iif, &[]) as u32,
            oif: prefer(Dim::Oif, &[]) as u32,
            v6: self.v6(),
            src: host(Dim::Src),
            dst: host(Dim::Dst),
            proto,
            sport,
            dport,
            ack: prefer(Dim::Flags, &[0]) == 1,
            ct: Ct::from_value(prefer(Dim::Ct, &[0, 1])),
            hops: prefer(Dim::Hops, &[64, 255]) as u8,
        }
    }
}

/// IPv4 blocks a witness avoids: 0/8, 127/8, 169.254/16, 224/3.
fn special_v4() -> Field {
    let b = |a: u32, len: u32| (u128::from(a), u128::from(a | (u32::MAX >> len)));
    Field::from_ranges([b(0, 8), b(0x7f00_0000, 8), b(0xa9fe_0000, 16), b(0xe000_0000, 3)])
}

/// IPv6 blocks a witness avoids: ::/8 (unspecified, loopback, mapped), fe80::/10, ff00::/8.
fn special_v6() -> Field {
    let b = |a: u128, len: u32| (a, a | (u128::MAX >> len));
    Field::from_ranges([b(0, 8), b(0xfe80 << 112, 10), b(0xff00 << 112, 8)])
}

// ---------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------

/// One concrete packet: a point of the space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Packet {
    pub path: Path,
    pub iif: u32,
    pub oif: u32,
    pub v6: bool,
    pub src: u128,
    pub dst: u128,
    pub proto: u8,
    /// For ICMP: the code.
    pub sport: u16,
    /// For ICMP: the type.
    pub dport: u16,
    /// TCP ACK or RST set.
    pub ack: bool,
    /// Connection-tracking state at a stateful device.
    pub ct: Ct,
    /// TTL or hop limit.
    pub hops: u8,
}

impl Packet {
    /// Can such a packet exist (see `Cube::on_path`)?
    pub fn is_possible(&self) -> bool {
        match self.path {
            Path::Input => self.iif != 0 && self.oif == 0,
            Path::Forward => self.iif != 0 && self.oif != 0,
            Path::Output => self.iif == 0 && self.oif != 0,
        }
    }

    pub(crate) fn values(&self) -> [u128; DIMS] {
        [
            self.path as u128,
            u128::from(self.iif),
            u128::from(self.oif),
            u128::from(self.v6),
            self.src,
            self.dst,
            u128::from(self.proto),
            u128::from(self.sport),
            u128::from(self.dport),
            u128::from(self.ack),
            self.ct as u128,
            u128::from(self.hops),
        ]
    }

    pub fn src_addr(&self) -> IpAddr {
        addr_of(self.v6, self.src)
    }

    pub fn dst_addr(&self) -> IpAddr {
        addr_of(self.v6, self.dst)
    }

    /// `tcp 10.0.0.2:49152 -> 10.1.0.2:443 (forward, in eth1, out eth2)`.
    pub fn describe(&self, ifaces: &Ifaces) -> String {
        let proto = proto_name(self.proto);
        let (s, d) = (self.src_addr(), self.dst_addr());
        let addr = |a: IpAddr, port: Option<u16>| match (a, port) {
            (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
            (a, Some(p)) => format!("{a}:{p}"),
            (a, None) => a.to_string(),
        };
        let body = match self.proto {
            6 | 17 | 132 | 33 | 136 => {
                let flags = if self.proto == 6 && self.ack { " (ACK)" } else { "" };
                format!("{proto} {} -> {}{flags}", addr(s, Some(self.sport)), addr(d, Some(self.dport)))
            }
            1 | 58 => {
                let ty = match icmp_type_name(self.proto == 58, self.dport) {
                    Some(n) => format!("{n} (type {} code {})", self.dport, self.sport),
                    None => format!("type {} code {}", self.dport, self.sport),
                };
                format!("{proto} {ty} {} -> {}", addr(s, None), addr(d, None))
            }
            _ => format!("{proto} {} -> {}", addr(s, None), addr(d, None)),
        };
        let mut via = vec![self.path.name().to_string()];
        if self.ct != Ct::New {
            via.push(format!("ct state {}", self.ct.name()));
        }
        if self.hops != 64 {
            via.push(format!("{} {}", if self.v6 { "hop limit" } else { "ttl" }, self.hops));
        }
        if self.iif != 0 {
            via.push(format!("in {}", ifaces.name(self.iif)));
        }
        if self.oif != 0 {
            via.push(format!("out {}", ifaces.name(self.oif)));
        }
        format!("{body} ({})", via.join(", "))
    }
}

/// The name nft gives an ICMP (`v6`: ICMPv6) type, if it has one.
pub(crate) fn icmp_type_name(v6: bool, ty: u16) -> Option<&'static str> {
    Some(match (v6, ty) {
        (false, 0) => "echo-reply",
        (false, 3) => "destination-unreachable",
        (false, 4) => "source-quench",
        (false, 5) => "redirect",
        (false, 8) => "echo-request",
        (false, 9) => "router-advertisement",
        (false, 10) => "router-solicitation",
        (false, 11) => "time-exceeded",
        (false, 12) => "parameter-problem",
        (false, 13) => "timestamp-request",
        (false, 14) => "timestamp-reply",
        (false, 15) => "info-request",
        (false, 16) => "info-reply",
        (false, 17) => "address-mask-request",
        (false, 18) => "address-mask-reply",
        (true, 1) => "destination-unreachable",
        (true, 2) => "packet-too-big",
        (true, 3) => "time-exceeded",
        (true, 4) => "parameter-problem",
        (true, 128) => "echo-request",
        (true, 129) => "echo-reply",
        (true, 130) => "mld-listener-query",
        (true, 131) => "mld-listener-report",
        (true, 132) => "mld-listener-done",
        (true, 133) => "nd-router-solicit",
        (true, 134) => "nd-router-advert",
        (true, 135) => "nd-neighbor-solicit",
        (true, 136) => "nd-neighbor-advert",
        (true, 137) => "nd-redirect",
        (true, 143) => "mld2-listener-report",
        _ => return None,
    })
}

pub(crate) fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        132 => "sctp".into(),
        n => format!("proto {n}"),
    }
}

// ---------------------------------------------------------------------------------------
// Interfaces
// ---------------------------------------------------------------------------------------

/// Interface names as numbers, shared by every ruleset compared with each other.
///
/// 0 is the empty name (no interface: the output interface of a packet to the device).
/// Numbers never handed out stand for interfaces nobody named, so `iifname != "eth0"`
/// (every number but eth0's) covers them too.
#[derive(Clone, Debug, Default)]
pub struct Ifaces {
    names: Vec<String>,
    ids: std::collections::HashMap<String, u32>,
    /// How many names were known at [`Ifaces::seal`].
    sealed: Option<u32>,
}

impl Ifaces {
    pub fn new() -> Ifaces {
        let mut i = Ifaces::default();
        i.id("");
        i
    }

    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(i) = self.ids.get(name) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), i);
        i
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// Every interface of the device is named now (`check` names the policy's before
    /// reading the file): a reader that meets another one knows the policy does not
    /// describe it.
    pub(crate) fn seal(&mut self) {
        self.sealed = Some(self.names.len() as u32);
    }

    /// Was this name known when `Ifaces::seal` was called? Always, when it never was.
    pub(crate) fn known(&self, name: &str) -> bool {
        match (self.sealed, self.ids.get(name)) {
            (None, _) => true,
            (Some(n), Some(&i)) => i < n,
            (Some(_), None) => false,
        }
    }

    /// How many numbers are handed out (the empty name included): the rest stand for
    /// interfaces nobody named.
    pub fn count(&self) -> u32 {
        self.names.len() as u32
    }

    /// A set of interface numbers in words: names, `(none)`, and for the numbers nobody
    /// named "interfaces not named in the policy"; a set holding most of them as "any but …".
    pub(crate) fn describe(&self, f: &Field) -> String {
        let n = self.count();
        let unnamed = f.intervals().iter().any(|&(_, hi)| hi >= u128::from(n));
        let (inside, outside): (Vec<u32>, Vec<u32>) = (0..n).partition(|&i| f.contains(u128::from(i)));
        let shown = |ids: &[u32]| {
            let mut v: Vec<String> = ids.iter().take(6).map(|&i| self.name(i)).collect();
            if ids.len() > 6 {
                v.push(format!("+{} more", ids.len() - 6));
            }
            v.join(",")
        };
        match (unnamed, inside.is_empty(), outside.is_empty()) {
            (true, _, true) => "any".into(),
            (true, _, false) => format!("any but {}", shown(&outside)),
            (false, _, _) => shown(&inside),
        }
    }

    pub fn name(&self, id: u32) -> String {
        match self.names.get(id as usize) {
            Some(n) if n.is_empty() => "(none)".into(),
            Some(n) => n.clone(),
            None => "(an interface not named anywhere)".into(),
        }
    }

    /// Every interface: named or not, and none.
    pub(crate) fn all() -> Field {
        Field::range(0, dim_max(Dim::Iif))
    }

    /// Every interface but none (a packet that arrived, or leaves).
    pub(crate) fn some() -> Field {
        Field::range(1, dim_max(Dim::Iif))
    }
}

// Cubes are copied by the million: keep them small (see `Field`).
const _: () = assert!(std::mem::size_of::<Cube>() == 192);
