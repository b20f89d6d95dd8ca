//! Built-in services. A policy may redefine any of them with a `service` declaration.

use super::Match::{self, *};

/// ICMP type names (the spelling nft uses).
pub(crate) const ICMP_TYPES: &[(&str, u8)] = &[
    ("echo-reply", 0),
    ("destination-unreachable", 3),
    ("source-quench", 4),
    ("redirect", 5),
    ("echo-request", 8),
    ("router-advertisement", 9),
    ("router-solicitation", 10),
    ("time-exceeded", 11),
    ("parameter-problem", 12),
    ("timestamp-request", 13),
    ("timestamp-reply", 14),
];

/// ICMPv6 type names (the spelling nft uses).
pub(crate) const ICMPV6_TYPES: &[(&str, u8)] = &[
    ("destination-unreachable", 1),
    ("packet-too-big", 2),
    ("time-exceeded", 3),
    ("parameter-problem", 4),
    ("echo-request", 128),
    ("echo-reply", 129),
    ("mld-listener-query", 130),
    ("mld-listener-report", 131),
    ("mld-listener-done", 132),
    ("nd-router-solicit", 133),
    ("nd-router-advert", 134),
    ("nd-neighbor-solicit", 135),
    ("nd-neighbor-advert", 136),
    ("nd-redirect", 137),
];

const fn tcp(p: u16) -> Match {
    Tcp { lo: p, hi: p }
}
const fn udp(p: u16) -> Match {
    Udp { lo: p, hi: p }
}

pub(crate) struct Builtin {
    pub name: &'static str,
    pub label: &'static str,
    pub matches: &'static [Match],
    pub encrypted: bool,
}

macro_rules! builtins {
    ($($name:literal, $label:literal, [$($m:expr),*], $enc:literal;)*) => {
        pub(crate) const BUILTINS: &[Builtin] = &[$(Builtin { name: $name, label: $label, matches: &[$($m),*], encrypted: $enc }),*];
    };
}

builtins! {
    "any", "Any traffic", [Any], false;
    "http", "HTTP", [tcp(80)], false;
    "https", "HTTPS", [tcp(443)], true;
    "http-proxy", "HTTP proxy", [tcp(8080)], false;
    "ssh", "SSH", [tcp(22)], true;
    "rdp", "Remote Desktop", [tcp(3389), udp(3389)], true;
    "smb", "SMB file sharing", [tcp(445)], false;
    "dns", "DNS", [udp(53), tcp(53)], false;
    "ntp", "NTP", [udp(123)], false;
    "smtp", "SMTP", [tcp(25)], false;
    "submission", "SMTP submission", [tcp(587)], false;
    "imaps", "IMAP over TLS", [tcp(993)], true;
    "pop3s", "POP3 over TLS", [tcp(995)], true;
    "syslog", "Syslog", [udp(514)], false;
    "syslog-tls", "Syslog over TLS", [tcp(6514)], true;
    "ica", "Citrix ICA/CGP", [tcp(1494), tcp(2598)], false;
    "ipp", "Internet Printing Protocol", [tcp(631)], false;
    "ipps", "IPP over TLS", [tcp(631)], true;
    "jetdirect", "Raw printing (JetDirect)", [tcp(9100)], false;
    "ldap", "LDAP", [tcp(389), udp(389)], false;
    "ldaps", "LDAP over TLS", [tcp(636)], true;
    "kerberos", "Kerberos", [tcp(88), udp(88)], false;
    "mssql", "Microsoft SQL Server", [tcp(1433)], false;
    "postgres", "PostgreSQL", [tcp(5432)], false;
    "amqp", "AMQP", [tcp(5672)], false;
    "amqps", "AMQP over TLS", [tcp(5671)], true;
    "winrm", "WinRM (HTTP)", [tcp(5985)], false;
    "winrm-https", "WinRM over HTTPS", [tcp(5986)], true;
    "snmp", "SNMP", [udp(161)], false;
    "bacnet", "BACnet/IP", [udp(47808)], false;
    "ping", "ICMP echo", [Icmp(Some(8)), Icmpv6(Some(128))], false;
}
