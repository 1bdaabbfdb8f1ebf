//! xdisplay with the real /usr/bin/xauth and real users: the copy, the jacket's cleanup, and the
//! attacks (a caller naming a file only root can read, a planted symlink, a loose home).
//! Every test uses its own display number, so they can share the two users' files.

mod support;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::{code, err, out, run_with, strings};

struct User {
    uid: u32,
    gid: u32,
    home: PathBuf,
}

fn caller() -> User {
    let (uid, gid, home) = support::user_with_home("escapes-xcaller");
    User { uid, gid, home }
}

fn target() -> User {
    let (uid, gid, home) = support::user_with_home("escapes-xtarget");
    User { uid, gid, home }
}

fn xauth_as(u: &User, args: &[&str]) -> Output {
    Command::new("/usr/bin/xauth")
        .args(args)
        .uid(u.uid)
        .gid(u.gid)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn add_cookie(u: &User, file: &Path, display: &str, hex: &str) {
    let o = xauth_as(u, &["-q", "-f", file.to_str().unwrap(), "add", display, "MIT-MAGIC-COOKIE-1", hex]);
    assert!(o.status.success(), "{}", err(&o));
}

/// The cookies `file` holds for `display` (`:N`), as `u` sees them.
fn cookies(u: &User, file: &Path, display: &str) -> Vec<String> {
    let o = xauth_as(u, &["-q", "-f", file.to_str().unwrap(), "list", display]);
    out(&o).lines().filter_map(|l| l.split_whitespace().nth(2).map(str::to_string)).collect()
}

fn forget(u: &User, file: &Path, display: &str) {
    let _ = xauth_as(u, &["-q", "-f", file.to_str().unwrap(), "remove", display]);
}

fn caller_file(c: &User) -> PathBuf {
    c.home.join(".Xauthority")
}

fn target_file(t: &User) -> PathBuf {
    t.home.join(".Xauthority")
}

fn ids(t: &User) -> String {
    format!("{}:{}", t.uid, t.gid)
}

fn escapes_env<'a>(c: &User, display: &'a str, home: &'a str) -> Vec<(String, String)> {
    vec![
        ("ESCAPES_CALLER_UID".into(), c.uid.to_string()),
        ("ESCAPES_CALLER_GID".into(), c.gid.to_string()),
        ("DISPLAY".into(), display.into()),
        ("HOME".into(), home.into()),
    ]
}

fn xdisplay(env: &[(String, String)], t: &User) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_with("xdisplay", &strings(&["-C", "/etc/op.cf", "--", "x", "/usr/bin/xterm", &ids(t), "users:ksb"]), &env)
}

const COOKIE_A: &str = "00112233445566778899aabbccddeeff";
const COOKIE_B: &str = "ffeeddccbbaa99887766554433221100";

#[test]
fn helmet_copies_the_callers_entry_under_the_same_display_name() {
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":42", COOKIE_A);
    let o = xdisplay(&escapes_env(&c, ":42", t.home.to_str().unwrap()), &t);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "$DISPLAY=:42\n0\n");
    assert_eq!(cookies(&t, &target_file(&t), ":42"), [COOKIE_A]);
    let meta = fs::metadata(target_file(&t)).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((meta.uid(), meta.mode() & 0o777), (t.uid, 0o600), "written as the target");
    forget(&t, &target_file(&t), ":42");
    forget(&c, &caller_file(&c), ":42");
}

/// An op-style run whose command, as the target, lists the target's cookies for `display`.
fn jacket(env: &[(String, String)], t: &User, display: &str, then: &str) -> support::JacketRun {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cmd = format!(
        "/usr/bin/xauth -q -f \"$HOME/.Xauthority\" list {display} | cut -d' ' -f5; echo \"DISPLAY=$DISPLAY\"; {then}"
    );
    support::op_jacket("xdisplay", &env, (t.uid, t.gid), t.home.to_str().unwrap(), &cmd)
}

#[test]
fn jacket_removes_the_entry_after_the_command() {
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":43", COOKIE_A);
    let run = jacket(&escapes_env(&c, ":43", t.home.to_str().unwrap()), &t, ":43", "exit 7");
    assert_eq!(code(&run.jacket), 7, "{}", err(&run.jacket));
    assert_eq!(run.reply, "$DISPLAY=:43\n0\n");
    assert_eq!(run.cmd_out, format!("{COOKIE_A}\nDISPLAY=:43\n"), "{}", run.cmd_err);
    assert_eq!(cookies(&t, &target_file(&t), ":43"), Vec::<String>::new());
    forget(&c, &caller_file(&c), ":43");
}

#[test]
fn jacket_cleans_up_when_the_command_is_killed() {
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":44", COOKIE_A);
    let run = jacket(&escapes_env(&c, ":44", t.home.to_str().unwrap()), &t, ":44", "kill -9 $$");
    assert_eq!(code(&run.jacket), 128 + 9, "{}", err(&run.jacket));
    assert_eq!(run.cmd_out, format!("{COOKIE_A}\nDISPLAY=:44\n"));
    assert_eq!(cookies(&t, &target_file(&t), ":44"), Vec::<String>::new());
    forget(&c, &caller_file(&c), ":44");
}

#[test]
fn jacket_puts_back_the_entry_the_target_had() {
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":45", COOKIE_A);
    add_cookie(&t, &target_file(&t), ":45", COOKIE_B);
    let run = jacket(&escapes_env(&c, ":45", t.home.to_str().unwrap()), &t, ":45", "exit 0");
    assert_eq!(code(&run.jacket), 0, "{}", err(&run.jacket));
    assert_eq!(run.cmd_out, format!("{COOKIE_A}\nDISPLAY=:45\n"));
    assert_eq!(cookies(&t, &target_file(&t), ":45"), [COOKIE_B]);
    forget(&t, &target_file(&t), ":45");
    forget(&c, &caller_file(&c), ":45");
}

#[test]
fn xauthority_names_the_callers_file_and_the_command_gets_the_targets() {
    let (c, t) = (caller(), target());
    let d = support::scratch("xauth");
    std::os::unix::fs::chown(&d, Some(c.uid), Some(c.gid)).unwrap();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
    let file = d.join("auth");
    add_cookie(&c, &file, ":46", COOKIE_B);
    let mut env = escapes_env(&c, ":46", t.home.to_str().unwrap());
    env.push(("XAUTHORITY".into(), file.to_str().unwrap().into()));
    let o = xdisplay(&env, &t);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), format!("$DISPLAY=:46\n-XAUTHORITY\n$XAUTHORITY={}\n0\n", target_file(&t).display()));
    assert_eq!(cookies(&t, &target_file(&t), ":46"), [COOKIE_B]);
    forget(&t, &target_file(&t), ":46");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_caller_cannot_copy_a_file_only_root_can_read() {
    let (c, t) = (caller(), target());
    let d = support::scratch("rootauth");
    fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
    let root_file = d.join("Xauthority");
    let root = User { uid: 0, gid: 0, home: d.clone() };
    add_cookie(&root, &root_file, ":47", COOKIE_B);
    for source in [root_file.to_str().unwrap(), "/etc/shadow"] {
        let mut env = escapes_env(&c, ":47", t.home.to_str().unwrap());
        env.push(("XAUTHORITY".into(), source.into()));
        let o = xdisplay(&env, &t);
        assert_eq!((code(&o), out(&o)), (66, "66\n".into()), "{source}: {}", err(&o));
        assert!(err(&o).contains("no xauth entry for :47") || err(&o).contains("failed"), "{}", err(&o));
        assert_eq!(cookies(&t, &target_file(&t), ":47"), Vec::<String>::new(), "{source}");
    }
    fs::remove_dir_all(&d).unwrap();
}

/// A home for the target under /tmp, owned by the target, with mode `mode`.
fn scratch_home(t: &User, mode: u32) -> PathBuf {
    let d = support::scratch("xhome");
    let home = d.join("home");
    fs::create_dir(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(t.uid), Some(t.gid)).unwrap();
    fs::set_permissions(&home, fs::Permissions::from_mode(mode)).unwrap();
    home
}

#[test]
fn a_planted_symlink_in_the_targets_home_is_refused_not_followed() {
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":48", COOKIE_A);
    let home = scratch_home(&t, 0o755);
    let victim = home.parent().unwrap().join("victim");
    fs::write(&victim, "root's file\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    symlink(&victim, home.join(".Xauthority")).unwrap();
    let o = xdisplay(&escapes_env(&c, ":48", home.to_str().unwrap()), &t);
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()), "{}", err(&o));
    assert!(err(&o).contains("is a symbolic link"), "{}", err(&o));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "root's file\n");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata(&victim).unwrap().uid(), 0);
    assert!(fs::symlink_metadata(home.join(".Xauthority")).unwrap().file_type().is_symlink());
    fs::remove_dir_all(home.parent().unwrap()).unwrap();
    forget(&c, &caller_file(&c), ":48");
}

#[test]
fn a_target_home_others_can_write_is_refused() {
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":49", COOKIE_A);
    let home = scratch_home(&t, 0o777);
    let o = xdisplay(&escapes_env(&c, ":49", home.to_str().unwrap()), &t);
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert!(err(&o).contains("writable by group or others"), "{}", err(&o));
    assert!(!home.join(".Xauthority").exists());
    fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&home, Some(c.uid), Some(c.gid)).unwrap();
    let o = xdisplay(&escapes_env(&c, ":49", home.to_str().unwrap()), &t);
    assert_eq!(code(&o), 77, "a home the caller owns: {}", err(&o));
    assert!(err(&o).contains("owned by neither root nor uid"), "{}", err(&o));
    fs::remove_dir_all(home.parent().unwrap()).unwrap();
    forget(&c, &caller_file(&c), ":49");
}

#[test]
fn nothing_is_done_when_the_homes_are_the_same_or_display_is_unset() {
    let (c, t) = (caller(), target());
    let o = xdisplay(&escapes_env(&c, ":50", c.home.to_str().unwrap()), &t);
    assert_eq!((code(&o), out(&o)), (0, "$DISPLAY=:50\n0\n".into()), "{}", err(&o));
    assert_eq!(cookies(&c, &caller_file(&c), ":50"), Vec::<String>::new());
    let home = scratch_home(&t, 0o755);
    let mut env = escapes_env(&c, ":50", home.to_str().unwrap());
    env.retain(|(k, _)| k != "DISPLAY");
    let o = xdisplay(&env, &t);
    assert_eq!((code(&o), out(&o)), (0, "0\n".into()), "{}", err(&o));
    let o = xdisplay(&escapes_env(&c, ":50", home.to_str().unwrap()), &c);
    assert_eq!((code(&o), out(&o)), (0, "$DISPLAY=:50\n0\n".into()), "caller is the target");
    assert_eq!(fs::read_dir(&home).unwrap().count(), 0, "nothing written");
    fs::remove_dir_all(home.parent().unwrap()).unwrap();
}

#[test]
fn refuses_missing_home_bad_display_and_unknown_parameters() {
    let (c, t) = (caller(), target());
    let mut env = escapes_env(&c, ":51", t.home.to_str().unwrap());
    env.retain(|(k, _)| k != "HOME");
    assert_eq!(code(&xdisplay(&env, &t)), 78);
    for bad in ["-f", ":0;id", ":0 -f /etc/shadow", "host"] {
        let o = xdisplay(&escapes_env(&c, bad, t.home.to_str().unwrap()), &t);
        assert_eq!(code(&o), 78, "{bad}: {}", err(&o));
    }
    let mut env = escapes_env(&c, ":51", t.home.to_str().unwrap());
    env.push(("XDISPLAY_FILE".into(), "x".into()));
    assert_eq!(code(&xdisplay(&env, &t)), 78);
    let mut env = escapes_env(&c, ":51", "relative/home");
    env.truncate(4);
    assert_eq!(code(&xdisplay(&env, &t)), 78);
}

#[test]
fn an_escapes_run_that_does_not_name_the_caller_is_refused() {
    let (c, t) = (caller(), target());
    let mut env = escapes_env(&c, ":52", t.home.to_str().unwrap());
    env.retain(|(k, _)| !k.starts_with("ESCAPES_CALLER"));
    env.push(("ESCAPES_GRANT_ID".into(), "g-1".into()));
    let o = xdisplay(&env, &t);
    assert_eq!(code(&o), 78, "{}", err(&o));
    assert!(err(&o).contains("does not name the caller"), "{}", err(&o));
}

/// Runs xdisplay as op does: real uid the client's, effective uid 0, the target's groups.
fn under_op(c: &User, t: &User, env: &[(&str, &str)]) -> Output {
    Command::new("/usr/bin/setpriv")
        .arg(format!("--ruid={}", c.uid))
        .arg("--euid=0")
        .arg(format!("--rgid={}", t.gid))
        .arg(format!("--egid={}", t.gid))
        .arg(format!("--groups={}", t.gid))
        .arg(support::bin("xdisplay"))
        .args(["-C", "/etc/op.cf", "--", "x", "/usr/bin/xterm", &ids(t), "users:ksb"])
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn under_op_the_real_uid_is_the_caller_and_cannot_be_overridden() {
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":53", COOKIE_A);
    let home = t.home.to_str().unwrap();
    let o = under_op(&c, &t, &[("DISPLAY", ":53"), ("HOME", home)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(cookies(&t, &target_file(&t), ":53"), [COOKIE_A]);
    forget(&t, &target_file(&t), ":53");
    // A client that smuggles escapes' facts into op's environment cannot become root.
    let o = under_op(
        &c,
        &t,
        &[("DISPLAY", ":53"), ("HOME", home), ("ESCAPES_CALLER_UID", "0"), ("ESCAPES_CALLER_GID", "0")],
    );
    assert_eq!(code(&o), 77, "{}", err(&o));
    assert_eq!(cookies(&t, &target_file(&t), ":53"), Vec::<String>::new());
    forget(&c, &caller_file(&c), ":53");
}

#[test]
fn inside_coat_the_entry_is_still_removed_after_the_command() {
    // op-jacket(7l): jacket=/usr/local/libexec/jacket/coat COAT=stamp,xdisplay. Here xdisplay is
    // coat's inner jacket: the command is coat's child, not xdisplay's.
    let (c, t) = (caller(), target());
    add_cookie(&c, &caller_file(&c), ":54", COOKIE_A);
    let mut env = escapes_env(&c, ":54", t.home.to_str().unwrap());
    env.push(("COAT".into(), "xdisplay".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cmd = "/usr/bin/xauth -q -f \"$HOME/.Xauthority\" list :54 | cut -d' ' -f5; exit 6";
    let run = support::op_jacket("coat", &env, (t.uid, t.gid), t.home.to_str().unwrap(), cmd);
    assert_eq!(code(&run.jacket), 6, "{}", err(&run.jacket));
    assert_eq!(run.reply, "$DISPLAY=:54\n-COAT\n0\n");
    assert_eq!(run.cmd_out, format!("{COOKIE_A}\n"), "{}", run.cmd_err);
    assert_eq!(cookies(&t, &target_file(&t), ":54"), Vec::<String>::new());
    forget(&c, &caller_file(&c), ":54");
}
