//! Test fixture: the real escapes binary installed setuid-root in a root-owned directory, run
//! as an unprivileged user, with a config at the path compiled in by `make test`
//! (ESCAPES_CONFIG_PATH). Tests share that path, so they take a lock and run one at a time.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

pub const ISSUER: &str = "https://id.test.example";
pub const APPROVER: &str = "admin@test.example";
pub const REQUESTER: &str = "agent+deploy@test.example";
pub const HOST: &str = "testhost";
pub const KID: &str = "key-1";
pub const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
pub const OTHER_SEED: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
pub const USER: &str = "escapes-test";
pub const OTHER_USER: &str = "escapes-other";

/// The fixture root; must match the directory of ESCAPES_CONFIG_PATH in the Makefile.
pub const ROOT: &str = "/run/escapes-test";

/// Threads of one test binary queue on the mutex; separate test binaries (hostile.rs,
/// escapes.rs, audit/check.sh) queue on an flock of a file next to the fixture.
fn lock() -> (MutexGuard<'static, ()>, fs::File) {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let file = fs::OpenOptions::new().create(true).append(true).open(format!("{ROOT}.lock")).expect("lock file");
    // SAFETY: (test) flock on a descriptor we own; released when the file is closed.
    let r = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) };
    assert_eq!(r, 0, "flock {ROOT}.lock");
    (guard, file)
}

pub struct Fixture {
    _guard: (MutexGuard<'static, ()>, fs::File),
    pub bin: PathBuf,
    pub uid: u32,
    pub gid: u32,
}

pub fn config_path() -> String {
    let Some(p) = option_env!("ESCAPES_CONFIG_PATH") else {
        panic!("build the tests with `make test` (ESCAPES_CONFIG_PATH unset)")
    };
    assert_eq!(p, format!("{ROOT}/etc/config.toml"), "ESCAPES_CONFIG_PATH must be {ROOT}/etc/config.toml");
    p.to_string()
}

pub fn audit_path() -> String {
    format!("{ROOT}/log/audit.log")
}

pub fn keys_path() -> String {
    format!("{ROOT}/keys/issuer.jwks.json")
}

fn sh(cmd: &str) {
    let st = Command::new("sh").arg("-c").arg(cmd).status().expect("sh");
    assert!(st.success(), "setup command failed: {cmd}");
}

fn id_of(user: &str, flag: &str) -> u32 {
    let out = Command::new("id").arg(flag).arg(user).output().expect("id");
    String::from_utf8(out.stdout).unwrap().trim().parse().expect("numeric id")
}

fn ensure_user(name: &str) {
    if Command::new("id").arg(name).output().map(|o| o.status.success()).unwrap_or(false) {
        return;
    }
    sh(&format!("useradd --system --no-create-home --home-dir /var/empty/{name} --shell /bin/sh {name}"));
}

/// Installs the binary: root:root, mode 4755, in a root-owned directory. Called with the fixture
/// lock held, by every test: another checkout's test binary (or its audit/check.sh, which leaves
/// the marker alone) may have installed its own build in between (the lock is shared by every
/// checkout on the machine), so the copy is redone whenever the marker beside it names another
/// source, or the installed file is not the one this marker was written for.
fn install() -> PathBuf {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        assert_eq!(
            unsafe_free_geteuid(),
            0,
            "integration tests must run as root (they install a setuid binary and switch users)"
        );
        ensure_user(USER);
        ensure_user(OTHER_USER);
    });
    let bin_dir = Path::new(ROOT).join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    let dst = bin_dir.join("escapes");
    let marker = bin_dir.join(".installed-from");
    let src = env!("CARGO_BIN_EXE_escapes");
    let stamp = fs::metadata(src).and_then(|m| m.modified()).map(|t| format!("{src} {t:?}")).unwrap_or_default();
    let installed = |dst: &Path| {
        fs::metadata(dst)
            .map(|m| format!(" -> ino {} size {} mtime {:?}", m.ino(), m.len(), m.modified().ok()))
            .unwrap_or_default()
    };
    if fs::read_to_string(&marker).ok() == Some(format!("{stamp}{}", installed(&dst))) {
        return dst;
    }
    let _ = fs::remove_file(&dst);
    fs::copy(src, &dst).unwrap();
    chown(&dst, Some(0), Some(0)).unwrap();
    fs::set_permissions(&dst, fs::Permissions::from_mode(0o4755)).unwrap();
    fs::write(&marker, format!("{stamp}{}", installed(&dst))).unwrap();
    dst
}

fn unsafe_free_geteuid() -> u32 {
    let out = Command::new("id").arg("-u").output().expect("id");
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

pub fn jwks(seed: &str, kid: &str) -> String {
    mint(&["jwks", "--seed", seed, "--kid", kid])
}

/// Our own minter (tools/testkit): independent of the escapes crate.
pub fn mint(args: &[&str]) -> String {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    String::from_utf8(escapes_testkit::run(&args).expect("mint")).unwrap()
}

/// The Python `cryptography` minter: an implementation that shares no code with ours.
pub fn mint_py(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mint.py");
    let out = Command::new("python3").arg(script).args(args).output().expect("python3");
    assert!(out.status.success(), "mint.py failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim_end().to_string()
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub const DEFAULT_CONFIG: &str = r#"# escapes integration test config
host = "testhost"
audit_log = "/run/escapes-test/log/audit.log"

[security]
allowed_issuers = ["https://id.test.example"]
allowed_approvers = ["admin@test.example"]
allowed_audiences = ["escapes"]
offline = true

[keys]
"https://id.test.example" = "/run/escapes-test/keys/issuer.jwks.json"
"#;

impl Fixture {
    /// A fresh fixture: default config, pinned key, empty audit log.
    pub fn new() -> Fixture {
        let guard = lock();
        let bin = install();
        let f = Fixture { _guard: guard, bin, uid: id_of(USER, "-u"), gid: id_of(USER, "-g") };
        f.reset();
        f
    }

    /// Back to the default config, pinned key and an empty audit log (the lock stays held).
    pub fn reset(&self) {
        let _ = fs::remove_dir_all(format!("{ROOT}/etc"));
        let _ = fs::remove_dir_all(format!("{ROOT}/keys"));
        let _ = fs::remove_dir_all(format!("{ROOT}/log"));
        let _ = fs::remove_dir_all(format!("{ROOT}/cache"));
        for (d, mode) in [("etc", 0o755), ("keys", 0o755), ("log", 0o700)] {
            let p = format!("{ROOT}/{d}");
            fs::create_dir_all(&p).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        }
        fs::set_permissions(ROOT, fs::Permissions::from_mode(0o755)).unwrap();
        self.write_config(DEFAULT_CONFIG);
        write_root_file(&keys_path(), &jwks(SEED, KID), 0o644);
    }

    pub fn write_config(&self, text: &str) {
        write_root_file(&config_path(), text, 0o644);
    }

    /// Claims for an `always` grant of `argv`, valid now, on the test host.
    pub fn claims(&self, argv: &[&str]) -> Value {
        let now = now();
        json!({
            "iss": ISSUER,
            "sub": REQUESTER,
            "aud": "escapes",
            "target_host": HOST,
            "iat": now,
            "exp": now + 3600,
            "jti": "6f1c2d4e-0000-4000-8000-000000000001",
            "grant_id": "0b7e4a52-0000-4000-8000-000000000002",
            "grant_type": "always",
            "approval": "always",
            "decided_by": APPROVER,
            "command": argv,
        })
    }

    pub fn token(&self, claims: &Value) -> String {
        mint(&["sign", "--seed", SEED, "--kid", KID, "--claims", &claims.to_string()])
    }

    pub fn token_raw(&self, claims: &str) -> String {
        mint(&["sign", "--seed", SEED, "--kid", KID, "--claims", claims])
    }

    /// Runs the installed binary as the unprivileged test user.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("spawn escapes")
    }

    /// Convenience: `escapes --grant TOKEN -- argv...`.
    pub fn run_grant(&self, token: &str, argv: &[&str]) -> Output {
        let mut a = vec!["--grant", token, "--"];
        a.extend_from_slice(argv);
        self.run(&a)
    }

    /// A command for the binary as the test user, with a clean environment and cwd `/`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args).env_clear().current_dir("/").uid(self.uid).gid(self.gid).stdin(Stdio::null());
        c
    }

    pub fn audit(&self) -> Vec<Value> {
        let text = fs::read_to_string(audit_path()).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {l}")))
            .collect()
    }

    pub fn last_audit(&self) -> Value {
        self.audit().pop().expect("no audit line written")
    }
}

pub fn write_root_file(path: &str, text: &str, mode: u32) {
    let _ = fs::remove_file(path);
    fs::write(path, text).unwrap();
    chown(path, Some(0), Some(0)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Asserts a refusal: exit code, exactly one stderr line, one new audit line with `error`,
/// and that the marker file the command would create does not exist.
pub fn assert_refused(f: &Fixture, o: &Output, exit: i32, error: &str) -> Value {
    assert_eq!(code(o), exit, "stderr: {}", stderr(o));
    assert_eq!(stdout(o), "", "a refused command must not produce output");
    assert_eq!(stderr(o).lines().count(), 1, "exactly one stderr line, got: {}", stderr(o));
    let lines = f.audit();
    assert_eq!(lines.len(), 1, "exactly one audit line per refusal: {lines:?}");
    let last = lines[0].clone();
    assert_eq!(last["event"], "refused", "{last}");
    assert_eq!(last["error"], error, "{last}");
    last
}

/// The standard helper `name` from helpers/: the multi-call program, built once per test
/// process into a target directory of its own, installed root:root 0755 in `{ROOT}/libexec` (a
/// root-only directory chain, as `make install` gives) and hard-linked there as `name`, so a
/// test drives the real helper as escapes runs it and as it is installed.
pub fn standard_helper(name: &str) -> String {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("helpers");
        let st = Command::new(env!("CARGO"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--offline", "-q", "-p", "escapes-helpers", "--bins"])
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build -p escapes-helpers failed");
        target.join("debug")
    });
    let libexec = Path::new(ROOT).join("libexec");
    fs::create_dir_all(&libexec).unwrap();
    fs::set_permissions(&libexec, fs::Permissions::from_mode(0o755)).unwrap();
    // A fresh copy under a name of this call's own, linked as `name`, then renamed into place as
    // escapes-helper: tests running at once never see a half-made file or a missing link.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let fresh = libexec.join(format!(".escapes-helper-{}-{n}", std::process::id()));
    fs::copy(dir.join("escapes-helper"), &fresh).unwrap();
    chown(&fresh, Some(0), Some(0)).unwrap();
    fs::set_permissions(&fresh, fs::Permissions::from_mode(0o755)).unwrap();
    let dst = libexec.join(name);
    let _ = fs::remove_file(&dst);
    fs::hard_link(&fresh, &dst).unwrap();
    fs::rename(&fresh, libexec.join("escapes-helper")).unwrap();
    dst.display().to_string()
}

/// SHA-256 of a file, in lowercase hex (for `SIGNED_SHA256`).
pub fn sha256_file(path: &str) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}
