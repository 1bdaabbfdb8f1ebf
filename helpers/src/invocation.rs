//! The helper's argv (§1.3): `path [-P pid] [-f file] [-u user] [-g group] [-R root] [-C config]
//! -- MNEMONIC PROGRAM EUID:EGID CRED_TYPE:CRED`, parsed getopt-style (clustered flags, `-Pvalue`
//! or `-P value`), unknown option letters ignored as op asks, exactly four positionals.

use opwire::sysexits::{EX_DATAERR, EX_PROTOCOL, EX_USAGE};
use std::fmt;

/// The kind of credential that let the caller in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredType {
    Users,
    Groups,
    /// op's code spells `netgroups`, its 2013 document `netgroup`: both are accepted.
    Netgroups,
    /// op-jacket(7l)'s pseudo type for test drivers, "always with the number of the test as the
    /// cred" (`test:case1`). It names nobody: a helper that judges identity must treat it as
    /// matching no user, group or netgroup.
    Test,
}

impl CredType {
    /// The word op writes before the colon.
    pub fn as_str(self) -> &'static str {
        match self {
            CredType::Users => "users",
            CredType::Groups => "groups",
            CredType::Netgroups => "netgroups",
            CredType::Test => "test",
        }
    }

    /// False for `test`, whose cred is a test number, not a name of anyone.
    pub fn names_identity(self) -> bool {
        !matches!(self, CredType::Test)
    }
}

/// One helper run, as op or escapes described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `-P`: the pid of the process that will become the command; present only for jackets.
    pub pid: Option<i32>,
    pub file: Option<Vec<u8>>,
    pub user: Option<Vec<u8>>,
    pub group: Option<Vec<u8>>,
    pub root: Option<Vec<u8>>,
    pub config: Option<Vec<u8>>,
    pub job: Option<Vec<u8>>,
    pub mac: Option<Vec<u8>>,
    pub mnemonic: Vec<u8>,
    /// The path that will be executed (escapes: resolved and absolute; op: as typed).
    pub program: Vec<u8>,
    pub euid: u32,
    pub egid: u32,
    pub cred_type: CredType,
    pub cred: Vec<u8>,
}

impl Invocation {
    /// The argv (without argv[0]) that describes this run to an inner helper, in op's order.
    pub fn to_args(&self) -> Vec<Vec<u8>> {
        let mut a: Vec<Vec<u8>> = Vec::new();
        let mut opt = |flag: &str, v: &Option<Vec<u8>>| {
            if let Some(v) = v {
                a.push(flag.as_bytes().to_vec());
                a.push(v.clone());
            }
        };
        opt("-P", &self.pid.map(|p| p.to_string().into_bytes()));
        opt("-j", &self.job);
        opt("-m", &self.mac);
        opt("-f", &self.file);
        opt("-u", &self.user);
        opt("-g", &self.group);
        opt("-R", &self.root);
        opt("-C", &self.config);
        a.push(b"--".to_vec());
        a.push(self.mnemonic.clone());
        a.push(self.program.clone());
        a.push(format!("{}:{}", self.euid, self.egid).into_bytes());
        a.push([self.cred_type.as_str().as_bytes(), b":", &self.cred].concat());
        a
    }
}

/// What the argv asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `-h`: usage and options.
    Help,
    /// `-H`: the grammar of each parameter.
    Grammar,
    /// `-V`: version and the variables read.
    Version,
    /// Judge this run.
    Judge(Box<Invocation>),
}

/// Why the argv is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgvError {
    MissingValue(char),
    Repeated(char),
    BadPid,
    /// The number of positionals found (four are required).
    Positionals(usize),
    EmptyMnemonic,
    EmptyProgram,
    BadIds,
    BadCredential,
}

impl ArgvError {
    /// The sysexits code jacket.pl uses for the same mistake.
    pub fn exit_code(&self) -> u8 {
        match self {
            ArgvError::BadIds => EX_DATAERR,
            ArgvError::BadCredential => EX_PROTOCOL,
            _ => EX_USAGE,
        }
    }
}

impl fmt::Display for ArgvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgvError::MissingValue(c) => write!(f, "option -{c} needs a value"),
            ArgvError::Repeated(c) => write!(f, "option -{c} given twice"),
            ArgvError::BadPid => f.write_str("-P needs a positive decimal pid"),
            ArgvError::Positionals(n) => {
                write!(f, "expected 4 words after the options (mnemonic program euid:egid cred_type:cred), got {n}")
            }
            ArgvError::EmptyMnemonic => f.write_str("empty mnemonic"),
            ArgvError::EmptyProgram => f.write_str("empty program"),
            ArgvError::BadIds => f.write_str("euid:egid must be two decimal numbers"),
            ArgvError::BadCredential => f.write_str(
                "cred_type:cred must be users:, groups: or netgroups: and a name, or test: and printable text",
            ),
        }
    }
}

const WITH_VALUE: &[u8] = b"PfugRCjmM";

/// Parses the argv after argv[0].
pub fn parse(args: &[Vec<u8>]) -> Result<Request, ArgvError> {
    let mut values: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut want: Option<Request> = None;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        i += 1;
        if word.as_slice() == b"--" {
            break;
        }
        let Some(letters) = word.strip_prefix(b"-").filter(|l| !l.is_empty()) else {
            i -= 1;
            break;
        };
        let mut j = 0;
        while let Some(&c) = letters.get(j) {
            j += 1;
            if WITH_VALUE.contains(&c) {
                let rest = letters.get(j..).unwrap_or_default();
                let value = if rest.is_empty() {
                    let v = args.get(i).ok_or(ArgvError::MissingValue(char::from(c)))?;
                    i += 1;
                    v.clone()
                } else {
                    rest.to_vec()
                };
                if values.iter().any(|(k, _)| *k == c) {
                    return Err(ArgvError::Repeated(char::from(c)));
                }
                values.push((c, value));
                break;
            }
            match c {
                b'h' => want = want.or(Some(Request::Help)),
                b'H' => want = want.or(Some(Request::Grammar)),
                b'V' => want = want.or(Some(Request::Version)),
                _ => {} // unknown option letters are ignored, as op's notes ask
            }
        }
    }
    if let Some(w) = want {
        return Ok(w);
    }
    let positionals = args.get(i..).unwrap_or_default();
    let [mnemonic, program, ids, cred] = positionals else {
        return Err(ArgvError::Positionals(positionals.len()));
    };
    let get = |c: u8| values.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
    let pid = match get(b'P') {
        None => None,
        Some(p) => match decimal_u32(&p).and_then(|n| i32::try_from(n).ok()) {
            Some(n) if n > 0 => Some(n),
            _ => return Err(ArgvError::BadPid),
        },
    };
    if mnemonic.is_empty() {
        return Err(ArgvError::EmptyMnemonic);
    }
    if program.is_empty() {
        return Err(ArgvError::EmptyProgram);
    }
    let (euid, egid) =
        split_colon(ids).and_then(|(u, g)| Some((decimal_u32(u)?, decimal_u32(g)?))).ok_or(ArgvError::BadIds)?;
    let (t, name) = split_colon(cred).ok_or(ArgvError::BadCredential)?;
    let cred_type = match t {
        b"users" => CredType::Users,
        b"groups" => CredType::Groups,
        b"netgroups" | b"netgroup" => CredType::Netgroups,
        b"test" => CredType::Test,
        _ => return Err(ArgvError::BadCredential),
    };
    if name.is_empty() {
        return Err(ArgvError::BadCredential);
    }
    if cred_type == CredType::Test && !name.iter().all(|c| matches!(c, b' '..=b'~')) {
        return Err(ArgvError::BadCredential);
    }
    Ok(Request::Judge(Box::new(Invocation {
        pid,
        file: get(b'f'),
        user: get(b'u'),
        group: get(b'g'),
        root: get(b'R'),
        config: get(b'C'),
        job: get(b'j'),
        mac: get(b'm'),
        mnemonic: mnemonic.clone(),
        program: program.clone(),
        euid,
        egid,
        cred_type,
        cred: name.to_vec(),
    })))
}

fn split_colon(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = s.iter().position(|&c| c == b':')?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// A plain decimal u32: digits only, at most 10 of them.
pub fn decimal_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = s.iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0'));
    u32::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    fn judge(s: &[&str]) -> Invocation {
        match parse(&args(s)).unwrap() {
            Request::Judge(i) => *i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_the_helmet_argv_of_the_worked_exchange() {
        let i = judge(&[
            "-C",
            "/usr/local/lib/op/access.cf",
            "--",
            "backup",
            "/usr/local/libexec/doBackups",
            "0:0",
            "groups:operator",
        ]);
        assert_eq!(i.pid, None);
        assert_eq!(i.config.as_deref(), Some(b"/usr/local/lib/op/access.cf".as_slice()));
        assert_eq!(i.program, b"/usr/local/libexec/doBackups");
        assert_eq!((i.euid, i.egid), (0, 0));
        assert_eq!(i.cred_type, CredType::Groups);
        assert_eq!(i.cred, b"operator");
    }

    #[test]
    fn parses_a_jacket_argv_with_every_option() {
        let i = judge(&[
            "-P",
            "4242",
            "-f",
            "/x",
            "-u",
            "bob",
            "-g",
            "wheel",
            "-R",
            "",
            "-C",
            "c",
            "--",
            "m",
            "/bin/p",
            "1:2",
            "users:ksb",
        ]);
        assert_eq!(i.pid, Some(4242));
        assert_eq!(i.root.as_deref(), Some(b"".as_slice()));
        assert_eq!(i.cred_type, CredType::Users);
        assert_eq!(parse(&i.to_args()), Ok(Request::Judge(Box::new(i))));
    }

    #[test]
    fn accepts_attached_values_and_ignores_unknown_letters() {
        let i = judge(&["-P4242", "-x", "-Ccfg", "--", "m", "/p", "0:0", "netgroup:n"]);
        assert_eq!(i.pid, Some(4242));
        assert_eq!(i.cred_type, CredType::Netgroups);
    }

    #[test]
    fn help_grammar_and_version_need_no_positionals() {
        assert_eq!(parse(&args(&["-h"])), Ok(Request::Help));
        assert_eq!(parse(&args(&["-H"])), Ok(Request::Grammar));
        assert_eq!(parse(&args(&["-V", "junk"])), Ok(Request::Version));
    }

    #[test]
    fn refuses_bad_argv_with_jacket_pl_codes() {
        let cases: &[(&[&str], u8)] = &[
            (&["--", "m", "/p", "0:0"], 64),
            (&["--", "m", "/p", "0:0", "users:a", "extra"], 64),
            (&["-P"], 64),
            (&["-P", "0", "--", "m", "/p", "0:0", "users:a"], 64),
            (&["-P", "-1", "--", "m", "/p", "0:0", "users:a"], 64),
            (&["-P", "99999999999", "--", "m", "/p", "0:0", "users:a"], 64),
            (&["-P", "1", "-P", "2", "--", "m", "/p", "0:0", "users:a"], 64),
            (&["--", "", "/p", "0:0", "users:a"], 64),
            (&["--", "m", "", "0:0", "users:a"], 64),
            (&["--", "m", "/p", "0", "users:a"], 65),
            (&["--", "m", "/p", "0:-1", "users:a"], 65),
            (&["--", "m", "/p", "0:4294967296", "users:a"], 65),
            (&["--", "m", "/p", "0:0", "users:"], 76),
            (&["--", "m", "/p", "0:0", "root:x"], 76),
            (&["--", "m", "/p", "0:0", "users"], 76),
        ];
        for (a, code) in cases {
            let e = parse(&args(a)).unwrap_err();
            assert_eq!(e.exit_code(), *code, "{a:?}: {e}");
        }
    }

    #[test]
    fn accepts_the_pages_test_credential_as_naming_nobody() {
        let i = judge(&["-P", "42", "--", "true", "/usr/bin/true", "0:0", "test:case1"]);
        assert_eq!((i.cred_type, i.cred.as_slice()), (CredType::Test, &b"case1"[..]));
        assert!(!i.cred_type.names_identity());
        assert!(CredType::Users.names_identity());
        assert_eq!(parse(&i.to_args()), Ok(Request::Judge(Box::new(i))));
        assert_eq!(judge(&["--", "m", "/p", "0:0", "test:case 2: a:b"]).cred, b"case 2: a:b");
    }

    #[test]
    fn refuses_a_test_credential_that_is_empty_or_not_printable() {
        for bad in ["test:", "test:a\nb", "test:\t", "test:\u{7f}", "test:caf\u{e9}", "Test:1"] {
            let e = parse(&args(&["--", "m", "/p", "0:0", bad])).unwrap_err();
            assert_eq!(e, ArgvError::BadCredential, "{bad:?}");
        }
    }

    #[test]
    fn positionals_may_start_with_a_dash_after_double_dash() {
        let i = judge(&["--", "-m", "-p", "0:0", "users:a"]);
        assert_eq!(i.mnemonic, b"-m");
    }
}
