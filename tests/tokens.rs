//! Tokens out of `ps` (issue 15): a `--grant` token is blanked in escapes' own argv before
//! anything else happens, so another local user reading /proc/PID/cmdline of a running
//! escapes finds no token; and `ESCAPES_GRANT` is a fourth, exclusive source that never
//! reaches the command. The installed setuid binary runs as the test user; the reader is
//! another unprivileged user.

mod support;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn other_uid() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").arg(flag).arg(OTHER_USER).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
    };
    (id("-u"), id("-g"))
}

/// /proc/PID/cmdline as the other user sees it (empty once the process is gone).
fn cmdline_as_other(pid: u32) -> Vec<u8> {
    let (uid, gid) = other_uid();
    Command::new("cat")
        .arg(format!("/proc/{pid}/cmdline"))
        .uid(uid)
        .gid(gid)
        .stderr(Stdio::null())
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn another_user_reading_cmdline_of_a_running_escapes_finds_no_token() {
    let f = Fixture::new();
    let marker = format!("{ROOT}/tokens-started");
    let _ = fs::remove_file(&marker);
    let script = format!(": > {marker}; exec sleep 2");
    let argv = ["sh", "-c", script.as_str()];
    let token = f.token(&f.claims(&argv));
    let mut child =
        f.command(&["--grant", &token, "--", argv[0], argv[1], argv[2]]).stdout(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while !Path::new(&marker).exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let seen = cmdline_as_other(child.id());
    assert!(!seen.is_empty(), "the other user could not read cmdline at all, so the test proves nothing");
    assert!(contains(&seen, b"--grant"), "{}", String::from_utf8_lossy(&seen));
    assert!(!contains(&seen, token.as_bytes()), "the token shows in cmdline: {}", String::from_utf8_lossy(&seen));
    // Not even a third of it: the whole value is blanked.
    assert!(!contains(&seen, token.get(token.len() / 3..token.len() / 3 + 24).unwrap().as_bytes()));
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let _ = fs::remove_file(&marker);
}

#[test]
fn an_inline_grant_value_is_blanked_too() {
    let f = Fixture::new();
    let argv = ["sleep", "1"];
    let token = f.token(&f.claims(&argv));
    let mut child = f.command(&[&format!("--grant={token}"), "--", "sleep", "1"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let seen = cmdline_as_other(child.id());
    assert!(contains(&seen, b"--grant=x"), "{}", String::from_utf8_lossy(&seen));
    assert!(!contains(&seen, &token.as_bytes()[..24]), "{}", String::from_utf8_lossy(&seen));
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn escapes_grant_is_a_source_that_never_reaches_the_command() {
    let f = Fixture::new();
    let argv = ["/usr/bin/env"];
    let token = f.token(&f.claims(&argv));
    let o = f.command(&["--", "/usr/bin/env"]).env("ESCAPES_GRANT", &token).output().unwrap();
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert!(!stdout(&o).contains("ESCAPES_GRANT") && !stdout(&o).contains(&token[..24]), "{}", stdout(&o));
    assert_eq!(f.audit()[0]["event"], "run");
    // Exclusive like the other three sources.
    f.reset();
    let o = f.command(&["--grant", &token, "--", "/usr/bin/env"]).env("ESCAPES_GRANT", &token).output().unwrap();
    let rec = assert_refused(&f, &o, 1, "usage");
    assert!(rec["message"].as_str().unwrap_or("").contains("ESCAPES_GRANT"), "{rec}");
}

/// How long a token stays readable: a reader as another user polls cmdline from the moment
/// escapes is spawned. Printed, not asserted: the window is the few microseconds between
/// execve and main, which no reader can be prevented from hitting.
#[test]
fn measures_the_window_in_which_a_token_on_argv_is_readable() {
    let f = Fixture::new();
    let argv = ["true"];
    let token = f.token(&f.claims(&argv));
    let (uid, gid) = other_uid();
    let mut hits = 0;
    let runs = 200;
    for _ in 0..runs {
        let child = f.command(&["--grant", &token, "--", "true"]).stdout(Stdio::null()).spawn().unwrap();
        let pid = child.id();
        // One read as the other user, as early as a separate process can manage.
        let seen = Command::new("cat")
            .arg(format!("/proc/{pid}/cmdline"))
            .uid(uid)
            .gid(gid)
            .stderr(Stdio::null())
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default();
        hits += usize::from(contains(&seen, token.as_bytes()));
        let _ = child.wait_with_output();
        let _ = fs::write(audit_path(), b"");
    }
    eprintln!("a reader spawned right after escapes saw the token in {hits} of {runs} runs");
}
