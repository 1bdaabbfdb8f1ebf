//! proxy-agent with the real ssh-agent, ssh-add and ssh-keygen: the caller's agent (run as the
//! caller, with a key in it) listed by `ssh-add -l` run as the target through the proxied path;
//! the private directory; cleanup; and the attacks on the source socket.

mod support;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{code, err, out, run_with, JacketRun};

fn as_user(ids: (u32, u32), program: &str) -> Command {
    let mut c = Command::new(program);
    c.uid(ids.0).gid(ids.1).env_clear().env("PATH", "/usr/bin:/bin").current_dir("/").stdin(Stdio::null());
    c
}

/// A real ssh-agent run as `owner` in its own 0700 directory, holding one fresh ed25519 key.
struct Agent {
    child: Child,
    dir: PathBuf,
    sock: PathBuf,
    fingerprint: String,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn agent(owner: (u32, u32)) -> Agent {
    let dir = support::scratch("agent");
    std::os::unix::fs::chown(&dir, Some(owner.0), Some(owner.1)).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    let key = dir.join("key");
    let o = as_user(owner, "/usr/bin/ssh-keygen")
        .env("HOME", &dir)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "escapes-proxy-test", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success(), "ssh-keygen: {}", err(&o));
    let sock = dir.join("agent.sock");
    let child = as_user(owner, "/usr/bin/ssh-agent")
        .env("HOME", &dir)
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !sock.exists() {
        assert!(t.elapsed() < Duration::from_secs(10), "ssh-agent did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o =
        as_user(owner, "/usr/bin/ssh-add").env("HOME", &dir).env("SSH_AUTH_SOCK", &sock).arg(&key).output().unwrap();
    assert!(o.status.success(), "ssh-add: {}", err(&o));
    let o = Command::new("/usr/bin/ssh-keygen").arg("-lf").arg(dir.join("key.pub")).output().unwrap();
    let fingerprint = out(&o).split_whitespace().nth(1).unwrap().to_string();
    assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
    Agent { child, dir, sock, fingerprint }
}

fn caller() -> (u32, u32) {
    support::user("escapes-test")
}

fn target() -> (u32, u32) {
    support::user("escapes-other")
}

fn escapes_env(caller: (u32, u32), sock: &Path) -> Vec<(String, String)> {
    vec![
        ("ESCAPES_CALLER_UID".into(), caller.0.to_string()),
        ("ESCAPES_CALLER_GID".into(), caller.1.to_string()),
        ("SSH_AUTH_SOCK".into(), sock.to_str().unwrap().into()),
    ]
}

fn jacket(env: &[(String, String)], target: (u32, u32), command: &str) -> JacketRun {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    support::op_jacket("proxy-agent", &env, target, "/", command)
}

/// The path the reply gave the command in `var`.
fn proxied(reply: &str, var: &str) -> PathBuf {
    let prefix = format!("${var}=");
    let line = reply.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {prefix} in {reply:?}"));
    PathBuf::from(&line[prefix.len()..])
}

fn assert_removed(sock: &Path) {
    assert!(!sock.exists(), "{} left behind", sock.display());
    assert!(!sock.parent().unwrap().exists(), "{} left behind", sock.parent().unwrap().display());
}

#[test]
fn the_target_lists_the_callers_key_through_the_proxy() {
    let a = agent(caller());
    let run = jacket(&escapes_env(caller(), &a.sock), target(), "ssh-add -l");
    assert_eq!(code(&run.jacket), 0, "{}{}", err(&run.jacket), run.cmd_err);
    assert!(run.cmd_out.contains(&a.fingerprint), "{:?} {:?}", run.cmd_out, run.cmd_err);
    let path = proxied(&run.reply, "SSH_AUTH_SOCK");
    let s = path.to_str().unwrap();
    assert!(s.starts_with("/tmp/ssh-") && s.contains("/agent."), "{s}");
    assert_eq!(run.reply, format!("$SSH_AUTH_SOCK={s}\n0\n"));
    assert_removed(&path);
}

#[test]
fn the_directory_and_socket_belong_to_the_target_alone() {
    let a = agent(caller());
    let run = jacket(
        &escapes_env(caller(), &a.sock),
        target(),
        "stat -c '%u %g %a %F' \"${SSH_AUTH_SOCK%/*}\" \"$SSH_AUTH_SOCK\"",
    );
    assert_eq!(code(&run.jacket), 0, "{}", err(&run.jacket));
    let (u, g) = target();
    assert_eq!(run.cmd_out, format!("{u} {g} 700 directory\n{u} {g} 600 socket\n"), "{}", run.cmd_err);
}

#[test]
fn the_proxy_is_removed_after_the_command_also_when_it_is_killed() {
    let a = agent(caller());
    let run = jacket(&escapes_env(caller(), &a.sock), target(), "ssh-add -l; exit 3");
    assert_eq!(code(&run.jacket), 3, "{}", err(&run.jacket));
    assert!(run.cmd_out.contains(&a.fingerprint));
    assert_removed(&proxied(&run.reply, "SSH_AUTH_SOCK"));
    let run = jacket(&escapes_env(caller(), &a.sock), target(), "ssh-add -l; kill -9 $$");
    assert_eq!(code(&run.jacket), 128 + 9, "{}", err(&run.jacket));
    assert!(run.cmd_out.contains(&a.fingerprint));
    assert_removed(&proxied(&run.reply, "SSH_AUTH_SOCK"));
}

/// Waits for `file` to appear.
fn wait_for(file: &Path) {
    let t = Instant::now();
    while !file.exists() {
        assert!(t.elapsed() < Duration::from_secs(30), "{} never appeared", file.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A directory every test user can write in, for runs to leave notes in.
fn notes() -> PathBuf {
    let d = support::scratch("notes");
    fs::set_permissions(&d, fs::Permissions::from_mode(0o777)).unwrap();
    d
}

#[test]
fn the_target_of_another_run_cannot_reach_this_runs_proxy() {
    let a = agent(caller());
    let n = notes();
    let env_a = escapes_env(caller(), &a.sock);
    let n_a = n.clone();
    let run_a = std::thread::spawn(move || {
        let cmd = format!(
            "echo \"$SSH_AUTH_SOCK\" > {n}/a.path; while [ ! -e {n}/b.done ]; do sleep 0.05; done",
            n = n_a.display()
        );
        jacket(&env_a, target(), &cmd)
    });
    wait_for(&n.join("a.path"));
    // Run B: the caller escalates to itself; its command tries run A's socket, then its own.
    let cmd = format!(
        "SSH_AUTH_SOCK=$(cat {n}/a.path) ssh-add -l; echo \"other=$?\"; ssh-add -l >/dev/null; echo \"own=$?\"; touch {n}/b.done",
        n = n.display()
    );
    let run_b = jacket(&escapes_env(caller(), &a.sock), caller(), &cmd);
    let run_a = run_a.join().unwrap();
    assert_eq!(code(&run_b.jacket), 0, "{}", err(&run_b.jacket));
    assert!(run_b.cmd_out.contains("other=2\n"), "{} {}", run_b.cmd_out, run_b.cmd_err);
    assert!(run_b.cmd_err.contains("Permission denied"), "{}", run_b.cmd_err);
    assert!(run_b.cmd_out.ends_with("own=0\n"), "{}", run_b.cmd_out);
    assert_eq!(code(&run_a.jacket), 0, "{}", err(&run_a.jacket));
    fs::remove_dir_all(&n).unwrap();
}

fn refused(env: &[(String, String)], why: &str) {
    let run = jacket(env, target(), "echo ran");
    assert_eq!(code(&run.jacket), 77, "{}", err(&run.jacket));
    assert_eq!(run.reply, "77\n");
    assert_eq!(run.cmd_out, "", "the command must not run");
    assert!(err(&run.jacket).contains(why), "{why}: {}", err(&run.jacket));
}

#[test]
fn roots_agent_is_refused_to_the_caller() {
    let a = agent((0, 0));
    refused(&escapes_env(caller(), &a.sock), "cannot examine it as uid");
    // Even a root agent socket the caller could reach is not the caller's.
    fs::set_permissions(&a.dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&a.sock, fs::Permissions::from_mode(0o666)).unwrap();
    refused(&escapes_env(caller(), &a.sock), "is owned by uid 0");
}

#[test]
fn another_users_agent_is_refused() {
    let a = agent(target());
    refused(&escapes_env(caller(), &a.sock), "cannot examine it as uid");
    fs::set_permissions(&a.dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&a.sock, fs::Permissions::from_mode(0o666)).unwrap();
    refused(&escapes_env(caller(), &a.sock), "not the caller's");
}

#[test]
fn a_callers_symlink_to_roots_agent_is_refused() {
    let root = agent((0, 0));
    fs::set_permissions(&root.dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&root.sock, fs::Permissions::from_mode(0o666)).unwrap();
    let d = support::scratch("link");
    std::os::unix::fs::chown(&d, Some(caller().0), Some(caller().1)).unwrap();
    let link = d.join("agent");
    std::os::unix::fs::symlink(&root.sock, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(caller().0), Some(caller().1)).unwrap();
    refused(&escapes_env(caller(), &link), "is not a socket");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_callers_socket_served_by_root_is_refused() {
    // The caller owns the socket file, but root listens on it: SO_PEERCRED tells.
    let d = support::scratch("peer");
    let sock = d.join("sock");
    let listener = UnixListener::bind(&sock).unwrap();
    std::os::unix::fs::lchown(&sock, Some(caller().0), Some(caller().1)).unwrap();
    fs::set_permissions(&sock, fs::Permissions::from_mode(0o777)).unwrap();
    let server = std::thread::spawn(move || {
        // Answer like an agent would, so only the credential check can refuse it.
        for s in listener.incoming().take(1) {
            let mut s = s.unwrap();
            let _ = s.write_all(b"\0\0\0\x01\x0c");
        }
    });
    refused(&escapes_env(caller(), &sock), "not by the caller");
    let _ = UnixStream::connect(&sock);
    server.join().unwrap();
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_missing_source_is_refused_and_an_unset_one_means_no_proxy() {
    let run = jacket(&escapes_env(caller(), Path::new("/tmp/escapes-no-such-agent")), target(), "echo ran");
    assert_eq!((code(&run.jacket), run.reply.as_str()), (66, "66\n"), "{}", err(&run.jacket));
    let mut env = escapes_env(caller(), Path::new("/x"));
    env.retain(|(k, _)| k != "SSH_AUTH_SOCK");
    let run = jacket(&env, target(), "echo \"ran ${SSH_AUTH_SOCK-unset}\"");
    assert_eq!(code(&run.jacket), 0, "{}", err(&run.jacket));
    assert_eq!((run.reply.as_str(), run.cmd_out.as_str()), ("0\n", "ran unset\n"));
}

#[test]
fn helmet_mode_is_refused() {
    let o = run_with("proxy-agent", &support::helmet_args("/bin/sh", "0:0"), &[("SSH_AUTH_SOCK", "/tmp/x")]);
    assert_eq!((code(&o), out(&o)), (64, "64\n".into()));
    assert!(err(&o).contains("only as a jacket"), "{}", err(&o));
}

#[test]
fn from_env_and_to_choose_the_variables_and_the_path() {
    let a = agent(caller());
    let mut env = escapes_env(caller(), &a.sock);
    env.retain(|(k, _)| k != "SSH_AUTH_SOCK");
    env.push(("CALLER_AGENT".into(), a.sock.to_str().unwrap().into()));
    env.push(("SPROXY_FROM".into(), "CALLER_AGENT".into()));
    env.push(("SPROXY_ENV".into(), "SSH_AUTH_SOCK".into()));
    env.push(("SPROXY_TO".into(), "/tmp/escapes-prx-XXXXXX/s.XXXXXX.XXXXXX".into()));
    let run = jacket(&env, target(), "ssh-add -l");
    assert_eq!(code(&run.jacket), 0, "{}", err(&run.jacket));
    assert!(run.cmd_out.contains(&a.fingerprint), "{}", run.cmd_err);
    let path = proxied(&run.reply, "SSH_AUTH_SOCK");
    let s = path.to_str().unwrap();
    assert!(s.starts_with("/tmp/escapes-prx-") && !s.contains("XXXXXX"), "{s}");
    assert_eq!(s.len(), "/tmp/escapes-prx-XXXXXX/s.XXXXXX.XXXXXX".len());
    let mut lines: Vec<&str> = run.reply.lines().collect();
    assert_eq!(lines.remove(0), format!("$SSH_AUTH_SOCK={s}"));
    lines.sort();
    assert_eq!(lines, ["-SPROXY_ENV", "-SPROXY_FROM", "-SPROXY_TO", "0"]);
    assert_removed(&path);
}

#[test]
fn bad_templates_and_untrusted_parents_are_refused() {
    let a = agent(caller());
    let loose = support::scratch("loose");
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o777)).unwrap();
    let loose_t = format!("{}/d-XXXXXX/s.XXXXXX", loose.display());
    for t in [
        "/tmp/ssh-XXXXXX/agent",
        "relative/d-XXXXXX/s.XXXXXX",
        "/tmp/XXXXXX/d-XXXXXX/s.XXXXXX",
        "/tmp/../etc/d-XXXXXX/s.XXXXXX",
        "/nonexistent/d-XXXXXX/s.XXXXXX",
        loose_t.as_str(),
    ] {
        let mut env = escapes_env(caller(), &a.sock);
        env.push(("SPROXY_TO".into(), t.into()));
        let run = jacket(&env, target(), "echo ran");
        assert_eq!(code(&run.jacket), 78, "{t}: {}", err(&run.jacket));
        assert_eq!(run.cmd_out, "");
    }
    assert_eq!(fs::read_dir(&loose).unwrap().count(), 0);
    fs::remove_dir_all(&loose).unwrap();
}

fn agent_request(sock: &Path) -> UnixStream {
    let mut s = UnixStream::connect(sock).unwrap();
    // SSH2_AGENTC_REQUEST_IDENTITIES, whose answer is never read.
    s.write_all(b"\0\0\0\x01\x0b").unwrap();
    s
}

#[test]
fn stuck_and_surplus_connections_do_not_wedge_the_proxy() {
    let a = agent(caller());
    let n = notes();
    let env = escapes_env(caller(), &a.sock);
    let n2 = n.clone();
    let run = std::thread::spawn(move || {
        let cmd = format!(
            "echo \"$SSH_AUTH_SOCK\" > {n}/path
             while [ ! -e {n}/go1 ]; do sleep 0.05; done
             ssh-add -l > {n}/r1 2>&1; echo \"rc=$?\" >> {n}/r1
             while [ ! -e {n}/go2 ]; do sleep 0.05; done
             ssh-add -l > {n}/r2 2>&1; echo \"rc=$?\" >> {n}/r2",
            n = n2.display()
        );
        jacket(&env, target(), &cmd)
    });
    wait_for(&n.join("path"));
    let sock = PathBuf::from(fs::read_to_string(n.join("path")).unwrap().trim());
    // Phase 1: stuck peers (a request never read, a message never finished, idle ones).
    let mut stuck: Vec<UnixStream> = (0..10).map(|_| agent_request(&sock)).collect();
    let mut half = UnixStream::connect(&sock).unwrap();
    half.write_all(b"\0\x01\0\0\x0b partial").unwrap();
    stuck.push(half);
    stuck.extend((0..10).map(|_| UnixStream::connect(&sock).unwrap()));
    fs::write(n.join("go1"), "").unwrap();
    wait_for(&n.join("r1"));
    std::thread::sleep(Duration::from_millis(300));
    let r1 = fs::read_to_string(n.join("r1")).unwrap();
    assert!(r1.contains(&a.fingerprint) && r1.ends_with("rc=0\n"), "{r1}");
    drop(stuck);
    // Phase 2: far more connections than the cap; the surplus is closed at once.
    std::thread::sleep(Duration::from_millis(300));
    let mut many: Vec<UnixStream> = (0..100).map(|_| UnixStream::connect(&sock).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut closed = 0;
    for s in many.iter_mut() {
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        if matches!(s.read(&mut [0u8; 1]), Ok(0)) {
            closed += 1;
        }
    }
    assert!(closed >= 100 - 64, "only {closed} of 100 closed");
    drop(many);
    std::thread::sleep(Duration::from_millis(500));
    fs::write(n.join("go2"), "").unwrap();
    let run = run.join().unwrap();
    assert_eq!(code(&run.jacket), 0, "{}", err(&run.jacket));
    let r2 = fs::read_to_string(n.join("r2")).unwrap();
    assert!(r2.contains(&a.fingerprint) && r2.ends_with("rc=0\n"), "{r2}");
    assert_removed(&sock);
    fs::remove_dir_all(&n).unwrap();
}

#[test]
fn under_op_the_real_uid_is_the_caller() {
    let a = agent(caller());
    let (c, t) = (caller(), target());
    let d = support::scratch("opjacket");
    fs::set_permissions(&d, fs::Permissions::from_mode(0o777)).unwrap();
    // op's shape with op's credentials: real uid the client's, effective uid 0, groups the
    // target's; the command reads the reply, then lists keys as the target.
    let driver = format!(
        r#"mkfifo {d}/pipe
( reply=$(cat {d}/pipe); echo "$reply" > {d}/reply
  sock=$(echo "$reply" | sed -n 's/^\$SSH_AUTH_SOCK=//p')
  SSH_AUTH_SOCK=$sock setpriv --reuid={tu} --regid={tg} --clear-groups ssh-add -l > {d}/out 2>&1 ) &
exec setpriv --ruid={cu} --euid=0 --rgid={tg} --egid={tg} --groups={tg} "$0" -P $! -C c -- m /bin/sh {tu}:{tg} users:x > {d}/pipe"#,
        d = d.display(),
        tu = t.0,
        tg = t.1,
        cu = c.0
    );
    let o: Output = Command::new("/bin/sh")
        .args(["-c", &driver, support::bin("proxy-agent")])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SSH_AUTH_SOCK", &a.sock)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", err(&o));
    let listed = fs::read_to_string(d.join("out")).unwrap();
    assert!(listed.contains(&a.fingerprint), "{listed}");
    let meta = fs::metadata(&d).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o777);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_sigterm_to_the_jacket_reaches_the_command_and_the_proxy_is_still_removed() {
    let a = agent(caller());
    let n = notes();
    let env = escapes_env(caller(), &a.sock);
    let n2 = n.clone();
    let run = std::thread::spawn(move || {
        let cmd = format!(
            "echo \"$SSH_AUTH_SOCK\" > {n}/path.tmp; echo $PPID > {n}/jacket; mv {n}/path.tmp {n}/path; exec sleep 30",
            n = n2.display()
        );
        jacket(&env, target(), &cmd)
    });
    wait_for(&n.join("path"));
    let sock = PathBuf::from(fs::read_to_string(n.join("path")).unwrap().trim());
    let jacket_pid = fs::read_to_string(n.join("jacket")).unwrap();
    assert!(sock.exists());
    let t = Instant::now();
    let st = Command::new("/bin/kill").args(["-TERM", jacket_pid.trim()]).status().unwrap();
    assert!(st.success());
    let run = run.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(code(&run.jacket), 128 + 15, "{}", err(&run.jacket));
    assert_removed(&sock);
    fs::remove_dir_all(&n).unwrap();
}

#[test]
fn inside_coat_the_proxy_serves_the_command_and_is_removed_after_it() {
    let a = agent(caller());
    let mut env = escapes_env(caller(), &a.sock);
    env.push(("COAT".into(), "proxy-agent".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = support::op_jacket("coat", &env, target(), "/", "ssh-add -l; exit 4");
    assert_eq!(code(&run.jacket), 4, "{}", err(&run.jacket));
    assert!(run.cmd_out.contains(&a.fingerprint), "{} {}", run.cmd_out, run.cmd_err);
    let path = proxied(&run.reply, "SSH_AUTH_SOCK");
    assert!(run.reply.ends_with("-COAT\n0\n"), "{}", run.reply);
    let t = Instant::now();
    while path.parent().unwrap().exists() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_removed(&path);
}
