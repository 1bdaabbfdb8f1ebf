//! The helpers as real processes, invoked as op and escapes invoke them: op-style argv, the
//! proposed environment, stdin /dev/null, the reply read from stdout, the warning from stderr.

mod support;

use escapes_helpers::signed::{hex, sha256_of};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::bin;

fn op_args(program: &str) -> Vec<String> {
    ["-C", "/usr/local/lib/op/access.cf", "--", "backup", program, "0:0", "users:ksb"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn run_with(name: &str, args: &[String], env: &[(&str, &str)]) -> Output {
    Command::new(bin(name)).args(args).env_clear().envs(env.iter().copied()).stdin(Stdio::null()).output().unwrap()
}

fn run(name: &str, env: &[(&str, &str)]) -> Output {
    run_with(name, &op_args("/usr/local/libexec/doBackups"), env)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A fresh scratch directory (mode 0755) for files a helper must trust.
fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "helpers-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    fs::create_dir_all(&d).unwrap();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn write(dir: &Path, name: &str, content: &str, mode: u32) -> String {
    let p = dir.join(name);
    fs::write(&p, content).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    p.to_str().unwrap().to_string()
}

// ---------------------------------------------------------------- one program, many names

#[test]
fn one_program_answers_to_every_helper_name() {
    let program = Path::new(bin("timebox")).with_file_name("escapes-helper");
    use std::os::unix::fs::MetadataExt;
    let ino = fs::metadata(&program).unwrap().ino();
    for name in support::HELPERS {
        assert_eq!(fs::metadata(bin(name)).unwrap().ino(), ino, "{name} is a hard link of the program");
        let v = Command::new(bin(name)).arg("-V").env_clear().stdin(Stdio::null()).output().unwrap();
        assert_eq!(code(&v), 0, "{name}: {}", err(&v));
        assert!(out(&v).starts_with(&format!("{name}: ")), "{name}: {}", out(&v));
    }
}

#[test]
fn any_other_name_gets_the_list_and_64() {
    let d = scratch();
    let program = Path::new(bin("timebox")).with_file_name("escapes-helper");
    for name in ["escapes-helper", "sudo", "timebox.old", ""] {
        let link = if name == "escapes-helper" { program.clone() } else { d.join(format!("x{name}")) };
        if link != program {
            fs::hard_link(&program, &link).unwrap();
        }
        let o = Command::new(&link).arg("-V").env_clear().stdin(Stdio::null()).output().unwrap();
        assert_eq!(code(&o), 64, "{name}");
        assert_eq!(out(&o), "", "{name}");
        for h in support::HELPERS {
            assert!(err(&o).contains(h), "{name}: {}", err(&o));
        }
    }
    // The basename decides, whatever the directory.
    use std::os::unix::process::CommandExt;
    let o = Command::new(&program).arg0("/some/where/envauth").arg("-V").output().unwrap();
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).starts_with("envauth: "), "{}", out(&o));
    fs::remove_dir_all(&d).unwrap();
}

// ---------------------------------------------------------------- common conventions

#[test]
fn every_helper_answers_h_capital_h_and_v() {
    for name in ["timebox", "envauth", "manifest", "signed", "coat"] {
        let v = run_with(name, &["-V".into()], &[]);
        assert_eq!(code(&v), 0);
        let lines: Vec<_> = out(&v).lines().map(str::to_string).collect();
        assert_eq!(lines.len(), 2, "{name}: {lines:?}");
        assert!(lines[0].starts_with(&format!("{name}: escapes-helpers ")));
        assert!(lines[1].starts_with(&format!("{name}: ")) && lines[1].contains("_WARN"), "{name}");
        let h = run_with(name, &["-h".into()], &[]);
        assert_eq!(code(&h), 0);
        assert!(out(&h).starts_with(&format!("usage: {name} [-P pid]")));
        let g = run_with(name, &["-H".into()], &[]);
        assert_eq!(code(&g), 0);
        assert!(out(&g).lines().all(|l| l.contains('=')), "{name}");
    }
    assert!(out(&run_with("timebox", &["-V".into()], &[]))
        .contains("TIMEBOX_INSIDE, TIMEBOX_FORBID, TIMEBOX_WARN, TIMEBOX_REVEAL"));
}

#[test]
fn bad_argv_is_refused_with_jacket_pl_codes_on_stdout_and_exit() {
    let env = [("TIMEBOX_INSIDE", "0000<=%H%M")];
    let cases: &[(&[&str], i32)] = &[
        (&["-C", "c", "--", "m", "/p", "0:0"], 64),
        (&["-P", "x", "--", "m", "/p", "0:0", "users:a"], 64),
        (&["--", "m", "/p", "root", "users:a"], 65),
        (&["--", "m", "/p", "0:0", "wheel:a"], 76),
    ];
    for (args, want) in cases {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let o = run_with("timebox", &args, &env);
        assert_eq!(code(&o), *want, "{args:?}");
        assert_eq!(out(&o), format!("{want}\n"));
        assert!(err(&o).starts_with("timebox: "), "{}", err(&o));
    }
}

#[test]
fn unknown_options_are_ignored_and_attached_values_accepted() {
    let args: Vec<String> = ["-x", "-Ccfg", "-u", "bob", "-j", "7", "--", "m", "/p", "0:0", "netgroup:ops"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let o = run_with("timebox", &args, &[("TIMEBOX_INSIDE", "0000<=%H%M"), ("TZ", "UTC")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
}

// ---------------------------------------------------------------- timebox

#[test]
fn timebox_allows_inside_and_removes_only_its_own_parameters() {
    let o = run(
        "timebox",
        &[("TZ", "America/Denver"), ("TIMEBOX_INSIDE", "0000<=%H%M<=2359"), ("TIMEBOX_WARN", "w"), ("PATH", "/bin")],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-TIMEBOX_INSIDE\n-TIMEBOX_WARN\n0\n");
    assert_eq!(err(&o), "");
}

#[test]
fn timebox_denies_outside_with_77_and_its_warning() {
    let o = run(
        "timebox",
        &[("TZ", "America/Denver"), ("TIMEBOX_INSIDE", "%Y<1970"), ("TIMEBOX_WARN", "Backups run 01:00-05:00 only")],
    );
    assert_eq!(code(&o), 77);
    assert_eq!(out(&o), "77\n");
    assert_eq!(err(&o), "Backups run 01:00-05:00 only\n");
    let o = run("timebox", &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "%Y<1970")]);
    assert_eq!(err(&o), "Access denied.\n");
}

fn today_name() -> Option<&'static str> {
    let now = || {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        escapes_helpers::timebox::Zone::utc().local_time(t).unwrap().weekday
    };
    let (a, b) = (now(), now());
    (a == b).then(|| ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][a as usize])
}

#[test]
fn timebox_forbid_refuses_the_named_day_only() {
    let Some(today) = today_name() else { return };
    let spec = format!("%u!={today}");
    let o = run("timebox", &[("TZ", "UTC"), ("TIMEBOX_FORBID", &spec), ("TIMEBOX_WARN", "No su today")]);
    if today_name() != Some(today) {
        return; // midnight passed while running
    }
    assert_eq!(code(&o), 77);
    assert_eq!(err(&o), "No su today\n");
    let other = if today == "Thu" { "Fri" } else { "Thu" };
    let spec = format!("%u!={other}");
    let o = run("timebox", &[("TZ", "UTC"), ("TIMEBOX_FORBID", &spec)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-TIMEBOX_FORBID\n0\n");
}

#[test]
fn timebox_reveal_follows_the_deletions() {
    let o = run("timebox", &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H"), ("TIMEBOX_REVEAL", "J_")]);
    assert_eq!(out(&o), "-TIMEBOX_INSIDE\n-TIMEBOX_REVEAL\n~J_\n0\n");
}

#[test]
fn timebox_refuses_misconfiguration_with_78() {
    let cases: &[&[(&str, &str)]] = &[
        &[("TZ", "UTC")],
        &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "%H")],
        &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "%Q<1")],
        &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H"), ("TIMEBOX_WARNING", "x")],
        &[("TZ", "Europe/Nowhere"), ("TIMEBOX_INSIDE", "0<=%H")],
        &[("TZ", "../../etc/passwd"), ("TIMEBOX_INSIDE", "0<=%H")],
        &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H"), ("TIMEBOX_REVEAL", "a b")],
    ];
    for env in cases {
        let o = run("timebox", env);
        assert_eq!(code(&o), 78, "{env:?}");
        assert_eq!(out(&o), "78\n");
        assert!(err(&o).starts_with("timebox: "), "{}", err(&o));
    }
}

#[test]
fn timebox_reads_the_clock_in_tz() {
    let o1 = run("timebox", &[("TZ", "Etc/GMT-14"), ("TIMEBOX_INSIDE", "%Z==+14")]);
    let o2 = run("timebox", &[("TZ", "Etc/GMT+12"), ("TIMEBOX_INSIDE", "%z==-1200")]);
    assert_eq!((code(&o1), code(&o2)), (0, 0), "{} {}", err(&o1), err(&o2));
    let o = run("timebox", &[("TZ", "<+0545>-5:45"), ("TIMEBOX_INSIDE", "%z==+0545")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
}

// ---------------------------------------------------------------- jacket mode

/// Runs `helper` the way op runs a jacket: exec'd in the process that forked the command, with
/// the command's pid as -P. The "command" here exits with `status` (or kills itself).
fn as_jacket(helper: &str, command: &str, env: &[(&str, &str)]) -> Output {
    let script =
        format!("( {command} ) >/dev/null 2>&1 </dev/null & exec \"$0\" -P $! -C c -- m /bin/true 0:0 users:ksb");
    Command::new("/bin/sh")
        .args(["-c", &script, bin(helper)])
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn jacket_mode_exits_with_the_command_status() {
    let env = [("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H")];
    let o = as_jacket("timebox", "sleep 0.2; exit 3", &env);
    assert_eq!(out(&o), "-TIMEBOX_INSIDE\n0\n");
    assert_eq!(code(&o), 3);
    let o = as_jacket("timebox", "exec /bin/sh -c 'kill -9 $$'", &env);
    assert_eq!(code(&o), 128 + 9);
}

#[test]
fn jacket_mode_denial_exits_with_the_denial() {
    let o = as_jacket("timebox", "exit 0", &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "%Y<1970")]);
    assert_eq!(out(&o), "77\n");
    assert_eq!(code(&o), 77);
}

// ---------------------------------------------------------------- envauth

#[test]
fn envauth_allows_when_every_check_passes() {
    let o =
        run("envauth", &[("ENVAUTH_VAR_TICKET", "^OPS-[0-9]+$"), ("ENVAUTH_NOT_LD_PRELOAD", ""), ("TICKET", "OPS-42")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-ENVAUTH_NOT_LD_PRELOAD\n-ENVAUTH_VAR_TICKET\n0\n");
}

#[test]
fn envauth_denies_a_mismatch_or_a_forbidden_value() {
    let o = run(
        "envauth",
        &[("ENVAUTH_VAR_TICKET", "^OPS-[0-9]+$"), ("TICKET", "OPS-x"), ("ENVAUTH_WARN", "Need a ticket")],
    );
    assert_eq!((code(&o), out(&o), err(&o)), (77, "77\n".into(), "Need a ticket\n".into()));
    let o = run("envauth", &[("ENVAUTH_NOT_LD_PRELOAD", ""), ("LD_PRELOAD", "/tmp/x.so")]);
    assert_eq!(code(&o), 77);
    let o = run("envauth", &[("ENVAUTH_VAR_TICKET", "")]);
    assert_eq!(code(&o), 77, "unset fails _VAR_");
}

#[test]
fn envauth_survives_a_hostile_value_quickly() {
    let value = "a".repeat(100_000);
    let t = Instant::now();
    let o = run("envauth", &[("ENVAUTH_VAR_X", "(a*)*b"), ("X", &value)]);
    assert_eq!(code(&o), 77);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[test]
fn envauth_refuses_bad_patterns_and_names() {
    for env in [
        &[("ENVAUTH_VAR_X", "(")][..],
        &[("ENVAUTH_VAR_X", "\\d+")],
        &[("ENVAUTH_WARN", "w")],
        &[("ENVAUTH_VAR_", "x")],
        &[("ENVAUTH_VAR_X", "x"), ("ENVAUTH_MUST_Y", "x")],
    ] {
        let o = run("envauth", env);
        assert_eq!(code(&o), 78, "{env:?}");
        assert!(err(&o).starts_with("envauth: "));
    }
}

// ---------------------------------------------------------------- manifest

/// Root-owned programs under `dir` at the given relative paths (manifest judges names, but only
/// names that reach a file through directories nobody else can change).
fn programs(dir: &Path, names: &[&str]) {
    for n in names {
        let p = dir.join(n);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        for a in p.parent().unwrap().ancestors().take_while(|a| a.starts_with(dir)) {
            fs::set_permissions(a, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::write(&p, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn manifest_list(dir: &Path) -> String {
    programs(dir, &["bin/ls", "bin/cat", "bin/true", "bin/sh", "usr/sbin/reboot"]);
    let d = dir.display();
    write(
        dir,
        "list",
        &format!("# allowed\n^{d}/bin/ls$\n^{d}/bin/cat$\n^{d}/bin/true$\n69=^{d}/usr/sbin/\n77=.*\n"),
        0o644,
    )
}

fn at(dir: &Path, rel: &str) -> String {
    dir.join(rel).display().to_string()
}

#[test]
fn manifest_allows_listed_programs() {
    let d = scratch();
    let list = manifest_list(&d);
    let o = run_with("manifest", &op_args(&at(&d, "bin/cat")), &[("MANIFEST_LIST", &list), ("MANIFEST_WARN", "w")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-MANIFEST_LIST\n-MANIFEST_WARN\n0\n");
}

#[test]
fn manifest_forces_the_code_of_the_first_matching_line() {
    let d = scratch();
    let list = manifest_list(&d);
    let o = run_with(
        "manifest",
        &op_args(&at(&d, "usr/sbin/reboot")),
        &[("MANIFEST_LIST", &list), ("MANIFEST_WARN", "Not on the list")],
    );
    assert_eq!((code(&o), out(&o), err(&o)), (69, "69\n".into(), "Not on the list\n".into()));
    let o = run_with("manifest", &op_args(&at(&d, "bin/sh")), &[("MANIFEST_LIST", &list)]);
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()));
}

#[test]
fn manifest_uses_the_denying_list_s_warning() {
    let d = scratch();
    programs(&d, &["bin/ls", "bin/cat", "opt/x", "srv/x"]);
    let dd = d.display();
    let a = write(&d, "a", &format!("^{dd}/bin/ls$\n"), 0o644);
    let b = write(&d, "b", &format!("^{dd}/bin/cat$\n"), 0o600);
    let c = write(&d, "c", &format!("66=^{dd}/opt/\n"), 0o644);
    let env = [
        ("MANIFEST_LIST", a.as_str()),
        ("MANIFEST_LIST_2", b.as_str()),
        ("MANIFEST_LIST_3", c.as_str()),
        ("MANIFEST_WARN_3", "No /opt"),
        ("MANIFEST_WARN", "Not listed"),
    ];
    assert_eq!(code(&run_with("manifest", &op_args(&at(&d, "bin/cat")), &env)), 0);
    let o = run_with("manifest", &op_args(&at(&d, "opt/x")), &env);
    assert_eq!((code(&o), err(&o)), (66, "No /opt\n".into()));
    let o = run_with("manifest", &op_args(&at(&d, "srv/x")), &env);
    assert_eq!((code(&o), err(&o)), (77, "Not listed\n".into()));
}

#[test]
fn manifest_refuses_untrusted_missing_or_bad_lists() {
    let d = scratch();
    let cat = at(&d, "bin/cat");
    programs(&d, &["bin/cat"]);
    let writable = write(&d, "w", "^/bin/cat$\n", 0o664);
    let o = run_with("manifest", &op_args(&cat), &[("MANIFEST_LIST", &writable)]);
    assert_eq!(code(&o), 78);
    assert!(err(&o).contains("is group-writable"), "{}", err(&o));
    let missing = d.join("missing");
    let o = run_with("manifest", &op_args(&cat), &[("MANIFEST_LIST", missing.to_str().unwrap())]);
    assert_eq!(code(&o), 66);
    let bad = write(&d, "bad", "^/bin/(cat$\n", 0o644);
    let o = run_with("manifest", &op_args(&cat), &[("MANIFEST_LIST", &bad)]);
    assert_eq!(code(&o), 78);
    assert!(err(&o).contains("line 1"), "{}", err(&o));
    let good = manifest_list(&d);
    let o = run_with("manifest", &op_args(&cat), &[("MANIFEST_LIST", &good), ("MANIFEST_WARN_9", "x")]);
    assert_eq!(code(&o), 78);
    assert_eq!(code(&run_with("manifest", &op_args(&cat), &[])), 78);
    assert_eq!(code(&run_with("manifest", &op_args(&cat), &[("MANIFEST_LIST", "relative")])), 78);
}

#[test]
fn manifest_judges_only_names_that_cannot_be_swapped_or_spelled_around() {
    let d = scratch();
    let list = manifest_list(&d);
    programs(&d, &["sbin/nologin"]);
    let dd = d.display();
    // `..` would let `^<d>/bin/` allow <d>/sbin/nologin.
    let prefix = write(&d, "prefix", &format!("^{dd}/bin/\n77=.*\n"), 0o644);
    let dotted = format!("{dd}/bin/../sbin/nologin");
    let o = run_with("manifest", &op_args(&dotted), &[("MANIFEST_LIST", &prefix)]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    for spelled in
        [format!("{dd}//bin/cat"), format!("{dd}/bin/./cat"), format!("{dd}/bin/cat/"), "bin/cat".to_string()]
    {
        let o = run_with("manifest", &op_args(&spelled), &[("MANIFEST_LIST", &list)]);
        assert_eq!(code(&o), 77, "{spelled}: {}", err(&o));
    }
    // A symbolic link on the path: the name the list matches is not the file that would run.
    std::os::unix::fs::symlink(d.join("bin"), d.join("linked")).unwrap();
    let via_link = format!("{dd}/linked/cat");
    let list2 = write(&d, "list2", &format!("^{dd}/linked/cat$\n"), 0o644);
    let o = run_with("manifest", &op_args(&via_link), &[("MANIFEST_LIST", &list2)]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(err(&o).contains("symbolic link"), "{}", err(&o));
    // A directory others can write: they could replace the named file at any time.
    fs::create_dir(d.join("drop")).unwrap();
    programs(&d, &["drop/tool"]);
    fs::set_permissions(d.join("drop"), fs::Permissions::from_mode(0o777)).unwrap();
    let list3 = write(&d, "list3", &format!("^{dd}/drop/tool$\n"), 0o644);
    let o = run_with("manifest", &op_args(&at(&d, "drop/tool")), &[("MANIFEST_LIST", &list3)]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(err(&o).contains("world-writable"), "{}", err(&o));
}

// ---------------------------------------------------------------- signed

#[test]
fn signed_allows_the_listed_digest_and_refuses_others() {
    let d = scratch();
    let prog = write(&d, "prog", "#!/bin/sh\necho hi\n", 0o755);
    let digest = hex(&sha256_of(fs::File::open(&prog).unwrap()).unwrap());
    let other = "0".repeat(64);
    let list = format!("{other},{}", digest.to_uppercase());
    let o = run_with("signed", &op_args(&prog), &[("SIGNED_SHA256", &list), ("SIGNED_WARN", "w")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-SIGNED_SHA256\n-SIGNED_WARN\n0\n");
    let o = run_with("signed", &op_args(&prog), &[("SIGNED_SHA256", &other), ("SIGNED_WARN", "Binary changed")]);
    assert_eq!(code(&o), 77);
    assert!(err(&o).contains(&format!("sha256 {digest} is not listed")), "{}", err(&o));
    assert!(err(&o).ends_with("Binary changed\n"));
}

#[test]
fn signed_refuses_a_program_others_could_rewrite() {
    let d = scratch();
    let prog = write(&d, "prog", "x", 0o775);
    let digest = hex(&sha256_of(fs::File::open(&prog).unwrap()).unwrap());
    let o = run_with("signed", &op_args(&prog), &[("SIGNED_SHA256", &digest)]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(err(&o).contains("is group-writable"), "{}", err(&o));
}

#[test]
fn signed_hashes_only_a_file_reached_without_a_link_through_root_only_directories() {
    let d = scratch();
    let prog = write(&d, "prog", "#!/bin/sh\necho hi\n", 0o755);
    let digest = hex(&sha256_of(fs::File::open(&prog).unwrap()).unwrap());
    // A link to the pinned program: the name could be pointed elsewhere between check and exec.
    std::os::unix::fs::symlink(&prog, d.join("link")).unwrap();
    let o = run_with("signed", &op_args(&at(&d, "link")), &[("SIGNED_SHA256", &digest)]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(err(&o).contains("symbolic link"), "{}", err(&o));
    // The same bytes in a directory others can write: refused, whatever the digest.
    fs::create_dir(d.join("drop")).unwrap();
    fs::copy(&prog, d.join("drop/prog")).unwrap();
    fs::set_permissions(d.join("drop"), fs::Permissions::from_mode(0o1777)).unwrap();
    let o = run_with("signed", &op_args(&at(&d, "drop/prog")), &[("SIGNED_SHA256", &digest)]);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(err(&o).contains("world-writable"), "{}", err(&o));
    let o = run_with("signed", &op_args(&format!("{}/./prog", d.display())), &[("SIGNED_SHA256", &digest)]);
    assert_eq!(code(&o), 77, "{}", err(&o));
}

#[test]
fn signed_refuses_missing_programs_and_bad_parameters() {
    let d = scratch();
    let missing = d.join("nope");
    let o = run_with("signed", &op_args(missing.to_str().unwrap()), &[("SIGNED_SHA256", &"a".repeat(64))]);
    assert_eq!(code(&o), 66);
    let prog = write(&d, "p", "x", 0o755);
    for env in [
        &[("SIGNED_SHA256", "abc")][..],
        &[("SIGNED_CMD_md5", "d41d8cd98f00b204e9800998ecf8427e")],
        &[("SIGNED_WARN", "x")],
    ] {
        let o = run_with("signed", &op_args(&prog), env);
        assert_eq!(code(&o), 78, "{env:?}");
    }
    let o = run_with("signed", &op_args("relative/prog"), &[("SIGNED_SHA256", &"a".repeat(64))]);
    assert_eq!(code(&o), 77);
}

// ---------------------------------------------------------------- coat

#[test]
fn coat_runs_each_helper_relays_their_edits_and_removes_its_own() {
    let d = scratch();
    let setter = write(
        &d,
        "setter",
        "#!/bin/sh\necho '# from setter'\necho \"\\$STAMP=ok\"\necho \"\\$SAW_COAT=${COAT-unset}\"\necho 0\n",
        0o755,
    );
    let list = format!("{}:{setter},{}", bin("timebox"), bin("envauth"));
    let o = run(
        "coat",
        &[
            ("COAT", &list),
            ("TZ", "UTC"),
            ("TIMEBOX_INSIDE", "0<=%H"),
            ("ENVAUTH_VAR_STAMP", "^ok$"),
            ("ENVAUTH_VAR_SAW_COAT", "^unset$"),
        ],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(
        out(&o),
        "-TIMEBOX_INSIDE\n$STAMP=ok\n$SAW_COAT=unset\n-ENVAUTH_VAR_SAW_COAT\n-ENVAUTH_VAR_STAMP\n-COAT\n0\n"
    );
}

#[test]
fn coat_stops_at_the_first_denial_with_its_code() {
    let d = scratch();
    let never = write(&d, "never", "#!/bin/sh\necho ran > /dev/stderr\necho 0\n", 0o755);
    let list = format!("{}:{never}", bin("envauth"));
    let o = run("coat", &[("COAT", &list), ("ENVAUTH_VAR_X", "^y$"), ("ENVAUTH_WARN", "Need X=y")]);
    assert_eq!(code(&o), 77);
    assert_eq!(out(&o), "77\n");
    assert_eq!(err(&o), "Need X=y\n", "the inner warning only, and the next helper never ran");
    let o = run(
        "coat",
        &[("COAT", &list), ("ENVAUTH_VAR_X", "^y$"), ("ENVAUTH_WARN", "Need X=y"), ("COAT_WARN", "Chain refused")],
    );
    assert_eq!(err(&o), "Need X=y\nChain refused\n");
}

fn coat_with(script: &str, extra: &[(&str, &str)]) -> (Output, Duration) {
    let d = scratch();
    let h = write(&d, "h", &format!("#!/bin/sh\n{script}\n"), 0o755);
    let mut env = vec![("COAT", h.as_str()), ("COAT_STALL", "2")];
    env.extend_from_slice(extra);
    let t = Instant::now();
    let o = run("coat", &env);
    (o, t.elapsed())
}

#[test]
fn coat_fails_closed_on_hostile_inner_helpers() {
    let cases: &[(&str, i32, &str)] = &[
        ("echo junk; echo 0", 76, "reply line 1"),
        ("echo 010", 76, "reply line 1"),
        ("echo 256", 76, "reply line 1"),
        ("echo 77; echo 0 ; exit 0", 0, ""),
        ("echo 0; exit 3", 3, "exited 3"),
        ("echo 77; exit 0", 77, ""),
        ("echo 0; kill -9 $$", 70, "killed by signal 9"),
        ("exec sleep 30", 75, "no verdict in time"),
        ("echo 0; exec sleep 30", 75, "no verdict in time"),
        ("sleep 30 & echo 0; exit 0", 75, "no verdict in time"),
        ("head -c 10000000 /dev/zero | tr '\\0' '#'", 76, "reply longer than"),
    ];
    for (script, want, reason) in cases {
        let (o, took) = coat_with(script, &[]);
        assert_eq!(code(&o), *want, "{script}: {}", err(&o));
        let reply = if *want == 0 { "-COAT\n-COAT_STALL\n0\n".to_string() } else { format!("{want}\n") };
        assert_eq!(out(&o), reply, "{script}");
        assert!(err(&o).contains(reason), "{script}: {}", err(&o));
        assert!(took < Duration::from_secs(8), "{script}: {took:?}");
    }
}

#[test]
fn coat_refuses_untrusted_or_unrunnable_helpers() {
    let d = scratch();
    let writable = write(&d, "w", "#!/bin/sh\necho 0\n", 0o775);
    let o = run("coat", &[("COAT", &writable)]);
    assert_eq!(code(&o), 78, "{}", err(&o));
    let not_exec = write(&d, "n", "#!/bin/sh\necho 0\n", 0o644);
    let o = run("coat", &[("COAT", &not_exec)]);
    assert_eq!(code(&o), 69, "{}", err(&o));
    let o = run("coat", &[("COAT", d.join("missing").to_str().unwrap())]);
    assert_eq!(code(&o), 66);
    for env in [
        &[("COAT", "relative")][..],
        &[("COAT", "")],
        &[("COAT", "/bin/true"), ("COAT_STALL", "0")],
        &[("COAT_X", "1")],
    ] {
        assert_eq!(code(&run("coat", env)), 78, "{env:?}");
    }
}

#[test]
fn coat_reveals_the_jacket_phase_parameters_after_the_helmet_phase() {
    let list = bin("timebox").to_string();
    let o = run(
        "coat",
        &[("COAT", &list), ("COAT_REVEAL", "J_"), ("J_COAT", "/x"), ("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H")],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-TIMEBOX_INSIDE\n-COAT\n-COAT_REVEAL\n~J_\n0\n");
}

#[test]
fn coat_as_a_jacket_waits_for_the_command_and_passes_its_status() {
    let list = format!("{}:{}", bin("timebox"), bin("envauth"));
    let env = [("COAT", list.as_str()), ("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H"), ("ENVAUTH_NOT_X", "x")];
    let o = as_jacket("coat", "sleep 0.2; exit 4", &env);
    assert_eq!(code(&o), 4, "{}", err(&o));
    assert_eq!(out(&o), "-TIMEBOX_INSIDE\n-ENVAUTH_NOT_X\n-COAT\n0\n");
    let env = [("COAT", list.as_str()), ("TZ", "UTC"), ("TIMEBOX_INSIDE", "%Y<1970")];
    let o = as_jacket("coat", "exit 0", &env);
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()));
}

#[test]
fn coat_stops_inner_jackets_after_the_command() {
    let d = scratch();
    let marker = d.join("stopped");
    let jacket = write(
        &d,
        "j",
        &format!(
            "#!/bin/sh\ntrap 'echo stopped > {}; exit 0' TERM\necho 0\nexec 1>&-\nwhile :; do sleep 0.05; done\n",
            marker.display()
        ),
        0o755,
    );
    let o = as_jacket("coat", "sleep 0.2; exit 5", &[("COAT", &jacket)]);
    assert_eq!(code(&o), 5, "{}", err(&o));
    assert_eq!(fs::read_to_string(&marker).unwrap(), "stopped\n");
}
