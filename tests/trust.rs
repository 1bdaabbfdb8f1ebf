//! `escapes trust` against the real test IdP (tools/testidp, TLS on loopback), run through the
//! installed setuid binary: as root it fetches the discovery document and the keys, shows them
//! and writes the config (merging, pinning on request); as anyone else it refuses before any
//! byte goes to the network. Every child has a timeout and a null stdin; every test puts the
//! shared fixture back as it found it.

mod support;

use escapes_testidp::{Idp, Options};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

const CA: &str = "/run/escapes-test/etc/ca.pem";
const LIMIT: Duration = Duration::from_secs(60);

/// Waits for `child` at most LIMIT, killing it then (a hung test must not hold the lock).
fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait") {
            Some(_) => return child.wait_with_output().expect("output"),
            None if start.elapsed() > LIMIT => {
                let _ = child.kill();
                let o = child.wait_with_output().expect("output");
                panic!("escapes did not finish in {LIMIT:?}: {}", stderr(&o));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn piped(mut c: Command) -> Output {
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    finish(c.spawn().expect("spawn escapes"))
}

/// The installed binary as root (real uid 0), clean environment, cwd `/`, no stdin.
fn as_root(f: &Fixture, args: &[&str]) -> Output {
    let mut c = Command::new(&f.bin);
    c.args(args).env_clear().current_dir("/");
    piped(c)
}

fn trust(f: &Fixture, idp_url: &str, extra: &[&str]) -> Output {
    let mut a = vec!["trust", "--idp", idp_url, "--approvers", "a@x.example,b@y.example", "--ca-bundle", CA];
    a.extend_from_slice(extra);
    as_root(f, &a)
}

fn config() -> String {
    fs::read_to_string(config_path()).unwrap()
}

/// A fixture whose config trusts no issuer yet (just comments and unrelated settings), and the
/// test IdP's CA where --ca-bundle can find it.
fn setup(idp: &Idp) -> Fixture {
    let f = Fixture::new();
    write_root_file(CA, idp.ca_pem(), 0o644);
    f.write_config(MERGE_BASE);
    f
}

const MERGE_BASE: &str = "# the admin's own words\nhost = \"testhost\"   # kept\naudit_log = \"/run/escapes-test/log/audit.log\"\n\n[security]\n# offline: kept\noffline = true\nallowed_audiences = [\n  \"escapes\", # a comment inside an array\n]\n\n[audit]\nsyslog = \"off\"\n";

#[test]
fn shows_the_issuer_its_keys_and_the_approvers_and_writes_the_config() {
    let idp = Idp::start();
    let f = setup(&idp);
    let o = trust(&f, idp.issuer(), &[]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let kid = idp.current_kid();
    assert!(out.contains(&format!("issuer: {}\n", idp.issuer())), "{out}");
    assert!(out.contains(&format!("keys: {kid}\n")), "{out}");
    assert!(out.contains("approvers: a@x.example, b@y.example\n"), "{out}");
    let cfg = config();
    assert!(cfg.contains(&format!("allowed_issuers = [\"{}\"]\n", idp.issuer())), "{cfg}");
    assert!(cfg.contains("allowed_approvers = [\"a@x.example\", \"b@y.example\"]\n"), "{cfg}");
    assert!(cfg.contains(&format!("[tls]\nca_bundle = \"{CA}\"\n")), "{cfg}");
    assert!(!cfg.contains("[keys]"), "no pin asked for: {cfg}");
    let meta = fs::metadata(config_path()).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (0, 0, 0o644));
    assert_eq!(idp.count("GET", "/.well-known/openid-configuration"), 1);
    assert_eq!(idp.jwks_fetches(), 1);
    f.reset();
}

#[test]
fn merging_keeps_the_admins_comments_and_unrelated_settings() {
    let idp = Idp::start();
    let f = setup(&idp);
    let o = trust(&f, idp.issuer(), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let cfg = config();
    for kept in [
        "# the admin's own words\nhost = \"testhost\"   # kept\naudit_log = \"/run/escapes-test/log/audit.log\"\n\n[security]\n# offline: kept\noffline = true\nallowed_audiences = [\n  \"escapes\", # a comment inside an array\n]\n",
        "[audit]\nsyslog = \"off\"\n",
    ] {
        assert!(cfg.contains(kept), "lost {kept:?} in:\n{cfg}");
    }
    // Trusting the same issuer again changes the approvers and nothing else.
    let o = as_root(&f, &["trust", "--idp", idp.issuer(), "--approvers", "c@z.example", "--ca-bundle", CA]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(config(), cfg.replace("[\"a@x.example\", \"b@y.example\"]", "[\"c@z.example\"]"));
    f.reset();
}

#[test]
fn pin_writes_the_key_set_and_names_it_in_keys() {
    let idp = Idp::start();
    let f = setup(&idp);
    let o = trust(&f, idp.issuer(), &["--pin"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let cfg = config();
    let line =
        cfg.lines().find(|l| l.starts_with(&format!("\"{}\" = ", idp.issuer()))).unwrap_or_else(|| panic!("{cfg}"));
    let file = line.rsplit('"').nth(1).unwrap().to_string();
    assert!(file.starts_with(&format!("{ROOT}/etc/keys/")) && file.ends_with(".jwks.json"), "{file}");
    let pinned: serde_json::Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(pinned, serde_json::from_str::<serde_json::Value>(&idp.jwks()).unwrap());
    let meta = fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o644));
    let o = as_root(&f, &["--check-config"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("1 Ed25519 key(s)"), "{}", stdout(&o));
    f.reset();
}

#[test]
fn check_config_passes_on_what_trust_wrote() {
    let idp = Idp::start();
    let f = setup(&idp);
    let o = trust(&f, idp.issuer(), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stdout(&o).contains("FAIL"), "{}", stdout(&o));
    let o = as_root(&f, &["--check-config"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    f.reset();
}

#[test]
fn refuses_every_caller_but_root_before_asking_the_idp() {
    let idp = Idp::start();
    let f = setup(&idp);
    let o = piped(f.command(&["trust", "--idp", idp.issuer(), "--approvers", "evil@x", "--pin", "--replace"]));
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("only for root"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(config(), MERGE_BASE, "the config is untouched");
    assert!(!std::path::Path::new(&format!("{ROOT}/etc/keys")).exists());
    assert!(idp.requests().is_empty(), "no request reached the IdP");
    f.reset();
}

#[test]
fn refuses_a_trailing_slash_and_plain_http() {
    let idp = Idp::start();
    let f = setup(&idp);
    for url in [format!("{}/", idp.issuer()), idp.issuer().replace("https://", "http://")] {
        let o = trust(&f, &url, &[]);
        assert_eq!(code(&o), 1, "{url}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        assert_eq!(config(), MERGE_BASE);
    }
    assert!(idp.requests().is_empty());
    f.reset();
}

#[test]
fn refuses_a_discovery_document_naming_another_issuer() {
    // The document says https://localhost:PORT; asked as https://127.0.0.1:PORT.
    let idp = Idp::start_with(Options { issuer_host: "localhost".into(), ..Options::default() }).unwrap();
    let f = setup(&idp);
    let url = format!("https://127.0.0.1:{}", idp.port());
    let o = trust(&f, &url, &["--pin"]);
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(stderr(&o).contains("names issuer"), "{}", stderr(&o));
    assert_eq!(config(), MERGE_BASE);
    assert_eq!(idp.jwks_fetches(), 0, "no keys asked of an issuer that is not who it says");
    f.reset();
}

#[test]
fn another_configured_issuer_is_kept_unless_replace_is_given() {
    let idp = Idp::start();
    let f = Fixture::new(); // the default config trusts https://id.test.example, with pinned keys
    write_root_file(CA, idp.ca_pem(), 0o644);
    let before = config();
    let o = trust(&f, idp.issuer(), &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("--replace"), "{}", stderr(&o));
    assert_eq!(config(), before);
    let o = trust(&f, idp.issuer(), &["--replace", "--pin"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let cfg = config();
    assert!(!cfg.contains("https://id.test.example"), "the old issuer and its pin are gone: {cfg}");
    assert!(cfg.starts_with("# escapes integration test config\nhost = \"testhost\"\n"), "{cfg}");
    assert_eq!(code(&as_root(&f, &["--check-config"])), 0);
    f.reset();
}
