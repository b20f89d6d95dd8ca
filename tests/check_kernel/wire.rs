//! Witness packets on the wire: built byte by byte (IPv4 or IPv6 header, TCP SYN, UDP
//! datagram, ICMP message or a bare protocol payload, with correct checksums) and sent from
//! a packet socket, so every field of a witness — source port, ICMP type and code, any
//! source address — goes out exactly as `check` wrote it, which no ordinary socket allows.
//! The same kind of socket, on the receiving side, sees every frame that arrives.
//!
//! Each packet carries a nonce (the TCP sequence number, or the first payload bytes), so
//! a late or stray frame is never mistaken for the one being waited for.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::netns::in_ns;

/// The packet a witness stands for, in the terms needed to build it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shot {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    /// Source port; for ICMP the code.
    pub sport: u16,
    /// Destination port; for ICMP the type.
    pub dport: u16,
}

impl std::fmt::Display for Shot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.proto {
            1 | 58 => write!(f, "icmp type {} code {} {} -> {}", self.dport, self.sport, self.src, self.dst),
            6 | 17 => {
                let name = if self.proto == 6 { "tcp" } else { "udp" };
                write!(f, "{name} {} port {} -> {} port {}", self.src, self.sport, self.dst, self.dport)
            }
            p => write!(f, "protocol {p} {} -> {}", self.src, self.dst),
        }
    }
}

/// One's-complement sum of 16-bit words (the Internet checksum before the final inversion).
fn sum16(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The transport part of a shot: header and payload, checksum not yet filled in for
/// TCP/UDP/ICMPv6 (they need the pseudo-header), and the offset of the checksum field.
fn transport(s: &Shot, nonce: u32) -> (Vec<u8>, Option<usize>) {
    let tag = nonce.to_be_bytes();
    match s.proto {
        6 => {
            // A bare SYN: data offset 5, window 64240, sequence number = nonce.
            let mut t = Vec::with_capacity(20);
            t.extend_from_slice(&s.sport.to_be_bytes());
            t.extend_from_slice(&s.dport.to_be_bytes());
            t.extend_from_slice(&tag);
            t.extend_from_slice(&[0, 0, 0, 0]);
            t.extend_from_slice(&[0x50, 0x02]);
            t.extend_from_slice(&64240u16.to_be_bytes());
            t.extend_from_slice(&[0, 0, 0, 0]);
            (t, Some(16))
        }
        17 => {
            let mut t = Vec::with_capacity(16);
            t.extend_from_slice(&s.sport.to_be_bytes());
            t.extend_from_slice(&s.dport.to_be_bytes());
            t.extend_from_slice(&16u16.to_be_bytes());
            t.extend_from_slice(&[0, 0]);
            t.extend_from_slice(&tag);
            t.extend_from_slice(b"zcck");
            (t, Some(6))
        }
        1 | 58 => {
            // Type, code, checksum, identifier and sequence (for echo), then the nonce.
            let (Ok(kind), Ok(code)) = (u8::try_from(s.dport), u8::try_from(s.sport)) else {
                return (Vec::new(), None);
            };
            let mut t = vec![kind, code, 0, 0];
            t.extend_from_slice(&(nonce as u16).to_be_bytes());
            t.extend_from_slice(&1u16.to_be_bytes());
            t.extend_from_slice(&tag);
            t.extend_from_slice(b"zcck");
            (t, Some(2))
        }
        _ => {
            let mut t = tag.to_vec();
            t.extend_from_slice(b"zonecheck kernel");
            (t, None)
        }
    }
}

/// The whole IP packet of a shot.
pub fn build(s: &Shot, nonce: u32) -> Vec<u8> {
    let (mut t, csum_at) = transport(s, nonce);
    let (src, dst) = (octets(s.src), octets(s.dst));
    let v6 = s.dst.is_ipv6();
    let len = t.len();
    if let Some(at) = csum_at {
        // ICMPv4 has no pseudo-header; TCP, UDP and ICMPv6 do.
        let acc = if s.proto == 1 {
            sum16(0, &t)
        } else {
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&src);
            pseudo.extend_from_slice(&dst);
            if v6 {
                pseudo.extend_from_slice(&(len as u32).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, s.proto]);
            } else {
                pseudo.extend_from_slice(&[0, s.proto]);
                pseudo.extend_from_slice(&(len as u16).to_be_bytes());
            }
            sum16(sum16(0, &pseudo), &t)
        };
        let mut c = fold(acc);
        if s.proto == 17 && c == 0 {
            c = 0xffff;
        }
        t[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let mut p = Vec::with_capacity(40 + len);
    if v6 {
        p.extend_from_slice(&[0x60, 0, 0, 0]);
        p.extend_from_slice(&(len as u16).to_be_bytes());
        p.push(s.proto);
        p.push(64);
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
    } else {
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&((20 + len) as u16).to_be_bytes());
        p.extend_from_slice(&(nonce as u16).to_be_bytes());
        p.extend_from_slice(&[0x40, 0]); // don't fragment
        p.push(64);
        p.push(s.proto);
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        let c = fold(sum16(0, &p));
        p[10..12].copy_from_slice(&c.to_be_bytes());
    }
    p.extend_from_slice(&t);
    p
}

/// Whether a received IP packet is `sent` after forwarding: same addresses and protocol,
/// same transport bytes (a router changes only the TTL or hop limit and the IPv4 header
/// checksum).
pub fn is_forwarded_copy(received: &[u8], sent: &[u8]) -> bool {
    if received.is_empty() || sent.is_empty() || received[0] >> 4 != sent[0] >> 4 {
        return false;
    }
    if sent[0] >> 4 == 6 {
        received.len() >= sent.len()
            && received[6] == sent[6]
            && received[8..40] == sent[8..40]
            && received[40..sent.len()] == sent[40..]
    } else {
        let ihl = usize::from(received[0] & 0x0f) * 4;
        let body = sent.len() - 20;
        ihl >= 20
            && received.len() >= ihl + body
            && received[9] == sent[9]
            && received[12..20] == sent[12..20]
            && received[ihl..ihl + body] == sent[20..]
    }
}

/// A packet socket on one device of one namespace.
pub struct Wire {
    fd: OwnedFd,
    ifindex: i32,
}

const ETH_P_ALL: u16 = 0x0003;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;

fn link_addr(ifindex: i32, protocol: u16, mac: Option<[u8; 6]>) -> libc::sockaddr_ll {
    let mut addr = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: protocol.to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    if let Some(mac) = mac {
        addr.sll_halen = 6;
        addr.sll_addr[..6].copy_from_slice(&mac);
    }
    addr
}

impl Wire {
    /// A packet socket bound to `dev` inside `ns`: it sends IP packets to a given MAC and
    /// receives every IP packet arriving on `dev` (without the link header).
    pub fn open(ns: &str, dev: &str) -> io::Result<Wire> {
        let dev = std::ffi::CString::new(dev).map_err(io::Error::other)?;
        in_ns(ns, move || {
            // SAFETY: plain libc calls; the name is a valid C string; the descriptor is
            // checked before it is owned.
            unsafe {
                let ifindex = libc::if_nametoindex(dev.as_ptr()) as i32;
                if ifindex == 0 {
                    return Err(io::Error::last_os_error());
                }
                let fd =
                    libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, i32::from(ETH_P_ALL.to_be()));
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                let fd = OwnedFd::from_raw_fd(fd);
                let addr = link_addr(ifindex, ETH_P_ALL, None);
                let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                if libc::bind(fd.as_raw_fd(), (&raw const addr).cast(), len) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(Wire { fd, ifindex })
            }
        })
    }

    /// Sends one IP packet in a frame addressed to `mac`.
    pub fn send(&self, mac: [u8; 6], packet: &[u8]) -> io::Result<()> {
        let protocol = if packet.first().is_some_and(|b| b >> 4 == 6) { ETH_P_IPV6 } else { ETH_P_IP };
        let addr = link_addr(self.ifindex, protocol, Some(mac));
        let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: the buffer and the address are valid for the lengths given.
        let sent = unsafe {
            libc::sendto(self.fd.as_raw_fd(), packet.as_ptr().cast(), packet.len(), 0, (&raw const addr).cast(), len)
        };
        if sent < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// The next frame received (not sent) on the device within `timeout`, as an IP packet.
    fn receive(&self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: one valid pollfd.
            let ready = unsafe { libc::poll(&raw mut pfd, 1, ms) };
            if ready < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if ready == 0 {
                return Ok(None);
            }
            // SAFETY: all-zero is a valid sockaddr_ll; buffer and address are valid.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    (&raw mut from).cast(),
                    &raw mut from_len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted {
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                    continue;
                }
                return Err(e);
            }
            if from.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            return Ok(Some(buf[..n as usize].to_vec()));
        }
    }

    /// Throws away every frame queued so far; says whether one was a forwarded copy of
    /// `watch`.
    pub fn drain(&self, watch: Option<&[u8]>) -> io::Result<bool> {
        let mut seen = false;
        while let Some(p) = self.receive(Duration::ZERO)? {
            seen |= watch.is_some_and(|w| is_forwarded_copy(&p, w));
        }
        Ok(seen)
    }

    /// Waits up to `timeout` for the forwarded copy of `sent`.
    pub fn wait_for(&self, sent: &[u8], timeout: Duration) -> io::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.receive(left)? {
                Some(p) if is_forwarded_copy(&p, sent) => return Ok(true),
                Some(_) => {}
                None => return Ok(false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksums of a built packet verify (the sum over the covered bytes is 0xffff).
    #[test]
    fn checksums_verify() {
        for (src, dst, proto, sport, dport) in [
            ("10.0.0.1", "10.1.0.2", 6, 49152, 443),
            ("10.0.0.1", "10.1.0.2", 17, 49152, 53),
            ("10.0.0.1", "10.1.0.2", 1, 0, 8),
            ("fd00::1", "fd00:1::2", 6, 49152, 22),
            ("fd00::1", "fd00:1::2", 17, 1, 123),
            ("fd00::1", "fd00:1::2", 58, 0, 128),
            ("10.0.0.1", "10.1.0.2", 47, 0, 0),
        ] {
            let s = Shot { src: src.parse().unwrap(), dst: dst.parse().unwrap(), proto, sport, dport };
            let p = build(&s, 0xdead_beef);
            let v6 = s.dst.is_ipv6();
            let hl = if v6 { 40 } else { 20 };
            if !v6 {
                assert_eq!(fold(sum16(0, &p[..20])), 0, "{s}: IPv4 header checksum");
            }
            let t = &p[hl..];
            let verify = match proto {
                1 => fold(sum16(0, t)),
                6 | 17 | 58 => {
                    let mut pseudo = Vec::new();
                    pseudo.extend_from_slice(&octets(s.src));
                    pseudo.extend_from_slice(&octets(s.dst));
                    if v6 {
                        pseudo.extend_from_slice(&(t.len() as u32).to_be_bytes());
                        pseudo.extend_from_slice(&[0, 0, 0, proto]);
                    } else {
                        pseudo.extend_from_slice(&[0, proto]);
                        pseudo.extend_from_slice(&(t.len() as u16).to_be_bytes());
                    }
                    fold(sum16(sum16(0, &pseudo), t))
                }
                _ => 0,
            };
            assert_eq!(verify, 0, "{s}: transport checksum");
            // A forwarded copy (TTL decremented, header checksum changed) still matches.
            let mut copy = p.clone();
            copy[if v6 { 7 } else { 8 }] -= 1;
            if !v6 {
                copy[10] ^= 0x55;
            }
            assert!(is_forwarded_copy(&copy, &p), "{s}");
            let mut other = p.clone();
            *other.last_mut().unwrap() ^= 1;
            assert!(!is_forwarded_copy(&other, &p), "{s}");
        }
    }
}
