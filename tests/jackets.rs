//! Helmets and jackets end to end: real helper processes (shell and perl scripts written the way
//! op(1l)'s documentation shows, and hostile ones) around the installed setuid escapes, run as
//! the unprivileged test user. Each test pins one behaviour; the `f<N>_` tests each show one of
//! op's flaws (op-jacket-protocol.md §5) is absent. Run with `make test` (as root).

mod support;

use serde_json::Value;
use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::Output;
use std::time::{Duration, Instant};
use support::*;

/// Root-owned, not writable by anyone else: where the helper scripts live.
const HELPERS: &str = "/run/escapes-test/helpers";
/// Root-only: where helpers leave what they saw, for the tests to read.
const SEEN: &str = "/run/escapes-test/helpers-seen";

fn setup() -> Fixture {
    let f = Fixture::new();
    for (dir, mode) in [(HELPERS, 0o755), (SEEN, 0o700)] {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).unwrap();
        chown(dir, Some(0), Some(0)).unwrap();
        fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
    }
    f
}

/// Writes an executable root-owned helper script and returns its path.
fn helper(name: &str, script: &str) -> String {
    let path = format!("{HELPERS}/{name}");
    write_root_file(&path, script, 0o755);
    path
}

fn table(kind: &str, path: &str, extra: &str) -> String {
    format!("\n[[{kind}]]\npath = \"{path}\"\n{extra}\n")
}

fn configure(f: &Fixture, tables: &[String]) {
    f.write_config(&format!("{DEFAULT_CONFIG}{}", tables.concat()));
}

fn run(f: &Fixture, argv: &[&str]) -> Output {
    f.run_grant(&f.token(&f.claims(argv)), argv)
}

fn seen(name: &str) -> String {
    fs::read_to_string(format!("{SEEN}/{name}")).unwrap_or_default()
}

/// A refused run: the exit code, nothing ran (no stdout), one audit line naming the helper kind.
fn refused(f: &Fixture, o: &Output, exit: i32, kind: &str) -> Value {
    assert_eq!(code(o), exit, "stderr: {}", stderr(o));
    assert_eq!(stdout(o), "", "the command must not have run");
    let lines = f.audit();
    assert_eq!(lines.len(), 1, "one audit line per refusal: {lines:?}");
    assert_eq!(lines[0]["event"], "refused", "{}", lines[0]);
    assert_eq!(lines[0]["error"], kind, "{}", lines[0]);
    lines[0].clone()
}

fn helpers_field(v: &Value) -> Vec<String> {
    v["helpers"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

const ECHO: [&str; 2] = ["/usr/bin/echo", "ran"];

// --- helmets -------------------------------------------------------------------------------------

#[test]
fn helmet_that_replies_0_and_exits_0_lets_the_command_run() {
    let f = setup();
    let h = helper("ok", "#!/bin/sh\necho 0\nexit 0\n");
    configure(&f, &[table("helmet", &h, "")]);
    let o = run(&f, &ECHO);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "ran\n"), "stderr: {}", stderr(&o));
    let lines = f.audit();
    assert_eq!(lines[0]["event"], "run");
    assert_eq!(helpers_field(&lines[0]), [format!("helmet {h}: allowed")]);
    assert_eq!(lines[1]["event"], "exit");
}

#[test]
fn documented_timebox_style_helmet_sees_its_params_and_they_never_reach_the_command() {
    let f = setup();
    // op-jacket-protocol.md §7: the parameters arrive in the environment; a compliant helmet
    // writes -NAME for each and then 0.
    let h = helper(
        "timebox-like",
        "#!/bin/sh\n[ \"$TIMEBOX_INSIDE\" = '0100<=%H%M<0500' ] || { echo 77; exit 77; }\n[ \"$TZ\" = America/Denver ] || { echo 77; exit 77; }\necho -TIMEBOX_INSIDE\necho -TIMEBOX_WARN\necho 0\n",
    );
    configure(&f, &[table("helmet", &h, "params = [\"TZ=America/Denver\", \"TIMEBOX_INSIDE=0100<=%H%M<0500\", \"TIMEBOX_WARN=Backups run 01:00-05:00 only\"]")]);
    let o = run(&f, &["/usr/bin/env"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert!(!stdout(&o).contains("TIMEBOX"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("TZ=America"), "params are the helper's, not the command's: {}", stdout(&o));
}

#[test]
fn helmet_denial_exits_with_the_code_it_replied_and_runs_nothing() {
    let f = setup();
    let h = helper("deny", "#!/bin/sh\necho 'Backups run 01:00-05:00 only' >&2\necho 77\nexit 77\n");
    configure(&f, &[table("helmet", &h, "")]);
    let o = run(&f, &ECHO);
    let line = refused(&f, &o, 77, "helmet");
    assert!(stderr(&o).contains("Backups run"), "the helper's stderr is the caller's: {}", stderr(&o));
    assert_eq!(helpers_field(&line), [format!("helmet {h}: denied with code 77")]);
}

#[test]
fn helmet_that_exits_0_after_replying_77_still_denies() {
    let f = setup();
    let h = helper("deny-exit0", "#!/bin/sh\necho 77\nexit 0\n");
    configure(&f, &[table("helmet", &h, "")]);
    refused(&f, &run(&f, &ECHO), 77, "helmet");
}

#[test]
fn helmet_that_replies_0_then_exits_1_denies_with_its_status() {
    let f = setup();
    let h = helper("ok-exit1", "#!/bin/sh\necho 0\nexit 1\n");
    configure(&f, &[table("helmet", &h, "")]);
    let line = refused(&f, &run(&f, &ECHO), 1, "helmet");
    assert!(helpers_field(&line)[0].contains("exited with status 1"), "{line}");
}

#[test]
fn helmet_that_never_replies_is_killed_at_its_timeout() {
    let f = setup();
    let h = helper("hang", "#!/bin/sh\nexec sleep 30\n");
    configure(&f, &[table("helmet", &h, "timeout = 1")]);
    let t = Instant::now();
    let line = refused(&f, &run(&f, &ECHO), 75, "helmet");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(helpers_field(&line)[0].contains("within 1 s"), "{line}");
}

#[test]
fn f5_garbage_in_a_reply_is_a_sticky_protocol_error() {
    let f = setup();
    // op would let the final 0 undo the junk line's 76.
    let h = helper("junk", "#!/bin/sh\necho 'Sorry, not now'\necho 0\n");
    configure(&f, &[table("helmet", &h, "")]);
    let line = refused(&f, &run(&f, &ECHO), 76, "helmet");
    assert!(helpers_field(&line)[0].contains("reply line 1"), "{line}");
}

#[test]
fn f6_a_code_above_255_does_not_wrap_to_allow() {
    let f = setup();
    let h = helper("wrap", "#!/bin/sh\necho 256\n");
    configure(&f, &[table("helmet", &h, "")]);
    refused(&f, &run(&f, &ECHO), 76, "helmet");
}

#[test]
fn f7_a_10_mb_reply_is_cut_off_and_refused() {
    let f = setup();
    let h = helper("flood", "#!/bin/sh\nhead -c 10000000 /dev/zero | tr '\\000' '#'\necho 0\n");
    configure(&f, &[table("helmet", &h, "timeout = 10")]);
    let t = Instant::now();
    let line = refused(&f, &run(&f, &ECHO), 76, "helmet");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(helpers_field(&line)[0].contains("larger than 65536"), "{line}");
}

#[test]
fn f7_a_background_child_holding_stdout_cannot_hang_escapes() {
    let f = setup();
    let h = helper("bg", &format!("#!/bin/sh\necho 0\nsh -c 'sleep 3; echo alive > {SEEN}/bg' &\nexit 0\n"));
    configure(&f, &[table("helmet", &h, "timeout = 1")]);
    let t = Instant::now();
    refused(&f, &run(&f, &ECHO), 75, "helmet");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(seen("bg"), "", "the helmet's process group is killed with it");
}

#[test]
fn helmet_killed_by_a_signal_denies() {
    let f = setup();
    let h = helper("dies", "#!/bin/sh\necho 0\nkill -9 $$\n");
    configure(&f, &[table("helmet", &h, "")]);
    let line = refused(&f, &run(&f, &ECHO), 77, "helmet");
    assert!(helpers_field(&line)[0].contains("killed by signal 9"), "{line}");
}

#[test]
fn f9_helmet_sees_the_resolved_program_beside_the_name_typed_and_the_grant_facts() {
    let f = setup();
    let h = helper(
        "args",
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > {SEEN}/argv\nenv | grep ^ESCAPES_ | sort > {SEEN}/env\necho 0\n"
        ),
    );
    configure(&f, &[table("helmet", &h, "")]);
    let o = run(&f, &["echo", "ran"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let argv = format!("{h}\n-C\n{}\n--\necho\n/usr/bin/echo\n0:0\nusers:{USER}\n", config_path());
    assert_eq!(seen("argv"), argv);
    let env = seen("env");
    for want in [
        "ESCAPES_GRANT_ID=0b7e4a52-0000-4000-8000-000000000002".to_string(),
        format!("ESCAPES_REQUESTER={REQUESTER}"),
        format!("ESCAPES_APPROVER={APPROVER}"),
        "ESCAPES_GRANT_TYPE=always".to_string(),
        format!("ESCAPES_ISSUER={ISSUER}"),
        "ESCAPES_RUN_AS=root".to_string(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing from {env}");
    }
}

#[test]
fn helmet_is_told_the_run_as_user_as_typed_and_the_targets_ids() {
    let f = setup();
    let h = helper("args", &format!("#!/bin/sh\nprintf '%s ' \"$@\" > {SEEN}/argv\necho 0\n"));
    configure(&f, &[table("helmet", &h, "")]);
    let argv = ["id", "-u"];
    let o = f.run(&["--grant", &f.token(&f.claims(&argv)), "--run-as", OTHER_USER, "--", "id", "-u"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let uid = stdout(&o).trim().to_string();
    let seen = seen("argv");
    assert!(seen.starts_with(&format!("-u {OTHER_USER} -C ")), "{seen}");
    assert!(seen.contains(&format!(" id /usr/bin/id {uid}:")), "{seen}");
}

#[test]
fn f3_f10_f11_helpers_run_fully_root_with_no_groups_stdin_null_and_only_fds_0_to_2() {
    let f = setup();
    let h = helper(
        "creds.pl",
        &format!(
            r#"#!/usr/bin/perl
opendir(my $d, "/proc/self/fd") or die;
my @fds = sort {{ $a <=> $b }} grep {{ /^\d+$/ }} readdir($d);
my @seen = map {{ "$_ " . (readlink("/proc/self/fd/$_") // "") }} @fds;
open(my $o, '>', '{SEEN}/creds') or die;
print $o join("\n", "$< $> $( $)", @seen), "\n";
close $o;
print "0\n";
"#
        ),
    );
    configure(&f, &[table("helmet", &h, "")]);
    let o = run(&f, &ECHO);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let lines: Vec<String> = seen("creds").lines().map(str::to_string).collect();
    // ruid, euid, then rgid and egid each followed by the supplementary groups: there are none
    // (the caller's, which escapes itself still carries, are not passed on).
    assert_eq!(lines[0], "0 0 0 0", "{lines:?}");
    assert_eq!(lines[1], "0 /dev/null", "{lines:?}");
    assert!(lines[2].starts_with("1 pipe:"), "{lines:?}");
    // Above 2 only perl's own: the directory it is listing (and perhaps its script).
    for l in &lines[4..] {
        let target = l.split_once(' ').map_or("", |x| x.1);
        assert!(target.ends_with("/fd") || target == h, "descriptor of escapes leaked: {l} in {lines:?}");
    }
}

#[test]
fn helmet_limited_to_other_programs_is_not_asked() {
    let f = setup();
    let h = helper("deny", "#!/bin/sh\necho 77\n");
    configure(&f, &[table("helmet", &h, "programs = [\"/usr/bin/false\", \"/usr/local/bin/echo\"]")]);
    let o = run(&f, &ECHO);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "ran\n"), "stderr: {}", stderr(&o));
    assert!(f.audit()[0]["helpers"].is_null());
}

#[test]
fn helmets_run_in_order_and_the_first_denial_stops_the_rest() {
    let f = setup();
    let a = helper("a", &format!("#!/bin/sh\necho a >> {SEEN}/order\necho 0\n"));
    let b = helper("b", &format!("#!/bin/sh\necho b >> {SEEN}/order\necho 67\n"));
    let c = helper("c", &format!("#!/bin/sh\necho c >> {SEEN}/order\necho 0\n"));
    configure(&f, &[table("helmet", &a, ""), table("helmet", &b, ""), table("helmet", &c, "")]);
    let line = refused(&f, &run(&f, &ECHO), 67, "helmet");
    assert_eq!(seen("order"), "a\nb\n");
    assert_eq!(helpers_field(&line), [format!("helmet {a}: allowed"), format!("helmet {b}: denied with code 67")]);
}

#[test]
fn f8_helmet_not_owned_by_root_is_refused_without_running_it() {
    let f = setup();
    let h = helper("foreign", &format!("#!/bin/sh\necho ran > {SEEN}/foreign\necho 0\n"));
    chown(&h, Some(f.uid), None).unwrap();
    configure(&f, &[table("helmet", &h, "")]);
    let line = refused(&f, &run(&f, &ECHO), 1, "helmet");
    assert_eq!(seen("foreign"), "");
    assert!(helpers_field(&line)[0].contains("must be owned by root"), "{line}");
}

#[test]
fn f8_helmet_in_a_directory_others_can_write_is_refused() {
    let f = setup();
    let h = helper("ok", "#!/bin/sh\necho 0\n");
    fs::set_permissions(HELPERS, fs::Permissions::from_mode(0o777)).unwrap();
    configure(&f, &[table("helmet", &h, "")]);
    refused(&f, &run(&f, &ECHO), 1, "helmet");
}

#[test]
fn missing_helmet_fails_closed_with_69() {
    let f = setup();
    configure(&f, &[table("helmet", &format!("{HELPERS}/absent"), "")]);
    refused(&f, &run(&f, &ECHO), 69, "helmet");
}

#[test]
fn f14_helper_environment_edits_reach_the_command_only_through_the_allow_list() {
    let f = setup();
    let h = helper("env", "#!/bin/sh\necho '$TZ=UTC'\necho '$LD_PRELOAD=/tmp/evil.so'\necho '-LANG'\necho 0\n");
    configure(&f, &[table("helmet", &h, "")]);
    let argv = ["/usr/bin/env"];
    let o = f
        .command(&["--grant", &f.token(&f.claims(&argv)), "--", "/usr/bin/env"])
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l == "TZ=UTC"), "{out}");
    assert!(!out.contains("LD_PRELOAD") && !out.contains("LANG="), "{out}");
    assert!(helpers_field(&f.audit()[0])[0].contains("environment edits refused: LD_PRELOAD"), "{:?}", f.audit());
}

// --- jackets -------------------------------------------------------------------------------------

/// jacket.pl's shape (op-jacket-protocol.md §1.6, §7): getopt parsing that ignores unknown
/// options, release by reopening STDOUT on /dev/null, waitpid on -P, exit with the child's code.
const OP_JACKET: &str = r#"#!/usr/bin/perl
use strict;
use Getopt::Std;
my %opt;
getopts('P:u:g:f:R:C:j:m:', \%opt) or exit 64;
@ARGV == 4 or exit 64;
my ($mnemonic, $program, $ids, $cred) = @ARGV;
my $pid = $opt{P};
defined $pid or exit 64;
open(STDOUT, '>', '/dev/null') or exit 69;
waitpid($pid, 0) == $pid or exit 70;
my $status = $?;
exit(($status & 127) ? 128 + ($status & 127) : $status >> 8);
"#;

#[test]
fn op_style_jacket_releases_the_command_waits_for_it_and_passes_its_status_back() {
    let f = setup();
    let j = helper("jacket.pl", OP_JACKET);
    configure(&f, &[table("jacket", &j, "")]);
    let argv = ["sh", "-c", "echo ran; exit 3"];
    let o = run(&f, &argv);
    assert_eq!((code(&o), stdout(&o).as_str()), (3, "ran\n"), "stderr: {}", stderr(&o));
    let lines = f.audit();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["event"], "run");
    assert_eq!(helpers_field(&lines[0]), [format!("jacket {j}: allowed")]);
    assert_eq!((lines[1]["event"].as_str(), lines[1]["exit_code"].as_i64()), (Some("exit"), Some(3)));
}

#[test]
fn jacket_gets_the_pid_of_the_held_command_which_runs_as_the_target() {
    let f = setup();
    let j = helper(
        "pid.pl",
        &OP_JACKET.replace(
            "open(STDOUT",
            &format!("open(my $s, '>', '{SEEN}/pid'); print $s \"$pid\\n\"; close $s;\nopen(STDOUT"),
        ),
    );
    configure(&f, &[table("jacket", &j, "")]);
    let argv = ["sh", "-c", "echo $$; id -u"];
    let o = run(&f, &argv);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}0\n", seen("pid")));
}

#[test]
fn jacket_denial_runs_nothing_and_exits_with_its_code() {
    let f = setup();
    let j = helper("deny.pl", &OP_JACKET.replace("open(STDOUT", "print \"75\\n\";\nopen(STDOUT"));
    configure(&f, &[table("jacket", &j, "")]);
    let line = refused(&f, &run(&f, &ECHO), 75, "jacket");
    assert_eq!(helpers_field(&line), [format!("jacket {j}: denied with code 75")]);
}

#[test]
fn sh_jacket_written_as_op_documents_releases_with_exec_1_closed() {
    let f = setup();
    // Release by `exec 1>&-`, then stay around while the command runs.
    let j = helper("jacket.sh", "#!/bin/sh\necho 0\nexec 1>&-\nsleep 1\n");
    configure(&f, &[table("jacket", &j, "")]);
    let o = run(&f, &ECHO);
    assert_eq!(stdout(&o), "ran\n", "stderr: {}", stderr(&o));
    assert_eq!(code(&o), 0);
}

#[test]
fn f2_jacket_that_cannot_be_executed_fails_closed() {
    let f = setup();
    let j = helper("noexec", "this is not a program\n");
    configure(&f, &[table("jacket", &j, "")]);
    let line = refused(&f, &run(&f, &ECHO), 69, "jacket");
    assert!(helpers_field(&line)[0].contains("cannot be executed"), "{line}");
}

#[test]
fn f2_jacket_with_a_missing_interpreter_fails_closed() {
    let f = setup();
    let j = helper("badinterp", "#!/nonexistent/interpreter\n");
    configure(&f, &[table("jacket", &j, "")]);
    refused(&f, &run(&f, &ECHO), 69, "jacket");
}

#[test]
fn f4_jacket_that_dies_without_a_code_fails_closed() {
    let f = setup();
    let j = helper("dies", "#!/bin/sh\nkill -9 $$\n");
    configure(&f, &[table("jacket", &j, "")]);
    let line = refused(&f, &run(&f, &ECHO), 77, "jacket");
    assert!(helpers_field(&line)[0].contains("gone before the command was released"), "{line}");
}

#[test]
fn f4_jacket_that_exits_0_after_closing_stdout_without_waiting_does_not_release() {
    let f = setup();
    let j = helper("quits", "#!/bin/sh\necho 0\nexit 0\n");
    configure(&f, &[table("jacket", &j, "")]);
    refused(&f, &run(&f, &ECHO), 77, "jacket");
}

#[test]
fn f3_caller_cannot_kill_the_jacket_and_killing_it_mid_flight_runs_nothing() {
    let f = setup();
    let j = helper("holds", &format!("#!/bin/sh\necho $$ > {SEEN}/jacket.pid\nexec sleep 30\n"));
    configure(&f, &[table("jacket", &j, "timeout = 20")]);
    let argv = ECHO;
    let child = f
        .command(&["--grant", &f.token(&f.claims(&argv)), "--", argv[0], argv[1]])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let pid = loop {
        if let Ok(p) = seen("jacket.pid").trim().parse::<i32>() {
            break p;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "jacket never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // The caller (the test user) may not signal it: it runs with every uid 0.
    let denied =
        std::process::Command::new("kill").args(["-9", &pid.to_string()]).uid(f.uid).gid(f.gid).output().unwrap();
    assert!(!denied.status.success(), "the caller must not be able to kill the jacket");
    // Killed anyway (by root), mid-flight: the held command must not run.
    std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    refused(&f, &o, 77, "jacket");
}

#[test]
fn f7_jacket_that_never_releases_is_killed_at_its_timeout() {
    let f = setup();
    let j = helper("never", "#!/bin/sh\necho 0\nexec sleep 30\n");
    configure(&f, &[table("jacket", &j, "timeout = 1")]);
    let t = Instant::now();
    refused(&f, &run(&f, &ECHO), 75, "jacket");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn f5_jacket_reply_with_garbage_is_a_protocol_error() {
    let f = setup();
    let j = helper("junk.pl", &OP_JACKET.replace("open(STDOUT", "print \"go ahead\\n0\\n\";\nopen(STDOUT"));
    configure(&f, &[table("jacket", &j, "")]);
    refused(&f, &run(&f, &ECHO), 76, "jacket");
}

#[test]
fn f1_helmet_and_jacket_on_one_command_both_run_helmet_first() {
    let f = setup();
    let h = helper("helmet", &format!("#!/bin/sh\necho helmet >> {SEEN}/order\necho '$TZ=UTC'\necho 0\n"));
    let j = helper("jacket.pl", &OP_JACKET.replace("open(STDOUT", &format!("open(my $s, '>>', '{SEEN}/order'); print $s \"jacket $ENV{{ESCAPES_ENV_TZ}}\\n\"; close $s;\nopen(STDOUT")));
    configure(&f, &[table("jacket", &j, ""), table("helmet", &h, "")]);
    let o = run(&f, &["/usr/bin/env"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert!(stdout(&o).lines().any(|l| l == "TZ=UTC"), "{}", stdout(&o));
    // In the command's proposed environment, which helpers get under ESCAPES_ENV_<NAME>.
    assert_eq!(seen("order"), "helmet\njacket UTC\n", "the jacket sees the helmet's edits");
    assert_eq!(helpers_field(&f.audit()[0]), [format!("helmet {h}: allowed"), format!("jacket {j}: allowed")]);
}

#[test]
fn two_jackets_nest_and_both_must_release() {
    let f = setup();
    let outer = helper("outer.pl", OP_JACKET);
    let inner = helper("inner.pl", &OP_JACKET.replace("open(STDOUT", "print \"77\\n\";\nopen(STDOUT"));
    configure(&f, &[table("jacket", &outer, ""), table("jacket", &inner, "")]);
    let line = refused(&f, &run(&f, &ECHO), 77, "jacket");
    assert_eq!(
        helpers_field(&line),
        [format!("jacket {outer}: allowed"), format!("jacket {inner}: denied with code 77")]
    );
    configure(&f, &[table("jacket", &outer, ""), table("jacket", &outer, "")]);
    fs::write(audit_path(), "").unwrap();
    let o = run(&f, &["sh", "-c", "echo ran; exit 4"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (4, "ran\n"), "stderr: {}", stderr(&o));
}

#[test]
fn check_names_the_helpers_that_would_run_without_running_them() {
    let f = setup();
    let h = helper("marks", &format!("#!/bin/sh\ntouch {SEEN}/marks-ran\necho 0\n"));
    let other = helper("other", "#!/bin/sh\necho 0\n");
    configure(&f, &[table("helmet", &h, ""), table("jacket", &other, "programs = [\"/usr/bin/true\"]")]);
    let o = f.run(&["--check", "--grant", &f.token(&f.claims(&ECHO)), "--", ECHO[0], ECHO[1]]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("skip  helmet") && l.contains(&h)), "{out}");
    assert!(!out.contains(&other), "a jacket for another program is not named:\n{out}");
    assert!(
        seen("marks-ran").is_empty() && !std::path::Path::new(&format!("{SEEN}/marks-ran")).exists(),
        "--check must not run helpers"
    );
}
