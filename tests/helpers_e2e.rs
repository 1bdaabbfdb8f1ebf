//! The shipped helpers end to end under escapes (issue 14): the installed setuid escapes run as
//! the unprivileged test user with a valid grant, the real helpers (`escapes-helper` hard-linked
//! by name, see `support::standard_helper`) as separate processes, and their real peers:
//! stampctl's holder processes on a real pty, `ssh-agent`/`ssh-add`/`ssh-keygen`, `/usr/bin/xauth`.
//! The rules use escapes' per-run facts (`$l`, `$y`, `$H`, `$1`, `$NAME`) and a rule's `env`
//! allowance. Run with `make test` (as root; the stamp root is the compiled-in test root).

mod support;

use serde_json::Value;
use std::fs;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn table(kind: &str, path: &str, extra: &str) -> String {
    format!("\n[[{kind}]]\npath = \"{path}\"\n{extra}\n")
}

fn configure(f: &Fixture, tables: &[String]) {
    f.write_config(&format!("{DEFAULT_CONFIG}{}", tables.concat()));
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
}

/// `escapes --grant T [--run-as USER] -- argv` as the test user with `env` (else a clean one).
fn escapes(f: &Fixture, run_as: Option<&str>, argv: &[&str], env: &[(&str, &str)]) -> Command {
    let token = f.token(&f.claims(argv));
    let mut args = vec!["--grant", token.as_str()];
    if let Some(u) = run_as {
        args.extend(["--run-as", u]);
    }
    args.push("--");
    args.extend_from_slice(argv);
    let mut c = f.command(&args);
    c.envs(env.iter().copied());
    c
}

fn output(mut c: Command) -> Output {
    c.output().expect("spawn escapes")
}

/// Panics loudly when a peer program the test drives is missing (CI installs them: .ci/run).
fn need(program: &str, package: &str) {
    assert!(
        Path::new(program).exists(),
        "{program} is missing: apt-get install {package} (.ci/run installs it; this test needs the real one)"
    );
}

/// Runs `cmd` (a program and its words) as the test user with `env`, and wants it to succeed.
fn as_caller(f: &Fixture, cmd: &[&str], env: &[(&str, &str)]) -> String {
    let o = Command::new(cmd[0])
        .args(&cmd[1..])
        .env_clear()
        .envs(env.iter().copied())
        .current_dir("/")
        .uid(f.uid)
        .gid(f.gid)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(o.status.success(), "{cmd:?} as the caller: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

fn id_of(user: &str, flag: &str) -> u32 {
    let o = Command::new("id").args([flag, user]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or_else(|_| panic!("no user {user}"))
}

/// A directory of the test user's own, 0700, under /tmp (its peers' sockets and files).
struct CallerDir(String);

impl CallerDir {
    fn new(f: &Fixture, what: &str) -> CallerDir {
        let d = format!("/tmp/escapes-e2e-{what}-{}", std::process::id());
        let _ = fs::remove_dir_all(&d);
        fs::create_dir(&d).unwrap();
        chown(&d, Some(f.uid), Some(f.gid)).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        CallerDir(d)
    }
}

impl Drop for CallerDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A process killed (and reaped) when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &str) {
    let t = Instant::now();
    while !Path::new(path).exists() {
        assert!(t.elapsed() < Duration::from_secs(10), "{path} never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// --- a real pty ----------------------------------------------------------------------------------

/// A pseudo-terminal from the kernel (/dev/ptmx), its slave given to the test user as login
/// would (owner, 0620).
struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
    name: String,
}

impl Pty {
    fn new(f: &Fixture) -> Pty {
        // SAFETY: (test) plain libc calls on descriptors this function owns; ptsname_r writes at
        // most buf.len() bytes into buf.
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0, "posix_openpt");
            let master = OwnedFd::from_raw_fd(m);
            assert_eq!(libc::grantpt(m), 0, "grantpt");
            assert_eq!(libc::unlockpt(m), 0, "unlockpt");
            let mut buf = [0 as libc::c_char; 64];
            assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0, "ptsname_r");
            let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned();
            let c = std::ffi::CString::new(name.clone()).unwrap();
            let s = libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(s >= 0, "open {name}");
            let slave = OwnedFd::from_raw_fd(s);
            assert_eq!(libc::fchown(s, f.uid, f.gid), 0);
            assert_eq!(libc::fchmod(s, 0o620), 0);
            let flags = libc::fcntl(m, libc::F_GETFL);
            assert_eq!(libc::fcntl(m, libc::F_SETFL, flags | libc::O_NONBLOCK), 0);
            Pty { master, slave, name }
        }
    }

    /// Runs `c` in a new session whose controlling terminal is this pty (fds 0-2 on it), and
    /// returns its exit code and what it wrote to the terminal (without the pty's CRs).
    fn run(&self, mut c: Command) -> (i32, String) {
        c.stdin(Stdio::from(self.slave.try_clone().unwrap()))
            .stdout(Stdio::from(self.slave.try_clone().unwrap()))
            .stderr(Stdio::from(self.slave.try_clone().unwrap()));
        // SAFETY: (test) setsid and ioctl are async-signal-safe; run in the child before exec.
        unsafe {
            c.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = c.spawn().expect("spawn on the pty");
        let mut text = Vec::new();
        let mut master = fs::File::from(self.master.try_clone().unwrap());
        let t = Instant::now();
        let status = loop {
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.extend_from_slice(&buf[..n]);
            }
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "the command on the pty hangs");
            std::thread::sleep(Duration::from_millis(10));
        };
        std::thread::sleep(Duration::from_millis(20));
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&text).replace('\r', "");
        (status.code().unwrap_or(-1), text)
    }
}

// --- stamp ---------------------------------------------------------------------------------------

/// The facility the stamp tests use, under the compiled-in test stamp root.
const FACILITY: &str = "ecru";

/// Makes the stamp root and the facility as an admin does at boot, ends the test user's stamp
/// (if an earlier run left one) and returns the stampctl path.
fn stamp_boot() -> String {
    let ctl = standard_helper("stampctl");
    let o = Command::new(&ctl).args(["-m", "755", ".", FACILITY]).env_clear().output().unwrap();
    assert!(o.status.success(), "stampctl boot: {}", stderr(&o));
    let v = Command::new(&ctl).arg("-V").env_clear().output().unwrap();
    assert!(stdout(&v).contains("/run/escapes-test/stamp"), "the test stamp root is compiled in: {}", stdout(&v));
    end_stamp(&ctl);
    ctl
}

fn end_stamp(ctl: &str) {
    let o = Command::new(ctl).args(["-K", &format!("{FACILITY}/{USER}")]).env_clear().output().unwrap();
    assert!(o.status.success(), "stampctl -K: {}", stderr(&o));
}

struct StampEnded(String);

impl Drop for StampEnded {
    fn drop(&mut self) {
        let _ = Command::new(&self.0).args(["-K", &format!("{FACILITY}/{USER}")]).env_clear().output();
    }
}

/// The caller makes its stamp through escapes (stampctl as the granted command) on `pty`.
fn make_stamp(f: &Fixture, ctl: &str, pty: &Pty) {
    let name = format!("{FACILITY}/{USER}");
    let tty = format!("TTY={}", pty.name);
    let argv = [ctl, "-M", name.as_str(), "-E", "10m", tty.as_str()];
    let (rc, text) = pty.run(escapes(f, None, &argv, &[]));
    assert_eq!(rc, 0, "stampctl -M through escapes: {text}");
}

fn stamp_rule(f: &Fixture, kind: &str) -> String {
    let stamp = standard_helper("stamp");
    configure(f, &[table(kind, &stamp, "programs = [\"/usr/bin/id\"]\nparams = [\"STAMP_SPEC=ecru/$l:TTY=$y\"]")]);
    stamp
}

const ID: [&str; 2] = ["/usr/bin/id", "-u"];

fn stamp_on_its_tty_only(kind: &str) {
    let f = Fixture::new();
    let ctl = stamp_boot();
    let _end = StampEnded(ctl.clone());
    let stamp = stamp_rule(&f, kind);
    let (here, elsewhere) = (Pty::new(&f), Pty::new(&f));
    assert_ne!(here.name, elsewhere.name);

    // No stamp yet: denied, on the very terminal the stamp will name.
    let (rc, text) = here.run(escapes(&f, None, &ID, &[]));
    assert_eq!(rc, 77, "no stamp yet: {text}");
    assert!(!text.contains("\n0\n") && !text.starts_with('0'), "the command must not have run: {text}");

    make_stamp(&f, &ctl, &here);
    f.reset();
    stamp_rule(&f, kind);

    let (rc, text) = here.run(escapes(&f, None, &ID, &[]));
    assert_eq!((rc, text.as_str()), (0, "0\n"), "the stamp's own terminal");
    let run = f.audit().into_iter().find(|l| l["event"] == "run").expect("a run record");
    assert_eq!(strs(&run["helpers"]), [format!("{kind} {stamp}: allowed")], "{run}");
    assert_eq!(run["tty"], here.name.as_str(), "{run}");

    f.reset();
    stamp_rule(&f, kind);
    let (rc, text) = elsewhere.run(escapes(&f, None, &ID, &[]));
    assert_eq!(rc, 77, "another terminal: {text}");
    assert!(!text.lines().any(|l| l == "0"), "the command must not have run: {text}");
    let line = f.last_audit();
    assert_eq!((&line["event"], &line["error"]), (&Value::from("refused"), &Value::from(kind)), "{line}");
    assert_eq!(line["tty"], elsewhere.name.as_str(), "{line}");

    // No terminal at all: the rule needs $y, which this run lacks; refused before stamp runs.
    f.reset();
    stamp_rule(&f, kind);
    let o = output(escapes(&f, None, &ID, &[]));
    assert_eq!(code(&o), 1, "no terminal: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(strs(&f.last_audit()["helpers"])[0].contains("$y"), "{}", f.last_audit());

    // The stamp still answers on its own terminal afterwards; once ended, it does not.
    f.reset();
    stamp_rule(&f, kind);
    assert_eq!(here.run(escapes(&f, None, &ID, &[])).0, 0);
    end_stamp(&ctl);
    f.reset();
    stamp_rule(&f, kind);
    assert_eq!(here.run(escapes(&f, None, &ID, &[])).0, 77, "an ended stamp allows nothing");
}

#[test]
fn stamp_helmet_allows_only_on_the_terminal_the_callers_stamp_names() {
    stamp_on_its_tty_only("helmet");
}

#[test]
fn stamp_jacket_allows_only_on_the_terminal_the_callers_stamp_names() {
    stamp_on_its_tty_only("jacket");
}

// --- proxy-agent ---------------------------------------------------------------------------------

/// The caller's own ssh-agent (run as the test user, key added with the real ssh-add).
struct Agent {
    _dir: CallerDir,
    _agent: Reaped,
    sock: String,
    fingerprint: String,
}

fn start_agent(f: &Fixture, what: &str) -> Agent {
    for p in ["/usr/bin/ssh-agent", "/usr/bin/ssh-add", "/usr/bin/ssh-keygen"] {
        need(p, "openssh-client");
    }
    let dir = CallerDir::new(f, what);
    let key = format!("{}/id", dir.0);
    as_caller(f, &["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "caller-key", "-f", &key], &[]);
    let sock = format!("{}/agent.sock", dir.0);
    let agent = Command::new("/usr/bin/ssh-agent")
        .args(["-D", "-a", &sock])
        .env_clear()
        .uid(f.uid)
        .gid(f.gid)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent = Reaped(agent);
    wait_for(&sock);
    as_caller(f, &["/usr/bin/ssh-add", "-q", &key], &[("SSH_AUTH_SOCK", &sock)]);
    let fp = as_caller(f, &["/usr/bin/ssh-keygen", "-l", "-f", &format!("{key}.pub")], &[]);
    let fingerprint = fp.split_whitespace().nth(1).expect("a fingerprint").to_string();
    Agent { _dir: dir, _agent: agent, sock, fingerprint }
}

fn proxy_rule(f: &Fixture, env: &str) -> String {
    let proxy = standard_helper("proxy-agent");
    configure(f, &[table("jacket", &proxy, &format!("params = [\"$SSH_AUTH_SOCK\"]\n{env}\ntimeout = 20"))]);
    proxy
}

/// The proxy's directories in /tmp (ssh-XXXXXX, the default template) right now.
fn proxy_dirs() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ssh-") && n.len() == 10)
        .collect();
    v.sort();
    v
}

#[test]
fn proxy_agent_gives_the_target_the_callers_agent_and_cleans_up() {
    let f = Fixture::new();
    let agent = start_agent(&f, "agent");
    let proxy = proxy_rule(&f, "env = [\"SSH_AUTH_SOCK\"]");
    let before = proxy_dirs();
    // The command, as escapes-other, sees a socket of its own and lists the caller's key.
    let argv = ["/bin/sh", "-c", "stat -c '%U %a' \"$SSH_AUTH_SOCK\" && /usr/bin/ssh-add -l"];
    let o = output(escapes(&f, Some(OTHER_USER), &argv, &[("SSH_AUTH_SOCK", &agent.sock)]));
    assert_eq!(code(&o), 0, "stdout: {} stderr: {}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with(&format!("{OTHER_USER} 600\n")), "the target's socket: {out}");
    assert!(out.contains(&agent.fingerprint) && out.contains("caller-key"), "the caller's key: {out}");

    let run = f.audit().into_iter().find(|l| l["event"] == "run").expect("a run record");
    assert_eq!(strs(&run["helpers"]), [format!("jacket {proxy}: allowed")], "{run}");
    let set = strs(&run["helper_env"]);
    assert_eq!(set.len(), 1, "{run}");
    let prefix = format!("jacket {proxy}: SSH_AUTH_SOCK=/tmp/ssh-");
    assert!(set[0].starts_with(&prefix), "{run}");
    let path = set[0].split_once('=').unwrap().1.to_string();
    assert_ne!(path, agent.sock, "the target gets a socket of its own, never the caller's");
    let dir = Path::new(&path).parent().unwrap();
    assert!(!Path::new(&path).exists() && !dir.exists(), "{path} and its directory are removed after the command");
    assert_eq!(proxy_dirs(), before, "no proxy directory is left in /tmp");
}

#[test]
fn proxy_agent_socket_reaches_the_command_only_through_the_rules_env_allowance() {
    let f = Fixture::new();
    let agent = start_agent(&f, "noallow");
    let proxy = proxy_rule(&f, "");
    let before = proxy_dirs();
    let o = output(escapes(&f, Some(OTHER_USER), &["/usr/bin/env"], &[("SSH_AUTH_SOCK", &agent.sock)]));
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert!(!stdout(&o).contains("SSH_AUTH_SOCK"), "not allowed, so not given: {}", stdout(&o));
    let run = f.audit().into_iter().find(|l| l["event"] == "run").expect("a run record");
    assert_eq!(
        strs(&run["helpers"]),
        [format!("jacket {proxy}: allowed (environment edits refused: SSH_AUTH_SOCK)")],
        "{run}"
    );
    assert!(run["helper_env"].is_null(), "nothing was set: {run}");
    assert_eq!(proxy_dirs(), before, "the unused proxy is cleaned up too");

    // And so ssh-add as the target reaches no agent at all.
    f.reset();
    proxy_rule(&f, "");
    let o = output(escapes(&f, Some(OTHER_USER), &["/usr/bin/ssh-add", "-l"], &[("SSH_AUTH_SOCK", &agent.sock)]));
    assert_eq!(code(&o), 2, "ssh-add without an agent: {} {}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains(&agent.fingerprint));
}

/// root's own ssh-agent, with root's key, in a root-only directory.
struct RootAgent {
    _agent: Reaped,
    sock: String,
    fingerprint: String,
}

impl Drop for RootAgent {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(ROOT_AGENT_DIR);
    }
}

const ROOT_AGENT_DIR: &str = "/run/escapes-test/root-agent";

fn start_root_agent() -> RootAgent {
    let _ = fs::remove_dir_all(ROOT_AGENT_DIR);
    fs::create_dir(ROOT_AGENT_DIR).unwrap();
    fs::set_permissions(ROOT_AGENT_DIR, fs::Permissions::from_mode(0o700)).unwrap();
    let key = format!("{ROOT_AGENT_DIR}/id");
    let st = Command::new("/usr/bin/ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "root-key", "-f", &key])
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let sock = format!("{ROOT_AGENT_DIR}/agent.sock");
    let agent = Command::new("/usr/bin/ssh-agent")
        .args(["-D", "-a", &sock])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent = Reaped(agent);
    wait_for(&sock);
    let st = Command::new("/usr/bin/ssh-add").args(["-q", &key]).env_clear().env("SSH_AUTH_SOCK", &sock).status();
    assert!(st.unwrap().success());
    let fp = Command::new("/usr/bin/ssh-keygen").args(["-l", "-f", &format!("{key}.pub")]).output().unwrap();
    let fingerprint = stdout(&fp).split_whitespace().nth(1).unwrap().to_string();
    RootAgent { _agent: agent, sock, fingerprint }
}

/// A socket root listens on, reachable by anyone; counts the connections it accepts.
struct RootListener {
    sock: String,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

const ROOT_LISTENER_DIR: &str = "/run/escapes-test/root-listener";

impl RootListener {
    fn new() -> RootListener {
        use std::sync::atomic::Ordering;
        let _ = fs::remove_dir_all(ROOT_LISTENER_DIR);
        fs::create_dir(ROOT_LISTENER_DIR).unwrap();
        fs::set_permissions(ROOT_LISTENER_DIR, fs::Permissions::from_mode(0o755)).unwrap();
        let sock = format!("{ROOT_LISTENER_DIR}/agent.sock");
        let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        fs::set_permissions(&sock, fs::Permissions::from_mode(0o777)).unwrap();
        l.set_nonblocking(true).unwrap();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, s) = (count.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok(_) => {
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RootListener { sock, count, stop }
    }

    fn connections(&self) -> usize {
        std::thread::sleep(Duration::from_millis(50));
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for RootListener {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = fs::remove_dir_all(ROOT_LISTENER_DIR);
    }
}

#[test]
fn proxy_agent_never_hands_on_a_socket_that_is_not_the_callers() {
    let f = Fixture::new();
    let agent = start_agent(&f, "attack");
    let argv = ["/usr/bin/ssh-add", "-l"];

    // A root-owned socket anyone may connect to (0777, in a 0755 directory): the caller could
    // talk to it, but it is not the caller's, so the proxy never connects and nothing runs.
    {
        let open = RootListener::new();
        let direct = Command::new("/usr/bin/ssh-add")
            .arg("-l")
            .env_clear()
            .env("SSH_AUTH_SOCK", &open.sock)
            .uid(f.uid)
            .gid(f.gid)
            .output()
            .unwrap();
        assert!(!direct.status.success());
        assert!(open.connections() >= 1, "the caller can connect to it directly: {}", stderr(&direct));
        let seen = open.connections();
        let proxy = proxy_rule(&f, "env = [\"SSH_AUTH_SOCK\"]");
        let o = output(escapes(&f, Some(OTHER_USER), &argv, &[("SSH_AUTH_SOCK", &open.sock)]));
        assert_eq!(code(&o), 77, "stdout: {} stderr: {}", stdout(&o), stderr(&o));
        assert_eq!(stdout(&o), "", "the command must not have run");
        assert_eq!(open.connections(), seen, "the proxy must not have connected to root's socket");
        let line = f.last_audit();
        assert_eq!((&line["event"], &line["error"]), (&Value::from("refused"), &Value::from("jacket")), "{line}");
        assert_eq!(strs(&line["helpers"]), [format!("jacket {proxy}: denied with code 77")], "{line}");
    }

    // root's agent in a root-only directory: the caller cannot even look at it.
    {
        let root = start_root_agent();
        f.reset();
        proxy_rule(&f, "env = [\"SSH_AUTH_SOCK\"]");
        let o = output(escapes(&f, Some(OTHER_USER), &argv, &[("SSH_AUTH_SOCK", &root.sock)]));
        assert_eq!(code(&o), 77, "stdout: {} stderr: {}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains("cannot examine it as uid"), "looked at with the caller's rights: {}", stderr(&o));
        assert!(!stdout(&o).contains(&root.fingerprint), "{}", stdout(&o));
        assert_eq!(f.last_audit()["event"], "refused", "{}", f.last_audit());

        // SPROXY_FROM is the rule's: a caller's SPROXY_FROM naming another variable that points
        // at root's socket is not the helper's parameter; the caller's own agent is proxied.
        f.reset();
        proxy_rule(&f, "env = [\"SSH_AUTH_SOCK\"]");
        let env = [("SSH_AUTH_SOCK", agent.sock.as_str()), ("SPROXY_FROM", "ROOTSOCK"), ("ROOTSOCK", &root.sock)];
        let o = output(escapes(&f, Some(OTHER_USER), &argv, &env));
        assert_eq!(code(&o), 0, "stdout: {} stderr: {}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains(&agent.fingerprint) && !stdout(&o).contains(&root.fingerprint), "{}", stdout(&o));
    }
}

// --- xdisplay ------------------------------------------------------------------------------------

/// A target user with a home of its own (root's directories above it), for xdisplay.
const XTARGET: &str = "escapes-xe2e";
const XHOME: &str = "/run/escapes-test/xhome";

fn xtarget() -> (u32, u32) {
    let exists = Command::new("id").arg(XTARGET).output().map(|o| o.status.success()).unwrap_or(false);
    if !exists {
        let mut ok = false;
        for _ in 0..50 {
            let st = Command::new("useradd")
                .args(["--system", "--no-create-home", "--home-dir", XHOME, "--shell", "/bin/sh", XTARGET])
                .status()
                .unwrap();
            if st.success() || Command::new("id").arg(XTARGET).output().map(|o| o.status.success()).unwrap_or(false) {
                ok = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(ok, "useradd {XTARGET}");
    }
    let (uid, gid) = (id_of(XTARGET, "-u"), id_of(XTARGET, "-g"));
    let _ = fs::remove_dir_all(XHOME);
    fs::create_dir(XHOME).unwrap();
    chown(XHOME, Some(uid), Some(gid)).unwrap();
    fs::set_permissions(XHOME, fs::Permissions::from_mode(0o700)).unwrap();
    (uid, gid)
}

fn xauth_as(uid: u32, gid: u32, args: &[&str]) -> String {
    let o = Command::new("/usr/bin/xauth")
        .args(args)
        .env_clear()
        .current_dir("/")
        .uid(uid)
        .gid(gid)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "xauth {args:?}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn xdisplay_jacket_gives_the_target_the_callers_cookie_for_the_command_only() {
    need("/usr/bin/xauth", "xauth");
    let f = Fixture::new();
    let (tuid, tgid) = xtarget();
    let dir = CallerDir::new(&f, "xauth");
    let caller_file = format!("{}/Xauthority", dir.0);
    let target_file = format!("{XHOME}/.Xauthority");
    let cookie = "00112233445566778899aabbccddeeff";
    let own = "ffeeddccbbaa99887766554433221100";
    xauth_as(f.uid, f.gid, &["-q", "-f", &caller_file, "add", ":57", ".", cookie]);
    let caller_list = xauth_as(f.uid, f.gid, &["-f", &caller_file, "list"]);
    let display_name = caller_list.split_whitespace().next().expect("an entry").to_string();
    assert!(display_name.ends_with(":57"), "{caller_list}");
    // The target's own entry for another display survives the run.
    xauth_as(tuid, tgid, &["-q", "-f", &target_file, "add", ":58", ".", own]);

    let xdisplay = standard_helper("xdisplay");
    let extra =
        "params = [\"$DISPLAY\", \"$XAUTHORITY\", \"HOME=$H\"]\nenv = [\"DISPLAY\", \"XAUTHORITY\"]\ntimeout = 30";
    configure(&f, &[table("jacket", &xdisplay, extra)]);
    let argv = ["/bin/sh", "-c", "echo \"$DISPLAY $XAUTHORITY\"; /usr/bin/xauth list"];
    let env = [("DISPLAY", ":57"), ("XAUTHORITY", caller_file.as_str())];
    let o = output(escapes(&f, Some(XTARGET), &argv, &env));
    assert_eq!(code(&o), 0, "stdout: {} stderr: {}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(format!(":57 {target_file}").as_str()), "{out}");
    let entries: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert!(
        entries.contains(&vec![display_name.as_str(), "MIT-MAGIC-COOKIE-1", cookie]),
        "the caller's entry under the same display name: {out}"
    );
    assert!(entries.iter().any(|e| e.last() == Some(&own)), "the target's own entry is there too: {out}");

    let run = f.audit().into_iter().find(|l| l["event"] == "run").expect("a run record");
    let mut set = strs(&run["helper_env"]);
    set.sort();
    let want = [format!("jacket {xdisplay}: DISPLAY=:57"), format!("jacket {xdisplay}: XAUTHORITY={target_file}")];
    assert_eq!(set, want, "{run}");

    // After the command: the caller's cookie is gone from the target's file, its own is back.
    let after = xauth_as(tuid, tgid, &["-f", &target_file, "list"]);
    assert!(!after.contains(cookie), "the caller's cookie is removed after the command: {after}");
    assert!(after.contains(own), "the target's own entry stays: {after}");
    assert!(xauth_as(f.uid, f.gid, &["-f", &caller_file, "list"]).contains(cookie), "the caller's file is untouched");
}

// --- sheval --------------------------------------------------------------------------------------

fn sheval_rule(f: &Fixture, params: &str, env: &str) -> String {
    let sheval = standard_helper("sheval");
    configure(f, &[table("helmet", &sheval, &format!("params = [{params}]\n{env}"))]);
    sheval
}

#[test]
fn sheval_sets_the_variable_its_command_prints() {
    let f = Fixture::new();
    let arch = Command::new("/usr/bin/uname").arg("-m").output().unwrap();
    let arch = stdout(&arch).trim().to_string();
    assert!(!arch.is_empty());
    // $l is escapes' fact, expanded before sheval splits the command into words.
    let sheval = sheval_rule(
        &f,
        "\"SHEVAL_SET_MyARCH=/usr/bin/uname -m\", \"SHEVAL_SET_WHO=/usr/bin/echo caller $l\"",
        "env = [\"MyARCH\", \"WHO\"]",
    );
    let o = output(escapes(&f, None, &["/usr/bin/env"], &[]));
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let env: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert!(env.contains(&format!("MyARCH={arch}")), "{env:?}");
    assert!(env.contains(&format!("WHO=caller {USER}")), "{env:?}");
    assert!(!env.iter().any(|l| l.starts_with("SHEVAL")), "{env:?}");
    let run = f.audit().into_iter().find(|l| l["event"] == "run").expect("a run record");
    let mut set = strs(&run["helper_env"]);
    set.sort();
    assert_eq!(set, [format!("helmet {sheval}: MyARCH={arch}"), format!("helmet {sheval}: WHO=caller {USER}")]);

    // Not in the rule's env: evaluated (and allowing), never given to the command.
    f.reset();
    sheval_rule(&f, "\"SHEVAL_SET_MyARCH=/usr/bin/uname -m\"", "");
    let o = output(escapes(&f, None, &["/usr/bin/env"], &[]));
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert!(!stdout(&o).contains("MyARCH"), "{}", stdout(&o));
}

#[test]
fn sheval_command_that_fails_denies_and_nothing_runs() {
    let f = Fixture::new();
    // $1, the command's first argument: `test ok = ok` passes, `test no = ok` fails.
    let sheval = sheval_rule(&f, "\"SHEVAL_SET_gate=/usr/bin/test $1 = ok\"", "");
    let o = output(escapes(&f, None, &["/usr/bin/echo", "ok"], &[]));
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "ok\n"), "stderr: {}", stderr(&o));

    f.reset();
    sheval_rule(&f, "\"SHEVAL_SET_gate=/usr/bin/test $1 = ok\"", "");
    let o = output(escapes(&f, None, &["/usr/bin/echo", "no"], &[]));
    assert_eq!(code(&o), 77, "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "", "the command must not have run");
    let line = f.last_audit();
    assert_eq!((&line["event"], &line["error"]), (&Value::from("refused"), &Value::from("helmet")), "{line}");
    assert_eq!(strs(&line["helpers"]), [format!("helmet {sheval}: denied with code 77")], "{line}");

    f.reset();
    sheval_rule(&f, "\"SHEVAL_SET_gate=/usr/bin/false\"", "");
    let o = output(escapes(&f, None, &["/usr/bin/echo", "ok"], &[]));
    assert_eq!((code(&o), stdout(&o).as_str()), (77, ""), "stderr: {}", stderr(&o));
}
