//! End-to-end behaviour of the installed setuid-root escapes binary, run as an unprivileged
//! user. Each test names the behaviour it pins down; run with `make test` (as root).

mod support;

use serde_json::{json, Value};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use support::*;

fn b64(data: &[u8]) -> String {
    // Only for tampering with segments; tokens themselves come from the minters.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

// --- the happy path -----------------------------------------------------------------------------

#[test]
fn runs_the_approved_command_as_root_and_records_it() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["id", "-u"]));
    let o = f.run_grant(&t, &["id", "-u"]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "0\n");
    let lines = f.audit();
    assert_eq!(lines.len(), 2, "a run record before exec and an exit record after: {lines:?}");
    let (run, exit) = (&lines[0], &lines[1]);
    assert_eq!(run["event"], "run");
    assert_eq!(run["result"], "allowed");
    assert_eq!(run["program"], "/usr/bin/id");
    assert_eq!(exit["event"], "exit");
    assert_eq!(exit["result"], "success");
    assert_eq!(exit["exit_code"], 0);
    assert!(exit["duration_ms"].is_i64());
    for field in [
        "timestamp",
        "grant_id",
        "requester",
        "approver",
        "issuer",
        "jti",
        "grant_type",
        "host",
        "cwd",
        "run_as",
        "real_uid",
    ] {
        assert!(!exit[field].is_null(), "exit record lacks {field}: {exit}");
    }
    assert_eq!(exit["command"], json!(["id", "-u"]));
    assert_eq!(exit["requester"], REQUESTER);
    assert_eq!(exit["approver"], APPROVER);
    assert_eq!(exit["real_uid"], f.uid);
    assert_eq!(exit["run_as"], "root");
    assert!(exit["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn accepts_a_token_minted_by_python_cryptography() {
    let f = Fixture::new();
    let claims = f.claims(&["id", "-u"]).to_string();
    let ours = mint(&["sign", "--seed", SEED, "--kid", KID, "--claims", &claims]);
    let theirs = mint_py(&["sign", "--seed", SEED, "--kid", KID, "--claims", &claims]);
    assert_eq!(ours, theirs, "Ed25519 is deterministic: both minters must agree byte for byte");
    let o = f.run_grant(&theirs, &["id", "-u"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "0\n"), "stderr: {}", stderr(&o));
}

#[test]
fn passes_the_commands_exit_code_through() {
    let f = Fixture::new();
    let argv = ["sh", "-c", "exit 7"];
    let o = f.run_grant(&f.token(&f.claims(&argv)), &argv);
    assert_eq!(code(&o), 7);
    assert_eq!(f.last_audit()["exit_code"], 7);
}

#[test]
fn reports_death_by_signal_as_128_plus_signal() {
    let f = Fixture::new();
    let argv = ["sh", "-c", "kill -TERM $$"];
    let o = f.run_grant(&f.token(&f.claims(&argv)), &argv);
    assert_eq!(code(&o), 143);
}

#[test]
fn reads_the_grant_from_stdin_and_from_a_file() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["id", "-u"]));
    let mut c = f.command(&["--grant-stdin", "--", "id", "-u"]);
    c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{t}\n").as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "0\n"));

    let path = "/tmp/escapes-test-grant";
    fs::write(path, format!("{t}\n")).unwrap();
    std::os::unix::fs::chown(path, Some(f.uid), Some(f.gid)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    let o = f.run(&["--grant-file", path, "--", "id", "-u"]);
    let _ = fs::remove_file(path);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "0\n"), "stderr: {}", stderr(&o));
}

// --- every check refuses ------------------------------------------------------------------------

#[test]
fn refuses_a_tampered_payload() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["id", "-u"]));
    let parts: Vec<&str> = t.split('.').collect();
    let evil = f.claims(&["id", "-u"]);
    let evil = with(evil, "decided_by", json!("admin@test.example"));
    let evil = with(evil, "exp", json!(now() + 999_999));
    let forged = format!("{}.{}.{}", parts[0], b64(evil.to_string().as_bytes()), parts[2]);
    let o = f.run_grant(&forged, &["id", "-u"]);
    assert_refused(&f, &o, 5, "signature_invalid");
}

#[test]
fn refuses_a_token_signed_with_another_key() {
    let f = Fixture::new();
    let t = mint(&["sign", "--seed", OTHER_SEED, "--kid", KID, "--claims", &f.claims(&["id"]).to_string()]);
    assert_refused(&f, &f.run_grant(&t, &["id"]), 5, "signature_invalid");
}

#[test]
fn refuses_an_issuer_not_in_allowed_issuers() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "iss", json!("https://evil.example"));
    let rec = assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "issuer_not_allowed");
    // Before the signature is checked, token facts are only claims.
    assert_eq!(rec["claimed_issuer"], "https://evil.example");
    assert!(rec["issuer"].is_null());
}

#[test]
fn refuses_an_unknown_kid() {
    let f = Fixture::new();
    let t = mint(&["sign", "--seed", SEED, "--kid", "key-2", "--claims", &f.claims(&["id"]).to_string()]);
    assert_refused(&f, &f.run_grant(&t, &["id"]), 5, "unknown_kid");
}

#[test]
fn refuses_any_alg_but_eddsa() {
    let f = Fixture::new();
    for alg in ["none", "HS256", "ES256", "eddsa"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{KID}"}}"#);
        let t = mint(&[
            "sign",
            "--seed",
            SEED,
            "--kid",
            KID,
            "--claims",
            &f.claims(&["id"]).to_string(),
            "--header",
            &header,
        ]);
        let o = f.run_grant(&t, &["id"]);
        assert_eq!(code(&o), 5, "alg {alg}");
        assert_eq!(f.last_audit()["error"], "alg_not_allowed");
    }
}

#[test]
fn refuses_a_token_without_kid() {
    let f = Fixture::new();
    let t = mint(&[
        "sign",
        "--seed",
        SEED,
        "--kid",
        KID,
        "--claims",
        &f.claims(&["id"]).to_string(),
        "--header",
        r#"{"alg":"EdDSA"}"#,
    ]);
    assert_refused(&f, &f.run_grant(&t, &["id"]), 5, "kid_missing");
}

#[test]
fn refuses_an_expired_grant() {
    let f = Fixture::new();
    let c = with(with(f.claims(&["id"]), "exp", json!(now() - 120)), "iat", json!(now() - 500));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "expired");
}

#[test]
fn refuses_a_grant_without_exp() {
    let f = Fixture::new();
    let c = without(f.claims(&["id"]), "exp");
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "claim_missing");
}

#[test]
fn refuses_a_grant_not_yet_valid() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "nbf", json!(now() + 600));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "not_yet_valid");
}

#[test]
fn refuses_a_grant_issued_in_the_future() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "iat", json!(now() + 600));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "issued_in_future");
}

#[test]
fn refuses_an_approver_not_in_allowed_approvers() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "decided_by", json!("mallory@test.example"));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "approver_not_allowed");
}

#[test]
fn refuses_a_foreign_audience_but_accepts_an_array_containing_ours() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "aud", json!("apes"));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "audience_not_allowed");
    let c = with(f.claims(&["id", "-u"]), "aud", json!(["other", "escapes"]));
    let o = f.run_grant(&f.token(&c), &["id", "-u"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn refuses_a_grant_for_another_host() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "target_host", json!("otherhost"));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "host_mismatch");
}

#[test]
fn uses_the_kernel_hostname_when_the_config_names_none() {
    let f = Fixture::new();
    f.write_config(&DEFAULT_CONFIG.replace("host = \"testhost\"\n", ""));
    let uname = String::from_utf8(std::process::Command::new("uname").arg("-n").output().unwrap().stdout).unwrap();
    let c = with(f.claims(&["id", "-u"]), "target_host", json!(uname.trim()));
    let o = f.run_grant(&f.token(&c), &["id", "-u"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // $HOSTNAME is the caller's and must not matter.
    let c = with(f.claims(&["id", "-u"]), "target_host", json!("spoofed"));
    let o = f.command(&["--grant", &f.token(&c), "--", "id", "-u"]).env("HOSTNAME", "spoofed").output().unwrap();
    assert_eq!(code(&o), 5);
}

#[test]
fn refuses_a_command_that_differs_from_the_approved_one() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["id", "-u"]));
    assert_refused(&f, &f.run_grant(&t, &["id", "-g"]), 5, "command_mismatch");
    f.reset();
    assert_refused(&f, &f.run_grant(&t, &["id", "-u", "root"]), 5, "command_mismatch");
    f.reset();
    let t = f.token(&f.claims(&["echo", "a", "b"]));
    assert_refused(&f, &f.run_grant(&t, &["echo", "a b"]), 5, "command_mismatch");
}

#[test]
fn accepts_a_join_form_cmd_hash_and_records_both_hashes_on_mismatch() {
    let f = Fixture::new();
    let h = mint(&["cmd-hash", "id", "-u"]);
    let c = with(without(f.claims(&[]), "command"), "cmd_hash", json!(h));
    let o = f.run_grant(&f.token(&c), &["id", "-u"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "0\n"), "{}", stderr(&o));

    f.reset();
    let rec = assert_refused(&f, &f.run_grant(&f.token(&c), &["id", "-g"]), 5, "cmd_hash_mismatch");
    assert_eq!(rec["expected_hash"], format!("sha256:{h}"));
    assert_eq!(rec["actual_hash"], format!("sha256:{}", mint(&["cmd-hash", "id", "-g"])));
}

#[test]
fn refuses_an_ambiguous_join_form_hash() {
    let f = Fixture::new();
    let h = mint(&["cmd-hash", "echo", "a", "b"]);
    let c = with(without(f.claims(&[]), "command"), "cmd_hash", json!(h));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["echo", "a b"]), 5, "cmd_hash_ambiguous");
}

#[test]
fn accepts_the_spec_form_hash_over_the_json_array() {
    let f = Fixture::new();
    let argv = ["echo", "a b", "quote\"back\\slash"];
    let json_argv = serde_json::to_string(&argv).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("printf %s \"$1\" | sha256sum")
        .arg("sh")
        .arg(&json_argv)
        .output()
        .unwrap();
    let hex = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    let c = with(without(f.claims(&[]), "command"), "cmd_hash", json!(format!("SHA-256:{hex}")));
    let o = f.run_grant(&f.token(&c), &argv);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, "a b quote\"back\\slash\n"), "{}", stderr(&o));
}

#[test]
fn refuses_a_grant_with_neither_command_nor_hash() {
    let f = Fixture::new();
    let c = without(f.claims(&[]), "command");
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "claim_missing");
}

#[test]
fn refuses_an_unknown_grant_type() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "grant_type", json!("forever"));
    assert_refused(&f, &f.run_grant(&f.token(&c), &["id"]), 5, "grant_type_invalid");
}

#[test]
fn never_runs_a_once_grant_without_the_idp() {
    let f = Fixture::new();
    let c = with(f.claims(&["id", "-u"]), "grant_type", json!("once"));
    let o = f.run_grant(&f.token(&c), &["id", "-u"]);
    let rec = assert_refused(&f, &o, 1, "idp_unreachable");
    assert!(stderr(&o).contains("IdP consume not available"));
    assert_eq!(rec["grant_type"], "once");
}

#[test]
fn refuses_duplicate_claims_non_integer_times_and_control_characters() {
    for (claims, why) in [
        (r#"{"iss":"https://id.test.example","iss":"https://x"}"#.to_string(), "duplicate key"),
        (claims_str_with("exp", "1e12"), "float exp"),
        (claims_str_with("exp", "\"9999999999\""), "string exp"),
        (claims_str_with("command", r#"["id","-u\u0000"]"#), "NUL in command"),
        (claims_str_with("sub", r#""a\nb""#), "newline in sub"),
    ] {
        let f = Fixture::new();
        let o = f.run_grant(&f.token_raw(&claims), &["id", "-u"]);
        assert_eq!(code(&o), 5, "{why}: {}", stderr(&o));
        assert_eq!(f.last_audit()["error"], "jwt", "{why}");
    }
}

/// Default claims with `key` set to `raw`, written into the JSON text verbatim.
fn claims_str_with(key: &str, raw: &str) -> String {
    let f_claims = json!({
        "iss": ISSUER, "sub": REQUESTER, "aud": "escapes", "target_host": HOST,
        "iat": now(), "exp": now() + 3600, "grant_id": "g-1", "grant_type": "always",
        "decided_by": APPROVER, "command": ["id", "-u"],
    });
    with(f_claims, key, json!("__RAW__")).to_string().replace("\"__RAW__\"", raw)
}

#[test]
fn refuses_garbage_and_oversized_grants() {
    let f = Fixture::new();
    for t in ["x", "a.b", "a.b.c.d", "....", "eyJ.eyJ.AAAA"] {
        assert_eq!(code(&f.run_grant(t, &["id"])), 5, "{t}");
    }
    let big = "A".repeat(20_000);
    let o = f.run_grant(&big, &["id"]);
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("larger than"), "{}", stderr(&o));
}

// --- run-as ------------------------------------------------------------------------------------

fn uid_of(user: &str) -> String {
    String::from_utf8(std::process::Command::new("id").arg("-u").arg(user).output().unwrap().stdout).unwrap()
}

#[test]
fn runs_as_the_approved_run_as_user() {
    let f = Fixture::new();
    let c = with(f.claims(&["id", "-u"]), "run_as", json!(OTHER_USER));
    let o = f.run_grant(&f.token(&c), &["id", "-u"]);
    assert_eq!((code(&o), stdout(&o)), (0, uid_of(OTHER_USER)), "{}", stderr(&o));
    assert_eq!(f.last_audit()["run_as"], OTHER_USER);
}

#[test]
fn refuses_a_run_as_flag_that_differs_from_the_token() {
    let f = Fixture::new();
    let c = with(f.claims(&["id", "-u"]), "run_as", json!(OTHER_USER));
    let o = f.run(&["--grant", &f.token(&c), "--run-as", "root", "--", "id", "-u"]);
    assert_refused(&f, &o, 5, "run_as_mismatch");
}

#[test]
fn run_as_flag_and_config_apply_when_the_token_names_no_user() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["id", "-u"]));
    let o = f.run(&["--grant", &t, "--run-as", OTHER_USER, "--", "id", "-u"]);
    assert_eq!(stdout(&o), uid_of(OTHER_USER));
    f.write_config(&DEFAULT_CONFIG.replace("host = ", &format!("run_as = \"{OTHER_USER}\"\nhost = ")));
    let o = f.run_grant(&t, &["id", "-u"]);
    assert_eq!(stdout(&o), uid_of(OTHER_USER), "{}", stderr(&o));
}

#[test]
fn drops_supplementary_groups_and_all_of_root() {
    let f = Fixture::new();
    let argv = ["sh", "-c", "grep -E '^(Uid|Gid|Groups):' /proc/self/status"];
    let c = with(f.claims(&argv), "run_as", json!(OTHER_USER));
    let o = f.run_grant(&f.token(&c), &argv);
    let uid = uid_of(OTHER_USER);
    let gid =
        String::from_utf8(std::process::Command::new("id").arg("-g").arg(OTHER_USER).output().unwrap().stdout).unwrap();
    let (uid, gid) = (uid.trim(), gid.trim());
    let want = format!("Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\nGroups:\t{gid} \n");
    assert_eq!(stdout(&o), want, "{}", stderr(&o));
}

#[test]
fn refuses_to_run_as_a_user_that_does_not_exist() {
    let f = Fixture::new();
    let c = with(f.claims(&["id"]), "run_as", json!("no-such-user-here"));
    let o = f.run_grant(&f.token(&c), &["id"]);
    assert_refused(&f, &o, 1, "run_as");
}

// --- the command's process ---------------------------------------------------------------------

const DANGEROUS: &[(&str, &str)] = &[
    ("LD_PRELOAD", "/tmp/evil.so"),
    ("LD_LIBRARY_PATH", "/tmp"),
    ("LD_AUDIT", "/tmp/a.so"),
    ("GLIBC_TUNABLES", "glibc.malloc.check=3"),
    ("BASH_ENV", "/tmp/x"),
    ("ENV", "/tmp/x"),
    ("IFS", "x"),
    ("PATH", "/tmp/evil:/usr/bin"),
    ("PYTHONPATH", "/tmp"),
    ("PERL5LIB", "/tmp"),
    ("SHELLOPTS", "xtrace"),
    ("PS4", "$(id)"),
    ("HOME", "/tmp/evil"),
    ("USER", "mallory"),
    ("LOGNAME", "mallory"),
    ("SHELL", "/tmp/sh"),
    ("TMPDIR", "/tmp/evil"),
    ("HOSTALIASES", "/tmp/h"),
    ("LOCALDOMAIN", "evil"),
    ("RES_OPTIONS", "debug"),
    ("NLSPATH", "/tmp/%N"),
    ("MALLOC_CHECK_", "3"),
    ("SSL_CERT_FILE", "/tmp/ca"),
    ("LANG", "../../../tmp/evil"),
    ("LC_ALL", "/tmp/loc"),
    ("TZ", "/tmp/evil-tz"),
    ("TERM", "xterm-256color"),
    ("LC_TIME", "de_DE.UTF-8"),
    ("http_proxy", "http://evil:3128"),
    ("BASH_FUNC_id%%", "() { echo pwned; }"),
    ("ESCAPES_CONFIG_PATH", "/tmp/evil.toml"),
    // escapes says who the caller is (sudo's SUDO_UID); the caller cannot say it for itself.
    ("ESCAPES_CALLER_UID", "0"),
    ("ESCAPES_CALLER_GID", "0"),
];

#[test]
fn the_command_sees_exactly_the_allow_listed_environment() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["env"]));
    let mut c = f.command(&["--grant", &t, "--", "env"]);
    for (k, v) in DANGEROUS {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut got: Vec<String> = stdout(&o).lines().map(String::from).collect();
    got.sort();
    let mut want = vec![
        "HOME=/root".to_string(),
        "LC_TIME=de_DE.UTF-8".into(),
        "LOGNAME=root".into(),
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        format!("SHELL={}", root_shell()),
        "TERM=xterm-256color".into(),
        "USER=root".into(),
        format!("ESCAPES_CALLER_UID={}", f.uid),
        format!("ESCAPES_CALLER_GID={}", f.gid),
    ];
    want.sort();
    assert_eq!(got, want);
}

fn root_shell() -> String {
    fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("root:"))
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn an_inherited_descriptor_never_reaches_the_command() {
    let f = Fixture::new();
    let argv = ["sh", "-c", "if [ -e /proc/self/fd/42 ]; then echo leaked; else echo clean; fi"];
    let t = f.token(&f.claims(&argv));
    let leak = fs::File::open("/etc/hostname").unwrap();
    let mut c = f.command(&[]);
    let mut args = vec!["--grant", t.as_str(), "--"];
    args.extend_from_slice(&argv);
    c.args(&args);
    let raw = std::os::fd::AsRawFd::as_raw_fd(&leak);
    // SAFETY: (test) dup2 in the forked child before exec, on descriptors we own.
    unsafe {
        c.pre_exec(move || {
            if libc::dup2(raw, 42) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = c.output().unwrap();
    assert_eq!(stdout(&o), "clean\n", "{}", stderr(&o));
}

#[test]
fn resolves_bare_names_with_the_safe_path_not_the_callers() {
    let f = Fixture::new();
    let dir = "/tmp/escapes-evil-path";
    fs::create_dir_all(dir).unwrap();
    fs::write(format!("{dir}/id"), "#!/bin/sh\necho evil\n").unwrap();
    fs::set_permissions(format!("{dir}/id"), fs::Permissions::from_mode(0o755)).unwrap();
    let t = f.token(&f.claims(&["id", "-u"]));
    let o = f.command(&["--grant", &t, "--", "id", "-u"]).env("PATH", dir).output().unwrap();
    assert_eq!(stdout(&o), "0\n");
}

#[test]
fn exit_127_for_a_missing_command_and_126_for_a_non_executable_one() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["no-such-command-xyz"]));
    assert_refused(&f, &f.run_grant(&t, &["no-such-command-xyz"]), 127, "exec");
    f.reset();
    let plain = format!("{ROOT}/etc/not-executable");
    write_root_file(&plain, "#!/bin/sh\necho ran\n", 0o644);
    let t = f.token(&f.claims(&[&plain]));
    assert_refused(&f, &f.run_grant(&t, &[&plain]), 126, "exec");
    // Executable bits but not a format the kernel runs: the exec itself fails, after the run
    // record, and that failure is recorded too.
    f.reset();
    let junk = format!("{ROOT}/etc/junk");
    write_root_file(&junk, "\x01\x02 not a program", 0o755);
    let t = f.token(&f.claims(&[&junk]));
    let o = f.run_grant(&t, &[&junk]);
    assert_eq!(code(&o), 126);
    let lines = f.audit();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["event"], "exec_failed");
    f.reset();
    let t = f.token(&f.claims(&["./id"]));
    assert_refused(&f, &f.run_grant(&t, &["./id"]), 127, "exec");
}

#[test]
fn records_non_utf8_arguments_as_valid_json() {
    let f = Fixture::new();
    let arg = std::ffi::OsStr::from_bytes(b"\xff\xfe\x1b[31m");
    let h = String::from_utf8(
        escapes_testkit::run(&[b"cmd-hash".to_vec(), b"echo".to_vec(), arg.as_bytes().to_vec()]).unwrap(),
    )
    .unwrap();
    let c = with(without(f.claims(&[]), "command"), "cmd_hash", json!(h));
    let o = f.command(&["--grant", &f.token(&c), "--", "echo"]).arg(arg).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let last = f.last_audit();
    assert_eq!(last["command"][1], "\u{fffd}\u{fffd}\u{1b}[31m");
}

// --- config, audit log and files ----------------------------------------------------------------

fn assert_config_refused(f: &Fixture, needle: &str) {
    let t = f.token(&f.claims(&["id", "-u"]));
    let o = f.run_grant(&t, &["id", "-u"]);
    assert_eq!(code(&o), 1, "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains(needle), "stderr should mention {needle:?}: {}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "one stderr line: {}", stderr(&o));
}

#[test]
fn refuses_a_group_or_world_writable_config() {
    for mode in [0o664, 0o646] {
        let f = Fixture::new();
        fs::set_permissions(config_path(), fs::Permissions::from_mode(mode)).unwrap();
        assert_config_refused(&f, "chmod go-w");
    }
}

#[test]
fn refuses_a_config_not_owned_by_root() {
    let f = Fixture::new();
    std::os::unix::fs::chown(config_path(), Some(f.uid), None).unwrap();
    assert_config_refused(&f, "must be owned by root");
}

#[test]
fn refuses_a_config_that_is_a_symlink_or_in_a_writable_directory() {
    let f = Fixture::new();
    fs::rename(config_path(), format!("{ROOT}/keys/real.toml")).unwrap();
    symlink(format!("{ROOT}/keys/real.toml"), config_path()).unwrap();
    assert_config_refused(&f, "symbolic link");
    f.reset();
    fs::set_permissions(format!("{ROOT}/etc"), fs::Permissions::from_mode(0o777)).unwrap();
    assert_config_refused(&f, "world-writable");
}

#[test]
fn refuses_an_unreadable_or_missing_config() {
    let f = Fixture::new();
    fs::remove_file(config_path()).unwrap();
    assert_config_refused(&f, "no such file");
}

#[test]
fn refuses_unknown_keys_and_wildcard_issuers_with_line_numbers() {
    let f = Fixture::new();
    f.write_config(&DEFAULT_CONFIG.replace("allowed_approvers", "alowed_approvers"));
    assert_config_refused(&f, "line 7");
    f.reset();
    f.write_config(&DEFAULT_CONFIG.replace("[\"https://id.test.example\"]", "[\"https://*.test.example\"]"));
    assert_config_refused(&f, "config");
}

#[test]
fn refuses_a_writable_pinned_key_file() {
    let f = Fixture::new();
    fs::set_permissions(keys_path(), fs::Permissions::from_mode(0o666)).unwrap();
    assert_config_refused(&f, "chmod go-w");
}

#[test]
fn only_root_may_name_another_config() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["id", "-u"]));
    let o = f.run(&["--config", "/tmp/mine.toml", "--grant", &t, "--", "id", "-u"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("only accepted from root"));
    assert_eq!(stdout(&o), "");
}

#[test]
fn runs_nothing_when_the_audit_log_cannot_be_opened() {
    let f = Fixture::new();
    fs::remove_dir_all(format!("{ROOT}/log")).unwrap();
    let t = f.token(&f.claims(&["id", "-u"]));
    let o = f.run_grant(&t, &["id", "-u"]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("audit log"));
}

#[test]
fn refuses_an_audit_log_replaced_by_a_symlink_or_hard_link() {
    let f = Fixture::new();
    symlink("/tmp/escapes-audit-elsewhere", audit_path()).unwrap();
    let o = f.run_grant(&f.token(&f.claims(&["id", "-u"])), &["id", "-u"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (1, ""));
    f.reset();
    write_root_file(&format!("{ROOT}/log/other"), "", 0o600);
    fs::hard_link(format!("{ROOT}/log/other"), audit_path()).unwrap();
    let o = f.run_grant(&f.token(&f.claims(&["id", "-u"])), &["id", "-u"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (1, ""));
}

#[test]
fn grant_files_are_opened_with_the_callers_rights() {
    let f = Fixture::new();
    let o = f.run(&["--grant-file", "/etc/shadow", "--", "id"]);
    let rec = assert_refused(&f, &o, 5, "grant");
    assert!(stderr(&o).contains("permission denied"), "{}", stderr(&o));
    assert!(!rec.to_string().contains("root:"), "nothing of the file may leak");
    let link = "/tmp/escapes-test-shadow-link";
    let _ = fs::remove_file(link);
    symlink("/etc/shadow", link).unwrap();
    f.reset();
    let o = f.run(&["--grant-file", link, "--", "id"]);
    assert_refused(&f, &o, 5, "grant");
    assert!(stderr(&o).contains("permission denied"));
}

#[test]
fn refuses_grant_files_that_are_not_regular_files() {
    let fifo = "/tmp/escapes-test-fifo";
    let _ = fs::remove_file(fifo);
    assert!(std::process::Command::new("mkfifo").arg("-m").arg("666").arg(fifo).status().unwrap().success());
    for path in ["/dev/zero", fifo, "/tmp"] {
        let f = Fixture::new();
        let o = f.run(&["--grant-file", path, "--", "id"]);
        assert_refused(&f, &o, 5, "grant");
    }
}

#[test]
fn version_names_the_compiled_in_config_path() {
    let f = Fixture::new();
    let o = f.run(&["--version"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains(&config_path()));
}

#[test]
fn usage_errors_exit_1_with_one_line_and_an_audit_record() {
    let f = Fixture::new();
    let o = f.run(&["--grant", "x", "id"]);
    let rec = assert_refused(&f, &o, 1, "usage");
    assert!(rec["message"].as_str().unwrap().contains("unknown option"));
}

// --- tamper-evident audit log ------------------------------------------------------------------

/// Copies the audit log somewhere the test user can read it, with `edit` applied to its lines.
fn verify_copy(f: &Fixture, edit: impl FnOnce(&mut Vec<String>)) -> std::process::Output {
    let mut lines: Vec<String> = fs::read_to_string(audit_path()).unwrap().lines().map(String::from).collect();
    edit(&mut lines);
    let copy = "/tmp/escapes-test-audit-copy.log";
    fs::write(copy, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    fs::set_permissions(copy, fs::Permissions::from_mode(0o644)).unwrap();
    f.run(&["--verify-log", copy])
}

fn four_records(f: &Fixture) {
    let t = f.token(&f.claims(&["true"]));
    assert_eq!(code(&f.run_grant(&t, &["true"])), 0);
    assert_eq!(code(&f.run_grant(&t, &["false"])), 5);
    assert_eq!(code(&f.run_grant(&t, &["true"])), 0);
    assert_eq!(f.audit().len(), 5);
}

#[test]
fn the_audit_log_is_hash_chained_and_verifies() {
    let f = Fixture::new();
    four_records(&f);
    assert_eq!(f.audit()[0]["prev_hash"], format!("sha256:{}", "0".repeat(64)));
    let o = verify_copy(&f, |_| {});
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "audit log intact: 5 lines chained\n");
}

#[test]
fn verify_log_finds_an_edited_line() {
    let f = Fixture::new();
    four_records(&f);
    let o = verify_copy(&f, |l| l[2] = l[2].replace("command_mismatch", "allowed"));
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("broken at line 4"), "{}", stderr(&o));
}

#[test]
fn verify_log_finds_a_deleted_line() {
    let f = Fixture::new();
    four_records(&f);
    let o = verify_copy(&f, |l| {
        l.remove(2);
    });
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("broken at line 3"), "{}", stderr(&o));
}

#[test]
fn verify_log_finds_reordered_lines() {
    let f = Fixture::new();
    four_records(&f);
    let o = verify_copy(&f, |l| l.swap(3, 4));
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("broken at line 4"), "{}", stderr(&o));
}

#[test]
fn verify_log_opens_files_with_the_callers_rights() {
    let f = Fixture::new();
    four_records(&f);
    let o = f.run(&["--verify-log", &audit_path()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("ermission denied"), "{}", stderr(&o));
}

#[test]
fn chaining_reads_only_the_tail_of_a_large_log() {
    let f = Fixture::new();
    // 64 MiB of earlier history: the next record must still chain to the last line.
    let filler = format!("{{\"filler\":\"{}\"}}\n", "x".repeat(1000)).repeat(64 * 1024);
    let last = "{\"last\":true}";
    write_root_file(&audit_path(), &format!("{filler}{last}\n"), 0o600);
    let t = f.token(&f.claims(&["true"]));
    assert_eq!(code(&f.run_grant(&t, &["true"])), 0);
    let text = fs::read_to_string(audit_path()).unwrap();
    let run: Value = serde_json::from_str(text.lines().rev().nth(1).unwrap()).unwrap();
    let out =
        std::process::Command::new("sh").arg("-c").arg(format!("printf %s '{last}' | sha256sum")).output().unwrap();
    assert_eq!(run["prev_hash"], format!("sha256:{}", &String::from_utf8(out.stdout).unwrap()[..64]));
}

// --- --check and --json-errors -----------------------------------------------------------------

#[test]
fn check_reports_every_step_and_runs_nothing() {
    let f = Fixture::new();
    let argv = ["touch", "/run/escapes-test/ran-by-check"];
    let _ = fs::remove_file(argv[1]);
    let o = f.run(&["--check", "--grant", &f.token(&f.claims(&argv)), "--", argv[0], argv[1]]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for step in [
        "grant",
        "token",
        "header",
        "issuer",
        "key",
        "signature",
        "times",
        "approver",
        "audience",
        "host",
        "grant_type",
        "command",
        "run_as",
        "consume",
        "user",
        "program",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with("pass") && l[6..].starts_with(step)),
            "no pass line for {step}:\n{out}"
        );
    }
    assert!(!std::path::Path::new(argv[1]).exists(), "--check must not execute");
    let last = f.last_audit();
    assert_eq!((last["event"].as_str(), last["result"].as_str()), (Some("check"), Some("would_run")));
}

#[test]
fn check_lists_all_failures_not_just_the_first() {
    let f = Fixture::new();
    let c = with(with(f.claims(&["id"]), "decided_by", json!("mallory@x")), "target_host", json!("elsewhere"));
    let o = f.run(&["--check", "--grant", &f.token(&c), "--", "id", "-u"]);
    assert_eq!(code(&o), 5);
    let out = stdout(&o);
    let fails: Vec<&str> =
        out.lines().filter(|l| l.starts_with("FAIL")).map(|l| l[6..].split_whitespace().next().unwrap()).collect();
    assert_eq!(fails, ["approver", "host", "command"]);
    assert_eq!(f.last_audit()["error"], "approver_not_allowed");
}

#[test]
fn check_never_consumes_or_runs_a_once_grant() {
    let f = Fixture::new();
    let c = with(f.claims(&["id", "-u"]), "grant_type", json!("once"));
    let o = f.run(&["--check", "--grant", &f.token(&c), "--", "id", "-u"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).lines().any(|l| l.starts_with("FAIL  consume")), "{}", stdout(&o));
}

fn json_error(o: &std::process::Output) -> Value {
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    serde_json::from_str(&err).unwrap_or_else(|e| panic!("not JSON ({e}): {err}"))
}

#[test]
fn json_errors_give_each_refusal_a_stable_code() {
    let f = Fixture::new();
    let base = f.claims(&["id", "-u"]);
    let cases: Vec<(Value, &str, i32)> = vec![
        (with(base.clone(), "iss", json!("https://evil.example")), "issuer_not_allowed", 5),
        (with(base.clone(), "decided_by", json!("mallory@x")), "approver_not_allowed", 5),
        (with(with(base.clone(), "exp", json!(now() - 500)), "iat", json!(now() - 900)), "expired", 5),
        (with(base.clone(), "grant_type", json!("once")), "idp_unreachable", 1),
        (with(base.clone(), "command", json!(["id", "-g"])), "command_mismatch", 5),
    ];
    for (claims, want, exit) in cases {
        f.reset();
        let o = f.run(&["--json-errors", "--grant", &f.token(&claims), "--", "id", "-u"]);
        assert_eq!(code(&o), exit, "{want}");
        let e = json_error(&o);
        assert_eq!(e["error"], want);
        assert_eq!(e["exit_code"], exit);
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    f.reset();
    let o = f.run(&["--json-errors", "--grant", "not-a-token", "--", "id"]);
    assert_eq!(json_error(&o)["error"], "jwt");
    f.reset();
    let o = f.run(&["--json-errors", "--grant", &f.token(&f.claims(&["no-such-cmd-q"])), "--", "no-such-cmd-q"]);
    assert_eq!((code(&o), json_error(&o)["error"].as_str()), (127, Some("exec")));
    f.reset();
    fs::set_permissions(config_path(), fs::Permissions::from_mode(0o666)).unwrap();
    let o = f.run(&["--json-errors", "--grant", &f.token(&base), "--", "id", "-u"]);
    assert_eq!((code(&o), json_error(&o)["error"].as_str()), (1, Some("config")));
}

#[test]
fn json_errors_carry_expected_and_got_for_a_hash_mismatch() {
    let f = Fixture::new();
    let h = mint(&["cmd-hash", "id", "-u"]);
    let c = with(without(f.claims(&[]), "command"), "cmd_hash", json!(h));
    let o = f.run(&["--json-errors", "--grant", &f.token(&c), "--", "id", "-g"]);
    let e = json_error(&o);
    assert_eq!(e["error"], "cmd_hash_mismatch");
    assert_eq!(e["expected"], format!("sha256:{h}"));
    assert_eq!(e["got"], format!("sha256:{}", mint(&["cmd-hash", "id", "-g"])));
}

// --- --check-config ----------------------------------------------------------------------------

fn as_root(f: &Fixture, args: &[&str]) -> std::process::Output {
    std::process::Command::new(&f.bin).args(args).env_clear().current_dir("/").output().unwrap()
}

#[test]
fn check_config_passes_a_sound_setup() {
    let f = Fixture::new();
    let o = as_root(&f, &["--check-config"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for step in ["config", "keys", "audit_log", "run_as"] {
        assert!(out.lines().any(|l| l.starts_with("pass") && l[6..].starts_with(step)), "{step}:\n{out}");
    }
    assert!(!std::path::Path::new(&audit_path()).exists(), "--check-config creates nothing");
}

#[test]
fn check_config_reports_every_problem_at_once() {
    let f = Fixture::new();
    fs::set_permissions(keys_path(), fs::Permissions::from_mode(0o664)).unwrap();
    fs::set_permissions(format!("{ROOT}/log"), fs::Permissions::from_mode(0o777)).unwrap();
    f.write_config(&DEFAULT_CONFIG.replace("host = ", "run_as = \"nobody-such-user\"\nhost = "));
    let o = as_root(&f, &["--check-config"]);
    assert_eq!(code(&o), 1);
    let fails: Vec<String> = stdout(&o).lines().filter(|l| l.starts_with("FAIL")).map(String::from).collect();
    assert_eq!(fails.len(), 3, "{}", stdout(&o));
    assert!(fails[0].contains("keys") && fails[0].contains("chmod go-w"));
    assert!(fails[1].contains("audit_log") && fails[1].contains("world-writable"));
    assert!(fails[2].contains("run_as"));
}

#[test]
fn check_config_is_for_root_only() {
    let f = Fixture::new();
    let o = f.run(&["--check-config"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("only for root"));
    assert_eq!(stdout(&o), "");
}

#[test]
fn check_does_not_evaluate_or_probe_for_an_unauthentic_token() {
    let f = Fixture::new();
    let argv = ["/root/.probe-target"];
    let t = mint(&["sign", "--seed", OTHER_SEED, "--kid", KID, "--claims", &f.claims(&argv).to_string()]);
    let o = f.run(&["--check", "--grant", &t, "--", argv[0]]);
    assert_eq!(code(&o), 5);
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("FAIL  signature")), "{out}");
    for step in ["approver", "host", "user", "program"] {
        assert!(!out.contains(step), "{step} must not be evaluated for a forged token:\n{out}");
    }
    let last = f.last_audit();
    assert!(last["approver"].is_null() && !last["claimed_approver"].is_null(), "{last}");
}

#[test]
fn verified_token_facts_are_recorded_under_their_own_names() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["true"]));
    assert_eq!(code(&f.run_grant(&t, &["true"])), 0);
    let last = f.last_audit();
    assert_eq!(last["approver"], APPROVER);
    assert!(last["claimed_approver"].is_null(), "{last}");
}

#[test]
fn the_caller_cannot_stop_or_kill_escapes_itself() {
    let f = Fixture::new();
    let argv = ["sleep", "2"];
    let mut child = f.command(&["--grant", &f.token(&f.claims(&argv)), "--", argv[0], argv[1]]).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for sig in ["-STOP", "-KILL"] {
        let st = std::process::Command::new("kill")
            .arg(sig)
            .arg(child.id().to_string())
            .uid(f.uid)
            .gid(f.gid)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!st.success(), "{sig} from the caller's uid must be refused");
    }
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn records_a_huge_command_bounded_with_its_hash() {
    let f = Fixture::new();
    let big = "\u{1}".repeat(100_000);
    let args: Vec<&str> = vec![big.as_str(); 10];
    let mut a = vec!["--grant", "garbage", "--", "echo"];
    a.extend_from_slice(&args);
    let o = f.run(&a);
    assert_eq!(code(&o), 5);
    let raw = fs::read(audit_path()).unwrap();
    assert!(raw.len() < 1 << 20, "audit line of {} bytes", raw.len());
    let last = f.last_audit();
    assert_eq!(last["command_truncated"], 1);
    assert!(last["command_sha256"].as_str().unwrap().starts_with("sha256:"));
    // The next record still chains.
    let t = f.token(&f.claims(&["true"]));
    assert_eq!(code(&f.run_grant(&t, &["true"])), 0);
}

// --- audit fields (issue 15) -------------------------------------------------------------------

#[test]
fn records_audience_target_host_and_the_commands_cmd_hash() {
    let f = Fixture::new();
    let argv = ["id", "-u"];
    assert_eq!(code(&f.run_grant(&f.token(&f.claims(&argv)), &argv)), 0);
    let run = f.audit().into_iter().find(|l| l["event"] == "run").expect("a run record");
    assert_eq!(run["audience"], json!(["escapes"]), "{run}");
    assert_eq!(run["target_host"], HOST);
    // The IdPs' spelling (argv joined with single spaces), prefixed like the log's other hashes.
    assert_eq!(run["cmd_hash"], format!("sha256:{}", mint(&["cmd-hash", "id", "-u"])));
    assert_eq!(run["program_canonical"], "/usr/bin/id");

    // Before the signature is checked, they are claims; the cmd_hash is of what was asked.
    f.reset();
    let c = with(with(f.claims(&argv), "iss", json!("https://evil.example")), "aud", json!(["a", "b"]));
    let rec = assert_refused(&f, &f.run_grant(&f.token(&c), &argv), 5, "issuer_not_allowed");
    assert_eq!((&rec["claimed_audience"], &rec["claimed_target_host"]), (&json!(["a", "b"]), &json!(HOST)), "{rec}");
    assert!(rec["audience"].is_null() && rec["target_host"].is_null(), "{rec}");
    assert_eq!(rec["cmd_hash"], format!("sha256:{}", mint(&["cmd-hash", "id", "-u"])));
}

/// Runs escapes as the test user from python, which first sets up fd 0-2 and the session as
/// `setup` says (a real pty from the kernel).
fn run_in_pty(f: &Fixture, setup: &str, token: &str) -> std::process::Output {
    let bin = f.bin.to_str().unwrap();
    let script =
        format!("import os, pty, sys\n{setup}\nos.execv({bin:?}, [{bin:?}, '--grant', sys.argv[1], '--', 'true'])\n");
    let driver = format!(
        "import os, pty, sys\npid, fd = pty.fork()\nif pid == 0:\n    os.execv('/usr/bin/python3', ['python3', '-c', {script:?}, sys.argv[1]])\nwhile True:\n    try:\n        if not os.read(fd, 1024): break\n    except OSError: break\nsys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    );
    std::process::Command::new("python3")
        .args(["-c", &driver, token])
        .env_clear()
        .current_dir("/")
        .uid(f.uid)
        .gid(f.gid)
        .output()
        .unwrap()
}

#[test]
fn records_the_callers_controlling_terminal_not_whatever_fd_0_is() {
    let f = Fixture::new();
    let t = f.token(&f.claims(&["true"]));
    // pty.fork: a new session whose controlling terminal is the pty.
    let o = run_in_pty(&f, "", &t);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let tty = f.last_audit()["tty"].as_str().map(str::to_owned).unwrap_or_default();
    assert!(tty.starts_with("/dev/pts/") && tty[9..].bytes().all(|b| b.is_ascii_digit()), "{tty:?}");

    // A terminal on fd 0-2 but no controlling terminal (a new session that never acquired
    // one): no tty field.
    f.reset();
    let leave = "if os.fork():\n    sys.exit(os.waitstatus_to_exitcode(os.wait()[1]))\nos.setsid()";
    let o = run_in_pty(&f, leave, &t);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(f.last_audit()["tty"].is_null(), "{}", f.last_audit());

    // No terminal at all.
    f.reset();
    assert_eq!(code(&f.run_grant(&t, &["true"])), 0);
    assert!(f.last_audit()["tty"].is_null());
}
