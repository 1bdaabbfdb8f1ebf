//! The seccomp filters of the network child and the parse child kill them on a syscall
//! audit/syscalls does not list. A debug build with the `seccomp-test-hook` feature makes the
//! network child call getppid (unlisted) right after installing its filter, and the parse child
//! do the same for a grant that starts with `seccomp-test-hook`. escapes must then refuse: exit
//! 1, nothing run, one stderr line, one `refused` audit record (and, for the network child, no
//! request ever reached the IdP).

mod support;

use escapes_testidp::{GrantSpec, GrantType, Idp};
use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::*;

const CA: &str = "/run/escapes-test/etc/ca.pem";
const MARK: &str = "/run/escapes-test/ran-seccomp";

/// Builds escapes with the hook into its own target directory (the normal test binary stays
/// hook-free) and installs it setuid root next to the fixture's binary.
fn hooked_binary() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seccomp-hook");
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--offline", "-q", "-p", "escapes", "--bin", "escapes", "--features", "seccomp-test-hook"])
        .env("CARGO_TARGET_DIR", &target)
        .env("ESCAPES_CONFIG_PATH", config_path())
        .env_remove("ESCAPES_CACHE_DIR");
    if let Some(cache) = option_env!("ESCAPES_CACHE_DIR") {
        c.env("ESCAPES_CACHE_DIR", cache);
    }
    let st = c.status().expect("run cargo build");
    assert!(st.success(), "cargo build --features seccomp-test-hook failed");
    let dst = Path::new(ROOT).join("bin/escapes-seccomp-hook");
    let _ = fs::remove_file(&dst);
    fs::copy(target.join("debug/escapes"), &dst).unwrap();
    chown(&dst, Some(0), Some(0)).unwrap();
    fs::set_permissions(&dst, fs::Permissions::from_mode(0o4755)).unwrap();
    dst
}

/// `bin --grant GRANT -- touch MARK` as the test user: its output, and whether MARK appeared.
fn touch_marker(f: &Fixture, bin: &Path, grant: &str) -> (std::process::Output, bool) {
    let _ = fs::remove_file(MARK);
    let o = Command::new(bin)
        .args(["--grant", grant, "--", "touch", MARK])
        .env_clear()
        .current_dir("/")
        .uid(f.uid)
        .gid(f.gid)
        .stdin(Stdio::null())
        .output()
        .expect("spawn the hooked escapes");
    let ran = Path::new(MARK).exists();
    let _ = fs::remove_file(MARK);
    (o, ran)
}

#[test]
fn a_syscall_outside_the_network_list_kills_the_network_child() {
    let f = Fixture::new();
    let hooked = hooked_binary();
    let idp = Idp::start();
    write_root_file(CA, idp.ca_pem(), 0o644);
    f.write_config(&format!(
        "host = \"testhost\"\naudit_log = \"{ROOT}/log/audit.log\"\n\n[security]\nallowed_issuers = [\"{}\"]\nallowed_approvers = [\"{APPROVER}\"]\noffline = false\n\n[tls]\nca_bundle = \"{CA}\"\n",
        idp.issuer()
    ));
    let g = idp.issue(GrantSpec::new(GrantType::Once, &["touch", MARK]));
    let (o, ran) = touch_marker(&f, &hooked, &g.token);
    let _ = fs::remove_file(&hooked);
    assert_eq!((code(&o), ran), (1, false), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("ended without an answer"), "{}", stderr(&o));
    let audit = f.audit();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["event"], "refused");
    assert_eq!(idp.jwks_fetches(), 0, "the child died before sending anything");
    assert_eq!(idp.consume_calls(&g.id), 0);

    // The same grant through the normal binary works: the filter itself is not the problem.
    let (o2, ran2) = {
        let o = f.run_grant(&g.token, &["touch", MARK]);
        let ran = Path::new(MARK).exists();
        let _ = fs::remove_file(MARK);
        (o, ran)
    };
    assert_eq!((code(&o2), ran2), (0, true), "{}", stderr(&o2));
}

#[test]
fn a_syscall_outside_the_parse_list_kills_the_parse_child() {
    let f = Fixture::new();
    let hooked = hooked_binary();
    let good = f.token(&f.claims(&["touch", MARK]));
    let (o, ran) = touch_marker(&f, &hooked, &format!("seccomp-test-hook{good}"));
    assert_eq!((code(&o), ran), (1, false), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("killed for a syscall outside its seccomp list"), "{}", stderr(&o));
    let rec = f.last_audit();
    assert_eq!((rec["event"].as_str(), rec["error"].as_str()), (Some("refused"), Some("sandbox")), "{rec}");

    // The hook fires only on its marker: the same binary parses a plain grant and runs it.
    let (o, ran) = touch_marker(&f, &hooked, &good);
    let _ = fs::remove_file(&hooked);
    assert_eq!((code(&o), ran), (0, true), "{}", stderr(&o));
}
