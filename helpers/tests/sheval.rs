//! sheval as a real process: the page's examples, the quoted reply form, the credentials and
//! environment its commands get, and hostile commands.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{code, err, helmet_args, out, run_with};

/// The shell's real path (/bin/sh is a link on most systems, and a program named through a link
/// is refused).
fn real_sh() -> String {
    fs::canonicalize("/bin/sh").unwrap().to_str().unwrap().to_string()
}

fn sheval(env: &[(&str, &str)]) -> Output {
    run_with("sheval", &helmet_args("/bin/sh", "0:0"), env)
}

#[test]
fn dual_group_example_allows_a_member_of_wheel() {
    // groups=disk  $SHEVAL_SET_trapWheel=/usr/bin/expr$.',$r,$a,'$.:$.'.*,wheel,.*'
    // $SHEVAL_UNSET=trapWheel, after op's expansion ($. = space; $r, $a the caller's groups).
    let (r, a) = ("disk", "disk,wheel,users");
    let cmd = format!("/usr/bin/expr ',{r},{a},' : '.*,wheel,.*'");
    let o = sheval(&[("SHEVAL_SET_trapWheel", &cmd), ("SHEVAL_UNSET", "trapWheel")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let mut lines: Vec<String> = out(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.remove(0), "-trapWheel", "the verdict variable is never written");
    assert_eq!(lines.pop().as_deref(), Some("0"));
    lines.sort();
    assert_eq!(lines, ["-SHEVAL_SET_trapWheel", "-SHEVAL_UNSET"]);
}

#[test]
fn dual_group_example_refuses_a_caller_outside_wheel() {
    let (r, a) = ("disk", "disk,users,wheelchair");
    let cmd = format!("/usr/bin/expr ',{r},{a},' : '.*,wheel,.*'");
    let o = sheval(&[
        ("SHEVAL_SET_trapWheel", &cmd),
        ("SHEVAL_UNSET", "trapWheel"),
        ("SHEVAL_WARN", "Only for disk and wheel"),
    ]);
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()));
    assert_eq!(err(&o), "sheval: SHEVAL_SET_trapWheel: the command exited 1\nOnly for disk and wheel\n");
}

#[test]
fn my_arch_example_sets_the_variable_to_unames_output() {
    // $SHEVAL_SET_MyARCH=/usr/bin/uname$.-p
    let o = sheval(&[("SHEVAL_SET_MyARCH", "/usr/bin/uname -p")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let direct = Command::new("/usr/bin/uname").arg("-p").output().unwrap();
    let arch = String::from_utf8(direct.stdout).unwrap();
    assert_eq!(out(&o), format!("$MyARCH={}\n-SHEVAL_SET_MyARCH\n0\n", arch.trim_end_matches('\n')));
}

#[test]
fn several_assignments_run_in_byte_order_and_unset_deletes_others_too() {
    let o = sheval(&[
        ("SHEVAL_SET_b", "/usr/bin/printf two"),
        ("SHEVAL_SET_B", "/usr/bin/printf one"),
        ("SHEVAL_UNSET", "r:a"),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..4], ["$B=one", "$b=two", "-r", "-a"]);
}

#[test]
fn multi_line_output_uses_the_quoted_reply_form() {
    let o = sheval(&[("SHEVAL_SET_X", r"/usr/bin/printf 'a\nb \x22q\x22\n\n'")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o).lines().next(), Some(r#""$X=a\nb \dq\d\n""#));
    // Read back with the strict parser (as coat and escapes read it): exactly the output.
    let p = opwire::reply::parse::parse(&o.stdout).unwrap();
    assert_eq!(p.edits[0], opwire::reply::Edit::Set { name: b"X".to_vec(), value: b"a\nb \"q\"\n".to_vec() });
}

#[test]
fn output_no_reply_line_can_carry_is_refused() {
    let o = sheval(&[("SHEVAL_SET_X", r"/usr/bin/printf 'a\001b'")]);
    assert_eq!(code(&o), 65, "{}", err(&o));
    assert!(err(&o).contains("byte 0x01"), "{}", err(&o));
}

#[test]
fn commands_run_as_root_with_only_path_and_dev_null() {
    let o = sheval(&[
        ("SHEVAL_SET_ENV", "/usr/bin/env"),
        ("SHEVAL_SET_IN", "/usr/bin/readlink /proc/self/fd/0"),
        ("SHEVAL_SET_CWD", "/usr/bin/pwd"),
        ("SECRET", "not for the command"),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("$ENV=PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"), "{text}");
    assert!(text.contains("$IN=/dev/null\n"), "{text}");
    assert!(text.contains("$CWD=/\n"), "{text}");
}

#[test]
fn under_ops_credentials_commands_still_run_with_every_id_root() {
    // op runs helpers with the client's real uid and the target's groups; the command must not
    // inherit either (bash would drop to the real uid, and the groups are not root's).
    let (uid, gid) = support::user("escapes-test");
    let o = Command::new("/usr/bin/setpriv")
        .arg(format!("--ruid={uid}"))
        .arg("--euid=0")
        .arg(format!("--rgid={gid}"))
        .arg(format!("--egid={gid}"))
        .arg(format!("--groups={gid}"))
        .arg(support::bin("sheval"))
        .args(helmet_args("/bin/sh", "0:0"))
        .env_clear()
        .env("SHEVAL_SET_S", "/usr/bin/grep -E '^(Uid|Gid|Groups):' /proc/self/status")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", err(&o));
    let p = opwire::reply::parse::parse(&o.stdout).unwrap();
    let opwire::reply::Edit::Set { value, .. } = &p.edits[0] else { panic!("{}", out(&o)) };
    let status = String::from_utf8_lossy(value).replace('\t', " ");
    assert_eq!(status.trim_end(), "Uid: 0 0 0 0\nGid: 0 0 0 0\nGroups:");
}

#[test]
fn a_non_zero_exit_refuses() {
    let o = sheval(&[("SHEVAL_SET_X", "/usr/bin/false")]);
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()));
    assert!(err(&o).contains("exited 1"), "{}", err(&o));
    let o = sheval(&[("SHEVAL_SET_X", &format!("{} -c 'kill -9 $$'", real_sh()))]);
    assert_eq!(code(&o), 77);
    assert!(err(&o).contains("killed by signal 9"), "{}", err(&o));
}

#[test]
fn a_hanging_command_is_killed_at_the_stall() {
    let t = Instant::now();
    let o = sheval(&[("SHEVAL_SET_X", "/usr/bin/sleep 60"), ("SHEVAL_STALL", "1")]);
    assert_eq!((code(&o), out(&o)), (75, "75\n".into()), "{}", err(&o));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn a_background_child_holding_stdout_is_killed_with_its_group() {
    let d = support::scratch("sheval");
    let marker = d.join("survived");
    let cmd = format!("{} -c 'echo x; (sleep 2; touch {}) & exit 0'", real_sh(), marker.display());
    let t = Instant::now();
    let o = sheval(&[("SHEVAL_SET_X", &cmd), ("SHEVAL_STALL", "1")]);
    assert_eq!(code(&o), 75, "{}", err(&o));
    assert!(t.elapsed() < Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(3));
    assert!(!marker.exists(), "the background child outlived sheval");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_flood_is_cut_off_at_the_output_cap() {
    let t = Instant::now();
    let o = sheval(&[("SHEVAL_SET_X", "/usr/bin/yes")]);
    assert_eq!((code(&o), out(&o)), (76, "76\n".into()), "{}", err(&o));
    assert!(err(&o).contains("more than 65536 bytes"), "{}", err(&o));
    assert!(t.elapsed() < Duration::from_secs(5));
    let o = sheval(&[("SHEVAL_SET_X", "/usr/bin/head -c 65536 /dev/zero")]);
    assert_eq!(code(&o), 65, "64 KiB is accepted, then refused for its NULs");
}

#[test]
fn relative_missing_or_untrusted_programs_are_refused() {
    let o = sheval(&[("SHEVAL_SET_MyARCH", "uname -p")]);
    assert_eq!(code(&o), 78);
    assert!(err(&o).contains("absolute path"), "{}", err(&o));
    let o = sheval(&[("SHEVAL_SET_X", "/nonexistent/prog")]);
    assert_eq!(code(&o), 66, "{}", err(&o));
    let d = support::trusted_scratch("sheval");
    let prog = d.join("prog");
    fs::write(&prog, "#!/bin/sh\necho owned\n").unwrap();
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o777)).unwrap();
    let o = sheval(&[("SHEVAL_SET_X", prog.to_str().unwrap())]);
    assert_eq!(code(&o), 78, "{}", err(&o));
    assert!(err(&o).contains("is world-writable"), "{}", err(&o));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn shell_syntax_is_refused_not_run() {
    for cmd in [
        "/bin/echo a; /usr/bin/id",
        "/bin/echo $HOME",
        "/bin/ls /etc/*",
        "/bin/echo `id`",
        "/bin/echo x > /etc/escapes-sheval-test",
    ] {
        let o = sheval(&[("SHEVAL_SET_X", cmd)]);
        assert_eq!(code(&o), 78, "{cmd}");
        assert!(err(&o).starts_with("sheval: SHEVAL_SET_X: "), "{}", err(&o));
    }
    assert!(!std::path::Path::new("/etc/escapes-sheval-test").exists());
}

#[test]
fn reveal_and_warn_follow_the_conventions() {
    let o = sheval(&[("SHEVAL_SET_X", "/usr/bin/printf 1"), ("SHEVAL_REVEAL", "J_")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).ends_with("~J_\n0\n"), "{}", out(&o));
    let o = sheval(&[("SHEVAL_SET_X", "/usr/bin/false")]);
    assert!(err(&o).ends_with("Access denied.\n"));
}
