//! stamp and stampctl as real processes: stampctl -M leaves real holder processes behind on
//! real UNIX sockets under the compiled-in stamp root (ESCAPES_STAMP_ROOT at build time, else
//! /run/escapes/stamp), the stamp helper is run as op and escapes run it, stampctl runs on a real
//! pty, hostile clients are real sockets, and the unprivileged user is `escapes-test`.
//!
//! The tests run as root (as CI does). Each test works in its own facility directory
//! `ROOT/t<pid>-<n>`, ends its stamps and removes it afterwards. The root itself is made (or
//! re-set) 0755 root:root with `stampctl -m 755 .`, so that escapes-test can reach sockets in
//! the one test that needs it; facility directories stay 0750 unless a test says otherwise.

use escapes_helpers::stamp::ROOT;
use escapes_helpers::sys;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

mod support;

/// The programs as installed: links of the multi-call program (see support::bin).
fn stamp_bin() -> &'static str {
    support::bin("stamp")
}

fn stampctl_bin() -> &'static str {
    support::bin("stampctl")
}
const USER: &str = "escapes-test";

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn ctl_cmd(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(stampctl_bin());
    c.args(args).env_clear().envs(env.iter().copied()).stdin(Stdio::null());
    c
}

/// stampctl as escapes runs a rule's command: uid 0, the rule's environment.
fn ctl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let t = Instant::now();
    let o = ctl_cmd(args, env).output().unwrap();
    // output() waits for EOF on stdout and stderr: a holder that kept either would hang here.
    assert!(t.elapsed() < Duration::from_secs(10), "stampctl {args:?} took {:?}", t.elapsed());
    o
}

fn ctl_ok(args: &[&str], env: &[(&str, &str)]) {
    let o = ctl(args, env);
    assert_eq!(code(&o), 0, "stampctl {args:?}: {}", err(&o));
}

/// The helper's argv as op and escapes give it.
fn helmet_args(login: &str) -> Vec<String> {
    ["-C", "/etc/escapes/escapes.toml", "--", "m", "/bin/true", "0:0"]
        .iter()
        .map(|s| s.to_string())
        .chain(std::iter::once(format!("users:{login}")))
        .collect()
}

/// The stamp helmet with `env` (the rule's parameters, already expanded) plus escapes' facts.
fn stamp(env: &[(&str, &str)]) -> Output {
    Command::new(stamp_bin())
        .args(helmet_args("alice"))
        .env_clear()
        .env("ESCAPES_CALLER_UID", "1000")
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn uid_of(user: &str) -> (u32, u32) {
    let o = Command::new("id").args(["-u", user]).output().unwrap();
    if !o.status.success() {
        let made = Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/bin/sh", user])
            .status()
            .unwrap();
        assert!(made.success(), "useradd {user}");
    }
    let num = |flag: &str| -> u32 {
        let o = Command::new("id").args([flag, user]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    };
    (num("-u"), num("-g"))
}

fn ensure_root() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let o = ctl(&["-m", "755", "."], &[]);
        assert_eq!(code(&o), 0, "making the stamp root {ROOT}: {}", err(&o));
    });
}

/// A facility directory of this test's own, removed (stamps ended) on drop.
struct Facility {
    name: String,
    dir: PathBuf,
}

impl Facility {
    fn new() -> Facility {
        Facility::with(&[])
    }

    /// Made by the boot form with `settings` (e.g. `["-m", "755"]`).
    fn with(settings: &[&str]) -> Facility {
        ensure_root();
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("t{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let mut args = settings.to_vec();
        args.push(&name);
        ctl_ok(&args, &[]);
        let dir = Path::new(ROOT).join(&name);
        Facility { name, dir }
    }

    /// A subdirectory (made with the boot form, 0750 root:root unless `settings` say).
    fn sub(&self, sub: &str, settings: &[&str]) -> PathBuf {
        let full = format!("{}/{sub}", self.name);
        let mut args = settings.to_vec();
        args.push(&full);
        ctl_ok(&args, &[]);
        self.dir.join(sub)
    }

    fn env(&self) -> (&'static str, &str) {
        ("STAMP_FACILITY", self.name.as_str())
    }

    /// `stampctl -M name args...` in this facility.
    fn make(&self, name: &str, args: &[&str]) {
        let mut a = vec!["-M", name];
        a.extend_from_slice(args);
        ctl_ok(&a, &[self.env()]);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn end_all(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(m) = fs::symlink_metadata(&p) else {
            continue;
        };
        if m.file_type().is_dir() {
            end_all(&p);
        } else if std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()) {
            let _ = ctl(&["-K", p.to_str().unwrap()], &[]);
        }
    }
}

impl Drop for Facility {
    fn drop(&mut self) {
        end_all(&self.dir);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The holder's pid, from SO_PEERCRED of a connection to its socket.
fn holder_pid(socket: &Path) -> i32 {
    let s = UnixStream::connect(socket).unwrap();
    sys::peer_credentials(&s).unwrap().0
}

fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(s) => !s.lines().any(|l| l.starts_with("State:") && l.contains('Z')),
        Err(_) => false,
    }
}

fn status_field(pid: i32, field: &str) -> String {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_default()
        .to_string()
}

/// Waits up to `limit` for `cond`.
fn eventually(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// A raw client of a stamp socket: one request line, one reply line.
fn raw(socket: &Path, send: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(send).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while s.read(&mut b).unwrap_or(0) == 1 {
        got.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    got
}

// ---------------------------------------------------------------- conventions

#[test]
fn stamp_and_stampctl_answer_h_capital_h_and_v() {
    let v = Command::new(stamp_bin()).arg("-V").output().unwrap();
    assert_eq!(code(&v), 0);
    let lines: Vec<String> = out(&v).lines().map(str::to_string).collect();
    assert!(lines[0].starts_with("stamp: escapes-helpers "), "{lines:?}");
    assert!(lines[1].starts_with("stamp: STAMP_FACILITY, STAMP_SPEC<n>"), "{lines:?}");
    assert!(lines[1].contains("STAMP_WARN") && lines[1].contains("STAMP_REVEAL"));
    assert_eq!(lines[2], format!("stamp: stamp root {ROOT}"));
    let h = Command::new(stamp_bin()).arg("-h").output().unwrap();
    assert!(out(&h).starts_with("usage: stamp [-P pid]"));
    let g = Command::new(stamp_bin()).arg("-H").output().unwrap();
    assert!(out(&g).lines().all(|l| l.starts_with("STAMP_") && l.contains('=')));

    let v = ctl(&["-V"], &[]);
    assert_eq!(code(&v), 0);
    assert!(out(&v).starts_with("stampctl: escapes-helpers "));
    assert!(out(&v).contains(&format!("stampctl: stamp root {ROOT}\n")));
    let h = ctl(&["-h"], &[]);
    assert!(out(&h).starts_with("usage: stampctl -M name"), "{}", out(&h));
    let g = ctl(&["-H"], &[]);
    assert!(out(&g).contains("duration="));
}

#[test]
fn unsupported_forms_are_refused_with_the_reason() {
    for (args, why) in [
        (&["-M", "x", "-R", "authhost"][..], "tcpmux"),
        (&["-M", "x", "-R", "authhost", "-X"][..], "tcpmux"),
        (&["-M", "x", "-T", "30"][..], "tcpmux"),
        (&["-M", "x", "-D", "nobody:nogroup"][..], "signal"),
    ] {
        let o = ctl(args, &[]);
        assert_eq!(code(&o), 64, "{args:?}");
        assert!(err(&o).contains(why), "{args:?}: {}", err(&o));
    }
}

// ---------------------------------------------------------------- boot form

#[test]
fn boot_form_creates_facility_directories_with_their_settings() {
    let (_, gid) = uid_of(USER);
    let f = Facility::new();
    let m = fs::symlink_metadata(&f.dir).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o750));
    let args = [
        &format!("{}/ops", f.name)[..],
        "-g",
        USER,
        "-m",
        "710",
        &format!("{}/qm", f.name),
        &format!("{}/qm/sub", f.name),
    ];
    ctl_ok(&args, &[]);
    let mode = |p: &str| {
        let m = fs::symlink_metadata(f.dir.join(p)).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    assert_eq!(mode("ops"), (0, 0, 0o750), "settings apply to the names after them");
    assert_eq!(mode("qm"), (0, gid, 0o710));
    assert_eq!(mode("qm/sub"), (0, gid, 0o710));
    // Naming an existing directory again re-applies the settings; unnamed ones stay.
    ctl_ok(&["-m", "700", &format!("{}/qm", f.name)], &[]);
    assert_eq!(mode("qm"), (0, 0, 0o700));
    assert_eq!(mode("qm/sub"), (0, gid, 0o710));
    // `.` is the root; an absolute name under the root is the same directory.
    ctl_ok(&["-m", "755", "."], &[]);
    ctl_ok(&["-m", "750", &format!("{ROOT}/{}/ops", f.name)], &[]);
}

#[test]
fn boot_form_never_creates_implied_parents() {
    let f = Facility::new();
    let o = ctl(&[&format!("{}/a/b", f.name)], &[]);
    assert_eq!(code(&o), 69, "{}", err(&o));
    assert!(err(&o).contains("implied"), "{}", err(&o));
    assert!(!f.dir.join("a").exists());
}

#[test]
fn boot_form_refuses_writable_modes_other_owners_and_escapes() {
    let f = Facility::new();
    let sub = format!("{}/x", f.name);
    let o = ctl(&["-m", "770", &sub], &[]);
    assert_eq!(code(&o), 64, "{}", err(&o));
    let o = ctl(&["-u", USER, &sub], &[]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(!f.dir.join("x").exists());
    for bad in ["..", "../etc", &format!("{}/../x", f.name), "/etc/x", "a//b"] {
        let o = ctl(&[bad], &[]);
        assert_eq!(code(&o), 64, "{bad}: {}", err(&o));
    }
    // Only root makes directories.
    let (uid, gid) = uid_of(USER);
    let o = ctl_cmd(&[&sub], &[]).uid(uid).gid(gid).output().unwrap();
    assert_eq!(code(&o), 77, "{}", err(&o));
}

// ---------------------------------------------------------------- the page's examples

/// `stampctl -M ecru/$l -E 10m TTY=$y` with $l=alice and $y the pty's name as `tty` prints it,
/// run on that pty; then `STAMP_SPEC=ecru/$l:TTY=$y` on the same tty allows, on another denies.
#[test]
fn page_example_same_user_same_tty() {
    let f = Facility::new();
    f.sub("ecru", &[]);
    let (_m1, slave1) = sys::open_pty().unwrap();
    let (_m2, slave2) = sys::open_pty().unwrap();
    let open = |p: &[u8]| {
        fs::OpenOptions::new().read(true).write(true).custom_flags(libc::O_NOCTTY).open(OsStr::from_bytes(p)).unwrap()
    };
    let tty_of = |p: &[u8]| {
        let o = Command::new("tty").stdin(open(p)).output().unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    let y1 = tty_of(&slave1);
    let y2 = tty_of(&slave2);
    assert!(y1.starts_with("/dev/pts/") && y1 != y2, "{y1} {y2}");
    let tty_arg = format!("TTY={y1}");
    let o = ctl_cmd(&["-M", "ecru/alice", "-E", "10m", &tty_arg, "TERM=vt100"], &[f.env()])
        .stdin(open(&slave1))
        .stdout(open(&slave1))
        .stderr(open(&slave1))
        .status()
        .unwrap();
    assert!(o.success());

    let same = format!("ecru/alice:TTY={y1}");
    let o = stamp(&[f.env(), ("STAMP_SPEC", &same), ("STAMP_SET", "TERMCAP:TERM:DISPLAY")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    // Only the entries the tableau has are copied; then the parameters are deleted.
    assert_eq!(out(&o), "$TERM=vt100\n-STAMP_FACILITY\n-STAMP_SET\n-STAMP_SPEC\n0\n");

    let other = format!("ecru/alice:TTY={y2}");
    let o = stamp(&[f.env(), ("STAMP_SPEC", &other), ("STAMP_SET", "TERM")]);
    assert_eq!(code(&o), 77);
    assert_eq!(out(&o), "77\n");
    assert_eq!(err(&o), "Sorry.\n");
    // Another user's stamp name is another stamp: nothing there.
    let o = stamp(&[f.env(), ("STAMP_SPEC", &format!("ecru/bob:TTY={y1}"))]);
    assert_eq!(code(&o), 77);
}

/// `STAMP_SPEC=commit/ready-$1:Auth!$l`: the authorizer must be someone else.
#[test]
fn page_example_two_person_commit() {
    let f = Facility::new();
    f.sub("commit", &[]);
    // bob authorizes change 42 (escapes ran stampctl for bob, uid 1001, with Auth=$l).
    ctl_ok(&["-M", "commit/ready-42", "-E", "15m", "Auth=bob"], &[f.env(), ("ESCAPES_CALLER_UID", "1001")]);
    let requester = |l: &str| stamp(&[f.env(), ("STAMP_SPEC", &format!("commit/ready-42:Auth!{l}"))]);
    let o = requester("alice");
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = requester("bob");
    assert_eq!(code(&o), 77, "the authorizer cannot commit alone");
    // A different change has no authorization.
    let o = stamp(&[f.env(), ("STAMP_SPEC", "commit/ready-43:Auth!alice")]);
    assert_eq!(code(&o), 77);
}

/// `STAMP_SPEC_1=ops/$2` and `STAMP_SPEC_2=qm/$2`: both managers must have signed off.
#[test]
fn page_example_two_managers() {
    let f = Facility::new();
    f.sub("ops", &[]);
    f.sub("qm", &[]);
    let env = |extra: &[(&'static str, &'static str)]| {
        let mut e = vec![f.env(), ("STAMP_SPEC_1", "ops/r7"), ("STAMP_SPEC_2", "qm/r7")];
        e.extend_from_slice(extra);
        e
    };
    f.make("ops/r7", &["-E", "4h", "Who=carol"]);
    let o = stamp(&env(&[("STAMP_WARN_2", "qm has not approved r7"), ("STAMP_WARN", "no")]));
    assert_eq!(code(&o), 77);
    assert_eq!(err(&o), "qm has not approved r7\n", "STAMP_WARN_2 replaces STAMP_WARN");
    f.make("qm/r7", &["-E", "4h", "Who=dave"]);
    let o = stamp(&env(&[("STAMP_SET_1", "Who"), ("STAMP_SET_2", "Who")]));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).starts_with("$Who=carol\n$Who=dave\n"), "{}", out(&o));
    assert!(out(&o).ends_with("\n0\n"));
}

#[test]
fn checks_of_every_kind_against_a_live_tableau() {
    let f = Facility::new();
    f.make("s", &["-E", "1m", "Level=3rc2", "Who=alice", "Host=db7.example"]);
    let judge = |checks: &str| code(&stamp(&[f.env(), ("STAMP_SPEC", &format!("s:{checks}"))]));
    for pass in [
        "Level",
        "Level>=3",
        "Level<4",
        "Level==3",
        "Level>3rc1",
        "Level!=2",
        "Who=alice",
        "Who!bob",
        "Host=~^db[0-9]+[.]",
        "Host!~^web",
        "Level:Who=alice:Host=~example$",
    ] {
        assert_eq!(judge(pass), 0, "{pass}");
    }
    for deny in [
        "Missing",
        "Missing!x",
        "Missing!~x",
        "Level>3",
        "Level<3rc2",
        "Who=Alice",
        "Who!alice",
        "Host=~^web",
        "Host!~db",
        "Who>1",
        "Level:Who=bob",
    ] {
        assert_eq!(judge(deny), 77, "{deny}");
    }
}

#[test]
fn reveal_follows_the_deletions() {
    let f = Facility::new();
    f.make("s", &["-E", "1m"]);
    let o = stamp(&[f.env(), ("STAMP_SPEC", "s"), ("STAMP_REVEAL", "J_")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).ends_with("-STAMP_SPEC\n~J_\n0\n"), "{}", out(&o));
}

// ---------------------------------------------------------------- limits

#[test]
fn a_stamp_ends_at_its_end_time() {
    let f = Facility::new();
    f.make("s", &["-E", "2s"]);
    let pid = holder_pid(&f.path("s"));
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "s")])), 0);
    assert!(eventually(Duration::from_secs(5), || !alive(pid)), "holder still running");
    assert!(!f.path("s").exists(), "the holder removes its socket");
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "s")])), 77);
}

#[test]
fn an_unused_stamp_ends_at_its_idle_timeout_and_use_keeps_it() {
    let f = Facility::new();
    f.make("idle", &["-E", "1m", "-I", "2s"]);
    f.make("used", &["-E", "1m", "-I", "2s"]);
    let pid = holder_pid(&f.path("idle"));
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(700));
        assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "used")])), 0);
    }
    assert!(!alive(pid) && !f.path("idle").exists(), "3.5s unused with -I 2s");
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "idle")])), 77);
    // -v resets the idle timer too.
    f.make("kept", &["-E", "1m", "-I", "2s"]);
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(700));
        ctl_ok(&["-v", "kept"], &[f.env()]);
    }
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "kept")])), 0);
}

#[test]
fn max_count_limits_the_authorizations() {
    let f = Facility::new();
    f.make("twice", &["-2", "-E", "1m"]);
    let pid = holder_pid(&f.path("twice"));
    let spec = [f.env(), ("STAMP_SPEC", "twice")];
    assert_eq!(code(&stamp(&spec)), 0);
    assert_eq!(code(&stamp(&spec)), 0);
    assert_eq!(code(&stamp(&spec)), 77);
    assert!(eventually(Duration::from_secs(2), || !alive(pid)));
    assert!(!f.path("twice").exists());
    // A failing check uses no count: the status is asked last.
    f.make("once", &["-1", "-E", "1m", "TTY=/dev/pts/1"]);
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "once:TTY=/dev/pts/2")])), 77);
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "once:TTY=/dev/pts/1")])), 0);
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "once")])), 77);
}

#[test]
fn penalty_mode_denies_and_only_k_capital_ends_it() {
    let f = Facility::new();
    f.make("bad", &["-n", "-E", "1m"]);
    let spec = [f.env(), ("STAMP_SPEC", "bad")];
    assert_eq!(code(&stamp(&spec)), 77);
    let o = ctl(&["-k", "bad"], &[f.env()]);
    assert_eq!(code(&o), 77);
    assert!(err(&o).contains("penalty"), "{}", err(&o));
    let o = ctl(&["-M", "bad", "-E", "1m"], &[f.env()]);
    assert_eq!(code(&o), 77, "a penalty stamp cannot be replaced: {}", err(&o));
    assert_eq!(code(&stamp(&spec)), 77);
    ctl_ok(&["-K", "bad"], &[f.env()]);
    assert!(!f.path("bad").exists());
    // -N puts a good stamp into penalty mode.
    f.make("good", &["-E", "1m"]);
    let spec = [f.env(), ("STAMP_SPEC", "good")];
    assert_eq!(code(&stamp(&spec)), 0);
    ctl_ok(&["-N", "good"], &[f.env()]);
    assert_eq!(code(&stamp(&spec)), 77);
}

#[test]
fn k_ends_stamps_and_defaults_to_the_caller_s_login() {
    let (uid, _) = uid_of(USER);
    let f = Facility::new();
    f.make("a", &["-E", "1m"]);
    ctl_ok(&["-k", "a"], &[f.env()]);
    assert!(!f.path("a").exists());
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "a")])), 77);
    // Ending what is not there is not an error.
    ctl_ok(&["-k", "a"], &[f.env()]);
    // Under escapes (real uid 0) the caller is ESCAPES_CALLER_UID: its login names the stamp.
    let caller = uid.to_string();
    let esc = [f.env(), ("ESCAPES_CALLER_UID", caller.as_str())];
    ctl_ok(&["-M", USER, "-E", "1m"], &esc);
    ctl_ok(&["-k"], &esc);
    assert!(!f.path(USER).exists());
}

#[test]
fn m_replaces_a_live_stamp_and_copies_bare_names_from_its_environment() {
    let f = Facility::new();
    f.make("s", &["-E", "1m", "TTY=/dev/pts/1"]);
    let old = holder_pid(&f.path("s"));
    ctl_ok(&["-M", "s", "-E", "1m", "TTY", "DISPLAY"], &[f.env(), ("TTY", "/dev/pts/9"), ("DISPLAY", ":0")]);
    assert!(eventually(Duration::from_secs(2), || !alive(old)));
    let o = ctl(&["-Q", "s", "TTY", "DISPLAY"], &[f.env()]);
    assert_eq!(out(&o), "/dev/pts/9\n:0\n");
    let o = ctl(&["-M", "s", "TTY"], &[f.env()]);
    assert_eq!(code(&o), 78, "TTY not set: {}", err(&o));
}

#[test]
fn q_prints_values_all_or_nothing_and_f_as_helmet_lines() {
    let f = Facility::new();
    f.make("s", &["-E", "1m", "TTY=/dev/pts/3", "Who=alice smith", "Empty="]);
    let o = ctl(&["-Q", "s", "TTY", "Who", "Empty"], &[f.env()]);
    assert_eq!((code(&o), out(&o).as_str()), (0, "/dev/pts/3\nalice smith\n\n"));
    let o = ctl(&["-Q", "s", "-F", "TTY", "Who"], &[f.env()]);
    assert_eq!(out(&o), "$TTY=/dev/pts/3\n$Who=alice smith\n");
    let o = ctl(&["-Q", "s", "TTY", "Missing"], &[f.env()]);
    assert_eq!(code(&o), 66);
    assert_eq!(out(&o), "");
    assert!(err(&o).contains("Missing"));
    let o = ctl(&["-Q", "nothing", "TTY"], &[f.env()]);
    assert_eq!(code(&o), 69);
}

// ---------------------------------------------------------------- what is at the path

#[test]
fn a_plain_file_lock_is_printed_and_denies_without_the_warning() {
    let f = Facility::new();
    fs::write(f.path("lock"), "releases are frozen until Monday\n\x1b[2Jsee #ops\n").unwrap();
    let o = stamp(&[f.env(), ("STAMP_SPEC", "lock"), ("STAMP_WARN", "not this")]);
    assert_eq!(code(&o), 77);
    assert_eq!(out(&o), "77\n");
    assert_eq!(err(&o), "releases are frozen until Monday\n?[2Jsee #ops\n");
    // stampctl neither ends nor replaces a lock.
    assert_eq!(code(&ctl(&["-k", "lock"], &[f.env()])), 77);
    assert_eq!(code(&ctl(&["-M", "lock"], &[f.env()])), 77);
    assert!(f.path("lock").exists());
}

#[test]
fn nothing_at_the_path_denies_with_the_warning() {
    let f = Facility::new();
    let o = stamp(&[f.env(), ("STAMP_SPEC", "none"), ("STAMP_WARN", "Run stampctl first.")]);
    assert_eq!((code(&o), err(&o).as_str()), (77, "Run stampctl first.\n"));
    let o = stamp(&[("STAMP_FACILITY", "no-such-facility"), ("STAMP_SPEC", "x")]);
    assert_eq!((code(&o), err(&o).as_str()), (77, "Sorry.\n"));
}

#[test]
fn a_dead_socket_denies_at_once_and_is_replaced() {
    let f = Facility::new();
    f.make("s", &["-E", "1m"]);
    let pid = holder_pid(&f.path("s"));
    sys::signal(pid, libc::SIGKILL).unwrap();
    assert!(eventually(Duration::from_secs(2), || !alive(pid)));
    assert!(f.path("s").exists(), "a killed holder leaves its socket");
    let t = Instant::now();
    let o = stamp(&[f.env(), ("STAMP_SPEC", "s")]);
    assert_eq!(code(&o), 77);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    f.make("s", &["-E", "1m"]);
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "s")])), 0);
}

#[test]
fn a_holder_that_does_not_answer_denies_after_the_deadline() {
    let f = Facility::new();
    f.make("s", &["-E", "1m"]);
    let pid = holder_pid(&f.path("s"));
    sys::signal(pid, libc::SIGSTOP).unwrap();
    let t = Instant::now();
    let o = stamp(&[f.env(), ("STAMP_SPEC", "s")]);
    let took = t.elapsed();
    sys::signal(pid, libc::SIGCONT).unwrap();
    assert_eq!(code(&o), 77);
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(8), "{took:?}");
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "s")])), 0, "it answers again");
}

// ---------------------------------------------------------------- hostile clients

#[test]
fn hostile_clients_cannot_hang_or_flood_a_holder() {
    let f = Facility::new();
    f.make("s", &["-E", "1m", "TTY=/dev/pts/3"]);
    let sock = f.path("s");
    let pid = holder_pid(&sock);
    // One client floods, one stops mid-line, then forty connect and say nothing: more than
    // the holder serves at once, so the helmet's connection must displace one of them.
    let flood_sock = sock.clone();
    let flooder = std::thread::spawn(move || {
        let mut s = UnixStream::connect(&flood_sock).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        let junk = vec![b'A'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 16 * 1024 * 1024 {
            match s.write(&junk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });
    let sent = flooder.join().unwrap();
    assert!(sent < 16 * 1024 * 1024, "the holder stopped reading the flood");
    let mut partial = UnixStream::connect(&sock).unwrap();
    partial.write_all(b"Q TT").unwrap();
    let idle: Vec<UnixStream> = (0..40).map(|_| UnixStream::connect(&sock).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let o = stamp(&[f.env(), ("STAMP_SPEC", "s:TTY=/dev/pts/3")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let rss: u64 = status_field(pid, "VmRSS:").split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(rss < 16 * 1024, "holder RSS {rss} kB");
    drop(idle);
    drop(partial);
    // Garbage and requests that try to name another stamp get '?' and the door.
    assert_eq!(raw(&sock, b"S ecru/bob\n"), b"?\n");
    assert_eq!(raw(&sock, b"Q ../../x\n"), b"?\n");
    assert_eq!(raw(&sock, b"\n"), b"?\n");
    assert_eq!(raw(&sock, b"Q TTY\n"), b"+/dev/pts/3\n");
    assert!(alive(pid));
}

#[test]
fn state_changes_need_root_or_the_owner() {
    let (uid, gid) = uid_of(USER);
    // A facility escapes-test can reach, and sockets it may connect to.
    let f = Facility::with(&["-m", "755"]);
    f.make("root-s", &["-E", "1m", "-m", "666"]);
    let caller = uid.to_string();
    ctl_ok(&["-M", "user-s", "-E", "1m", "-m", "666"], &[f.env(), ("ESCAPES_CALLER_UID", caller.as_str())]);
    let as_user = |args: &[&str], env: &[(&str, &str)]| ctl_cmd(args, env).uid(uid).gid(gid).output().unwrap();
    // escapes-test, connecting as itself, and claiming uid 0 in the environment does not help:
    // with a real uid other than 0 stampctl ignores ESCAPES_CALLER_UID.
    for args in [&["-k", "root-s"][..], &["-K", "root-s"], &["-N", "root-s"], &["-v", "root-s"]] {
        let o = as_user(args, &[f.env(), ("ESCAPES_CALLER_UID", "0")]);
        assert_eq!(code(&o), 77, "{args:?}: {}", err(&o));
        assert!(err(&o).contains("another user"), "{}", err(&o));
    }
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "root-s")])), 0, "still alive, not penalised");
    // Root speaking for escapes-test (escapes: uid 0, ESCAPES_CALLER_UID) is refused too.
    let o = ctl(&["-k", "root-s"], &[f.env(), ("ESCAPES_CALLER_UID", caller.as_str())]);
    assert_eq!(code(&o), 77);
    // Queries need no ownership; the owner may end its own stamp directly.
    let o = as_user(&["-Q", "root-s", "-F", "X"], &[f.env()]);
    assert_eq!(code(&o), 66, "{}", err(&o));
    let o = as_user(&["-k", "user-s"], &[f.env()]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(!f.path("user-s").exists());
}

/// op runs stampctl with the client's real uid and effective uid 0 (a setuid copy here): the
/// holder must not keep the client's real uid, or the client could stop or kill it.
#[test]
fn under_op_the_holder_drops_the_client_s_real_uid() {
    let (uid, gid) = uid_of(USER);
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("setuid-{}", std::process::id()));
    fs::create_dir_all(&bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let copy = bin.join("stampctl");
    fs::copy(stampctl_bin(), &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o4755)).unwrap();
    if nosuid(&copy) {
        eprintln!("skipping: {} is on a nosuid mount", copy.display());
        return;
    }
    let f = Facility::new();
    let o = Command::new(&copy)
        .args(["-M", "s", "-E", "1m"])
        .env_clear()
        .env("STAMP_FACILITY", &f.name)
        .env("ESCAPES_CALLER_UID", "0")
        .uid(uid)
        .gid(gid)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", err(&o));
    let pid = holder_pid(&f.path("s"));
    assert_eq!(status_field(pid, "Uid:").split_whitespace().collect::<Vec<_>>(), ["Uid:", "0", "0", "0", "0"]);
    assert_eq!(status_field(pid, "Groups:").trim(), "Groups:");
    // The stamp belongs to the real uid (ESCAPES_CALLER_UID=0 was not believed), so
    // escapes-test may end it through the setuid copy.
    let o = Command::new(&copy)
        .args(["-k", "s"])
        .env_clear()
        .env("STAMP_FACILITY", &f.name)
        .uid(uid)
        .gid(gid)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", err(&o));
    let _ = fs::remove_dir_all(&bin);
}

/// Whether `p` is on a mount with the nosuid option (from /proc/self/mountinfo).
fn nosuid(p: &Path) -> bool {
    let p = fs::canonicalize(p).unwrap();
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut best: Option<(usize, bool)> = None;
    for line in info.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (Some(mp), Some(opts)) = (f.get(4), f.get(5)) else {
            continue;
        };
        if p.starts_with(mp) && best.is_none_or(|(l, _)| mp.len() >= l) {
            best = Some((mp.len(), opts.split(',').any(|o| o == "nosuid")));
        }
    }
    best.is_some_and(|(_, n)| n)
}

// ---------------------------------------------------------------- paths

#[test]
fn dot_dot_and_other_bad_names_are_refused() {
    let f = Facility::new();
    for spec in ["../x", "a/../../etc", "./x", "a//b", "/etc/passwd", "x y", "x:", "x:1a"] {
        let o = stamp(&[f.env(), ("STAMP_SPEC", spec)]);
        assert_eq!(code(&o), 78, "{spec}: {}", err(&o));
    }
    assert_eq!(code(&stamp(&[("STAMP_FACILITY", ".."), ("STAMP_SPEC", "x")])), 78);
    assert_eq!(code(&stamp(&[("STAMP_FACILITY", "/etc"), ("STAMP_SPEC", "x")])), 78);
    for name in ["../x", "a/../b", "x/", ".", "/etc/x"] {
        let o = ctl(&["-M", name], &[f.env()]);
        assert_eq!(code(&o), 64, "{name}: {}", err(&o));
    }
    assert_eq!(code(&ctl(&["-M", "x"], &[("STAMP_FACILITY", "../..")])), 78);
    // An absolute name spelled under the root is accepted.
    let abs = format!("{ROOT}/{}/abs", f.name);
    ctl_ok(&["-M", &abs, "-E", "1m"], &[]);
    assert_eq!(code(&stamp(&[("STAMP_SPEC", &abs)])), 0);
}

#[test]
fn a_symlink_on_the_way_is_refused_not_followed() {
    let f = Facility::new();
    f.sub("real", &[]);
    f.make("real/s", &["-E", "1m"]);
    std::os::unix::fs::symlink(f.path("real"), f.path("link")).unwrap();
    std::os::unix::fs::symlink(f.path("real/s"), f.path("s-link")).unwrap();
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "real/s")])), 0);
    let o = stamp(&[f.env(), ("STAMP_SPEC", "link/s")]);
    assert_eq!(code(&o), 77);
    assert!(err(&o).contains("refusing a symbolic link"), "{}", err(&o));
    let o = stamp(&[f.env(), ("STAMP_SPEC", "s-link")]);
    assert_eq!(code(&o), 77);
    assert!(err(&o).contains("a symlink"), "{}", err(&o));
    let o = ctl(&["-M", "link/t"], &[f.env()]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(!f.path("real/t").exists());
    let o = ctl(&["-k", "link/s"], &[f.env()]);
    assert_eq!(code(&o), 77);
    assert!(f.path("real/s").exists());
}

#[test]
fn a_directory_others_could_change_is_refused() {
    let (uid, _) = uid_of(USER);
    let f = Facility::new();
    let sub = f.sub("w", &[]);
    f.make("w/s", &["-E", "1m"]);
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "w/s")])), 0);
    for mode in [0o770, 0o757, 0o1777] {
        fs::set_permissions(&sub, fs::Permissions::from_mode(mode)).unwrap();
        let o = stamp(&[f.env(), ("STAMP_SPEC", "w/s")]);
        assert_eq!(code(&o), 77, "{mode:o}");
        assert!(err(&o).contains("writable"), "{}", err(&o));
    }
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::chown(&sub, Some(uid), None).unwrap();
    let o = stamp(&[f.env(), ("STAMP_SPEC", "w/s")]);
    assert_eq!(code(&o), 77);
    assert!(err(&o).contains("must be owned by root"), "{}", err(&o));
    std::os::unix::fs::chown(&sub, Some(0), None).unwrap();
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "w/s")])), 0);
}

// ---------------------------------------------------------------- jacket mode

/// Runs the stamp helper the way op runs a jacket (exec'd in the parent of the command, -P).
fn as_jacket(command: &str, env: &[(&str, &str)]) -> Output {
    let script =
        format!("( {command} ) >/dev/null 2>&1 </dev/null & exec \"$0\" -P $! -C c -- m /bin/true 0:0 users:alice");
    Command::new("/bin/sh")
        .args(["-c", &script, stamp_bin()])
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn as_a_jacket_it_keeps_the_last_spec_s_idle_timer_fresh() {
    let f = Facility::new();
    f.make("a", &["-E", "1m", "-I", "2s"]);
    f.make("b", &["-E", "1m", "-I", "2s"]);
    let t = Instant::now();
    let o = as_jacket("sleep 4; exit 3", &[f.env(), ("STAMP_SPEC_1", "a"), ("STAMP_SPEC_2", "b")]);
    assert!(t.elapsed() >= Duration::from_secs(4));
    let reply = out(&o);
    let mut lines: Vec<&str> = reply.lines().collect();
    assert_eq!(lines.pop(), Some("0"));
    lines.sort_unstable();
    assert_eq!(lines, ["-STAMP_FACILITY", "-STAMP_SPEC_1", "-STAMP_SPEC_2"]);
    assert_eq!(code(&o), 3, "the command's status: {}", err(&o));
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "b")])), 0, "refreshed: alive");
    assert_eq!(code(&stamp(&[f.env(), ("STAMP_SPEC", "a")])), 77, "only the last is refreshed");
}

#[test]
fn as_a_jacket_a_denial_exits_with_the_denial() {
    let f = Facility::new();
    let o = as_jacket("exit 0", &[f.env(), ("STAMP_SPEC", "none")]);
    assert_eq!(out(&o), "77\n");
    assert_eq!(code(&o), 77);
}
