//! stampctl: builds and manages stamps (§4.8). Not a helmet: its argv is its own.
//!
//! ```text
//! stampctl -M name [-n] [-<max>] [-E end] [-I idle] [-m mode] [-u user] [-g group] [NAME=value | NAME]...
//! stampctl -k | -K [name...]        end stamps (-K also ends one in penalty mode)
//! stampctl -N [name...]             penalty mode
//! stampctl -v name                  reset the idle timer
//! stampctl -Q name [-F] NAME...     print tableau values (-F: as $NAME=value helmet lines)
//! stampctl [-g group] [-m mode] [-u user] facility...   create facility directories (boot)
//! stampctl -h | -H | -V
//! ```
//!
//! Names are relative to `STAMP_FACILITY` (stampctl's environment; default `.`, the root) unless
//! absolute under the root. With no names, `-k`/`-K`/`-N` act on the stamp named for the caller:
//! the login of `ESCAPES_CALLER_UID` when stampctl runs with real uid 0 (escapes runs it so and
//! passes the caller), otherwise of the real uid (op runs it with the client's real uid; a
//! client cannot then claim another uid through the environment). The same uid is the one
//! stampctl acts for: the owner of a stamp it makes, and whose authority ends, refreshes or
//! penalises one.

use super::client::{self, ConnError, Located, Socket};
use super::duration::{self, DurationError};
use super::holder::{self, Holder, Stamp, Terms};
use super::path::{self, PathError, StampPath};
use super::place;
use super::wire::{self, Reply, Request};
use super::ROOT;
use crate::invocation::decimal_u32;
use crate::sys::{self, Forked};
use crate::{group, passwd};
use opwire::dir::Dir;
use opwire::reply::is_name;
use opwire::sysexits::{
    EX_CONFIG, EX_NOINPUT, EX_NOPERM, EX_NOUSER, EX_OSERR, EX_SOFTWARE, EX_TEMPFAIL, EX_UNAVAILABLE, EX_USAGE,
};
use opwire::trusted::Error as WalkError;
use std::ffi::OsStr;
use std::fmt;
use std::fs::{File, OpenOptions, Permissions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

/// The lifetime of a stamp made without `-E`: a stamp never lives forever.
pub const DEFAULT_END: u64 = 300;
/// The most `-<max>` may say.
pub const MAX_COUNT: u32 = 1_000_000;
/// Most tableau entries.
pub const MAX_ENTRIES: usize = 64;
/// Facility directories' mode unless `-m` says otherwise.
pub const DEFAULT_DIR_MODE: u32 = 0o750;
/// A stamp socket's mode unless `-m` says otherwise.
pub const DEFAULT_SOCKET_MODE: u32 = 0o600;

/// One tableau word of `-M`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryArg {
    /// `NAME=value`
    Set(Vec<u8>, Vec<u8>),
    /// `NAME`: copied from stampctl's environment.
    Copy(Vec<u8>),
}

/// Owner and group as written (a name or a decimal id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    pub user: Option<Vec<u8>>,
    pub group: Option<Vec<u8>>,
}

/// `-M`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Make {
    pub name: Vec<u8>,
    pub penalty: bool,
    pub max: Option<u32>,
    /// Seconds.
    pub end: u64,
    pub idle: Option<u64>,
    /// The socket's mode and owner.
    pub mode: u32,
    pub owner: Ownership,
    pub tableau: Vec<EntryArg>,
}

/// One directory of the boot form with the settings in force where it was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootDir {
    pub name: Vec<u8>,
    pub mode: u32,
    pub owner: Ownership,
}

/// What the argv asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Grammar,
    Version,
    Make(Make),
    /// `-k` (`force` false) or `-K`.
    End {
        force: bool,
        names: Vec<Vec<u8>>,
    },
    Penalty {
        names: Vec<Vec<u8>>,
    },
    Refresh {
        name: Vec<u8>,
    },
    Query {
        name: Vec<u8>,
        helmet: bool,
        entries: Vec<Vec<u8>>,
    },
    Boot(Vec<BootDir>),
}

/// Why the argv is refused (exit 64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    MissingValue(char),
    UnknownOption(char),
    Repeated(char),
    /// `-R`, `-D`, `-X`, `-T`: documented for op's stampctl, deliberately not built.
    Unsupported(char),
    /// Two modes at once (`-M` and `-k`, …).
    Modes(char, char),
    /// An option that does not belong to this mode.
    NotHere(char),
    Duration(char, DurationError),
    BadCount,
    BadMode(String),
    /// A `-M` word that is neither `NAME=value` nor `NAME` (or whose value cannot travel).
    BadEntry(String),
    DuplicateEntry(String),
    TooManyEntries,
    /// A mode that needs names got none, or one that takes none got some.
    Operands,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgError::MissingValue(c) => write!(f, "option -{c} needs a value"),
            ArgError::UnknownOption(c) => write!(f, "unknown option -{c}"),
            ArgError::Repeated(c) => write!(f, "option -{c} given twice"),
            ArgError::Unsupported('R') => f.write_str(
                "-R host[:service] (a tableau from a tcpmux service) is not supported: these helpers make no network connections; give the tableau as NAME=value words",
            ),
            ArgError::Unsupported('D') => f.write_str(
                "-D user:group (a holder with other credentials) is not supported: the holder runs as root so that no client can signal it",
            ),
            ArgError::Unsupported(c) => write!(
                f,
                "-{c} belongs to the -R tcpmux form, which is not supported (no network connections)"
            ),
            ArgError::Modes(a, b) => write!(f, "-{a} and -{b} cannot be combined"),
            ArgError::NotHere(c) => write!(f, "option -{c} does not apply here"),
            ArgError::Duration(c, e) => write!(f, "-{c}: {e}"),
            ArgError::BadCount => write!(f, "-<max> must be 1 to {MAX_COUNT}"),
            ArgError::BadMode(m) => write!(f, "{m}"),
            ArgError::BadEntry(w) => write!(
                f,
                "{w:?} is not NAME=value or NAME (NAME: A-Za-z_ then A-Za-z0-9_, at most 64 bytes; value: at most {} bytes, no control characters)",
                wire::MAX_VALUE
            ),
            ArgError::DuplicateEntry(n) => write!(f, "tableau entry {n} given twice"),
            ArgError::TooManyEntries => write!(f, "more than {MAX_ENTRIES} tableau entries"),
            ArgError::Operands => f.write_str("wrong operands for this mode (see stampctl -h)"),
        }
    }
}

/// Option letters that take a value.
const WITH_VALUE: &[u8] = b"MEIvQgmuRDT";
/// Letters that choose a mode.
const MODES: &[u8] = b"MkKNvQ";

enum Word {
    Opt(u8, Vec<u8>),
    Flag(u8),
    Max(Vec<u8>),
    Operand(Vec<u8>),
}

fn words(args: &[Vec<u8>]) -> Result<Vec<Word>, ArgError> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut operands_only = false;
    while let Some(w) = args.get(i) {
        i += 1;
        if operands_only {
            out.push(Word::Operand(w.clone()));
            continue;
        }
        if w.as_slice() == b"--" {
            operands_only = true;
            continue;
        }
        let Some(letters) = w.strip_prefix(b"-").filter(|l| !l.is_empty()) else {
            out.push(Word::Operand(w.clone()));
            continue;
        };
        if letters.iter().all(u8::is_ascii_digit) {
            out.push(Word::Max(letters.to_vec()));
            continue;
        }
        let mut j = 0;
        while let Some(&c) = letters.get(j) {
            j += 1;
            if b"RDXT".contains(&c) {
                return Err(ArgError::Unsupported(char::from(c)));
            }
            if WITH_VALUE.contains(&c) {
                let rest = letters.get(j..).unwrap_or_default();
                let v = if rest.is_empty() {
                    let v = args.get(i).ok_or(ArgError::MissingValue(char::from(c)))?;
                    i += 1;
                    v.clone()
                } else {
                    rest.to_vec()
                };
                out.push(Word::Opt(c, v));
                break;
            }
            if !b"nkKNFhHV".contains(&c) {
                return Err(ArgError::UnknownOption(char::from(c)));
            }
            out.push(Word::Flag(c));
        }
    }
    Ok(out)
}

/// An octal mode: 1–4 octal digits. Directories may not be group/world-writable (the stamp
/// helper would refuse them); sockets take only permission bits.
pub fn parse_mode(s: &[u8], directory: bool) -> Result<u32, ArgError> {
    let text = String::from_utf8_lossy(s).into_owned();
    if s.is_empty() || s.len() > 4 || !s.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return Err(ArgError::BadMode(format!(
            "-m {text:?}: give an octal mode such as 750 (symbolic and optional-bit forms are not supported)"
        )));
    }
    let m = s.iter().fold(0u32, |m, &b| m * 8 + u32::from(b - b'0'));
    if directory && m & 0o022 != 0 {
        return Err(ArgError::BadMode(format!(
            "-m {text}: a facility directory writable by group or others would be refused by stamp"
        )));
    }
    if !directory && m > 0o777 {
        return Err(ArgError::BadMode(format!("-m {text}: a socket takes permission bits only (at most 777)")));
    }
    Ok(m)
}

fn entry(word: &[u8]) -> Result<EntryArg, ArgError> {
    let bad = || ArgError::BadEntry(String::from_utf8_lossy(word).into_owned());
    let (name, value) = match word.iter().position(|&b| b == b'=') {
        Some(eq) => (word.get(..eq).unwrap_or_default(), Some(word.get(eq + 1..).unwrap_or_default())),
        None => (word, None),
    };
    if !is_name(name) || name.len() > super::spec::MAX_NAME {
        return Err(bad());
    }
    match value {
        Some(v) if wire::is_value(v) => Ok(EntryArg::Set(name.to_vec(), v.to_vec())),
        Some(_) => Err(bad()),
        None => Ok(EntryArg::Copy(name.to_vec())),
    }
}

/// Parses stampctl's argv (after argv[0]).
pub fn parse_args(args: &[Vec<u8>]) -> Result<Command, ArgError> {
    let words = words(args)?;
    for w in &words {
        if let Word::Flag(c @ (b'h' | b'H' | b'V')) = w {
            return Ok(match c {
                b'h' => Command::Help,
                b'H' => Command::Grammar,
                _ => Command::Version,
            });
        }
    }
    let mut mode: Option<(u8, Option<Vec<u8>>)> = None;
    for w in &words {
        let (c, v) = match w {
            Word::Opt(c, v) if MODES.contains(c) => (*c, Some(v.clone())),
            Word::Flag(c) if MODES.contains(c) => (*c, None),
            _ => continue,
        };
        if let Some((m, _)) = &mode {
            return Err(if *m == c {
                ArgError::Repeated(char::from(c))
            } else {
                ArgError::Modes(char::from(*m), char::from(c))
            });
        }
        mode = Some((c, v));
    }
    let operands: Vec<Vec<u8>> = words
        .iter()
        .filter_map(|w| match w {
            Word::Operand(o) => Some(o.clone()),
            _ => None,
        })
        .collect();
    // Options other than the mode letter, checked against what the mode allows.
    let allowed: &[u8] = match mode.as_ref().map(|(m, _)| *m) {
        Some(b'M') => b"nEImug#",
        Some(b'Q') => b"F",
        None => b"mug",
        _ => b"",
    };
    let mut seen: Vec<u8> = Vec::new();
    for w in &words {
        let c = match w {
            Word::Opt(c, _) | Word::Flag(c) if MODES.contains(c) => continue,
            Word::Opt(c, _) | Word::Flag(c) => *c,
            Word::Max(_) => b'#',
            Word::Operand(_) => continue,
        };
        if !allowed.contains(&c) {
            return Err(ArgError::NotHere(if c == b'#' { '0' } else { char::from(c) }));
        }
        // Boot settings may change between names; everything else is given once.
        if mode.is_some() && seen.contains(&c) {
            return Err(ArgError::Repeated(if c == b'#' { '0' } else { char::from(c) }));
        }
        seen.push(c);
    }
    let flag = |f: u8| words.iter().any(|w| matches!(w, Word::Flag(c) if *c == f));
    let opt = |o: u8| {
        words.iter().find_map(|w| match w {
            Word::Opt(c, v) if *c == o => Some(v.clone()),
            _ => None,
        })
    };
    match mode {
        Some((b'M', Some(name))) => {
            let end = match opt(b'E') {
                Some(e) => duration::parse(&e).map_err(|e| ArgError::Duration('E', e))?,
                None => DEFAULT_END,
            };
            let idle = opt(b'I').map(|i| duration::parse(&i).map_err(|e| ArgError::Duration('I', e))).transpose()?;
            let max = words
                .iter()
                .find_map(|w| match w {
                    Word::Max(m) => Some(m),
                    _ => None,
                })
                .map(|m| decimal_u32(m).filter(|n| (1..=MAX_COUNT).contains(n)).ok_or(ArgError::BadCount))
                .transpose()?;
            let mode = opt(b'm').map(|m| parse_mode(&m, false)).transpose()?.unwrap_or(DEFAULT_SOCKET_MODE);
            let mut tableau = Vec::new();
            for o in &operands {
                let e = entry(o)?;
                let n = match &e {
                    EntryArg::Set(n, _) | EntryArg::Copy(n) => n.clone(),
                };
                if tableau.iter().any(|t| matches!(t, EntryArg::Set(k, _) | EntryArg::Copy(k) if *k == n)) {
                    return Err(ArgError::DuplicateEntry(String::from_utf8_lossy(&n).into_owned()));
                }
                if tableau.len() == MAX_ENTRIES {
                    return Err(ArgError::TooManyEntries);
                }
                tableau.push(e);
            }
            Ok(Command::Make(Make {
                name,
                penalty: flag(b'n'),
                max,
                end,
                idle,
                mode,
                owner: Ownership { user: opt(b'u'), group: opt(b'g') },
                tableau,
            }))
        }
        Some((c @ (b'k' | b'K'), _)) => Ok(Command::End { force: c == b'K', names: operands }),
        Some((b'N', _)) => Ok(Command::Penalty { names: operands }),
        Some((b'v', Some(name))) if operands.is_empty() => Ok(Command::Refresh { name }),
        Some((b'Q', Some(name))) if !operands.is_empty() => {
            Ok(Command::Query { name, helmet: flag(b'F'), entries: operands })
        }
        Some(_) => Err(ArgError::Operands),
        None => {
            let mut dirs = Vec::new();
            let mut mode = DEFAULT_DIR_MODE;
            let mut owner = Ownership::default();
            for w in &words {
                match w {
                    Word::Opt(b'm', m) => mode = parse_mode(m, true)?,
                    Word::Opt(b'u', u) => owner.user = Some(u.clone()),
                    Word::Opt(b'g', g) => owner.group = Some(g.clone()),
                    Word::Operand(name) => dirs.push(BootDir { name: name.clone(), mode, owner: owner.clone() }),
                    _ => {}
                }
            }
            if dirs.is_empty() {
                return Err(ArgError::Operands);
            }
            Ok(Command::Boot(dirs))
        }
    }
}

// ---------------------------------------------------------------- running

/// A failure with the exit code it means.
struct Fail(u8, String);

type Outcome = Result<(), Fail>;

fn fail<T>(code: u8, msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail(code, msg.into()))
}

fn walk_fail(e: WalkError) -> Fail {
    match place::exit_code(&e) {
        EX_UNAVAILABLE => {
            Fail(EX_UNAVAILABLE, format!("{e} (create facility directories at boot: stampctl facility...)"))
        }
        code => Fail(code, e.to_string()),
    }
}

/// What stampctl knows about its caller and its environment.
struct Context {
    root: Vec<Vec<u8>>,
    /// `STAMP_FACILITY`, parsed (or why not: only an error once a stamp name needs it, so the
    /// boot form, whose names are facilities, does not depend on it).
    facility: Result<Vec<Vec<u8>>, String>,
    /// The uid stampctl acts for.
    acting: u32,
}

fn context() -> Result<Context, Fail> {
    let root =
        super::root_components().or_else(|e| fail(EX_SOFTWARE, format!("compiled-in stamp root {ROOT}: {e}")))?;
    let facility = match std::env::var_os("STAMP_FACILITY") {
        None => Ok(Vec::new()),
        Some(f) => path::parse_facility(f.as_bytes(), ROOT.as_bytes()).map_err(|e| format!("STAMP_FACILITY: {e}")),
    };
    let acting = match (sys::real_ids().0, std::env::var_os("ESCAPES_CALLER_UID")) {
        (0, Some(u)) => decimal_u32(u.as_bytes())
            .ok_or(())
            .or_else(|()| fail(EX_CONFIG, "ESCAPES_CALLER_UID is not a decimal uid"))?,
        (r, _) => r,
    };
    Ok(Context { root, facility, acting })
}

impl Context {
    fn stamp(&self, name: &[u8]) -> Result<StampPath, Fail> {
        let facility = match &self.facility {
            Ok(f) => f,
            Err(e) => return fail(EX_CONFIG, e.clone()),
        };
        StampPath::parse(name, facility, ROOT.as_bytes())
            .or_else(|e: PathError| fail(EX_USAGE, format!("stamp name {:?}: {e}", String::from_utf8_lossy(name))))
    }

    /// The names given, or the caller's login.
    fn names_or_caller(&self, names: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, Fail> {
        if !names.is_empty() {
            return Ok(names);
        }
        let data = passwd::load().or_else(|e| fail(EX_OSERR, format!("looking up uid {}: {e}", self.acting)))?;
        match passwd::by_uid(&data, self.acting) {
            Some(account) => Ok(vec![account.name]),
            None => fail(EX_NOUSER, format!("uid {} has no login name", self.acting)),
        }
    }

    fn socket(&self, path: &StampPath) -> Result<Option<Socket>, Fail> {
        let shown = path.display(ROOT);
        match client::locate(&self.root, path) {
            Ok(Located::Nothing) => Ok(None),
            Ok(Located::Socket(s)) => Ok(Some(s)),
            Ok(Located::Lock(_)) => {
                fail(EX_NOPERM, format!("{shown} is a lock file (a plain file), not a stamp; remove it by hand"))
            }
            Ok(Located::Other(kind)) => fail(EX_NOPERM, format!("{shown} is {kind}, not a stamp")),
            Err(e) => Err(walk_fail(e)),
        }
    }
}

fn conn_fail(shown: &str, e: ConnError) -> Fail {
    let code = match e {
        ConnError::Timeout => EX_TEMPFAIL,
        ConnError::NotRoot(_) => EX_NOPERM,
        _ => EX_UNAVAILABLE,
    };
    Fail(code, format!("{shown}: {e}"))
}

/// Sends one request to a live stamp; `Ok(None)` if its holder is dead.
fn ask(s: &Socket, shown: &str, req: &Request) -> Result<Option<Reply>, Fail> {
    let mut conn = match s.connect(Instant::now() + client::ANSWER_DEADLINE) {
        Ok(c) => c,
        Err(ConnError::Dead) => return Ok(None),
        Err(e) => return Err(conn_fail(shown, e)),
    };
    conn.ask(req).map(Some).map_err(|e| conn_fail(shown, e))
}

fn refused(shown: &str, reply: &Reply) -> Fail {
    match reply {
        Reply::Penalty => Fail(EX_NOPERM, format!("{shown} is in penalty mode (only -K ends it)")),
        Reply::Denied => {
            Fail(EX_NOPERM, format!("{shown} belongs to another user (only its owner or root may change it)"))
        }
        other => Fail(EX_UNAVAILABLE, format!("{shown}: unexpected answer {other:?}")),
    }
}

/// `-k`/`-K`: a missing stamp is already ended; a dead one's socket is removed.
fn end(ctx: &Context, force: bool, name: &[u8]) -> Outcome {
    let path = ctx.stamp(name)?;
    let shown = path.display(ROOT);
    let Some(s) = ctx.socket(&path)? else {
        return Ok(());
    };
    let req = if force { Request::EndPenalty(ctx.acting) } else { Request::End(ctx.acting) };
    match ask(&s, &shown, &req)? {
        None => s.remove().or_else(|e| fail(EX_NOPERM, format!("{shown}: removing the dead socket: {e}"))),
        Some(Reply::Ok { .. }) => Ok(()),
        Some(r) => Err(refused(&shown, &r)),
    }
}

/// `-N` and `-v`.
fn change(ctx: &Context, name: &[u8], req: &Request) -> Outcome {
    let path = ctx.stamp(name)?;
    let shown = path.display(ROOT);
    let Some(s) = ctx.socket(&path)? else {
        return fail(EX_UNAVAILABLE, format!("no stamp {shown}"));
    };
    match ask(&s, &shown, req)? {
        None => fail(EX_UNAVAILABLE, format!("{shown}: no holder listens (dead stamp)")),
        Some(Reply::Ok { .. }) => Ok(()),
        Some(r) => Err(refused(&shown, &r)),
    }
}

/// `-Q`: all values or nothing.
fn query(ctx: &Context, name: &[u8], helmet: bool, entries: &[Vec<u8>]) -> Outcome {
    for e in entries {
        if !is_name(e) || e.len() > super::spec::MAX_NAME {
            return fail(EX_USAGE, format!("{:?} is not an entry name", String::from_utf8_lossy(e)));
        }
    }
    let path = ctx.stamp(name)?;
    let shown = path.display(ROOT);
    let Some(s) = ctx.socket(&path)? else {
        return fail(EX_UNAVAILABLE, format!("no stamp {shown}"));
    };
    let mut conn = match s.connect(Instant::now() + client::ANSWER_DEADLINE) {
        Ok(c) => c,
        Err(e) => return Err(conn_fail(&shown, e)),
    };
    let mut out = Vec::new();
    for e in entries {
        match conn.ask(&Request::Query(e.clone())) {
            Ok(Reply::Value(v)) => {
                if helmet {
                    out.extend_from_slice(b"$");
                    out.extend_from_slice(e);
                    out.extend_from_slice(b"=");
                }
                out.extend_from_slice(&v);
                out.push(b'\n');
            }
            Ok(Reply::Absent) => {
                return fail(EX_NOINPUT, format!("{shown} has no entry {}", String::from_utf8_lossy(e)))
            }
            Ok(r) => return Err(refused(&shown, &r)),
            Err(err) => return Err(conn_fail(&shown, err)),
        }
    }
    std::io::stdout().write_all(&out).or_else(|e| fail(opwire::sysexits::EX_IOERR, format!("writing: {e}")))
}

fn resolve_user(u: &[u8]) -> Result<u32, Fail> {
    if let Some(n) = decimal_u32(u) {
        return Ok(n);
    }
    let data = passwd::load().or_else(|e| fail(EX_OSERR, format!("looking up user: {e}")))?;
    match passwd::by_name(&data, u) {
        Some(account) => Ok(account.uid),
        None => fail(EX_NOUSER, format!("no user {}", String::from_utf8_lossy(u))),
    }
}

fn resolve_group(g: &[u8]) -> Result<u32, Fail> {
    if let Some(n) = decimal_u32(g) {
        return Ok(n);
    }
    let data = group::load().or_else(|e| fail(EX_OSERR, format!("looking up group: {e}")))?;
    match group::by_name(&data, g) {
        Some(found) => Ok(found.gid),
        None => fail(EX_NOUSER, format!("no group {}", String::from_utf8_lossy(g))),
    }
}

fn need_root(what: &str) -> Outcome {
    if sys::effective_uid() != 0 {
        return fail(EX_NOPERM, format!("{what} must run as root"));
    }
    Ok(())
}

/// `-M`: replace a stamp already there (if we may), bind, and leave a holder behind.
fn make(ctx: &Context, m: Make) -> Outcome {
    need_root("stampctl -M")?;
    let mut tableau = Vec::new();
    for e in m.tableau {
        match e {
            EntryArg::Set(n, v) => tableau.push((n, v)),
            EntryArg::Copy(n) => {
                let shown = String::from_utf8_lossy(&n).into_owned();
                let v = std::env::var_os(OsStr::from_bytes(&n))
                    .ok_or(())
                    .or_else(|()| fail(EX_CONFIG, format!("{shown} is not in the environment")))?
                    .into_vec();
                if !wire::is_value(&v) {
                    return fail(EX_CONFIG, format!("{shown}'s value has control characters or is too long"));
                }
                tableau.push((n, v));
            }
        }
    }
    let socket_uid = m.owner.user.as_deref().map(resolve_user).transpose()?;
    let socket_gid = m.owner.group.as_deref().map(resolve_group).transpose()?;
    let path = ctx.stamp(&m.name)?;
    let shown = path.display(ROOT);
    let mut comps = ctx.root.clone();
    comps.extend(path.dirs().iter().cloned());
    let dir = place::walk(&comps).map_err(walk_fail)?;
    let leaf = path.leaf().to_vec();
    // Whatever is there must go first: a live stamp ends only if we may end it (a penalty
    // stamp refuses), a dead one is cleared, anything else stays and we refuse.
    if let Some(s) = ctx.socket(&path)? {
        match ask(&s, &shown, &Request::End(ctx.acting))? {
            None => s.remove().or_else(|e| fail(EX_NOPERM, format!("{shown}: removing the dead socket: {e}")))?,
            Some(Reply::Ok { .. }) => {}
            Some(r) => return Err(refused(&shown, &r)),
        }
    }
    let terms = Terms {
        tableau,
        owner: ctx.acting,
        penalty: m.penalty,
        max: m.max,
        end: Duration::from_secs(m.end),
        idle: m.idle.map(Duration::from_secs),
    };
    // The socket is created with its final mode (no window with a wider one).
    let old = sys::set_umask(!m.mode & 0o777);
    let bound = UnixListener::bind(OsStr::from_bytes(&place::proc_path(&dir, &leaf)));
    sys::set_umask(old);
    let listener = match bound {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return fail(EX_TEMPFAIL, format!("{shown}: made by someone else meanwhile"))
        }
        Err(e) => return fail(EX_OSERR, format!("{shown}: bind: {e}")),
    };
    let inode = match dir.entry(&leaf) {
        Ok(Some((_, st))) => (st.dev, st.ino),
        _ => return fail(EX_OSERR, format!("{shown}: the new socket vanished")),
    };
    let h = Holder { listener, dir, name: leaf, inode, stamp: Stamp::new(terms, sys::boottime()) };
    if socket_uid.is_some() || socket_gid.is_some() {
        let p = place::proc_path(&h.dir, &h.name);
        if let Err(e) = std::os::unix::fs::lchown(OsStr::from_bytes(&p), socket_uid, socket_gid) {
            h.remove_socket();
            return fail(EX_OSERR, format!("{shown}: chown: {e}"));
        }
    }
    start(h, &shown)
}

/// Forks the holder and waits until it says it is serving.
fn start(h: Holder, shown: &str) -> Outcome {
    let started = (|| {
        h.listener.set_nonblocking(true)?;
        let null = OpenOptions::new().read(true).write(true).open("/dev/null")?;
        let (reader, writer) = std::io::pipe()?;
        Ok::<_, std::io::Error>((null, reader, writer))
    })();
    let (null, mut reader, mut writer) = match started {
        Ok(t) => t,
        Err(e) => {
            h.remove_socket();
            return fail(EX_OSERR, format!("{shown}: {e}"));
        }
    };
    match sys::fork() {
        Err(e) => {
            h.remove_socket();
            fail(EX_OSERR, format!("{shown}: fork: {e}"))
        }
        Ok(Forked::Child) => {
            drop(reader);
            let ready = (|| {
                sys::new_session()?;
                sys::become_root()?;
                sys::relisten(h.listener.as_fd(), 128)?;
                sys::detach_stdio(null.as_fd())?;
                drop(null);
                std::env::set_current_dir("/")?;
                sys::close_fds_except(&[h.listener.as_raw_fd(), h.dir.fd().as_raw_fd(), writer.as_raw_fd()]);
                writer.write_all(b"!")
            })();
            drop(writer);
            if ready.is_err() {
                h.remove_socket();
                std::process::exit(i32::from(EX_OSERR));
            }
            holder::serve(h)
        }
        Ok(Forked::Parent(_)) => {
            drop(writer);
            drop(null);
            let mut byte = [0u8; 1];
            match reader.read(&mut byte) {
                Ok(1) => Ok(()),
                _ => {
                    h.remove_socket();
                    fail(EX_OSERR, format!("{shown}: the holder did not start"))
                }
            }
        }
    }
}

/// Sets owner and mode of an (opened, checked) directory.
fn settle(dir: &File, shown: &str, mode: u32, uid: u32, gid: u32) -> Outcome {
    std::os::unix::fs::fchown(dir, Some(uid), Some(gid)).or_else(|e| fail(EX_OSERR, format!("{shown}: chown: {e}")))?;
    dir.set_permissions(Permissions::from_mode(mode)).or_else(|e| fail(EX_OSERR, format!("{shown}: chmod: {e}")))
}

/// Creates (or adopts) `name` in `parent` and gives it `mode`, `uid`, `gid`.
fn boot_one(parent: &Dir, name: &[u8], mode: u32, uid: u32, gid: u32) -> Outcome {
    let shown = parent.shown(name);
    match parent.entry(name).map_err(walk_fail)? {
        None => place::mkdir(parent, name, 0o700).or_else(|e| fail(EX_OSERR, format!("{shown}: mkdir: {e}")))?,
        Some((_, st)) if st.is_dir() => {}
        Some((_, st)) if st.is_symlink() => return fail(EX_NOPERM, format!("{shown} is a symlink")),
        Some(_) => return fail(EX_NOPERM, format!("{shown} exists and is not a directory")),
    }
    let d = parent.open(name, libc::O_RDONLY | libc::O_DIRECTORY).map(|(fd, _)| fd.into_file()).map_err(walk_fail)?;
    settle(&d, &shown, mode, uid, gid)?;
    place::child(parent, name).map(drop).map_err(walk_fail)
}

/// The boot form: each directory in order; `.` is the root (its missing ancestors are made
/// 0755 root:root, since the admin never named them); others need their parent to exist.
fn boot(ctx: &Context, dirs: &[BootDir]) -> Outcome {
    need_root("stampctl facility...")?;
    for d in dirs {
        let uid = d.owner.user.as_deref().map(resolve_user).transpose()?.unwrap_or(0);
        if uid != 0 {
            return fail(EX_NOPERM, "-u: facility directories must be root's (stamp refuses any other owner)");
        }
        let gid = d.owner.group.as_deref().map(resolve_group).transpose()?.unwrap_or(0);
        let comps = path::parse_facility(&d.name, ROOT.as_bytes())
            .or_else(|e| fail(EX_USAGE, format!("facility {:?}: {e}", String::from_utf8_lossy(&d.name))))?;
        let (parent, leaf) = if comps.is_empty() {
            let Some((leaf, above)) = ctx.root.split_last() else {
                return fail(EX_SOFTWARE, "the stamp root is /");
            };
            let mut dir = place::walk::<&[u8]>(&[]).map_err(walk_fail)?;
            for c in above {
                dir = match place::child(&dir, c) {
                    Ok(next) => next,
                    Err(e) if e.is_missing() => {
                        boot_one(&dir, c, 0o755, 0, 0)?;
                        place::child(&dir, c).map_err(walk_fail)?
                    }
                    Err(e) => return Err(walk_fail(e)),
                };
            }
            (dir, leaf.clone())
        } else {
            let mut all = ctx.root.clone();
            all.extend(comps);
            let Some((leaf, above)) = all.split_last() else {
                return fail(EX_SOFTWARE, "empty facility");
            };
            let parent = place::walk(above).map_err(|e| match e {
                e if e.is_missing() => {
                    Fail(EX_UNAVAILABLE, format!("{e}: name it first (stampctl never creates implied parents)"))
                }
                e => walk_fail(e),
            })?;
            (parent, leaf.clone())
        };
        boot_one(&parent, &leaf, d.mode, uid, gid)?;
    }
    Ok(())
}

const HELP: &str = "\
usage: stampctl -M name [-n] [-<max>] [-E end] [-I idle] [-m mode] [-u user] [-g group] [NAME=value | NAME]...
       stampctl -k | -K [name...]
       stampctl -N [name...]
       stampctl -v name
       stampctl -Q name [-F] NAME...
       stampctl [-g group] [-m mode] [-u user] facility...
       stampctl -h | -H | -V
Builds and manages stamps for the stamp helper; names are relative to STAMP_FACILITY.
  -M name    make the stamp: a holder process keeps its socket and tableau (NAME alone copies $NAME)
  -n         penalty mode: the stamp denies until it ends
  -<max>     at most max allowing answers, then the stamp ends
  -E end     lifetime (default 5m); -I idle: end after this long unused; durations: 30s 10m 4h 1h30m 2d
  -m -u -g   with -M: the socket's mode (default 600), owner, group; at boot: the directories'
  -k / -K    end stamps (default: the caller's login); -K also ends a penalty stamp
  -N         put stamps into penalty mode (default: the caller's login)
  -v name    reset the stamp's idle timer
  -Q name    print the tableau values NAME... (all or nothing); -F as $NAME=value lines
  facility   create facility directories under the stamp root (. is the root): mode 750 root:root
             unless -m/-g say otherwise (settings apply to the names after them)
  -h this help  -H the grammar  -V version and the stamp root
  -R, -D, -X, -T (tcpmux tableaux, other holder credentials) are not supported.
exit: 0 ok, 64 usage, 66 -Q entry missing, 67 unknown user/group, 69 no such stamp or directory,
      71 system error, 75 no answer in time, 77 refused, 78 bad environment
";

const GRAMMAR: &str = "\
name=component[/component]*  (component: 1-64 of A-Za-z0-9._,+@%=~- ; not . or ..; absolute only under the stamp root)
STAMP_FACILITY=. | dir[/dir]* | absolute path under the stamp root  (default .)
ESCAPES_CALLER_UID=decimal uid the caller has (believed only when stampctl's real uid is 0)
duration=(N d)?(N h)?(N m)?(N s)?  (at least one term, in this order, 1s to 366d)
max=-N  (1 to 1000000)
entry=NAME=value | NAME  (NAME: [A-Za-z_][A-Za-z0-9_]*, at most 64; value: at most 1024 bytes, no control characters but tab)
mode=octal, e.g. 750 (directories: no group/other write; sockets: at most 777)
";

/// The whole life of stampctl.
pub fn main() -> ! {
    if sys::ensure_std_fds().is_err() {
        std::process::exit(i32::from(EX_OSERR));
    }
    let args = crate::helper::args();
    let command = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stampctl: {e}");
            std::process::exit(i32::from(EX_USAGE))
        }
    };
    let text = match &command {
        Command::Help => Some(HELP.to_string()),
        Command::Grammar => Some(GRAMMAR.to_string()),
        Command::Version => Some(format!(
            "stampctl: escapes-helpers {}\nstampctl: STAMP_FACILITY, ESCAPES_CALLER_UID\nstampctl: stamp root {ROOT}\n",
            env!("CARGO_PKG_VERSION")
        )),
        _ => None,
    };
    if let Some(t) = text {
        let _ = std::io::stdout().write_all(t.as_bytes());
        std::process::exit(0)
    }
    let code = match run(command) {
        Ok(()) => 0,
        Err(Fail(code, msg)) => {
            if !msg.is_empty() {
                eprintln!("stampctl: {msg}");
            }
            code
        }
    };
    std::process::exit(i32::from(code))
}

fn run(command: Command) -> Outcome {
    let ctx = context()?;
    match command {
        Command::Make(m) => make(&ctx, m),
        Command::End { force, names } => each(&ctx, names, |n| end(&ctx, force, n)),
        Command::Penalty { names } => each(&ctx, names, |n| change(&ctx, n, &Request::Penalty(ctx.acting))),
        Command::Refresh { name } => change(&ctx, &name, &Request::Refresh(ctx.acting)),
        Command::Query { name, helmet, entries } => query(&ctx, &name, helmet, &entries),
        Command::Boot(dirs) => boot(&ctx, &dirs),
        Command::Help | Command::Grammar | Command::Version => Ok(()),
    }
}

/// Runs `f` on every name (or the caller's), reporting each failure; the first one's code is
/// the exit status.
fn each(ctx: &Context, names: Vec<Vec<u8>>, f: impl Fn(&[u8]) -> Outcome) -> Outcome {
    let mut first: Option<u8> = None;
    for n in ctx.names_or_caller(names)? {
        if let Err(Fail(code, msg)) = f(&n) {
            eprintln!("stampctl: {msg}");
            first.get_or_insert(code);
        }
    }
    match first {
        Some(code) => Err(Fail(code, String::new())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> Result<Command, ArgError> {
        let a: Vec<Vec<u8>> = s.iter().map(|w| w.as_bytes().to_vec()).collect();
        parse_args(&a)
    }

    #[test]
    fn the_page_s_make_line() {
        let Command::Make(m) = parse(&["-M", "ecru/alice", "-E", "10m", "TTY=/dev/pts/3"]).unwrap() else { panic!() };
        assert_eq!(m.name, b"ecru/alice");
        assert_eq!(m.end, 600);
        assert_eq!(m.idle, None);
        assert!(!m.penalty);
        assert_eq!(m.mode, 0o600);
        assert_eq!(m.tableau, vec![EntryArg::Set(b"TTY".to_vec(), b"/dev/pts/3".to_vec())]);
    }

    #[test]
    fn make_options_anywhere_before_and_between_words() {
        let Command::Make(m) =
            parse(&["-n", "-3", "-I6m", "-M", "x", "A=1", "-E", "4h", "B", "-m", "660", "-u", "root"]).unwrap()
        else {
            panic!()
        };
        assert!(m.penalty);
        assert_eq!((m.max, m.end, m.idle, m.mode), (Some(3), 14_400, Some(360), 0o660));
        assert_eq!(m.owner.user.as_deref(), Some(b"root".as_slice()));
        assert_eq!(m.tableau, vec![EntryArg::Set(b"A".to_vec(), b"1".to_vec()), EntryArg::Copy(b"B".to_vec())]);
        let Command::Make(m) = parse(&["-M", "x"]).unwrap() else { panic!() };
        assert_eq!(m.end, DEFAULT_END);
    }

    #[test]
    fn other_modes() {
        assert_eq!(parse(&["-k"]), Ok(Command::End { force: false, names: vec![] }));
        assert_eq!(
            parse(&["-K", "a", "b"]),
            Ok(Command::End { force: true, names: vec![b"a".to_vec(), b"b".to_vec()] })
        );
        assert_eq!(parse(&["-N", "a"]), Ok(Command::Penalty { names: vec![b"a".to_vec()] }));
        assert_eq!(parse(&["-v", "a"]), Ok(Command::Refresh { name: b"a".to_vec() }));
        assert_eq!(
            parse(&["-Q", "a", "-F", "TTY", "Who"]),
            Ok(Command::Query { name: b"a".to_vec(), helmet: true, entries: vec![b"TTY".to_vec(), b"Who".to_vec()] })
        );
        assert_eq!(parse(&["-V"]), Ok(Command::Version));
        assert_eq!(parse(&["-M", "x", "-h"]), Ok(Command::Help));
        assert_eq!(parse(&["-H"]), Ok(Command::Grammar));
    }

    #[test]
    fn boot_settings_apply_to_the_names_after_them() {
        let Command::Boot(d) = parse(&[".", "-g", "wheel", "-m", "0755", "ops", "qm", "-m", "700", "x"]).unwrap()
        else {
            panic!()
        };
        let got: Vec<_> =
            d.iter().map(|b| (String::from_utf8_lossy(&b.name).into_owned(), b.mode, b.owner.group.clone())).collect();
        assert_eq!(
            got,
            vec![
                (".".to_string(), 0o750, None),
                ("ops".to_string(), 0o755, Some(b"wheel".to_vec())),
                ("qm".to_string(), 0o755, Some(b"wheel".to_vec())),
                ("x".to_string(), 0o700, Some(b"wheel".to_vec())),
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_built_and_names_why() {
        for (opt, word) in [("-R", "tcpmux"), ("-D", "credentials"), ("-X", "tcpmux"), ("-T", "tcpmux")] {
            let e = parse(&["-M", "x", opt, "v"]).unwrap_err();
            assert_eq!(e, ArgError::Unsupported(opt.chars().nth(1).unwrap()));
            assert!(e.to_string().contains(word), "{e}");
        }
        assert_eq!(parse(&["-B", "ops"]), Err(ArgError::UnknownOption('B')));
    }

    #[test]
    fn hostile_argv() {
        let cases: &[(&[&str], ArgError)] = &[
            (&["-M"], ArgError::MissingValue('M')),
            (&["-M", "x", "-k"], ArgError::Modes('M', 'k')),
            (&["-k", "-K"], ArgError::Modes('k', 'K')),
            (&["-M", "x", "-M", "y"], ArgError::Repeated('M')),
            (&["-M", "x", "-E", "1m", "-E", "2m"], ArgError::Repeated('E')),
            (&["-M", "x", "-E", "10"], ArgError::Duration('E', DurationError::NoUnit)),
            (&["-M", "x", "-I", "0s"], ArgError::Duration('I', DurationError::Zero)),
            (&["-M", "x", "-0"], ArgError::BadCount),
            (&["-M", "x", "-1000001"], ArgError::BadCount),
            (&["-M", "x", "-2", "-3"], ArgError::Repeated('0')),
            (&["-M", "x", "1A=2"], ArgError::BadEntry("1A=2".into())),
            (&["-M", "x", "A=a\nb"], ArgError::BadEntry("A=a\nb".into())),
            (&["-M", "x", "A=\x1b[2J"], ArgError::BadEntry("A=\x1b[2J".into())),
            (&["-M", "x", "A=1", "A=2"], ArgError::DuplicateEntry("A".into())),
            (&["-M", "x", "A", "A=2"], ArgError::DuplicateEntry("A".into())),
            (&["-k", "-F"], ArgError::NotHere('F')),
            (&["-k", "-E", "1m"], ArgError::NotHere('E')),
            (&["-Q", "x"], ArgError::Operands),
            (&["-v", "x", "y"], ArgError::Operands),
            (&["-n", "ops"], ArgError::NotHere('n')),
            (&[], ArgError::Operands),
            (&["-m", "770", "ops"], ArgError::BadMode(String::new())),
            (&["-m", "u+rwx", "ops"], ArgError::BadMode(String::new())),
            (&["-m", "750/1", "ops"], ArgError::BadMode(String::new())),
            (&["-M", "x", "-m", "4755"], ArgError::BadMode(String::new())),
            (&["-x"], ArgError::UnknownOption('x')),
        ];
        for (a, want) in cases {
            let got = parse(a).unwrap_err();
            match (want, &got) {
                (ArgError::BadMode(_), ArgError::BadMode(_)) => {}
                _ => assert_eq!(&got, want, "{a:?}"),
            }
        }
        let long = format!("A={}", "v".repeat(wire::MAX_VALUE + 1));
        assert!(matches!(parse(&["-M", "x", &long]), Err(ArgError::BadEntry(_))));
        let many: Vec<String> = (0..65).map(|i| format!("A{i}=1")).collect();
        let mut a = vec!["-M", "x"];
        a.extend(many.iter().map(String::as_str));
        assert_eq!(parse(&a), Err(ArgError::TooManyEntries));
    }

    #[test]
    fn double_dash_makes_everything_an_operand() {
        assert_eq!(parse(&["-k", "--", "-n"]), Ok(Command::End { force: false, names: vec![b"-n".to_vec()] }));
    }
}
