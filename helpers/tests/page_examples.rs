//! The examples of op-jacket(7l), run as the page writes them (with the installed path
//! `/usr/local/libexec/jacket/NAME` replaced by the binary under test).

mod support;

use escapes_helpers::signed::{hex, sha256_of};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use support::{bin, code, err, out, run_with, strings};

/// The page's test driver line, verbatim but for the path:
///
/// ```text
/// ( sleep 5 & \
/// exec /usr/local/libexec/jacket/envauth -P $! -- \
///   true /usr/bin/true 0:0 test:case1 )
/// ```
fn page_test_invocation(helper: &str, env: &[(&str, &str)]) -> Output {
    let line = format!("( sleep 5 & \\\nexec {} -P $! -- \\\n  true /usr/bin/true 0:0 test:case1 )", bin(helper));
    Command::new("/bin/sh")
        .args(["-c", &line])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The page's envauth check, written as parameters: the run "should succeed ... since the value
/// of $XTERM_LOCALE is "C" not "polish"" and "fails when the variable is unset as well". So
/// XTERM_LOCALE must be set (`_VAR_` with the empty RE, which matches any value) and must not be
/// polish (`_NOT_`); any other value passes.
const XTERM_LOCALE_CHECK: [(&str, &str); 2] =
    [("ENVAUTH_VAR_XTERM_LOCALE", ""), ("ENVAUTH_NOT_XTERM_LOCALE", "^polish$")];

fn envauth_page_run(locale: Option<&str>) -> Output {
    let mut env = XTERM_LOCALE_CHECK.to_vec();
    if let Some(l) = locale {
        env.push(("XTERM_LOCALE", l));
    }
    page_test_invocation("envauth", &env)
}

#[test]
fn envauth_page_test_succeeds_when_xterm_locale_is_c() {
    let o = envauth_page_run(Some("C"));
    assert_eq!(code(&o), 0, "{}", err(&o));
    // The deletions come in environment order, which the shell chooses.
    let mut lines: Vec<String> = out(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.pop().as_deref(), Some("0"));
    lines.sort();
    assert_eq!(lines, ["-ENVAUTH_NOT_XTERM_LOCALE", "-ENVAUTH_VAR_XTERM_LOCALE"]);
}

#[test]
fn envauth_page_test_fails_when_xterm_locale_is_polish() {
    let o = envauth_page_run(Some("polish"));
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()), "{}", err(&o));
}

#[test]
fn envauth_page_test_fails_when_xterm_locale_is_unset() {
    let o = envauth_page_run(None);
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()), "{}", err(&o));
}

#[test]
fn envauth_dash_v_prints_the_version_and_the_parameters() {
    // "envauth -V: Output the version and environment parameters"
    let o = run_with("envauth", &strings(&["-V"]), &[]);
    assert_eq!(code(&o), 0);
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("envauth: escapes-helpers "));
    assert_eq!(lines[1], "envauth: ENVAUTH_VAR_<name>, ENVAUTH_NOT_<name>, ENVAUTH_WARN, ENVAUTH_REVEAL");
}

/// `jacket=/usr/local/libexec/jacket/timebox $TIMEBOX_INSIDE=000000<=%H%M%s<045960`: `%s` is
/// strftime's seconds since the epoch, so the middle operand is HHMM followed by ten digits of
/// epoch seconds, a number far above 045960. The window is never open (the unit tests in
/// src/timebox/tests.rs pin this at midnight and 04:59); the spec the page describes, midnight
/// to before 05:00, is `000000<=%H%M%S<045960`.
#[test]
fn timebox_page_jacket_example_never_opens() {
    let o = page_test_invocation("timebox", &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "000000<=%H%M%s<045960")]);
    assert_eq!((code(&o), out(&o)), (77, "77\n".into()), "{}", err(&o));
}

#[test]
fn timebox_page_test_invocation() {
    let o = page_test_invocation("timebox", &[("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H")]);
    assert_eq!((code(&o), out(&o)), (0, "-TIMEBOX_INSIDE\n0\n".into()), "{}", err(&o));
}

#[test]
fn manifest_page_test_invocation() {
    let d = support::trusted_scratch("manifest");
    let list = d.join("list");
    fs::write(&list, "^/usr/bin/true$\n77=.*\n").unwrap();
    fs::set_permissions(&list, fs::Permissions::from_mode(0o644)).unwrap();
    let o = page_test_invocation("manifest", &[("MANIFEST_LIST", list.to_str().unwrap())]);
    assert_eq!((code(&o), out(&o)), (0, "-MANIFEST_LIST\n0\n".into()), "{}", err(&o));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn signed_page_test_invocation() {
    let digest = hex(&sha256_of(fs::File::open("/usr/bin/true").unwrap()).unwrap());
    let o = page_test_invocation("signed", &[("SIGNED_SHA256", &digest)]);
    assert_eq!((code(&o), out(&o)), (0, "-SIGNED_SHA256\n0\n".into()), "{}", err(&o));
}

#[test]
fn coat_page_test_invocation() {
    let list = format!("{}:{}", bin("timebox"), bin("envauth"));
    let env = [
        ("COAT", list.as_str()),
        ("TZ", "UTC"),
        ("TIMEBOX_INSIDE", "0<=%H"),
        ("ENVAUTH_NOT_XTERM_LOCALE", "^polish$"),
        ("XTERM_LOCALE", "C"),
    ];
    let o = page_test_invocation("coat", &env);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-TIMEBOX_INSIDE\n-ENVAUTH_NOT_XTERM_LOCALE\n-COAT\n0\n");
}

#[test]
fn sheval_page_test_invocation() {
    let o = page_test_invocation("sheval", &[("SHEVAL_SET_MyARCH", "/usr/bin/uname -p")]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).starts_with("$MyARCH="), "{}", out(&o));
    assert!(out(&o).ends_with("\n-SHEVAL_SET_MyARCH\n0\n"), "{}", out(&o));
}

#[test]
fn xdisplay_page_test_invocation_without_a_display_does_nothing() {
    let o = page_test_invocation("xdisplay", &[("HOME", "/root")]);
    assert_eq!((code(&o), out(&o)), (0, "0\n".into()), "{}", err(&o));
}

#[test]
fn proxy_agent_page_test_invocation_without_an_agent_does_nothing() {
    let o = page_test_invocation("proxy-agent", &[]);
    assert_eq!((code(&o), out(&o)), (0, "0\n".into()), "{}", err(&o));
}

/// `jacket=/usr/local/libexec/jacket/coat COAT=stamp,xdisplay`: helpers named, not pathed,
/// are the ones installed beside coat. stamp is not in this tree; timebox stands in for it.
#[test]
fn coat_page_example_names_helpers_beside_coat() {
    let env = [("COAT", "timebox,xdisplay"), ("TZ", "UTC"), ("TIMEBOX_INSIDE", "0<=%H"), ("HOME", "/root")];
    let o = page_test_invocation("coat", &env);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), "-TIMEBOX_INSIDE\n-COAT\n0\n");
    let o = page_test_invocation("coat", &[("COAT", "nosuchhelper,xdisplay")]);
    assert_eq!(code(&o), 78, "{}", err(&o));
    assert!(err(&o).contains("names no helper beside coat"), "{}", err(&o));
}

/// The page's synopsis: `op-jacket -h|-H` and `op-jacket -V`, for every helper.
#[test]
fn every_helper_answers_the_pages_h_capital_h_and_v() {
    for name in ["timebox", "envauth", "manifest", "signed", "coat", "sheval", "xdisplay", "proxy-agent"] {
        let v = run_with(name, &strings(&["-V"]), &[]);
        assert_eq!(code(&v), 0, "{name}");
        let text = out(&v);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{name}: {text}");
        assert!(lines[0].starts_with(&format!("{name}: escapes-helpers ")));
        assert!(lines[1].starts_with(&format!("{name}: ")) && lines[1].contains("_WARN"));
        let h = run_with(name, &strings(&["-h"]), &[]);
        assert_eq!(code(&h), 0);
        assert!(out(&h).starts_with(&format!("usage: {name} [-P pid]")), "{name}");
        let g = run_with(name, &strings(&["-H"]), &[]);
        assert_eq!(code(&g), 0);
        assert!(out(&g).lines().count() >= 2 && out(&g).lines().all(|l| l.contains('=')));
    }
}
