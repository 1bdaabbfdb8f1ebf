//! Command line: `escapes (--grant JWT | --grant-stdin | --grant-file PATH) [--run-as USER]
//! [--config PATH] -- CMD [ARGS...]`, `--help`, `--version`.

use crate::policy::request::{GrantSource, Request, Run, Trust, VerifyLog};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    NoArguments,
    UnknownOption(String),
    MissingValue(&'static str),
    Repeated(&'static str),
    NoGrant,
    TwoGrantSources,
    NoSeparator,
    NoCommand,
    EmptyValue(&'static str),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NoArguments => write!(f, "no arguments"),
            // Quoted: the option is the caller's bytes, and the refusal must stay one stderr
            // line with no terminal escape sequences in it.
            Error::UnknownOption(o) => write!(f, "unknown option {o:?}"),
            Error::MissingValue(o) => write!(f, "option {o} needs a value"),
            Error::Repeated(o) => write!(f, "option {o} given twice"),
            Error::NoGrant => write!(f, "no grant: use --grant, --grant-stdin, --grant-file or ESCAPES_GRANT"),
            Error::TwoGrantSources => {
                write!(f, "give exactly one of --grant, --grant-stdin, --grant-file, ESCAPES_GRANT")
            }
            Error::NoSeparator => write!(f, "missing -- before the command"),
            Error::NoCommand => write!(f, "no command after --"),
            Error::EmptyValue(o) => write!(f, "option {o} has an empty value"),
        }
    }
}

/// Parses argv (including argv[0]); options come before a mandatory `--`, everything after it is
/// the command, byte for byte. `env_grant` is the value of `ESCAPES_GRANT` when the caller set
/// it: a fourth source of the token, exclusive like the other three (so a token never has to
/// appear in argv, where every local user can read it).
pub fn parse_with_env(args: &[Vec<u8>], env_grant: Option<&[u8]>) -> Result<Request, Error> {
    let mut it = args.iter();
    if it.next().is_none() {
        return Err(Error::NoArguments);
    }
    if args.get(1).is_some_and(|a| a.as_slice() == b"trust") {
        return trust(it.skip(1));
    }
    let mut grant: Option<GrantSource> = None;
    let mut run_as = None;
    let mut config = None;
    let mut check_only = false;
    let mut check_config = false;
    loop {
        let Some(arg) = it.next() else {
            if check_config && grant.is_none() && run_as.is_none() && !check_only {
                return Ok(Request::CheckConfig { config });
            }
            return Err(if grant.is_none() && run_as.is_none() && config.is_none() {
                Error::NoArguments
            } else {
                Error::NoSeparator
            });
        };
        let (name, inline) = split_inline(arg);
        match name {
            b"--" if inline.is_none() => break,
            b"--help" | b"-h" if inline.is_none() => return Ok(Request::Help),
            b"--version" | b"-V" if inline.is_none() => return Ok(Request::Version),
            b"--verify-log" if grant.is_none() && run_as.is_none() && config.is_none() => {
                let first = value(&mut it, inline, "--verify-log")?;
                return verify_log(first, &mut it);
            }
            b"--grant" => set_grant(&mut grant, GrantSource::Arg(value(&mut it, inline, "--grant")?))?,
            b"--grant-file" => set_grant(&mut grant, GrantSource::File(value(&mut it, inline, "--grant-file")?))?,
            b"--grant-stdin" if inline.is_none() => set_grant(&mut grant, GrantSource::Stdin)?,
            b"--check" if inline.is_none() => check_only = true,
            b"--check-config" if inline.is_none() => check_config = true,
            // Read by `wants_json_errors` before parsing, so usage errors honour it too.
            b"--json-errors" if inline.is_none() => {}
            b"--run-as" => set_once(&mut run_as, value(&mut it, inline, "--run-as")?, "--run-as")?,
            b"--config" => set_once(&mut config, value(&mut it, inline, "--config")?, "--config")?,
            _ => return Err(Error::UnknownOption(String::from_utf8_lossy(arg).into_owned())),
        }
    }
    let argv: Vec<Vec<u8>> = it.cloned().collect();
    if check_config {
        return Err(Error::UnknownOption("--check-config takes no grant and no command".into()));
    }
    let grant = match (grant, env_grant) {
        (Some(_), Some(_)) => return Err(Error::TwoGrantSources),
        (Some(g), None) => g,
        (None, Some(t)) => GrantSource::Env(t.to_vec()),
        (None, None) => return Err(Error::NoGrant),
    };
    if argv.is_empty() {
        return Err(Error::NoCommand);
    }
    Ok(Request::Run(Run { grant, run_as, config, check_only, argv }))
}

/// Where a token stands in argv, as [`parse`] would read it: (word, first byte) of each
/// `--grant` value among the options, to be blanked before anything else happens.
pub fn grant_positions(args: &[Vec<u8>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 1;
    while let Some(arg) = args.get(i) {
        match arg.as_slice() {
            b"--" => break,
            b"--grant" => {
                out.push((i + 1, 0));
                i += 1;
            }
            a if a.starts_with(b"--grant=") => out.push((i, b"--grant=".len())),
            // Options that take the next word as their value (it is not an option then).
            b"--grant-file" | b"--run-as" | b"--config" | b"--verify-log" => i += 1,
            _ => {}
        }
        i += 1;
    }
    out
}

/// The rest of `--verify-log FILE`: more files (oldest first), and `--anchors EXPORT` once.
fn verify_log<'a>(first: Vec<u8>, it: &mut impl Iterator<Item = &'a Vec<u8>>) -> Result<Request, Error> {
    let mut files = vec![first];
    let mut anchors = None;
    while let Some(arg) = it.next() {
        let (name, inline) = split_inline(arg);
        match name {
            b"--anchors" => set_once(&mut anchors, value(&mut *it, inline, "--anchors")?, "--anchors")?,
            _ if arg.starts_with(b"-") && arg.len() > 1 => {
                return Err(Error::UnknownOption(String::from_utf8_lossy(arg).into_owned()))
            }
            _ if arg.is_empty() => return Err(Error::EmptyValue("--verify-log")),
            _ => files.push(arg.clone()),
        }
    }
    if files.first().is_some_and(|f| f.starts_with(b"--anchors")) {
        return Err(Error::MissingValue("--verify-log"));
    }
    Ok(Request::VerifyLog(VerifyLog { files, anchors }))
}

/// The rest of `trust`: `--idp URL` and `--approvers LIST` once each (required),
/// `--ca-bundle FILE` at most once, `--pin`, `--replace`, `--json-errors`.
fn trust<'a>(mut it: impl Iterator<Item = &'a Vec<u8>>) -> Result<Request, Error> {
    let (mut idp, mut approvers, mut ca_bundle) = (None, None, None);
    let (mut pin, mut replace) = (false, false);
    while let Some(arg) = it.next() {
        let (name, inline) = split_inline(arg);
        match name {
            b"--idp" => set_once(&mut idp, value(&mut it, inline, "--idp")?, "--idp")?,
            b"--approvers" => set_once(&mut approvers, value(&mut it, inline, "--approvers")?, "--approvers")?,
            b"--ca-bundle" => set_once(&mut ca_bundle, value(&mut it, inline, "--ca-bundle")?, "--ca-bundle")?,
            b"--pin" if inline.is_none() => pin = true,
            b"--replace" if inline.is_none() => replace = true,
            b"--json-errors" if inline.is_none() => {}
            _ => return Err(Error::UnknownOption(String::from_utf8_lossy(arg).into_owned())),
        }
    }
    let idp = idp.ok_or(Error::MissingValue("--idp"))?;
    let approvers = approvers.ok_or(Error::MissingValue("--approvers"))?;
    let approvers = approvers.split(|&b| b == b',').map(<[u8]>::to_vec).collect();
    Ok(Request::Trust(Trust { idp, approvers, ca_bundle, pin, replace }))
}

/// True when `--json-errors` stands among the options (before `--`): refusals are then one
/// JSON object on stderr, for programs that call escapes.
pub fn wants_json_errors(args: &[Vec<u8>]) -> bool {
    args.iter().skip(1).take_while(|a| a.as_slice() != b"--").any(|a| a.as_slice() == b"--json-errors")
}

/// `--name=value` → (`--name`, Some(value)); anything else → (arg, None).
fn split_inline(arg: &[u8]) -> (&[u8], Option<&[u8]>) {
    if arg.starts_with(b"--") {
        if let Some(eq) = arg.iter().position(|&b| b == b'=') {
            return (arg.get(..eq).unwrap_or(arg), arg.get(eq + 1..));
        }
    }
    (arg, None)
}

fn value<'a>(
    it: &mut impl Iterator<Item = &'a Vec<u8>>,
    inline: Option<&[u8]>,
    name: &'static str,
) -> Result<Vec<u8>, Error> {
    let v = match inline {
        Some(v) => v.to_vec(),
        None => it.next().ok_or(Error::MissingValue(name))?.clone(),
    };
    if v.is_empty() {
        return Err(Error::EmptyValue(name));
    }
    Ok(v)
}

fn set_grant(slot: &mut Option<GrantSource>, g: GrantSource) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::TwoGrantSources);
    }
    *slot = Some(g);
    Ok(())
}

fn set_once(slot: &mut Option<Vec<u8>>, v: Vec<u8>, name: &'static str) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::Repeated(name));
    }
    *slot = Some(v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[Vec<u8>]) -> Result<Request, Error> {
        parse_with_env(args, None)
    }

    fn args(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn parses_grant_run_as_and_command() {
        let r = parse(&args(&["escapes", "--grant", "T", "--run-as", "bob", "--", "id", "-u"])).unwrap();
        assert_eq!(
            r,
            Request::Run(Run {
                grant: GrantSource::Arg(b"T".to_vec()),
                run_as: Some(b"bob".to_vec()),
                config: None,
                check_only: false,
                argv: args(&["id", "-u"])
            })
        );
    }

    #[test]
    fn accepts_inline_values() {
        let r = parse(&args(&["escapes", "--grant-file=/g", "--", "true"])).unwrap();
        assert!(matches!(r, Request::Run(Run { grant: GrantSource::File(ref f), .. }) if f == b"/g"));
    }

    #[test]
    fn command_options_after_separator_are_not_ours() {
        let r = parse(&args(&["escapes", "--grant-stdin", "--", "ls", "--help", "--grant", "x"])).unwrap();
        assert!(matches!(r, Request::Run(Run { ref argv, .. }) if argv == &args(&["ls", "--help", "--grant", "x"])));
    }

    #[test]
    fn refuses_two_grant_sources() {
        assert_eq!(parse(&args(&["escapes", "--grant", "a", "--grant-stdin", "--", "x"])), Err(Error::TwoGrantSources));
    }

    #[test]
    fn refuses_missing_separator() {
        assert_eq!(parse(&args(&["escapes", "--grant", "a", "true"])), Err(Error::UnknownOption("true".into())));
        assert_eq!(parse(&args(&["escapes", "--grant", "a"])), Err(Error::NoSeparator));
    }

    #[test]
    fn refuses_empty_command_and_missing_grant() {
        assert_eq!(parse(&args(&["escapes", "--grant", "a", "--"])), Err(Error::NoCommand));
        assert_eq!(parse(&args(&["escapes", "--", "id"])), Err(Error::NoGrant));
    }

    #[test]
    fn refuses_argc_zero_and_bare_invocation() {
        assert_eq!(parse(&[]), Err(Error::NoArguments));
        assert_eq!(parse(&args(&["escapes"])), Err(Error::NoArguments));
    }

    #[test]
    fn refuses_repeated_run_as_and_empty_values() {
        assert_eq!(parse(&args(&["escapes", "--run-as", "a", "--run-as", "b"])), Err(Error::Repeated("--run-as")));
        assert_eq!(parse(&args(&["escapes", "--grant="])), Err(Error::EmptyValue("--grant")));
        assert_eq!(parse(&args(&["escapes", "--grant"])), Err(Error::MissingValue("--grant")));
    }

    #[test]
    fn refuses_value_on_flag_options() {
        assert!(matches!(parse(&args(&["escapes", "--grant-stdin=x", "--", "id"])), Err(Error::UnknownOption(_))));
        assert!(matches!(parse(&args(&["escapes", "--help=1"])), Err(Error::UnknownOption(_))));
    }

    #[test]
    fn json_errors_counts_only_before_the_separator() {
        assert!(wants_json_errors(&args(&["e", "--json-errors", "--grant", "t", "--", "x"])));
        assert!(!wants_json_errors(&args(&["e", "--grant", "t", "--", "x", "--json-errors"])));
        assert!(matches!(
            parse(&args(&["e", "--json-errors", "--check", "--grant", "t", "--", "x"])),
            Ok(Request::Run(Run { check_only: true, .. }))
        ));
    }

    #[test]
    fn check_config_stands_alone_or_with_config() {
        assert_eq!(parse(&args(&["e", "--check-config"])), Ok(Request::CheckConfig { config: None }));
        assert_eq!(
            parse(&args(&["e", "--check-config", "--config", "/c"])),
            Ok(Request::CheckConfig { config: Some(b"/c".to_vec()) })
        );
        assert!(parse(&args(&["e", "--check-config", "--grant", "t", "--", "id"])).is_err());
        assert!(parse(&args(&["e", "--check-config", "--grant", "t"])).is_err());
    }

    #[test]
    fn verify_log_takes_exactly_one_file() {
        let vl = |files: &[&str], anchors: Option<&str>| {
            Ok(Request::VerifyLog(VerifyLog {
                files: files.iter().map(|f| f.as_bytes().to_vec()).collect(),
                anchors: anchors.map(|a| a.as_bytes().to_vec()),
            }))
        };
        assert_eq!(parse(&args(&["escapes", "--verify-log", "/l"])), vl(&["/l"], None));
        assert_eq!(parse(&args(&["escapes", "--verify-log", "/l.1", "/l"])), vl(&["/l.1", "/l"], None));
        assert_eq!(parse(&args(&["escapes", "--verify-log", "/l", "--anchors", "/e"])), vl(&["/l"], Some("/e")));
        assert_eq!(
            parse(&args(&["escapes", "--verify-log", "/l.1", "--anchors=/e", "/l"])),
            vl(&["/l.1", "/l"], Some("/e"))
        );
        assert_eq!(
            parse(&args(&["escapes", "--verify-log", "/l", "--anchors"])),
            Err(Error::MissingValue("--anchors"))
        );
        assert_eq!(
            parse(&args(&["escapes", "--verify-log", "/l", "--anchors", "/e", "--anchors", "/f"])),
            Err(Error::Repeated("--anchors"))
        );
        assert_eq!(parse(&args(&["escapes", "--verify-log", "/l", "--anchors="])), Err(Error::EmptyValue("--anchors")));
        assert!(parse(&args(&["escapes", "--verify-log", "/l", "--run-as", "x"])).is_err());
        assert!(parse(&args(&["escapes", "--verify-log", "/l", ""])).is_err());
        assert!(parse(&args(&["escapes", "--verify-log", "--anchors", "/e"])).is_err());
        assert!(parse(&args(&["escapes", "--verify-log"])).is_err());
        assert!(parse(&args(&["escapes", "--grant", "t", "--verify-log", "/l"])).is_err());
    }

    #[test]
    fn unknown_option_is_reported_quoted_on_one_line() {
        let e = parse(&[b"e".to_vec(), b"--x\n\x1b[2Jescapes: ok".to_vec()]).unwrap_err();
        let shown = e.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert_eq!(shown, r#"unknown option "--x\n\u{1b}[2Jescapes: ok""#);
    }

    #[test]
    fn non_utf8_option_is_an_error_not_a_panic() {
        assert!(matches!(parse(&[b"e".to_vec(), vec![0xff, 0xfe]]), Err(Error::UnknownOption(_))));
    }

    #[test]
    fn escapes_grant_is_a_fourth_source_exclusive_like_the_others() {
        let r = parse_with_env(&args(&["escapes", "--", "id"]), Some(b"T")).unwrap();
        assert!(matches!(r, Request::Run(Run { grant: GrantSource::Env(ref t), .. }) if t == b"T"));
        for other in ["--grant=x", "--grant-stdin", "--grant-file=/g"] {
            assert_eq!(
                parse_with_env(&args(&["escapes", other, "--", "id"]), Some(b"T")),
                Err(Error::TwoGrantSources),
                "{other}"
            );
        }
        // Modes that take no grant ignore it.
        assert_eq!(
            parse_with_env(&args(&["e", "--check-config"]), Some(b"T")),
            Ok(Request::CheckConfig { config: None })
        );
    }

    #[test]
    fn finds_every_grant_value_among_the_options_and_none_after_them() {
        let a = args(&["e", "--run-as", "--grant", "--grant", "T1", "--grant=T2", "--", "--grant", "x"]);
        assert_eq!(grant_positions(&a), [(4, 0), (5, 8)]);
        assert_eq!(grant_positions(&args(&["e", "--grant"])), [(2, 0)]);
    }

    #[test]
    fn trust_takes_its_own_options() {
        let r =
            parse(&args(&["e", "trust", "--idp", "https://i", "--approvers=a@x,b@y", "--pin", "--ca-bundle", "/c"]));
        assert_eq!(
            r,
            Ok(Request::Trust(Trust {
                idp: b"https://i".to_vec(),
                approvers: vec![b"a@x".to_vec(), b"b@y".to_vec()],
                ca_bundle: Some(b"/c".to_vec()),
                pin: true,
                replace: false,
            }))
        );
        let Ok(Request::Trust(t)) = parse(&args(&["e", "trust", "--replace", "--approvers", "a,,b", "--idp", "x"]))
        else {
            panic!()
        };
        assert!(t.replace && !t.pin);
        assert_eq!(t.approvers, [b"a".to_vec(), vec![], b"b".to_vec()]);
    }

    #[test]
    fn trust_refuses_missing_repeated_and_unknown_options() {
        for (a, want) in [
            (&["e", "trust"][..], Error::MissingValue("--idp")),
            (&["e", "trust", "--idp", "x"], Error::MissingValue("--approvers")),
            (&["e", "trust", "--idp"], Error::MissingValue("--idp")),
            (&["e", "trust", "--idp=", "--approvers", "a"], Error::EmptyValue("--idp")),
            (&["e", "trust", "--idp", "x", "--idp", "y"], Error::Repeated("--idp")),
            (&["e", "trust", "--idp", "x", "--approvers", "a", "--grant", "t"], Error::UnknownOption("--grant".into())),
            (&["e", "trust", "--pin=yes"], Error::UnknownOption("--pin=yes".into())),
            (&["e", "trust", "--idp", "x", "--approvers", "a", "--", "id"], Error::UnknownOption("--".into())),
        ] {
            assert_eq!(parse(&args(a)), Err(want), "{a:?}");
        }
        // `trust` is a mode only as the first word.
        assert!(!matches!(parse(&args(&["e", "--grant", "t", "--", "trust"])), Ok(Request::Trust(_))));
    }
}
