//! The system-log copy of the audit log (issue 15), against the real daemons: an `rsyslogd`
//! and a `systemd-journald` that these tests start on the machine's own `/dev/log` and
//! `/run/systemd/journal/socket` (under the fixture lock, which every checkout's tests share;
//! whatever was at those paths is moved aside and put back). The installed setuid escapes runs
//! as the unprivileged test user; the assertions are on what the daemons wrote.
//!
//! Needs `rsyslogd` (Debian `rsyslog`), `logrotate` and `/lib/systemd/systemd-journald`
//! (`make test-deps` and `.ci/run` install them).

mod support;

use serde_json::Value;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const DEV_LOG: &str = "/dev/log";
const JOURNAL_DIR: &str = "/run/systemd/journal";
const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
/// Scratch space for the daemons' configs and output: root's, not the test user's.
const WORK: &str = "/run/escapes-test-syslog";

fn sha256_hex(data: &[u8]) -> String {
    let mut child = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The chain hash of an audit line: what the next line's prev_hash holds.
fn hash_of(line: &str) -> String {
    format!("sha256:{}", sha256_hex(line.as_bytes()))
}

fn audit_lines() -> Vec<String> {
    fs::read_to_string(audit_path()).unwrap_or_default().lines().map(String::from).collect()
}

fn config_with(audit: &str) -> String {
    format!("{DEFAULT_CONFIG}\n[audit]\n{audit}\n")
}

fn work_dir() -> PathBuf {
    let dir = Path::new(WORK);
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    dir.to_path_buf()
}

/// A file the test user can read, for `--verify-log` (which runs with the caller's rights).
fn readable_copy(name: &str, text: &str) -> String {
    let path = format!("/tmp/escapes-syslog-test-{name}");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    path
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whatever is at `path` is moved aside for the test and put back afterwards.
struct Aside {
    path: PathBuf,
    saved: Option<PathBuf>,
}

impl Aside {
    fn new(path: &str) -> Aside {
        let path = PathBuf::from(path);
        let saved = path.with_extension("escapes-test-saved");
        let _ = fs::remove_file(&saved);
        let had = fs::symlink_metadata(&path).is_ok();
        if had {
            fs::rename(&path, &saved).unwrap();
        }
        Aside { path, saved: had.then_some(saved) }
    }
}

impl Drop for Aside {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        if let Some(saved) = &self.saved {
            let _ = fs::rename(saved, &self.path);
        }
    }
}

/// An rsyslogd of our own, listening on /dev/log, writing authpriv to two files: RFC 5424
/// (`RSYSLOG_SyslogProtocol23Format`, which keeps the structured data) and rsyslog's default
/// file format (which drops it).
struct Rsyslogd {
    child: Child,
    rfc5424: PathBuf,
    default_format: PathBuf,
    _dev_log: Aside,
}

impl Rsyslogd {
    /// `special_parser`: imuxsock's default parser for the system socket, which only knows the
    /// syslog(3) format; off, rsyslog parses RFC 5424 (what a site sets for escapes).
    fn start(special_parser: bool) -> Rsyslogd {
        assert!(
            Path::new("/usr/sbin/rsyslogd").exists(),
            "rsyslogd is missing: apt-get install rsyslog (make test-deps does)"
        );
        let dev_log = Aside::new(DEV_LOG);
        let dir = work_dir();
        let (rfc5424, default_format) = (dir.join("authpriv-5424.log"), dir.join("authpriv.log"));
        let parser = if special_parser { "on" } else { "off" };
        let conf = format!(
            "global(workDirectory=\"{WORK}\")\n\
             module(load=\"imuxsock\" SysSock.Name=\"{DEV_LOG}\" SysSock.UseSpecialParser=\"{parser}\" SysSock.RateLimit.Interval=\"0\")\n\
             authpriv.* action(type=\"omfile\" file=\"{}\" template=\"RSYSLOG_SyslogProtocol23Format\")\n\
             authpriv.* action(type=\"omfile\" file=\"{}\")\n",
            rfc5424.display(),
            default_format.display()
        );
        fs::write(dir.join("rsyslog.conf"), conf).unwrap();
        let child = Command::new("/usr/sbin/rsyslogd")
            .args(["-n", "-f"])
            .arg(dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        wait_until("rsyslogd to create /dev/log", Duration::from_secs(10), || fs::symlink_metadata(DEV_LOG).is_ok());
        Rsyslogd { child, rfc5424, default_format, _dev_log: dev_log }
    }

    /// The lines rsyslogd wrote to `file`, once `n` lines holding `needle` are there.
    fn wait_for(&self, file: &Path, needle: &str, n: usize) -> Vec<String> {
        let mut lines = Vec::new();
        wait_until(&format!("{n} lines with {needle} in {}", file.display()), Duration::from_secs(10), || {
            lines = fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains(needle))
                .map(String::from)
                .collect();
            lines.len() >= n
        });
        lines
    }

    fn stop(&mut self) {
        // SAFETY: (test) signalling the child we spawned.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A system logger that never reads: a datagram socket bound at /dev/log whose queue the test
/// filled.
fn full_logger() -> (UnixDatagram, Aside) {
    let aside = Aside::new(DEV_LOG);
    let sock = UnixDatagram::bind(DEV_LOG).unwrap();
    fs::set_permissions(DEV_LOG, fs::Permissions::from_mode(0o666)).unwrap();
    let sender = UnixDatagram::unbound().unwrap();
    sender.set_nonblocking(true).unwrap();
    let mut sent = 0;
    while sender.send_to(&[b'x'; 512], DEV_LOG).is_ok() {
        sent += 1;
        assert!(sent < 1_000_000, "the queue never filled");
    }
    (sock, aside)
}

fn run_true(f: &Fixture) -> std::process::Output {
    let t = f.token(&f.claims(&["true"]));
    f.run_grant(&t, &["true"])
}

/// Three records: run and exit of `true`, and a refusal.
fn three_records(f: &Fixture) -> Vec<String> {
    assert_eq!(code(&run_true(f)), 0);
    let t = f.token(&f.claims(&["true"]));
    assert_eq!(code(&f.run_grant(&t, &["false"])), 5);
    let lines = audit_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    lines
}

/// The outside review's forgery, ten lines of Python: edit record `n` (1-based), then give
/// every later record the prev_hash of the forged line before it.
fn rechain(text: &str, n: usize) -> String {
    let script = r#"
import hashlib, sys
n = int(sys.argv[1]); lines = sys.stdin.read().splitlines()
lines[n - 1] = lines[n - 1].replace('"event":"exit"', '"event":"refused"')
for i in range(n, len(lines)):
    prev = "sha256:" + hashlib.sha256(lines[i - 1].encode()).hexdigest()
    at = lines[i].index('"prev_hash":"') + 13
    lines[i] = lines[i][:at] + prev + lines[i][at + 71:]
sys.stdout.write("".join(l + "\n" for l in lines))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn joined(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

// --- rsyslogd ---------------------------------------------------------------------------------

#[test]
fn rsyslogd_writes_every_record_with_its_chain_hash_as_authpriv() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"syslog\"\nsyslog_required = true"));
    let rsyslogd = Rsyslogd::start(false);
    let local = three_records(&f);
    let written = rsyslogd.wait_for(&rsyslogd.rfc5424, "[escapes@32473 ", 3);
    for (line, copy) in local.iter().zip(&written) {
        let rec: Value = serde_json::from_str(line).unwrap();
        assert!(rec.get("syslog_error").is_none(), "{line}");
        // authpriv (10) * 8 + notice (5) for run/exit, warning (4) for the refusal.
        let pri = if rec["event"] == "refused" { "<84>1 " } else { "<85>1 " };
        assert!(copy.starts_with(pri), "{copy}");
        let head = format!(
            " {} escapes {} {} [escapes@32473 line_hash=\"{}\" prev_hash=\"{}\"] ",
            rec["host"].as_str().unwrap(),
            rec["pid"],
            rec["event"].as_str().unwrap(),
            hash_of(line),
            rec["prev_hash"].as_str().unwrap()
        );
        assert!(copy.contains(&head), "{copy}\nwants {head}");
        assert!(copy.ends_with(line.as_str()), "the JSON record, byte for byte: {copy}");
    }
    // rsyslog's default file format drops the structured data but keeps the record.
    let default = rsyslogd.wait_for(&rsyslogd.default_format, "escapes[", 3);
    for (line, copy) in local.iter().zip(&default) {
        assert!(copy.ends_with(&format!(" {line}")), "{copy}");
    }
}

#[test]
fn a_rechained_forgery_passes_the_chain_but_not_the_anchors() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"syslog\""));
    let rsyslogd = Rsyslogd::start(false);
    let mut local = three_records(&f);
    local.extend(three_records_more(&f));
    assert_eq!(local.len(), 6);
    rsyslogd.wait_for(&rsyslogd.rfc5424, "[escapes@32473 ", 6);
    rsyslogd.wait_for(&rsyslogd.default_format, "escapes[", 6);
    let export_5424 = readable_copy("export-5424", &fs::read_to_string(&rsyslogd.rfc5424).unwrap());
    let export_default = readable_copy("export-default", &fs::read_to_string(&rsyslogd.default_format).unwrap());

    let intact = readable_copy("intact", &joined(&local));
    for export in [&export_5424, &export_default] {
        let o = f.run(&["--verify-log", &intact, "--anchors", export]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).contains("anchors: 6 of 6 lines confirmed"), "{}", stdout(&o));
    }

    // Line 2 (the exit record of the first run) edited, lines 3-6 re-chained.
    let forged = readable_copy("forged", &rechain(&joined(&local), 2));
    assert_ne!(forged, intact);
    let o = f.run(&["--verify-log", &forged]);
    assert_eq!(code(&o), 0, "the local chain alone cannot see it: {}", stderr(&o));
    assert_eq!(stdout(&o), "audit log intact: 6 lines chained\n");
    for export in [&export_5424, &export_default] {
        let o = f.run(&["--verify-log", &forged, "--anchors", export]);
        assert_eq!(code(&o), 5, "{}", stdout(&o));
        assert!(stderr(&o).contains("disagrees with the export at line 2:"), "{}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1);
    }

    // The last two records removed: the chain is intact, the export has more.
    let cut = readable_copy("cut", &joined(&local[..4]));
    assert_eq!(code(&f.run(&["--verify-log", &cut])), 0);
    let o = f.run(&["--verify-log", &cut, "--anchors", &export_5424]);
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("after line 4") && stderr(&o).contains("cut off the end"), "{}", stderr(&o));
}

fn three_records_more(f: &Fixture) -> Vec<String> {
    let before = audit_lines().len();
    assert_eq!(code(&run_true(f)), 0);
    let t = f.token(&f.claims(&["id"]));
    assert_eq!(code(&f.run_grant(&t, &["true"])), 5);
    audit_lines()[before..].to_vec()
}

#[test]
fn the_default_imuxsock_parser_keeps_the_hashes_in_the_message() {
    // imuxsock's special parser does not know RFC 5424: the tag becomes "1" and the header,
    // the element and the record all land in the message; the anchors are still there.
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"syslog\""));
    let rsyslogd = Rsyslogd::start(true);
    let local = three_records(&f);
    let written = rsyslogd.wait_for(&rsyslogd.default_format, "[escapes@32473 ", 3);
    assert!(written[0].contains(&format!("line_hash=\"{}\"", hash_of(&local[0]))), "{}", written[0]);
    let export = readable_copy("export-special", &fs::read_to_string(&rsyslogd.default_format).unwrap());
    let copy = readable_copy("special-local", &joined(&local));
    let o = f.run(&["--verify-log", &copy, "--anchors", &export]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let forged = readable_copy("special-forged", &rechain(&joined(&local), 2));
    assert_eq!(code(&f.run(&["--verify-log", &forged, "--anchors", &export])), 5);
}

#[test]
fn check_config_says_where_the_copy_goes_and_fails_only_when_it_is_required() {
    let f = Fixture::new();
    let check = || {
        let o = Command::new(&f.bin).arg("--check-config").env_clear().current_dir("/").output().unwrap();
        (code(&o), stdout(&o))
    };
    f.write_config(&config_with("syslog = \"syslog\"\nsyslog_required = true"));
    {
        let _rsyslogd = Rsyslogd::start(false);
        let (rc, out) = check();
        assert_eq!(rc, 0, "{out}");
        assert!(out.contains("pass  syslog       /dev/log (RFC 5424, facility authpriv)"), "{out}");
    }
    let _aside = Aside::new(DEV_LOG);
    let (rc, out) = check();
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("FAIL  syslog       system logger unreachable: /dev/log: no such socket"), "{out}");
    f.write_config(&config_with("syslog = \"syslog\""));
    let (rc, out) = check();
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("pass  syslog       system logger unreachable") && out.contains("runs go on"), "{out}");
    f.write_config(&config_with("syslog = \"off\""));
    assert!(check().1.contains("pass  syslog       off"));
}

// --- a logger that is gone or stuck -----------------------------------------------------------

#[test]
fn an_absent_or_stopped_logger_never_stops_a_run() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"syslog\""));
    let _aside = Aside::new(DEV_LOG);
    let start = Instant::now();
    let o = run_true(&f);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert!(start.elapsed() < Duration::from_secs(3));
    let rec = f.last_audit();
    assert_eq!(rec["event"], "exit");
    assert!(rec["syslog_error"].as_str().unwrap().contains("unreachable: /dev/log"), "{rec}");

    // A logger that was stopped: its socket is still there, nobody listens.
    drop(UnixDatagram::bind(DEV_LOG).unwrap());
    let o = run_true(&f);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rec = f.last_audit();
    assert!(rec["syslog_error"].as_str().unwrap().contains("connection refused"), "{rec}");
}

#[test]
fn a_logger_that_never_reads_does_not_hang_escapes() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"syslog\""));
    let (_sock, _aside) = full_logger();
    let start = Instant::now();
    let o = run_true(&f);
    let took = start.elapsed();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // One bound (200 ms) for the run record, none for the exit record; a hang would never end.
    assert!(took < Duration::from_secs(3), "{took:?}");
    let lines = f.audit();
    assert!(lines[0].get("syslog_error").is_none(), "sent before anything was known: {}", lines[0]);
    let note = lines[1]["syslog_error"].as_str().unwrap();
    assert!(note.contains("the previous record was not copied") && note.contains("within 200 ms"), "{note}");
}

#[test]
fn an_unreachable_logger_with_syslog_required_means_nothing_runs() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"syslog\"\nsyslog_required = true"));
    let marker = format!("{ROOT}/ran-without-syslog");
    let _ = fs::remove_file(&marker);
    let _aside = Aside::new(DEV_LOG);
    let t = f.token(&f.claims(&["touch", &marker]));
    let o = f.run_grant(&t, &["touch", &marker]);
    let rec = assert_refused(&f, &o, 1, "syslog_unavailable");
    assert!(
        stderr(&o).contains("system logger unreachable") && stderr(&o).contains("not running the command"),
        "{}",
        stderr(&o)
    );
    assert!(rec["syslog_error"].as_str().is_some(), "{rec}");
    assert!(!Path::new(&marker).exists(), "the command ran");
}

#[test]
fn a_stuck_logger_with_syslog_required_means_nothing_runs() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"syslog\"\nsyslog_required = true"));
    let marker = format!("{ROOT}/ran-without-syslog");
    let _ = fs::remove_file(&marker);
    let (_sock, _aside) = full_logger();
    let t = f.token(&f.claims(&["touch", &marker]));
    let start = Instant::now();
    let o = f.run_grant(&t, &["touch", &marker]);
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("took nothing within 200 ms"), "{}", stderr(&o));
    assert!(!Path::new(&marker).exists(), "the command ran");
    // The run record was written before the copy timed out; the refusal says it did not run.
    let lines = f.audit();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["event"], "run");
    assert_eq!(lines[1]["event"], "refused");
    assert_eq!(lines[1]["error"], "syslog_unavailable");
}

// --- rotation ---------------------------------------------------------------------------------

/// The logrotate snippet the package installs, pointed at the fixture's log.
fn logrotate(dir: &Path) {
    let snippet = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/logrotate")).unwrap();
    assert!(snippet.contains("/var/log/openape/audit.log {"));
    let conf = dir.join("logrotate.conf");
    fs::write(&conf, snippet.replace("/var/log/openape/audit.log", &audit_path())).unwrap();
    let o = Command::new("/usr/sbin/logrotate")
        .arg("-f")
        .arg("-s")
        .arg(dir.join("logrotate.state"))
        .arg(&conf)
        .output()
        .expect("logrotate (apt-get install logrotate)");
    assert!(o.status.success(), "logrotate: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_rotated_log_chains_across_files_and_verifies_in_order() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"off\""));
    let dir = work_dir();
    let first = three_records(&f);
    logrotate(&dir);
    let rotated = format!("{}.1", audit_path());
    assert_eq!(fs::read_to_string(&rotated).unwrap(), joined(&first), "delaycompress: .1 stays plain");
    assert!(!Path::new(&audit_path()).exists(), "nocreate: escapes creates the new log");
    assert_eq!(code(&run_true(&f)), 0);
    let second = audit_lines();
    let rec: Value = serde_json::from_str(&second[0]).unwrap();
    assert_eq!(rec["prev_hash"], hash_of(&first[2]), "links to the rotated file's last line");
    assert_eq!(rec["rotated_from"], rotated);
    logrotate(&dir);
    assert_eq!(code(&run_true(&f)), 0);
    let third = audit_lines();
    let old = readable_copy("rot-2", &zcat(&format!("{}.2.gz", audit_path())));
    let mid = readable_copy("rot-1", &fs::read_to_string(&rotated).unwrap());
    let new = readable_copy("rot-0", &joined(&third));
    assert_eq!(fs::read_to_string(&mid).unwrap(), joined(&second));

    let o = f.run(&["--verify-log", &old, &mid, &new]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "audit log intact: 7 lines chained across 3 files\n");
    // The newest file alone: intact, and it says where its chain comes from.
    let o = f.run(&["--verify-log", &new]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("continues the chain of"), "{}", stdout(&o));
    // A gap, and the wrong order.
    let o = f.run(&["--verify-log", &old, &new]);
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains(&format!("broken at line 1 of {new}")), "{}", stderr(&o));
    let o = f.run(&["--verify-log", &mid, &old, &new]);
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains(&format!("broken at line 1 of {old}")), "{}", stderr(&o));
    // A compressed file is named as such, not misread.
    let gz = "/tmp/escapes-syslog-test-rot.gz".to_string();
    fs::copy(format!("{}.2.gz", audit_path()), &gz).unwrap();
    fs::set_permissions(&gz, fs::Permissions::from_mode(0o644)).unwrap();
    let o = f.run(&["--verify-log", &gz, &mid]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("is compressed"), "{}", stderr(&o));
}

fn zcat(path: &str) -> String {
    let o = Command::new("zcat").arg(path).output().unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_command_running_across_a_rotation_records_its_end_in_the_new_file() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"off\""));
    let dir = work_dir();
    let argv = ["sh", "-c", "sleep 1"];
    let t = f.token(&f.claims(&argv));
    let mut child = f.command(&["--grant", &t, "--", argv[0], argv[1], argv[2]]).spawn().unwrap();
    wait_until("the run record", Duration::from_secs(10), || audit_lines().len() == 1);
    logrotate(&dir);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let old = fs::read_to_string(format!("{}.1", audit_path())).unwrap();
    let new = audit_lines();
    assert_eq!(old.lines().count(), 1, "{old}");
    assert_eq!(new.len(), 1);
    let exit: Value = serde_json::from_str(&new[0]).unwrap();
    assert_eq!(exit["event"], "exit");
    assert_eq!(exit["prev_hash"], hash_of(old.lines().next().unwrap()));
    let a = readable_copy("across-1", &old);
    let b = readable_copy("across-0", &joined(&new));
    assert_eq!(code(&f.run(&["--verify-log", &a, &b])), 0);
}

// --- journald ---------------------------------------------------------------------------------

/// systemd-journald started by the test (it runs without systemd as PID 1: it binds its own
/// sockets under /run/systemd/journal and writes /run/log/journal), unless one is running.
struct Journald {
    child: Option<Child>,
    made_dir: bool,
    /// Only entries from this test on: the journal keeps earlier runs' (other logs that also
    /// start at the genesis link on this host).
    since: String,
}

impl Journald {
    fn start() -> Journald {
        let since = format!("--since=@{}", now() - 1);
        if UnixDatagram::unbound().unwrap().connect(JOURNAL_SOCKET).is_ok() {
            return Journald { child: None, made_dir: false, since };
        }
        let bin = ["/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let bin = bin.expect("systemd-journald is missing: apt-get install systemd (make test-deps does)");
        let made_dir = !Path::new(JOURNAL_DIR).exists();
        fs::create_dir_all(JOURNAL_DIR).unwrap();
        let child = Command::new(bin)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start systemd-journald");
        wait_until("journald's socket", Duration::from_secs(10), || {
            UnixDatagram::unbound().unwrap().connect(JOURNAL_SOCKET).is_ok()
        });
        Journald { child: Some(child), made_dir, since }
    }

    /// `journalctl -o export` of escapes' entries, once `n` entries with `needle` are in it.
    fn export(&self, needle: &str, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        wait_until(&format!("{n} journal entries with {needle}"), Duration::from_secs(10), || {
            let o = Command::new("journalctl")
                .args(["-o", "export", &self.since, "SYSLOG_IDENTIFIER=escapes"])
                .output()
                .unwrap();
            out = o.stdout;
            String::from_utf8_lossy(&out).matches(needle).count() >= n
        });
        out
    }
}

impl Drop for Journald {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // SAFETY: (test) signalling the child we spawned.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
            for name in
                ["socket", "stdout", "dev-log", "io.systemd.journal", "kernel-seqnum", "seqnum", "streams", "flushed"]
            {
                let p = Path::new(JOURNAL_DIR).join(name);
                let _ = fs::remove_file(&p).or_else(|_| fs::remove_dir_all(&p));
            }
            if self.made_dir {
                let _ = fs::remove_dir_all(JOURNAL_DIR);
                let _ = fs::remove_dir("/run/systemd");
            }
        }
    }
}

/// The journal entries (as name -> value) whose ESCAPES_LINE_HASH is `hash`.
fn journal_entry(export: &[u8], hash: &str) -> Vec<(String, Vec<u8>)> {
    let mut entries = vec![Vec::new()];
    let mut d = export;
    while !d.is_empty() {
        if d[0] == b'\n' {
            entries.push(Vec::new());
            d = &d[1..];
            continue;
        }
        let nl = d.iter().position(|&b| b == b'\n').unwrap();
        let head = &d[..nl];
        if let Some(eq) = head.iter().position(|&b| b == b'=') {
            entries
                .last_mut()
                .unwrap()
                .push((String::from_utf8_lossy(&head[..eq]).into_owned(), head[eq + 1..].to_vec()));
            d = &d[nl + 1..];
        } else {
            let len = u64::from_le_bytes(d[nl + 1..nl + 9].try_into().unwrap()) as usize;
            entries
                .last_mut()
                .unwrap()
                .push((String::from_utf8_lossy(head).into_owned(), d[nl + 9..nl + 9 + len].to_vec()));
            d = &d[nl + 10 + len..];
        }
    }
    let mut found: Vec<_> = entries
        .into_iter()
        .filter(|e| e.iter().any(|(n, v)| n == "ESCAPES_LINE_HASH" && v == hash.as_bytes()))
        .collect();
    assert_eq!(found.len(), 1, "one journal entry for {hash}");
    found.remove(0)
}

#[test]
fn journald_takes_every_record_as_structured_fields() {
    let f = Fixture::new();
    f.write_config(&config_with("syslog = \"auto\"\nsyslog_required = true"));
    let _journald = Journald::start();
    let local = three_records(&f);
    let export = _journald.export(&hash_of(&local[2]), 1);
    for line in &local {
        let rec: Value = serde_json::from_str(line).unwrap();
        assert!(rec.get("syslog_error").is_none(), "{line}");
        let e = journal_entry(&export, &hash_of(line));
        let get = |name: &str| e.iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        assert_eq!(get("MESSAGE").as_deref(), Some(line.as_str()));
        assert_eq!(get("SYSLOG_IDENTIFIER").as_deref(), Some("escapes"));
        assert_eq!(get("SYSLOG_FACILITY").as_deref(), Some("10"));
        assert_eq!(get("PRIORITY").as_deref(), Some(if rec["event"] == "refused" { "4" } else { "5" }));
        assert_eq!(get("_UID").as_deref(), Some("0"), "sent by root: journald's own field");
        assert_eq!(get("_TRANSPORT").as_deref(), Some("journal"));
        assert_eq!(get("ESCAPES_PREV_HASH").as_deref(), rec["prev_hash"].as_str());
        assert_eq!(get("ESCAPES_EVENT").as_deref(), rec["event"].as_str());
        assert_eq!(get("ESCAPES_USER").as_deref(), Some(USER));
        assert_eq!(get("ESCAPES_COMMAND"), Some(serde_json::to_string(&rec["command"]).unwrap()));
    }
    let export_file = "/tmp/escapes-syslog-test-journal.export".to_string();
    fs::write(&export_file, &export).unwrap();
    fs::set_permissions(&export_file, fs::Permissions::from_mode(0o644)).unwrap();
    let intact = readable_copy("journal-local", &joined(&local));
    let o = f.run(&["--verify-log", &intact, "--anchors", &export_file]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("anchors: 3 of 3 lines confirmed"), "{}", stdout(&o));
    let forged = readable_copy("journal-forged", &rechain(&joined(&local), 2));
    assert_eq!(code(&f.run(&["--verify-log", &forged])), 0);
    let o = f.run(&["--verify-log", &forged, "--anchors", &export_file]);
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("at line 2:"), "{}", stderr(&o));
}
