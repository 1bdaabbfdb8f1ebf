//! Shared by the helpers' process tests: the built binaries, unprivileged users, scratch
//! directories that those users can reach, and an op-style jacket driver.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Every name the multi-call program answers to.
pub const HELPERS: [&str; 10] =
    ["timebox", "envauth", "manifest", "signed", "coat", "stamp", "stampctl", "sheval", "xdisplay", "proxy-agent"];

/// The helper `name` as installed: one copy of the multi-call program (escapes-helper) in a
/// directory of this test run, hard-linked under every helper name beside it, so what the
/// tests run is what `make install` and the package install (coat finds its bare names there).
pub fn bin(name: &str) -> &'static str {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    assert!(HELPERS.contains(&name), "{name} is not a helper");
    let dir = DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("libexec-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        let program = d.join("escapes-helper");
        // Copied by cp, not fs::copy: a test thread forking meanwhile (Command with uid() forks)
        // would inherit fs::copy's write descriptor until its exec, and an exec of the program
        // in that window fails with ETXTBSY. cp's descriptor is never in this process.
        let copied = Command::new("cp").arg(env!("CARGO_BIN_EXE_escapes-helper")).arg(&program).status().unwrap();
        assert!(copied.success(), "cp escapes-helper: {copied}");
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        for h in HELPERS {
            fs::hard_link(&program, d.join(h)).unwrap();
        }
        // A child another test thread forked while the copy was open for writing holds that
        // descriptor until it execs (O_CLOEXEC closes it only then), and executing the program
        // meanwhile fails with ETXTBSY: wait until it runs once, so no test sees that.
        let t = std::time::Instant::now();
        loop {
            match std::process::Command::new(&program).arg("-V").stdout(std::process::Stdio::null()).status() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && t.elapsed().as_secs() < 10 => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                r => {
                    r.unwrap_or_else(|e| panic!("{} -V: {e}", program.display()));
                    break;
                }
            }
        }
        d
    });
    Box::leak(dir.join(name).to_str().unwrap().to_string().into_boxed_str())
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|a| a.to_string()).collect()
}

/// Runs a helper with exactly `env` (nothing inherited), stdin /dev/null.
pub fn run_with(name: &str, args: &[String], env: &[(&str, &str)]) -> Output {
    Command::new(bin(name)).args(args).env_clear().envs(env.iter().copied()).stdin(Stdio::null()).output().unwrap()
}

/// op's helmet argv for a run of `program` as `euid:egid`.
pub fn helmet_args(program: &str, ids: &str) -> Vec<String> {
    strings(&["-C", "/etc/op.cf", "--", "m", program, ids, "users:ksb"])
}

/// A user's uid and gid, creating the user (a system account without a home) if missing, as
/// the escapes test fixture does.
pub fn user(name: &str) -> (u32, u32) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !id_ok(name) {
        useradd(&format!("--system --no-create-home --home-dir /var/empty/{name} --shell /bin/sh {name}"));
    }
    (id_of(name, "-u"), id_of(name, "-g"))
}

/// A user whose passwd home directory exists and is theirs (mode 0755), under
/// /var/tmp/escapes-helpers-home/.
pub fn user_with_home(name: &str) -> (u32, u32, PathBuf) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let base = Path::new("/var/tmp/escapes-helpers-home");
    fs::create_dir_all(base).unwrap();
    fs::set_permissions(base, fs::Permissions::from_mode(0o755)).unwrap();
    let home = base.join(name);
    if !id_ok(name) {
        useradd(&format!("--system --no-create-home --home-dir {} --shell /bin/sh {name}", home.display()));
    }
    let (uid, gid) = (id_of(name, "-u"), id_of(name, "-g"));
    fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(uid), Some(gid)).unwrap();
    fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
    (uid, gid, home)
}

fn id_ok(name: &str) -> bool {
    Command::new("id").arg(name).output().map(|o| o.status.success()).unwrap_or(false)
}

/// useradd, retried: other checkouts' tests may hold the passwd lock at the same moment.
fn useradd(args: &str) {
    for _ in 0..50 {
        let st = Command::new("sh").arg("-c").arg(format!("useradd {args}")).status().unwrap();
        let name = args.rsplit(' ').next().unwrap_or_default();
        if st.success() || id_ok(name) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("useradd {args} failed");
}

fn id_of(user: &str, flag: &str) -> u32 {
    let o = Command::new("id").arg(flag).arg(user).output().unwrap();
    String::from_utf8(o.stdout).unwrap().trim().parse().unwrap()
}

/// A fresh directory under /tmp (which every user can traverse), mode 0755, owned by root.
pub fn scratch(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new("/tmp").join(format!(
        "escapes-helpers-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir(&d).unwrap();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// A fresh directory that the file-trust rule accepts (root's, mode 0755, below the target
/// directory rather than the world-writable /tmp), for lists and programs a helper must believe.
pub fn trusted_scratch(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "escapes-helpers-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// What an op-style jacket run produced.
pub struct JacketRun {
    /// The jacket's own exit status, stdout (empty: it went to the command) and stderr.
    pub jacket: Output,
    /// The reply the command read before it started.
    pub reply: String,
    /// The command's stdout and stderr (empty if it never ran).
    pub cmd_out: String,
    pub cmd_err: String,
}

/// Runs `helper` as op runs a jacket: a child (the future command) reads the jacket's stdout to
/// EOF, exits with a non-zero final code, and otherwise runs `command` with `sh -c` as
/// `uid:gid` (no supplementary groups), its environment PATH, HOME=`home` and every
/// `$NAME=value` line of the reply; the jacket is exec'd in the parent with `-P` = the child.
pub fn op_jacket(helper: &str, env: &[(&str, &str)], ids: (u32, u32), home: &str, command: &str) -> JacketRun {
    let d = scratch("jacket");
    let driver = r#"
d=$1; uid=$2; gid=$3; home=$4; cmd=$5; jacket=$6
mkfifo "$d/pipe"
(
  reply=$(cat "$d/pipe")
  printf '%s\n' "$reply" > "$d/reply"
  code=$(printf '%s\n' "$reply" | tail -n 1)
  case $code in 0|'') ;; *) exit "$code" ;; esac
  set --
  while IFS= read -r line; do
    case $line in '$'*=*) set -- "$@" "${line#?}" ;; esac
  done < "$d/reply"
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    env -i PATH=/usr/bin:/bin HOME="$home" "$@" /bin/sh -c "$cmd"
) </dev/null >"$d/cmd.out" 2>"$d/cmd.err" &
exec "$jacket" -P $! -C /etc/op.cf -- m /bin/sh "$uid:$gid" users:ksb >"$d/pipe"
"#;
    let jacket = Command::new("/bin/sh")
        .args(["-c", driver, "driver"])
        .arg(&d)
        .arg(ids.0.to_string())
        .arg(ids.1.to_string())
        .arg(home)
        .arg(command)
        .arg(bin(helper))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let read = |n: &str| fs::read_to_string(d.join(n)).unwrap_or_default();
    let run = JacketRun { jacket, reply: read("reply"), cmd_out: read("cmd.out"), cmd_err: read("cmd.err") };
    let _ = fs::remove_dir_all(&d);
    run
}
