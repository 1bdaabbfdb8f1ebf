//! Before glibc's start-up code runs, escapes renames (first byte to `_`) every variable of the
//! caller's named GLIBC_TUNABLES or starting with LD_ or MALLOC_, so that glibc, which parses
//! and filters them itself before main in a static binary, never reads one.
//!
//! What is tested is the binary as `make build` ships it: release, crt-static, static-pie,
//! `--target` the host (the test config path compiled in, as audit/check.sh builds it, so the
//! two share one cargo cache). `make test`'s own binary is a debug dynamic build; there the
//! loader has read these variables before escapes' entry point runs, and the second test checks
//! only what escapes' own code then sees.

mod support;

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const STARTED: &str = "/tmp/escapes-static-start-started";

/// What the caller sets: each of these is read by glibc's start-up in a setuid static binary
/// (tunables, their MALLOC_ aliases, the LD_ variables of _dl_non_dynamic_init), and FOO, which
/// nobody reads.
const CALLER_ENV: [(&str, &str); 7] = [
    ("GLIBC_TUNABLES", "glibc.malloc.check=3:glibc.malloc.tcache_count=0"),
    ("LD_PRELOAD", "/tmp/evil.so"),
    ("LD_LIBRARY_PATH", "/tmp"),
    ("LD_BIND_NOW", "1"),
    ("MALLOC_CHECK_", "3"),
    ("MALLOC_ARENA_MAX", "1"),
    ("FOO", "bar"),
];

/// Builds and installs (setuid root, next to the fixture's binary) the static release binary.
fn static_binary() -> PathBuf {
    let out = Command::new("rustc").args(["-vV"]).output().expect("rustc -vV");
    let host = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("host triple");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_path_buf();
    let st = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--offline", "-q", "--release", "-p", "escapes", "--bin", "escapes", "--target", &host])
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("ESCAPES_CONFIG_PATH", config_path())
        .env_remove("ESCAPES_CACHE_DIR")
        .status()
        .expect("run cargo build");
    assert!(st.success(), "the static release build failed");
    let built = target.join(&host).join("release/escapes");
    let elf = Command::new("readelf").args(["-lW"]).arg(&built).output().expect("readelf");
    assert!(!String::from_utf8_lossy(&elf.stdout).contains("INTERP"), "{} is not static", built.display());
    let dst = Path::new(ROOT).join("bin/escapes-static");
    let _ = fs::remove_file(&dst);
    fs::copy(&built, &dst).unwrap();
    chown(&dst, Some(0), Some(0)).unwrap();
    fs::set_permissions(&dst, fs::Permissions::from_mode(0o4755)).unwrap();
    dst
}

/// `bin` as the test user with CALLER_ENV, running a command that sleeps; returned once the
/// command has started, so escapes is waiting for it.
fn spawn_waiting(f: &Fixture, bin: &Path) -> Child {
    let _ = fs::remove_file(STARTED);
    let script = format!(": > {STARTED}; exec sleep 5");
    let argv = ["sh", "-c", script.as_str()];
    let t = f.token(&f.claims(&argv));
    let mut c = Command::new(bin);
    c.args(["--grant", &t, "--"]).args(argv).env_clear().envs(CALLER_ENV).current_dir("/").uid(f.uid).gid(f.gid);
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = c.spawn().expect("spawn escapes");
    let start = Instant::now();
    while !Path::new(STARTED).exists() {
        assert!(child.try_wait().unwrap().is_none(), "escapes ended before the command started");
        assert!(start.elapsed() < Duration::from_secs(5), "the command never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

/// A process's environment two ways, read as root: the strings the kernel copied at exec
/// (/proc/PID/environ, env_start..env_end) and what its envp array, which glibc and escapes
/// read, points at now, with whether each pointer is still into those strings.
fn environment_of(pid: u32) -> (Vec<String>, Vec<(String, bool)>) {
    let environ = fs::read(format!("/proc/{pid}/environ")).unwrap();
    let strings =
        environ.split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which ends at the last ')': field n is at index n - 3.
    let fields: Vec<u64> =
        stat.rsplit_once(") ").unwrap().1.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    let (start_stack, env_start, env_end) = (fields[28 - 3], fields[50 - 3], fields[51 - 3]);
    let mut mem = fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut word = |at: u64| {
        let mut b = [0u8; 8];
        mem.seek(SeekFrom::Start(at)).unwrap();
        mem.read_exact(&mut b).unwrap();
        u64::from_le_bytes(b)
    };
    // The initial stack: argc, argv[0..argc], NULL, envp..., NULL.
    let argc = word(start_stack);
    let mut pointers = Vec::new();
    let mut at = start_stack + 8 * (argc + 2);
    loop {
        let p = word(at);
        if p == 0 {
            break;
        }
        pointers.push(p);
        at += 8;
    }
    let envp = pointers
        .into_iter()
        .map(|p| {
            let mut buf = vec![0u8; 256];
            mem.seek(SeekFrom::Start(p)).unwrap();
            let n = mem.read(&mut buf).unwrap();
            let s = buf[..n].split(|&b| b == 0).next().unwrap_or_default();
            (String::from_utf8_lossy(s).into_owned(), (env_start..env_end).contains(&p))
        })
        .collect();
    (strings, envp)
}

fn read_by_glibc(entry: &str) -> bool {
    entry.starts_with("GLIBC_TUNABLES=") || entry.starts_with("LD_") || entry.starts_with("MALLOC_")
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
    let _ = fs::remove_file(STARTED);
}

#[test]
fn the_static_binary_renames_glibc_variables_before_glibc_reads_them() {
    let f = Fixture::new();
    let bin = static_binary();
    let child = spawn_waiting(&f, &bin);
    let (strings, envp) = environment_of(child.id());
    stop(child);
    let _ = fs::remove_file(&bin);
    // Renamed in place, value untouched: glibc never saw a name it reads.
    // In the order std passes them (sorted by name), each renamed but FOO.
    let mut caller = CALLER_ENV.to_vec();
    caller.sort();
    let want: Vec<String> = caller
        .iter()
        .map(|(k, v)| if *k == "FOO" { format!("{k}={v}") } else { format!("_{}={v}", &k[1..]) })
        .collect();
    assert_eq!(strings, want, "the environment as the kernel passed it, after escapes' entry point");
    // And glibc rewrote nothing: every envp entry is still the kernel's string, none removed.
    assert_eq!(envp, want.iter().map(|s| (s.clone(), true)).collect::<Vec<_>>(), "envp as glibc and escapes read it");
}

#[test]
fn escapes_own_code_sees_none_of_them_in_the_dynamic_build_either() {
    // The dynamic loader runs before escapes' entry point and reads these itself (in secure
    // mode it drops or filters most); what remains is renamed before libc's start-up code.
    let f = Fixture::new();
    let child = spawn_waiting(&f, &f.bin);
    let (_, envp) = environment_of(child.id());
    stop(child);
    assert!(!envp.iter().any(|(e, _)| read_by_glibc(e)), "{envp:?}");
    assert!(envp.iter().any(|(e, _)| e == "FOO=bar"), "{envp:?}");
}
