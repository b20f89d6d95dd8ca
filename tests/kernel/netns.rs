//! Network namespaces, veth links, rulesets and TCP/UDP probes for the kernel tests.
//!
//! Everything here runs as root and touches nothing outside the namespaces a [`Lab`]
//! creates: every namespace is named `zct<pid>-<tag>-<name>`, every packet is sent from a
//! socket opened inside one of them to an address that exists only inside another one, and
//! [`Lab`]'s `Drop` deletes them all, also when a test panics. Every external command and
//! every socket operation has a timeout.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long any one external command (`ip`, `nft`, `sysctl`) may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a probe that should be blocked waits for a TCP handshake, a UDP datagram or an
/// echo reply. Inside namespaces on one machine an answer takes well under a millisecond.
pub const BLOCK_TIMEOUT: Duration = Duration::from_millis(400);
/// How long a probe that should connect waits: generous, so a loaded machine (CI, tests
/// in parallel) cannot turn a PASS into a timeout.
pub const PASS_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs `program args…` with a deadline; returns stdout, or an error with stderr.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> Result<String, String> {
    let shown = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: cannot start: {e}"))?;
    // Read both pipes on their own threads, so a large `nft list ruleset` cannot fill a
    // pipe and stall the child.
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{shown}: timed out after {timeout:?}"));
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    if status.success() { Ok(stdout) } else { Err(format!("{shown}: {status}\n{stderr}{stdout}")) }
}

/// Like [`run`], but panics with the command's error output.
pub fn must(program: &str, args: &[&str]) -> String {
    run(program, args, COMMAND_TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether the kernel tests can run here; if not, says why, and fails under
/// `ZONECHECK_REQUIRE_KERNEL=1` (CI sets it, so a missing root or `nft` is a failure there).
pub fn kernel_ready(test: &str) -> bool {
    use std::io::Write as _;
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root".to_string());
    }
    for tool in ["ip", "nft"] {
        if !in_path(tool) {
            missing.push(format!("`{tool}` on PATH"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!("{test}: needs {}", missing.join(", "));
    if std::env::var("ZONECHECK_REQUIRE_KERNEL").is_ok_and(|v| v == "1") {
        panic!("{why} (ZONECHECK_REQUIRE_KERNEL=1)");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    let _ = writeln!(std::io::stderr(), "skipped {why}; set ZONECHECK_REQUIRE_KERNEL=1 to make this a failure");
    false
}

/// Whether `program` is an executable file on `PATH`.
pub fn in_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

static LABS: AtomicU32 = AtomicU32::new(0);

/// A set of network namespaces owned by one test. Dropping it deletes them.
pub struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    dirs: Vec<PathBuf>,
}

impl Lab {
    /// A lab whose namespaces are named `zct<pid>-<tag><n>-…`. Also removes namespaces
    /// of earlier runs whose process is gone (a run killed before its `Drop` ran).
    pub fn new(tag: &str) -> Lab {
        remove_orphans();
        let n = LABS.fetch_add(1, Ordering::Relaxed);
        Lab { prefix: format!("zct{}-{tag}{n}", std::process::id()), namespaces: Vec::new(), dirs: Vec::new() }
    }

    /// A scratch directory removed with the lab.
    pub fn dir(&mut self, name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("{}-{name}", self.prefix));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        self.dirs.push(dir.clone());
        dir
    }

    /// Creates a namespace with loopback up, DAD off (IPv6 addresses usable at once),
    /// reverse-path filtering off, and forwarding on if asked. Returns its full name.
    pub fn namespace(&mut self, name: &str, forwarding: bool) -> String {
        let full = format!("{}-{name}", self.prefix);
        must("ip", &["netns", "add", &full]);
        self.namespaces.push(full.clone());
        let mut settings = vec![
            ("net/ipv6/conf/all/accept_dad", "0"),
            ("net/ipv6/conf/default/accept_dad", "0"),
            ("net/ipv4/conf/all/rp_filter", "0"),
            ("net/ipv4/conf/default/rp_filter", "0"),
        ];
        // Lets ICMP datagram sockets (unprivileged ping) send echo requests.
        settings.push(("net/ipv4/ping_group_range", "0 2147483647"));
        if forwarding {
            settings.push(("net/ipv4/ip_forward", "1"));
            settings.push(("net/ipv6/conf/all/forwarding", "1"));
        }
        sysctl(&full, &settings).unwrap_or_else(|e| panic!("sysctl in {full}: {e}"));
        must("ip", &["-n", &full, "link", "set", "lo", "up"]);
        full
    }

    /// A veth pair: `name_a` in `ns_a`, `name_b` in `ns_b`, both up. Names are ≤ 15 bytes.
    pub fn veth(&self, ns_a: &str, name_a: &str, ns_b: &str, name_b: &str) {
        assert!(name_a.len() <= 15 && name_b.len() <= 15, "interface names are at most 15 bytes: {name_a}, {name_b}");
        must("ip", &["link", "add", name_a, "netns", ns_a, "type", "veth", "peer", "name", name_b, "netns", ns_b]);
        must("ip", &["-n", ns_a, "link", "set", name_a, "up"]);
        must("ip", &["-n", ns_b, "link", "set", name_b, "up"]);
    }

    /// Runs a list of `ip` commands (one per line, without the leading `ip`) in `ns`.
    pub fn ip_batch(&mut self, ns: &str, commands: &[String]) {
        if commands.is_empty() {
            return;
        }
        let dir = self.dir("batch");
        let file = dir.join(format!("{}.ip", ns.rsplit('-').next().unwrap_or("ns")));
        std::fs::write(&file, commands.join("\n") + "\n").expect("write ip batch");
        must("ip", &["-n", ns, "-batch", &file.to_string_lossy()]);
    }

    /// Forgets every neighbour (ARP and ND) entry in `ns`, so the next packets must
    /// resolve their neighbours again — through whatever ruleset is loaded now.
    pub fn flush_neighbours(&self, ns: &str) {
        must("ip", &["-n", ns, "neigh", "flush", "all"]);
        must("ip", &["-n", ns, "-6", "neigh", "flush", "all"]);
    }

    /// Loads an nft file in `ns` (`nft -f`).
    pub fn nft_load(&self, ns: &str, file: &Path) -> Result<(), String> {
        run("ip", &["netns", "exec", ns, "nft", "-f", &file.to_string_lossy()], COMMAND_TIMEOUT).map(drop)
    }

    /// Loads an nft ruleset given as text.
    pub fn nft_load_text(&mut self, ns: &str, name: &str, text: &str) -> Result<(), String> {
        let file = self.dir("nft").join(format!("{name}.nft"));
        std::fs::write(&file, text).expect("write nft file");
        self.nft_load(ns, &file)
    }

    /// `nft ARGS…` in `ns`.
    pub fn nft(&self, ns: &str, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", ns, "nft"];
        all.extend_from_slice(args);
        must("ip", &all)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.namespaces.iter().rev() {
            if let Err(e) = run("ip", &["netns", "del", ns], COMMAND_TIMEOUT) {
                eprintln!("cleanup: {e}");
            }
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Deletes `zct<pid>-…` namespaces whose process no longer exists.
fn remove_orphans() {
    let Ok(list) = run("ip", &["netns", "list"], COMMAND_TIMEOUT) else { return };
    for line in list.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix("zct") else { continue };
        let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if pid.is_empty() || !rest[pid.len()..].starts_with('-') {
            continue;
        }
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run("ip", &["netns", "del", name], COMMAND_TIMEOUT);
        }
    }
}

/// Runs `f` on a fresh thread that has joined network namespace `ns`. Sockets created there
/// stay in `ns` when handed back.
pub fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = File::open(&path)?;
        // SAFETY: plain syscall on a valid descriptor; it changes only this thread.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        f()
    })
    .join()
    .map_err(|_| io::Error::other("namespace thread panicked"))?
}

/// Writes `/proc/sys/…` settings inside `ns` (the sysctl tree follows the thread's namespace).
fn sysctl(ns: &str, settings: &[(&'static str, &'static str)]) -> io::Result<()> {
    let settings = settings.to_vec();
    in_ns(ns, move || {
        for (key, value) in settings {
            let path = format!("/proc/sys/{key}");
            std::fs::write(&path, value).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
            let back = std::fs::read_to_string(&path)?;
            if back.split_whitespace().ne(value.split_whitespace()) {
                return Err(io::Error::other(format!("{path} reads {back:?} after writing {value}")));
            }
        }
        Ok(())
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    /// ICMP or ICMPv6 echo request (the port is unused).
    Ping,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Ping => "ping",
        })
    }
}

/// What a probe saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// TCP handshake completed and the listener accepted the client's address; or a UDP
    /// datagram arrived from the client's address and the answer came back.
    Pass,
    /// Nothing came back in time (a silent drop).
    Timeout,
    /// TCP reset: something answered the SYN with RST (a `reject`, or no listener).
    Refused,
    /// An ICMP error (host/net/admin unreachable).
    Unreachable(String),
    /// The sender's own output filter dropped it (EPERM from the socket call).
    LocalDrop,
    /// A UDP datagram arrived but the answer did not come back: the request got through.
    ReplyLost,
    /// Something else: the probe itself is broken.
    Broken(String),
}

impl Outcome {
    pub fn passed(&self) -> bool {
        *self == Outcome::Pass
    }
    /// A clean block: dropped, refused or unreachable before reaching the destination
    /// (not a broken probe, and not a request that arrived without an answer).
    pub fn blocked(&self) -> bool {
        matches!(self, Outcome::Timeout | Outcome::Refused | Outcome::Unreachable(_) | Outcome::LocalDrop)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Pass => f.write_str("PASS"),
            Outcome::Timeout => f.write_str("BLOCK (timeout)"),
            Outcome::Refused => f.write_str("BLOCK (refused)"),
            Outcome::Unreachable(e) => write!(f, "BLOCK (unreachable: {e})"),
            Outcome::LocalDrop => f.write_str("BLOCK (dropped by the sender's output filter)"),
            Outcome::ReplyLost => f.write_str("BLOCK (request arrived, reply lost)"),
            Outcome::Broken(e) => write!(f, "BROKEN ({e})"),
        }
    }
}

/// One connection attempt from `src` (inside `src_ns`) to `dst`:`port` (inside `dst_ns`).
#[derive(Clone, Debug)]
pub struct Attempt {
    pub src_ns: String,
    pub src: IpAddr,
    pub dst_ns: String,
    pub dst: IpAddr,
    pub proto: Proto,
    pub port: u16,
    /// How long to wait for an answer.
    pub timeout: Duration,
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.proto == Proto::Ping {
            return write!(f, "ping {} -> {}", self.src, self.dst);
        }
        let dst = SocketAddr::new(self.dst, self.port);
        write!(f, "{} {} -> {dst}", self.proto, self.src)
    }
}

/// Runs attempts, several at a time (never two listeners on one port and protocol in one
/// namespace at once). Results are in input order.
pub fn probe_all(attempts: &[Attempt]) -> Vec<Outcome> {
    let mut results: Vec<Option<Outcome>> = vec![None; attempts.len()];
    let mut pending: Vec<usize> = (0..attempts.len()).collect();
    while !pending.is_empty() {
        let mut wave = Vec::new();
        let mut busy = BTreeSet::new();
        let mut later = Vec::new();
        for i in pending {
            let a = &attempts[i];
            // Keyed by namespace, not address: a listener on one address of a port would
            // also clash with one on the wildcard address of that port.
            if wave.len() < 24 && busy.insert((a.dst_ns.clone(), a.proto, a.port)) {
                wave.push(i)
            } else {
                later.push(i)
            }
        }
        let outcomes: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
            let handles: Vec<_> = wave.iter().map(|&i| (i, scope.spawn(move || probe(&attempts[i])))).collect();
            handles
                .into_iter()
                .map(|(i, h)| (i, h.join().unwrap_or_else(|_| Outcome::Broken("probe thread panicked".into()))))
                .collect()
        });
        for (i, o) in outcomes {
            results[i] = Some(o);
        }
        pending = later;
    }
    results.into_iter().map(|o| o.expect("every attempt probed")).collect()
}

/// One attempt.
pub fn probe(a: &Attempt) -> Outcome {
    match a.proto {
        Proto::Tcp => probe_tcp(a),
        Proto::Udp => probe_udp(a),
        Proto::Ping => probe_ping(a),
    }
}

fn probe_tcp(a: &Attempt) -> Outcome {
    let dst = SocketAddr::new(a.dst, a.port);
    let listener = match bind_retrying(|| in_ns(&a.dst_ns, move || TcpListener::bind(dst))) {
        Ok(l) => l,
        Err(e) => return Outcome::Broken(format!("listen on {dst} in {}: {e}", a.dst_ns)),
    };
    let (src, timeout) = (a.src, a.timeout);
    let connected = in_ns(&a.src_ns, move || connect_from(src, dst, timeout));
    match connected {
        Ok(stream) => {
            // The handshake completed; the listener must see the probe's own source.
            let _ = listener.set_nonblocking(true);
            let deadline = Instant::now() + a.timeout;
            loop {
                match listener.accept() {
                    Ok((_, peer))
                        if peer.ip() == src && peer.port() == stream.local_addr().map(|l| l.port()).unwrap_or(0) =>
                    {
                        return Outcome::Pass;
                    }
                    Ok((_, peer)) => return Outcome::Broken(format!("listener accepted {peer}, expected {src}")),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(1))
                    }
                    Err(e) => return Outcome::Broken(format!("connected, but accept failed: {e}")),
                }
            }
        }
        Err(e) => classify(e),
    }
}

/// A bind the kernel may still refuse for a moment after the previous wave's socket on the
/// same port closed: retried for up to two seconds before the lab is called broken.
fn bind_retrying<T>(mut bind: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match bind() {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn classify(e: io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::TimedOut => Outcome::Timeout,
        io::ErrorKind::ConnectionRefused => Outcome::Refused,
        _ => match e.raw_os_error() {
            Some(libc::EPERM) => Outcome::LocalDrop,
            Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EACCES) => Outcome::Unreachable(e.to_string()),
            _ => Outcome::Broken(e.to_string()),
        },
    }
}

fn probe_udp(a: &Attempt) -> Outcome {
    let dst = SocketAddr::new(a.dst, a.port);
    let src = SocketAddr::new(a.src, 0);
    let server = match bind_retrying(|| in_ns(&a.dst_ns, move || UdpSocket::bind(dst))) {
        Ok(s) => s,
        Err(e) => return Outcome::Broken(format!("bind {dst} in {}: {e}", a.dst_ns)),
    };
    let client = match in_ns(&a.src_ns, move || UdpSocket::bind(src)) {
        Ok(s) => s,
        Err(e) => return Outcome::Broken(format!("bind {src} in {}: {e}", a.src_ns)),
    };
    let client_addr = match client.local_addr() {
        Ok(addr) => addr,
        Err(e) => return Outcome::Broken(e.to_string()),
    };
    let setup = server.set_read_timeout(Some(a.timeout)).and_then(|_| client.set_read_timeout(Some(a.timeout)));
    if let Err(e) = setup {
        return Outcome::Broken(e.to_string());
    }
    if let Err(e) = client.send_to(b"zonecheck probe", dst) {
        return classify(e);
    }
    let mut buf = [0u8; 64];
    match server.recv_from(&mut buf) {
        Ok((n, peer)) if peer == client_addr && &buf[..n] == b"zonecheck probe" => {}
        Ok((_, peer)) => {
            return Outcome::Broken(format!("listener got a datagram from {peer}, expected {client_addr}"));
        }
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Outcome::Timeout,
        Err(e) => return Outcome::Broken(format!("recv: {e}")),
    }
    if let Err(e) = server.send_to(b"zonecheck answer", client_addr) {
        // EPERM: the destination's own output filter dropped the answer.
        return if e.raw_os_error() == Some(libc::EPERM) {
            Outcome::ReplyLost
        } else {
            Outcome::Broken(format!("answer: {e}"))
        };
    }
    match client.recv_from(&mut buf) {
        Ok((n, peer)) if peer == dst && &buf[..n] == b"zonecheck answer" => Outcome::Pass,
        Ok((_, peer)) => Outcome::Broken(format!("client got an answer from {peer}, expected {dst}")),
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Outcome::ReplyLost,
        Err(e) => Outcome::Broken(format!("client recv: {e}")),
    }
}

/// An ICMP (or ICMPv6) echo request from `src` to `dst`, over a datagram ("ping") socket:
/// the kernel sets the identifier and checksum, and the destination's kernel answers.
fn probe_ping(a: &Attempt) -> Outcome {
    let (src, dst, timeout) = (a.src, a.dst, a.timeout);
    let socket = in_ns(&a.src_ns, move || {
        let (family, proto) =
            if dst.is_ipv4() { (libc::AF_INET, libc::IPPROTO_ICMP) } else { (libc::AF_INET6, libc::IPPROTO_ICMPV6) };
        // SAFETY: socket(2) returns a new descriptor or -1.
        let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, proto) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own; std only issues sendto/recvfrom on it.
        let socket = UdpSocket::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let (storage, len) = sockaddr(SocketAddr::new(src, 0));
        // SAFETY: the storage holds a valid sockaddr of the given length.
        if unsafe { libc::bind(fd, (&raw const storage).cast(), len) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(socket)
    });
    let socket = match socket {
        Ok(s) => s,
        Err(e) => return Outcome::Broken(format!("ping socket from {src}: {e}")),
    };
    if let Err(e) = socket.set_read_timeout(Some(timeout)) {
        return Outcome::Broken(e.to_string());
    }
    let request: u8 = if dst.is_ipv4() { 8 } else { 128 };
    let reply: u8 = if dst.is_ipv4() { 0 } else { 129 };
    let packet = [request, 0, 0, 0, 0, 0, 0, 1, b'z', b'c'];
    if let Err(e) = socket.send_to(&packet, SocketAddr::new(dst, 0)) {
        return classify(e);
    }
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 128];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) if peer.ip() == dst && n >= 8 && buf[0] == reply => return Outcome::Pass,
            Ok(_) if Instant::now() < deadline => continue,
            Ok((_, peer)) => return Outcome::Broken(format!("unexpected ICMP from {peer}")),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Outcome::Timeout;
            }
            Err(e) => return classify(e),
        }
    }
}

/// A TCP connection from `src` (port chosen by the kernel) to `dst`, giving up after
/// `timeout`. std cannot bind before connecting, so this uses the socket calls directly.
fn connect_from(src: IpAddr, dst: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let family = if dst.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: socket(2) returns a new descriptor or -1.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let (src_storage, src_len) = sockaddr(SocketAddr::new(src, 0));
    // SAFETY: the storage holds a valid sockaddr of the given length.
    if unsafe { libc::bind(fd, (&raw const src_storage).cast(), src_len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let (dst_storage, dst_len) = sockaddr(dst);
    // SAFETY: as above.
    if unsafe { libc::connect(fd, (&raw const dst_storage).cast(), dst_len) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    let mut pfd = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&raw mut pfd, 1, ms) };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    if ready == 0 {
        return Err(io::Error::from(io::ErrorKind::TimedOut));
    }
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: err and len are valid out-pointers for SO_ERROR.
    if unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&raw mut err).cast(), &raw mut len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if err != 0 {
        return Err(io::Error::from_raw_os_error(err));
    }
    let stream = TcpStream::from(owned);
    stream.set_nonblocking(false)?;
    Ok(stream)
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in>().write(sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: 0,
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in6>().write(sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Text written to stdout for a human reading `--nocapture` output.
pub fn note(text: impl AsRef<str>) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", text.as_ref());
}
