//! The syntax tree: what was written, with a span on every node. Nothing here is resolved.

use ipnet::IpNet;

use crate::diagnostics::{FileId, Span};

/// A name as written (`[a-z][a-z0-9_-]*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A double-quoted string; `value` is unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The text after `#`, without the line ending.
    pub text: String,
    pub span: Span,
    /// True when only white space precedes it on its line.
    pub own_line: bool,
}

/// One parsed `.zc` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    pub file: FileId,
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

/// The kinds of top-level declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeclKind {
    Policy,
    Class,
    Zone,
    Service,
    System,
    Group,
    Flow,
    Firewall,
    Switch,
}

impl DeclKind {
    pub(crate) const ALL: [DeclKind; 9] = [
        DeclKind::Policy,
        DeclKind::Class,
        DeclKind::Zone,
        DeclKind::Service,
        DeclKind::System,
        DeclKind::Group,
        DeclKind::Flow,
        DeclKind::Firewall,
        DeclKind::Switch,
    ];

    pub(crate) fn keyword(self) -> &'static str {
        match self {
            DeclKind::Policy => "policy",
            DeclKind::Class => "class",
            DeclKind::Zone => "zone",
            DeclKind::Service => "service",
            DeclKind::System => "system",
            DeclKind::Group => "group",
            DeclKind::Flow => "flow",
            DeclKind::Firewall => "firewall",
            DeclKind::Switch => "switch",
        }
    }

    pub(crate) fn from_keyword(word: &str) -> Option<DeclKind> {
        DeclKind::ALL.into_iter().find(|k| k.keyword() == word)
    }

    /// The noun used in messages ("data class", not "class").
    pub(crate) fn noun(self) -> &'static str {
        match self {
            DeclKind::Class => "data class",
            DeclKind::Firewall | DeclKind::Switch => "device",
            other => other.keyword(),
        }
    }
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: DeclKind,
    pub header: Header,
    /// `None` when written without a block.
    pub body: Option<Body>,
    pub span: Span,
    /// The parser had to skip part of this item; resolution stays quiet about what is missing.
    pub damaged: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    /// `policy "label"`
    Policy { label: Option<Str> },
    /// `class|zone|service|system|group|firewall|switch NAME "label"?`
    Named { name: Ident, label: Option<Str> },
    /// `flow FROM -> TO : SERVICE, … "description"`
    Flow { from: Endpoints, to: Endpoints, services: Vec<ServiceRef>, description: Str },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    pub props: Vec<Prop>,
    /// Span of the closing `}`.
    pub close: Span,
}

/// One flow endpoint: a name or a `[a, b]` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub names: Vec<Ident>,
    pub bracketed: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceRef {
    Named(Ident),
    Inline(Spanned<ServiceItem>),
}

/// A port or port range as written; checked during resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub lo: u64,
    pub hi: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IcmpType {
    Named(String),
    Number(u64),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceItem {
    Tcp(PortRange),
    Udp(PortRange),
    Icmp(Option<IcmpType>),
    Icmpv6(Option<IcmpType>),
    Proto(u64),
    Any,
}

/// An address or prefix as written: `10.0.0.1` or `10.0.0.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrLit {
    pub net: IpNet,
    /// False for a bare address (a host route).
    pub has_len: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    Closed,
    Internal,
    Dmz,
    Partner,
    External,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    Linux,
    Windows,
    Appliance,
    Saas,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Backup,
    Siem,
    Ad,
    Print,
    Archive,
    Jump,
    Proxy,
    Vdi,
    Mail,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    Eea,
    Other(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Auth {
    Mfa,
    Certificate,
}

/// What a configuration is written for: the one list of targets. A firewall or switch
/// names one of the device targets (`target …`, [`Keyword`]); a host's platform decides
/// its own (Linux: nftables, Windows: Windows Defender Firewall).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Nftables,
    CiscoIos,
    ArubaAoscx,
    Junos,
    AristaEos,
    /// Windows Defender Firewall (hosts only).
    Windows,
}

impl Target {
    /// Every target, in the order `compile --target` lists them.
    pub(crate) const ALL: [Target; 6] =
        [Target::Nftables, Target::Windows, Target::CiscoIos, Target::ArubaAoscx, Target::Junos, Target::AristaEos];

    /// The name in policies, `--target`, `manifest.json` and reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::Nftables => "nftables",
            Target::CiscoIos => "cisco-ios",
            Target::ArubaAoscx => "aruba-aoscx",
            Target::Junos => "junos",
            Target::AristaEos => "arista-eos",
            Target::Windows => "windows",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// Keyword values: each enum maps to and from its spelling in one table.
pub trait Keyword: Sized + Copy + 'static {
    const TABLE: &'static [(&'static str, Self)];

    fn parse_word(word: &str) -> Option<Self> {
        Self::TABLE.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
    }

    fn word(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::TABLE.iter().find(|(_, v)| *v == self).map_or("?", |(w, _)| w)
    }
}

impl Keyword for Trust {
    const TABLE: &'static [(&'static str, Trust)] = &[
        ("closed", Trust::Closed),
        ("internal", Trust::Internal),
        ("dmz", Trust::Dmz),
        ("partner", Trust::Partner),
        ("external", Trust::External),
    ];
}

impl Keyword for Platform {
    const TABLE: &'static [(&'static str, Platform)] = &[
        ("linux", Platform::Linux),
        ("windows", Platform::Windows),
        ("appliance", Platform::Appliance),
        ("saas", Platform::Saas),
    ];
}

impl Keyword for Role {
    const TABLE: &'static [(&'static str, Role)] = &[
        ("backup", Role::Backup),
        ("siem", Role::Siem),
        ("ad", Role::Ad),
        ("print", Role::Print),
        ("archive", Role::Archive),
        ("jump", Role::Jump),
        ("proxy", Role::Proxy),
        ("vdi", Role::Vdi),
        ("mail", Role::Mail),
    ];
}

impl Keyword for Auth {
    const TABLE: &'static [(&'static str, Auth)] = &[("mfa", Auth::Mfa), ("certificate", Auth::Certificate)];
}

/// The targets a device may name (not `windows`: a host's platform decides its own).
impl Keyword for Target {
    const TABLE: &'static [(&'static str, Target)] = &[
        ("nftables", Target::Nftables),
        ("cisco-ios", Target::CiscoIos),
        ("aruba-aoscx", Target::ArubaAoscx),
        ("junos", Target::Junos),
        ("arista-eos", Target::AristaEos),
    ];
}

/// A property inside a declaration's block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prop {
    pub kind: PropKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropKind {
    Owner(Str),
    Contact(Str),
    Description(Str),
    Special,
    Confined {
        to: Vec<Ident>,
    },
    Trust(Spanned<Trust>),
    Net(Vec<AddrLit>),
    Items(Vec<Spanned<ServiceItem>>),
    Encrypted,
    Zone(Ident),
    Address(Vec<AddrLit>),
    Platform(Spanned<Platform>),
    Holds(Vec<Ident>),
    Role(Spanned<Role>),
    Vendor(Str),
    Dpa(Str),
    Region(Spanned<Region>),
    Auth(Spanned<Auth>),
    Allow {
        lint: Ident,
        because: Str,
        /// Who answers for the exception.
        owner: Option<Str>,
        /// The last day the exception holds.
        until: Option<Spanned<super::date::Date>>,
    },
    Members(Vec<Ident>),
    /// `carries none` when `classes` is empty and `none` is set.
    Carries {
        classes: Vec<Ident>,
        none: bool,
        because: Str,
    },
    /// `export CLASS [fetched] basis "…"`.
    Export {
        class: Ident,
        /// The FROM side fetches the class from the TO side: it moves TO → FROM.
        fetched: bool,
        basis: Str,
    },
    RequireMfa,
    RequireEncrypted,
    EncryptedPayload(Str),
    Target(Spanned<Target>),
    Interface {
        name: Spanned<String>,
        quoted: bool,
        zones: Vec<Ident>,
    },
    Tcam(Spanned<u64>),
}

impl PropKind {
    /// The keyword that starts the property, used in messages.
    pub(crate) fn keyword(&self) -> &'static str {
        match self {
            PropKind::Owner(_) => "owner",
            PropKind::Contact(_) => "contact",
            PropKind::Description(_) => "description",
            PropKind::Special => "special",
            PropKind::Confined { .. } => "confined",
            PropKind::Trust(_) => "trust",
            PropKind::Net(_) => "net",
            PropKind::Items(_) => "service items",
            PropKind::Encrypted => "encrypted",
            PropKind::Zone(_) => "zone",
            PropKind::Address(_) => "address",
            PropKind::Platform(_) => "platform",
            PropKind::Holds(_) => "holds",
            PropKind::Role(_) => "role",
            PropKind::Vendor(_) => "vendor",
            PropKind::Dpa(_) => "dpa",
            PropKind::Region(_) => "region",
            PropKind::Auth(_) => "auth",
            PropKind::Allow { .. } => "allow",
            PropKind::Members(_) => "members",
            PropKind::Carries { .. } => "carries",
            PropKind::Export { .. } => "export",
            PropKind::RequireMfa => "require mfa",
            PropKind::RequireEncrypted => "require encrypted",
            PropKind::EncryptedPayload(_) => "encrypted payload",
            PropKind::Target(_) => "target",
            PropKind::Interface { .. } => "interface",
            PropKind::Tcam(_) => "tcam",
        }
    }
}

/// Property keywords each declaration accepts (for parsing and "did you mean").
pub(crate) fn property_keywords(kind: DeclKind) -> &'static [&'static str] {
    match kind {
        DeclKind::Policy => &["owner", "contact", "description"],
        DeclKind::Class => &["special", "confined"],
        DeclKind::Zone => &["trust", "net"],
        DeclKind::Service => &["tcp", "udp", "icmp", "icmpv6", "proto", "any", "encrypted"],
        DeclKind::System => {
            &["zone", "address", "platform", "holds", "role", "owner", "vendor", "dpa", "region", "auth", "allow"]
        }
        DeclKind::Group => &[],
        DeclKind::Flow => &["carries", "export", "require", "encrypted", "allow"],
        DeclKind::Firewall | DeclKind::Switch => &["target", "interface", "tcam", "address"],
    }
}

impl Item {
    pub(crate) fn name(&self) -> Option<&Ident> {
        match &self.header {
            Header::Named { name, .. } => Some(name),
            _ => None,
        }
    }

    pub(crate) fn label(&self) -> Option<&Str> {
        match &self.header {
            Header::Named { label, .. } | Header::Policy { label } => label.as_ref(),
            Header::Flow { .. } => None,
        }
    }

    pub(crate) fn props(&self) -> &[Prop] {
        self.body.as_ref().map_or(&[], |b| b.props.as_slice())
    }
}
