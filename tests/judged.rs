//! What a helper judges is what runs (issue 12, items 1–3): the installed setuid escapes run by
//! the unprivileged test user, with the real standard helpers (signed, timebox, envauth) as
//! separate processes. A caller who owns a directory races a name in it; spells one program
//! many ways; sets its own TZ, LANG and TERM. None of it changes what a helper judges.

mod support;

use std::fs;
use std::os::unix::fs::{chown, symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use support::*;

fn table(kind: &str, path: &str, extra: &str) -> String {
    format!("\n[[{kind}]]\npath = \"{path}\"\n{extra}\n")
}

fn configure(f: &Fixture, tables: &[String]) {
    f.write_config(&format!("{DEFAULT_CONFIG}{}", tables.concat()));
}

fn run(f: &Fixture, argv: &[&str]) -> Output {
    f.run_grant(&f.token(&f.claims(argv)), argv)
}

/// A directory the test user owns (as a caller's home or /tmp subdirectory would be).
fn caller_dir(f: &Fixture, name: &str) -> String {
    let d = format!("/tmp/escapes-judged-{name}");
    let _ = fs::remove_dir_all(&d);
    fs::create_dir(&d).unwrap();
    chown(&d, Some(f.uid), Some(f.gid)).unwrap();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// A file the test user owns, in `dir`.
fn caller_file(f: &Fixture, dir: &str, name: &str, content: &[u8], mode: u32) -> String {
    let p = format!("{dir}/{name}");
    fs::write(&p, content).unwrap();
    chown(&p, Some(f.uid), Some(f.gid)).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// As the test user, swaps `dir/prog` for ever between a hard link to `dir/evil` and a symbolic
/// link to `good`, each by an atomic rename, as fast as it can.
fn swapper(f: &Fixture, dir: &str, good: &str) -> Child {
    let script = format!(
        "chdir '{dir}' or die; while (1) {{ unlink 't1'; link('evil', 't1') and rename('t1', 'prog'); \
         unlink 't2'; symlink('{good}', 't2') and rename('t2', 'prog'); }}"
    );
    Command::new("perl")
        .args(["-e", &script])
        .uid(f.uid)
        .gid(f.gid)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("perl")
}

/// Outcomes of repeated runs of `argv` while `dir/prog` is being swapped.
#[derive(Debug, Default)]
struct Tally {
    /// The caller's own file ran as root with the helmet's blessing.
    won: usize,
    /// The pinned program ran.
    pinned: usize,
    /// signed refused (the caller's file was there when escapes looked).
    refused: usize,
    other: Vec<String>,
}

fn race(f: &Fixture, argv: &[&str], attempts: usize, pinned_says: &str) -> Tally {
    let token = f.token(&f.claims(argv));
    let mut t = Tally::default();
    for _ in 0..attempts {
        let o = f.run_grant(&token, argv);
        let out = stdout(&o);
        if out.contains("pwned") {
            t.won += 1;
        } else if out.contains(pinned_says) || stderr(&o).contains(pinned_says) {
            t.pinned += 1;
        } else if code(&o) == 77 {
            t.refused += 1;
        } else {
            t.other.push(format!("exit {}: {}{}", code(&o), out, stderr(&o)));
        }
        // Keep the log from growing across hundreds of runs; the lock is ours.
        let _ = fs::write(audit_path(), b"");
    }
    eprintln!("{attempts} attempts: {t:?}");
    t
}

#[test]
fn a_caller_swapping_a_name_cannot_run_their_binary_under_a_signed_helmet() {
    let f = Fixture::new();
    let signed = standard_helper("signed");
    // The pinned program: root's /usr/bin/id. The caller's: their own copy of echo.
    let pinned = "/usr/bin/id";
    configure(&f, &[table("helmet", &signed, &format!("params = [\"SIGNED_SHA256={}\"]", sha256_file(pinned)))]);
    let dir = caller_dir(&f, "race");
    caller_file(&f, &dir, "evil", &fs::read("/usr/bin/echo").unwrap(), 0o755);
    let prog = format!("{dir}/prog");
    symlink(pinned, &prog).unwrap();
    chown_link(&prog, &f);
    let mut swap = swapper(&f, &dir, pinned);
    // `id pwned` fails with "no such user"; the caller's echo prints "pwned".
    let t = race(&f, &[&prog, "pwned"], 300, "no such user");
    let _ = swap.kill();
    let _ = swap.wait();
    assert_eq!(t.won, 0, "the caller's binary ran as root under the helmet: {t:?}");
    assert!(t.other.is_empty(), "{t:?}");
    // Both sides of the race were really met, so the test could have failed.
    assert!(t.pinned > 0 && t.refused > 0, "the swap never raced the check: {t:?}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_script_swapped_after_the_check_never_runs() {
    let f = Fixture::new();
    let signed = standard_helper("signed");
    // The pinned script lives in root-only directories; the caller swaps a name of theirs
    // between a link to it and a script of their own.
    let good_dir = format!("{ROOT}/pinned");
    let _ = fs::remove_dir_all(&good_dir);
    fs::create_dir(&good_dir).unwrap();
    fs::set_permissions(&good_dir, fs::Permissions::from_mode(0o755)).unwrap();
    let good = format!("{good_dir}/report.sh");
    write_root_file(&good, "#!/bin/sh\necho pinned-script-ran\n", 0o755);
    configure(&f, &[table("helmet", &signed, &format!("params = [\"SIGNED_SHA256={}\"]", sha256_file(&good)))]);
    let dir = caller_dir(&f, "script-race");
    caller_file(&f, &dir, "evil", b"#!/bin/sh\necho pwned\n", 0o755);
    let prog = format!("{dir}/prog");
    symlink(&good, &prog).unwrap();
    chown_link(&prog, &f);
    let mut swap = swapper(&f, &dir, &good);
    let t = race(&f, &[&prog], 300, "pinned-script-ran");
    let _ = swap.kill();
    let _ = swap.wait();
    assert_eq!(t.won, 0, "the caller's script ran as root under the helmet: {t:?}");
    assert!(t.other.is_empty(), "{t:?}");
    assert!(t.pinned > 0 && t.refused > 0, "the swap never raced the check: {t:?}");
    let _ = fs::remove_dir_all(&dir);
}

/// The link itself belongs to the caller, as one they made would.
fn chown_link(path: &str, f: &Fixture) {
    std::os::unix::fs::lchown(path, Some(f.uid), Some(f.gid)).unwrap();
}

#[test]
fn a_script_in_a_directory_the_caller_owns_is_run_from_the_file_that_was_opened() {
    let f = Fixture::new();
    let dir = caller_dir(&f, "script");
    let script = caller_file(&f, &dir, "show.sh", b"#!/bin/sh\necho \"ran $0\"\n", 0o755);
    let o = run(&f, &[&script]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    // Not re-resolved by name: the interpreter was handed the descriptor escapes opened.
    assert!(stdout(&o).starts_with("ran /dev/fd/"), "{}", stdout(&o));
    // In root-only directories the name cannot be swapped: the script keeps its own name.
    let root_script = format!("{ROOT}/libexec-show.sh");
    write_root_file(&root_script, "#!/bin/sh\necho \"ran $0\"\n", 0o755);
    let o = run(&f, &[&root_script]);
    assert_eq!((code(&o), stdout(&o)), (0, format!("ran {root_script}\n")), "stderr: {}", stderr(&o));
    let _ = fs::remove_file(&root_script);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn program_paths_with_empty_dot_or_dotdot_components_are_refused() {
    let f = Fixture::new();
    for spelled in ["//usr/bin/id", "/usr/bin/./id", "/usr//bin/id", "/usr/sbin/../bin/id", "/usr/bin/id/"] {
        f.reset();
        let o = run(&f, &[spelled]);
        let line = assert_refused(&f, &o, 127, "exec");
        assert!(stderr(&o).contains("component is refused"), "{spelled}: {}", stderr(&o));
        assert!(line["message"].as_str().unwrap_or("").contains(spelled), "{line}");
    }
}

#[test]
fn a_program_scoped_helmet_applies_to_every_name_of_the_program() {
    let f = Fixture::new();
    let deny = format!("{ROOT}/deny-helmet");
    write_root_file(&deny, "#!/bin/sh\necho 77\n", 0o755);
    // Scoped by one name; asked for by another (merged /usr: /bin is a link to usr/bin).
    configure(&f, &[table("helmet", &deny, "programs = [\"/usr/bin/id\"]")]);
    let o = run(&f, &["/bin/id"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (77, ""), "stderr: {}", stderr(&o));
    f.reset();
    configure(&f, &[table("helmet", &deny, "programs = [\"/bin/id\"]")]);
    for argv0 in ["/usr/bin/id", "id"] {
        let o = run(&f, &[argv0]);
        assert_eq!((code(&o), stdout(&o).as_str()), (77, ""), "{argv0}: stderr: {}", stderr(&o));
    }
    let _ = fs::remove_file(&deny);
}

#[test]
fn the_audit_record_names_the_canonical_program() {
    let f = Fixture::new();
    let o = run(&f, &["/bin/true"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let run_rec = &f.audit()[0];
    assert_eq!(run_rec["program"], "/bin/true", "{run_rec}");
    assert_eq!(run_rec["program_canonical"], "/usr/bin/true", "{run_rec}");
}

#[test]
fn a_helmet_is_told_the_canonical_program() {
    let f = Fixture::new();
    let seen = format!("{ROOT}/seen-program");
    let h = format!("{ROOT}/args-helmet");
    write_root_file(&h, &format!("#!/bin/sh\nshift $(($# - 3))\necho \"$1\" > {seen}\necho 0\n"), 0o755);
    configure(&f, &[table("helmet", &h, "")]);
    let o = run(&f, &["/bin/true"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert_eq!(fs::read_to_string(&seen).unwrap_or_default(), "/usr/bin/true\n");
    let _ = fs::remove_file(&seen);
    let _ = fs::remove_file(&h);
}

/// HHMM of the system clock (UTC on the test machines: /etc/localtime) `offset` hours from now.
fn hour_from_now(offset: i64) -> String {
    let h = (now() / 3600 + offset).rem_euclid(24);
    format!("{h:02}")
}

#[test]
fn a_caller_tz_cannot_move_timebox_into_its_window() {
    let f = Fixture::new();
    let timebox = standard_helper("timebox");
    // The README's own example shape: a window, no TZ param. It is 9 hours away in the system's
    // zone, so only a caller who could shift timebox's clock by 9 hours gets in.
    let h = hour_from_now(9);
    configure(&f, &[table("helmet", &timebox, &format!("params = [\"TIMEBOX_INSIDE={h}00<=%H%M<={h}59\"]"))]);
    for tz in ["XXX-9", "Asia/Tokyo", ":Asia/Tokyo"] {
        f.reset();
        configure(&f, &[table("helmet", &timebox, &format!("params = [\"TIMEBOX_INSIDE={h}00<=%H%M<={h}59\"]"))]);
        let argv = ["/usr/bin/true"];
        let o =
            f.command(&["--grant", &f.token(&f.claims(&argv)), "--", "/usr/bin/true"]).env("TZ", tz).output().unwrap();
        assert_eq!(code(&o), 77, "TZ={tz} moved timebox into its window: stderr {}", stderr(&o));
        let rec = f.last_audit();
        let zones = rec["helpers_tz"].as_array().cloned().unwrap_or_default();
        assert_eq!(zones.len(), 1, "{rec}");
        let zone = zones[0].as_str().unwrap_or("");
        assert!(
            zone.starts_with(&format!("helmet {timebox}: /etc/localtime")) || zone.contains("no /etc/localtime"),
            "{rec}"
        );
    }
    // A TZ param (the rule's, not the caller's) is what moves the clock, and it is recorded.
    f.reset();
    configure(
        &f,
        &[table("helmet", &timebox, &format!("params = [\"TZ=XXX-9\", \"TIMEBOX_INSIDE={h}00<=%H%M<={h}59\"]"))],
    );
    let o = run(&f, &["/usr/bin/true"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert_eq!(f.audit()[0]["helpers_tz"][0], format!("helmet {timebox}: TZ=XXX-9"));
}

#[test]
fn helpers_see_none_of_the_callers_locale_term_or_zone_as_their_own() {
    let f = Fixture::new();
    let seen = format!("{ROOT}/seen-env");
    let h = format!("{ROOT}/env-helmet");
    write_root_file(&h, &format!("#!/bin/sh\nenv | sort > {seen}\necho 0\n"), 0o755);
    configure(&f, &[table("helmet", &h, "")]);
    let argv = ["/usr/bin/true"];
    let o = f
        .command(&["--grant", &f.token(&f.claims(&argv)), "--", "/usr/bin/true"])
        .env("TZ", "Asia/Tokyo")
        .env("LANG", "de_DE.UTF-8")
        .env("LC_ALL", "de_DE.UTF-8")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let env = fs::read_to_string(&seen).unwrap_or_default();
    for own in ["TZ=", "LANG=", "LC_ALL=", "TERM="] {
        assert!(!env.lines().any(|l| l.starts_with(own)), "{own} reached the helper: {env}");
    }
    // The command's proposed environment is there, under its own documented names.
    for passed in
        ["ESCAPES_ENV=1", "ESCAPES_ENV_TZ=Asia/Tokyo", "ESCAPES_ENV_TERM=xterm", "ESCAPES_ENV_LANG=de_DE.UTF-8"]
    {
        assert!(env.lines().any(|l| l == passed), "{passed} missing: {env}");
    }
    assert!(env.lines().any(|l| l == format!("ESCAPES_CALLER_UID={}", f.uid)), "{env}");
    assert!(env.lines().any(|l| l == format!("ESCAPES_CALLER_GID={}", f.gid)), "{env}");
    let _ = fs::remove_file(&seen);
    let _ = fs::remove_file(&h);
}

#[test]
fn envauth_judges_the_commands_environment() {
    let f = Fixture::new();
    let envauth = standard_helper("envauth");
    configure(&f, &[table("helmet", &envauth, "params = [\"ENVAUTH_VAR_TERM=^xterm\"]")]);
    let argv = ["/usr/bin/true"];
    for (term, want) in [("xterm-256color", 0), ("vt100", 77)] {
        f.reset();
        configure(&f, &[table("helmet", &envauth, "params = [\"ENVAUTH_VAR_TERM=^xterm\"]")]);
        let o = f
            .command(&["--grant", &f.token(&f.claims(&argv)), "--", "/usr/bin/true"])
            .env("TERM", term)
            .output()
            .unwrap();
        assert_eq!(code(&o), want, "TERM={term}: stderr {}", stderr(&o));
    }
    assert!(Path::new(&envauth).exists());
}
