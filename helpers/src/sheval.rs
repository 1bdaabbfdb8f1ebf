//! sheval: variables set from a command's output. `SHEVAL_SET_<var>=command` runs the command
//! and replies `$<var>=output` (one final newline removed; an output with other control
//! characters uses the quoted reply form); a command that exits non-zero, dies, overruns or
//! floods refuses the escalation. `SHEVAL_UNSET=a,b:c` names variables to delete afterwards (a
//! variable both set and unset is evaluated for its verdict only and never written). Several
//! `SHEVAL_SET_*` run in byte order of their names, all within `SHEVAL_STALL` seconds.
//!
//! There is no shell. The command is split into words by [`parse_command`] (blanks between
//! words, `'…'` and `"…"` quoting, `\` escapes) and nothing is expanded or globbed; characters a
//! shell would treat specially outside quotes are refused rather than passed on literally, so a
//! rule written for `sh -c` fails loudly instead of meaning something else. The program must be
//! an absolute path to a root-owned file that nobody else can write (no PATH search). It runs
//! as root (uid and gid 0, no supplementary groups, when sheval's effective uid is 0), with the
//! environment `PATH=/usr/sbin:/usr/bin:/sbin:/bin` only, stdin /dev/null, cwd `/`, in its own
//! process group (killed as a whole when the run ends), with at most 64 KiB of output.

use crate::helper::{self, Helper, Verdict};
use crate::params::{ParamError, Params};
use crate::program::{self, Run, RunError};
use crate::sys::{self, Ended};
use crate::trusted::{self, TrustError};
use opwire::reply::is_name;
use opwire::reply::write::{WriteError, Writer};
use opwire::sysexits::{EX_DATAERR, EX_IOERR, EX_NOPERM, EX_PROTOCOL, EX_TEMPFAIL, EX_UNAVAILABLE};
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

pub const SET: &str = "SHEVAL_SET_";
pub const UNSET: &str = "SHEVAL_UNSET";
pub const STALL: &str = "SHEVAL_STALL";
pub const WARN: &str = "SHEVAL_WARN";
pub const REVEAL: &str = "SHEVAL_REVEAL";
/// Longest command accepted.
pub const MAX_COMMAND: usize = 4096;
/// Most words in one command.
pub const MAX_WORDS: usize = 256;
/// Most `SHEVAL_SET_*` in one rule.
pub const MAX_SETS: usize = 64;
/// Largest output accepted from one command.
pub const MAX_OUTPUT: usize = 64 * 1024;
pub const DEFAULT_STALL: Duration = Duration::from_secs(10);
/// The whole environment each command gets.
pub const COMMAND_PATH: &[u8] = b"/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a command cannot be split into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordsError {
    Empty,
    TooLong,
    TooManyWords,
    /// A quote (`'` or `"`) opened at byte `at` (0-based) is never closed.
    Unterminated {
        quote: u8,
        at: usize,
    },
    /// A byte a shell would give a meaning to (`| & ; < > ( ) $ \` * ? [`, a newline, `#` or
    /// `~` starting a word): quote it to pass it literally.
    Special {
        byte: u8,
        at: usize,
    },
    /// `$` or a backquote inside double quotes: a shell would expand it; sheval does not.
    Expansion {
        at: usize,
    },
    /// A `\` with nothing after it.
    TrailingBackslash,
    /// A NUL byte.
    Nul {
        at: usize,
    },
    /// The first word is not an absolute path.
    NotAbsolute,
}

impl fmt::Display for WordsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |b: u8| char::from(b).escape_default().to_string();
        match self {
            WordsError::Empty => f.write_str("the command is empty"),
            WordsError::TooLong => write!(f, "the command is longer than {MAX_COMMAND} bytes"),
            WordsError::TooManyWords => write!(f, "the command has more than {MAX_WORDS} words"),
            WordsError::Unterminated { quote, at } => {
                write!(f, "the quote {} at byte {at} is never closed", shown(*quote))
            }
            WordsError::Special { byte, at } => write!(
                f,
                "'{}' at byte {at} would mean something to a shell, and sheval runs none: quote it",
                shown(*byte)
            ),
            WordsError::Expansion { at } => {
                write!(f, "'$' or '`' inside double quotes at byte {at}: sheval expands nothing; use single quotes")
            }
            WordsError::TrailingBackslash => f.write_str("the command ends in a backslash"),
            WordsError::Nul { at } => write!(f, "NUL byte at {at}"),
            WordsError::NotAbsolute => f.write_str("the program must be an absolute path (there is no PATH search)"),
        }
    }
}

/// Splits a command into words as a POSIX shell would for a simple command of literal words:
/// blanks (space, tab) separate words; `'…'` keeps everything literally; `"…"` keeps everything
/// literally except `\"`, `\\`, `` \` ``, `\$` and backslash-newline; outside quotes `\x` is
/// `x` and backslash-newline is nothing. Adjacent quoted and unquoted parts form one word
/// (`',a,'` is `,a,`; `''` is an empty word). Anything that would make a shell do more than
/// that is refused; the first word must start with `/`.
pub fn parse_command(s: &[u8]) -> Result<Vec<Vec<u8>>, WordsError> {
    if s.len() > MAX_COMMAND {
        return Err(WordsError::TooLong);
    }
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut word: Option<Vec<u8>> = None;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        let at = i;
        i += 1;
        match c {
            0 => return Err(WordsError::Nul { at }),
            b' ' | b'\t' => {
                if let Some(w) = word.take() {
                    if words.len() == MAX_WORDS {
                        return Err(WordsError::TooManyWords);
                    }
                    words.push(w);
                }
            }
            b'\'' => {
                let w = word.get_or_insert_with(Vec::new);
                let rest = s.get(i..).unwrap_or_default();
                let end = rest.iter().position(|&b| b == b'\'').ok_or(WordsError::Unterminated { quote: c, at })?;
                let quoted = rest.get(..end).unwrap_or_default();
                if let Some(z) = quoted.iter().position(|&b| b == 0) {
                    return Err(WordsError::Nul { at: i + z });
                }
                w.extend_from_slice(quoted);
                i += end + 1;
            }
            b'"' => {
                let w = word.get_or_insert_with(Vec::new);
                loop {
                    let q = i;
                    let Some(&d) = s.get(i) else {
                        return Err(WordsError::Unterminated { quote: c, at });
                    };
                    i += 1;
                    match d {
                        b'"' => break,
                        0 => return Err(WordsError::Nul { at: q }),
                        b'$' | b'`' => return Err(WordsError::Expansion { at: q }),
                        b'\\' => match s.get(i) {
                            Some(b'\n') => i += 1,
                            Some(&e @ (b'"' | b'\\' | b'`' | b'$')) => {
                                w.push(e);
                                i += 1;
                            }
                            _ => w.push(b'\\'),
                        },
                        _ => w.push(d),
                    }
                }
            }
            b'\\' => match s.get(i) {
                None => return Err(WordsError::TrailingBackslash),
                Some(0) => return Err(WordsError::Nul { at: i }),
                Some(b'\n') => i += 1,
                Some(&e) => {
                    word.get_or_insert_with(Vec::new).push(e);
                    i += 1;
                }
            },
            b'|' | b'&' | b';' | b'<' | b'>' | b'(' | b')' | b'$' | b'`' | b'*' | b'?' | b'[' | b'\n' | b'\r' => {
                return Err(WordsError::Special { byte: c, at })
            }
            b'#' | b'~' if word.is_none() => return Err(WordsError::Special { byte: c, at }),
            _ => word.get_or_insert_with(Vec::new).push(c),
        }
    }
    if let Some(w) = word {
        if words.len() == MAX_WORDS {
            return Err(WordsError::TooManyWords);
        }
        words.push(w);
    }
    match words.first() {
        None => Err(WordsError::Empty),
        Some(p) if p.first() == Some(&b'/') => Ok(words),
        Some(_) => Err(WordsError::NotAbsolute),
    }
}

/// Why `SHEVAL_UNSET` is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsetError {
    /// Entry (1-based) that is empty or not `[A-Za-z_][A-Za-z0-9_]*`.
    BadName { entry: usize },
}

impl fmt::Display for UnsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsetError::BadName { entry } => {
                write!(f, "{UNSET}: entry {entry} is not a variable name [A-Za-z_][A-Za-z0-9_]*")
            }
        }
    }
}

/// `name[,name|:name]*`: the variables to delete, each a valid name, in order, duplicates kept.
pub fn parse_unset(s: &[u8]) -> Result<Vec<Vec<u8>>, UnsetError> {
    s.split(|&c| c == b',' || c == b':')
        .enumerate()
        .map(|(i, n)| if is_name(n) { Ok(n.to_vec()) } else { Err(UnsetError::BadName { entry: i + 1 }) })
        .collect()
}

/// One `SHEVAL_SET_<var>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The parameter's name, for messages.
    pub param: String,
    pub var: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
}

/// What sheval does for one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// In byte order of the parameter names.
    pub sets: Vec<Assignment>,
    pub unset: Vec<Vec<u8>>,
    pub stall: Duration,
}

/// Why sheval's parameters are refused (78).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Param(ParamError),
    /// Neither a `SHEVAL_SET_<var>` nor `SHEVAL_UNSET`.
    Nothing,
    TooMany,
    /// `SHEVAL_SET_<var>` whose `<var>` is empty or starts with a digit.
    BadVar(String),
    Command {
        param: String,
        error: WordsError,
    },
    Unset(UnsetError),
    BadStall,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Param(e) => e.fmt(f),
            ConfigError::Nothing => write!(f, "no {SET}<var> or {UNSET} parameter"),
            ConfigError::TooMany => write!(f, "more than {MAX_SETS} {SET}<var> parameters"),
            ConfigError::BadVar(p) => write!(f, "{p} does not end in a variable name"),
            ConfigError::Command { param, error } => write!(f, "{param}: {error}"),
            ConfigError::Unset(e) => e.fmt(f),
            ConfigError::BadStall => write!(f, "{STALL} must be whole seconds, 1-3600"),
        }
    }
}

/// The assignments, deletions and time limit the parameters ask for.
pub fn config(params: &Params) -> Result<Config, ConfigError> {
    params.only(&[UNSET, STALL, WARN, REVEAL], &[SET]).map_err(ConfigError::Param)?;
    let mut sets = Vec::new();
    for (key, value) in params.iter() {
        let Some(var) = key.strip_prefix(SET.as_bytes()) else {
            continue;
        };
        let param = String::from_utf8_lossy(key).into_owned();
        if !is_name(var) {
            return Err(ConfigError::BadVar(param));
        }
        let argv = parse_command(value).map_err(|error| ConfigError::Command { param: param.clone(), error })?;
        sets.push(Assignment { param, var: var.to_vec(), argv });
    }
    if sets.len() > MAX_SETS {
        return Err(ConfigError::TooMany);
    }
    sets.sort_by(|a, b| a.param.as_bytes().cmp(b.param.as_bytes()));
    let unset = match params.get(UNSET) {
        Some(u) => parse_unset(u).map_err(ConfigError::Unset)?,
        None => Vec::new(),
    };
    if sets.is_empty() && unset.is_empty() {
        return Err(ConfigError::Nothing);
    }
    let stall = match params.get(STALL) {
        None => DEFAULT_STALL,
        Some(v) => match crate::invocation::decimal_u32(v) {
            Some(n @ 1..=3600) => Duration::from_secs(u64::from(n)),
            _ => return Err(ConfigError::BadStall),
        },
    };
    Ok(Config { sets, unset, stall })
}

/// Why an evaluation refuses the escalation.
#[derive(Debug)]
pub enum Failure {
    Untrusted {
        param: String,
        error: TrustError,
    },
    Run {
        param: String,
        error: RunError,
    },
    /// The command ended other than with exit status 0: the denial.
    Ended {
        param: String,
        ended: Ended,
    },
    /// The output holds a byte no reply form can carry (NUL, DEL, most control characters).
    Unrepresentable {
        param: String,
        byte: u8,
    },
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Untrusted { error, .. } => trusted::exit_code(error),
            Failure::Run { error, .. } => match error {
                RunError::NotAbsolute | RunError::Spawn(_) => EX_UNAVAILABLE,
                RunError::Timeout => EX_TEMPFAIL,
                RunError::TooLong => EX_PROTOCOL,
                RunError::Io(_) => EX_IOERR,
            },
            Failure::Ended { .. } => EX_NOPERM,
            Failure::Unrepresentable { .. } => EX_DATAERR,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Untrusted { param, error } => write!(f, "{param}: {error}"),
            Failure::Run { param, error } => match error {
                RunError::TooLong => {
                    write!(f, "{param}: the command wrote more than {MAX_OUTPUT} bytes")
                }
                _ => write!(f, "{param}: the command {error}"),
            },
            Failure::Ended { param, ended: Ended::Exited(c) } => write!(f, "{param}: the command exited {c}"),
            Failure::Ended { param, ended: Ended::Signaled(s) } => {
                write!(f, "{param}: the command was killed by signal {s}")
            }
            Failure::Unrepresentable { param, byte } => {
                write!(f, "{param}: the output holds byte 0x{byte:02x}, which no reply line can carry")
            }
        }
    }
}

/// Runs one command to its value (final newline removed).
fn evaluate(a: &Assignment, deadline: Instant) -> Result<Vec<u8>, Failure> {
    let path = a.argv.first().map(Vec::as_slice).unwrap_or_default();
    trusted::open(Path::new(OsStr::from_bytes(path)))
        .map_err(|error| Failure::Untrusted { param: a.param.clone(), error })?;
    let user = (sys::effective_uid() == 0).then(|| (0, 0, Vec::new()));
    let env: [(&[u8], &[u8]); 1] = [(b"PATH", COMMAND_PATH)];
    let finished = program::run(&Run {
        path,
        args: a.argv.get(1..).unwrap_or_default(),
        env: &env,
        stdin: None,
        user,
        deadline,
        cap: MAX_OUTPUT,
    })
    .map_err(|error| Failure::Run { param: a.param.clone(), error })?;
    if finished.ended != Ended::Exited(0) {
        return Err(Failure::Ended { param: a.param.clone(), ended: finished.ended });
    }
    let mut value = finished.stdout;
    if value.last() == Some(&b'\n') {
        value.pop();
    }
    Ok(value)
}

/// Runs every assignment in order and builds the reply lines: `$var=value` for each variable not
/// in the unset list, then `-name` for each name in it.
pub fn run(config: &Config) -> Result<Vec<Vec<u8>>, Failure> {
    let deadline = Instant::now() + config.stall;
    let mut reply = Writer::new();
    for a in &config.sets {
        let value = evaluate(a, deadline)?;
        if config.unset.contains(&a.var) {
            continue;
        }
        reply.set(&a.var, &value).map_err(|e| match e {
            WriteError::Unrepresentable(byte) => Failure::Unrepresentable { param: a.param.clone(), byte },
            // Names were checked by `config`.
            WriteError::BadName | WriteError::Newline => Failure::Unrepresentable { param: a.param.clone(), byte: 0 },
        })?;
    }
    for name in &config.unset {
        // Names were checked by `parse_unset`.
        let _ = reply.delete(name);
    }
    Ok(reply.bytes().split(|&c| c == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect())
}

pub const HELPER: Helper = Helper {
    name: "sheval",
    about: "Sets variables for the command from the output of commands the rule names: each\n\
            SHEVAL_SET_<var>=command runs (no shell: words, quotes, absolute program, as root,\n\
            clean environment) and replies $<var>=output; a command that fails refuses.",
    reads: &["SHEVAL_SET_<var>", "SHEVAL_UNSET", "SHEVAL_STALL", "SHEVAL_WARN", "SHEVAL_REVEAL"],
    grammar: &[
        (
            "SHEVAL_SET_<var>",
            "/abs/program word ...  (blanks separate words; '...' and \"...\" quote; \\ escapes; nothing expanded; run in byte order of the names; exit 0 required)",
        ),
        ("SHEVAL_UNSET", "name[,name|:name]*  (variables to delete afterwards; a set variable listed here is never written)"),
        ("SHEVAL_STALL", "seconds all the commands together may take, 1-3600 (default 10)"),
        ("SHEVAL_WARN", "text printed on stderr when refused"),
        ("SHEVAL_REVEAL", "prefix: reply ~prefix after removing the SHEVAL_ parameters"),
    ],
    warn_var: WARN,
    reveal_var: REVEAL,
};

/// The sheval program.
pub fn main() -> ! {
    helper::main(&HELPER, Params::prefixed("SHEVAL_"), |s| {
        let config = match config(&s.params) {
            Ok(c) => c,
            Err(e) => return Verdict::config(e),
        };
        match run(&config) {
            Ok(relay) => Verdict::Allow { relay },
            Err(f) => Verdict::refuse(f.code(), f.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    fn words(s: &str) -> Vec<String> {
        parse_command(s.as_bytes()).unwrap().into_iter().map(|w| String::from_utf8(w).unwrap()).collect()
    }

    #[test]
    fn splits_the_pages_dual_group_example_once_op_has_expanded_it() {
        // $SHEVAL_SET_trapWheel=/usr/bin/expr$.',$r,$a,'$.:$.'.*,wheel,.*'  with $. a space,
        // $r=disk and $a=disk,wheel,users.
        assert_eq!(
            words("/usr/bin/expr ',disk,disk,wheel,users,' : '.*,wheel,.*'"),
            ["/usr/bin/expr", ",disk,disk,wheel,users,", ":", ".*,wheel,.*"]
        );
        assert_eq!(words("/usr/bin/uname -p"), ["/usr/bin/uname", "-p"]);
    }

    #[test]
    fn quotes_and_escapes_join_into_words_as_in_sh() {
        assert_eq!(words("/bin/echo a'b c'd"), ["/bin/echo", "ab cd"]);
        assert_eq!(words("/bin/echo '' \"\""), ["/bin/echo", "", ""]);
        assert_eq!(words(r#"/bin/echo "a \"q\" \\ \x" 'it''s'"#), ["/bin/echo", r#"a "q" \ \x"#, "its"]);
        assert_eq!(words(r"/bin/echo a\ b \| \$x"), ["/bin/echo", "a b", "|", "$x"]);
        assert_eq!(words("  /bin/echo\t\ta  "), ["/bin/echo", "a"]);
        assert_eq!(words("/bin/echo a#b c~ '#' \"~\""), ["/bin/echo", "a#b", "c~", "#", "~"]);
        assert_eq!(words("/bin/echo 'a|b;c&d<e>f(g)h$i`j*k?l[m'"), ["/bin/echo", "a|b;c&d<e>f(g)h$i`j*k?l[m"]);
        assert_eq!(words("/bin/echo a\\\nb \"c\\\nd\""), ["/bin/echo", "ab", "cd"]);
    }

    #[test]
    fn refuses_what_a_shell_would_interpret() {
        let cases: &[(&str, WordsError)] = &[
            ("", WordsError::Empty),
            ("   ", WordsError::Empty),
            ("uname -p", WordsError::NotAbsolute),
            ("'' /bin/true", WordsError::NotAbsolute),
            ("./x", WordsError::NotAbsolute),
            ("/bin/echo 'x", WordsError::Unterminated { quote: b'\'', at: 10 }),
            ("/bin/echo \"x", WordsError::Unterminated { quote: b'"', at: 10 }),
            ("/bin/echo x\\", WordsError::TrailingBackslash),
            ("/bin/echo a|b", WordsError::Special { byte: b'|', at: 11 }),
            ("/bin/echo a; /bin/rm", WordsError::Special { byte: b';', at: 11 }),
            ("/bin/echo $HOME", WordsError::Special { byte: b'$', at: 10 }),
            ("/bin/echo `id`", WordsError::Special { byte: b'`', at: 10 }),
            ("/bin/ls *", WordsError::Special { byte: b'*', at: 8 }),
            ("/bin/ls a?", WordsError::Special { byte: b'?', at: 9 }),
            ("/bin/ls [ab]", WordsError::Special { byte: b'[', at: 8 }),
            ("/bin/true > /etc/x", WordsError::Special { byte: b'>', at: 10 }),
            ("/bin/true &", WordsError::Special { byte: b'&', at: 10 }),
            ("/bin/true\n/bin/false", WordsError::Special { byte: b'\n', at: 9 }),
            ("/bin/echo #c", WordsError::Special { byte: b'#', at: 10 }),
            ("/bin/echo ~root", WordsError::Special { byte: b'~', at: 10 }),
            ("/bin/echo \"$HOME\"", WordsError::Expansion { at: 11 }),
            ("/bin/echo \"`id`\"", WordsError::Expansion { at: 11 }),
            ("/bin/echo a\0b", WordsError::Nul { at: 11 }),
            ("/bin/echo 'a\0b'", WordsError::Nul { at: 12 }),
        ];
        for (s, e) in cases {
            assert_eq!(parse_command(s.as_bytes()), Err(*e), "{s:?}");
        }
        let long = format!("/bin/echo {}", "a".repeat(MAX_COMMAND));
        assert_eq!(parse_command(long.as_bytes()), Err(WordsError::TooLong));
        let many = format!("/bin/echo{}", " a".repeat(MAX_WORDS));
        assert_eq!(parse_command(many.as_bytes()), Err(WordsError::TooManyWords));
        let most = format!("/bin/echo{}", " a".repeat(MAX_WORDS - 1));
        assert_eq!(parse_command(most.as_bytes()).unwrap().len(), MAX_WORDS);
    }

    #[test]
    fn unset_lists_take_commas_and_colons() {
        assert_eq!(parse_unset(b"trapWheel,a:b_1").unwrap(), [b"trapWheel".to_vec(), b"a".to_vec(), b"b_1".to_vec()]);
        assert_eq!(parse_unset(b""), Err(UnsetError::BadName { entry: 1 }));
        assert_eq!(parse_unset(b"a,,b"), Err(UnsetError::BadName { entry: 2 }));
        assert_eq!(parse_unset(b"a,"), Err(UnsetError::BadName { entry: 2 }));
        assert_eq!(parse_unset(b"a b"), Err(UnsetError::BadName { entry: 1 }));
        assert_eq!(parse_unset(b"1a"), Err(UnsetError::BadName { entry: 1 }));
        assert_eq!(parse_unset(b"a\n0"), Err(UnsetError::BadName { entry: 1 }));
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut env = Env::from_pairs(pairs);
        Params::take(&mut env, Params::prefixed("SHEVAL_")).unwrap()
    }

    #[test]
    fn assignments_run_in_byte_order_of_their_names() {
        let c = config(&params(&[
            ("SHEVAL_SET_b", "/bin/echo 2"),
            ("SHEVAL_SET_B", "/bin/echo 1"),
            ("SHEVAL_SET_a", "/bin/echo 3"),
        ]))
        .unwrap();
        let order: Vec<&[u8]> = c.sets.iter().map(|a| a.var.as_slice()).collect();
        assert_eq!(order, [&b"B"[..], b"a", b"b"]);
        assert_eq!(c.stall, DEFAULT_STALL);
    }

    #[test]
    fn refuses_bad_parameters() {
        let bad: &[&[(&str, &str)]] = &[
            &[],
            &[("SHEVAL_WARN", "w")],
            &[("SHEVAL_SET_", "/bin/true")],
            &[("SHEVAL_SET_1x", "/bin/true")],
            &[("SHEVAL_SET_x", "true")],
            &[("SHEVAL_SET_x", "/bin/echo $x")],
            &[("SHEVAL_UNSET", "a,,b")],
            &[("SHEVAL_SET_x", "/bin/true"), ("SHEVAL_STALL", "0")],
            &[("SHEVAL_SET_x", "/bin/true"), ("SHEVAL_STALL", "3601")],
            &[("SHEVAL_SET_x", "/bin/true"), ("SHEVAL_EVAL_y", "/bin/true")],
        ];
        for p in bad {
            assert!(config(&params(p)).is_err(), "{p:?}");
        }
        assert!(config(&params(&[("SHEVAL_UNSET", "a")])).is_ok());
    }
}
