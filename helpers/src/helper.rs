//! The common life of a standard helper: read argv (answering `-h`, `-H`, `-V`), take its own
//! parameters out of the environment, let the helper decide, write the reply (own parameters
//! deleted, `~prefix` for `_REVEAL`, the code last), print the `_WARN` text on a denial, and in
//! jacket mode (`-P pid`) release the command and wait for it as op's jackets do.

use crate::env::Env;
use crate::invocation::{self, Invocation, Request};
use crate::params::{ParamError, Params};
use crate::sys;
use opwire::reply::write::{WriteError, Writer};
use opwire::sysexits::{EX_CONFIG, EX_IOERR, EX_SOFTWARE};
use std::io::Write;
use std::os::unix::ffi::OsStringExt;

/// What a helper tells `-h`, `-H` and `-V`, and which parameters are its standard suffixes.
pub struct Helper {
    pub name: &'static str,
    /// One paragraph for `-h`.
    pub about: &'static str,
    /// The variables read, for `-V`.
    pub reads: &'static [&'static str],
    /// One `(variable, grammar)` per line for `-H`.
    pub grammar: &'static [(&'static str, &'static str)],
    pub warn_var: &'static str,
    pub reveal_var: &'static str,
}

/// A helper's judgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allow; `relay` are reply lines of inner helpers to pass on first (coat).
    Allow { relay: Vec<Vec<u8>> },
    /// Deny with `code`; `warn` overrides the `_WARN` text; `reason` is a diagnostic for stderr.
    Deny { code: u8, warn: Option<Vec<u8>>, reason: Option<String> },
}

impl Verdict {
    pub fn allow() -> Verdict {
        Verdict::Allow { relay: Vec::new() }
    }

    /// A denial with the helper's own `_WARN` text.
    pub fn deny(code: u8) -> Verdict {
        Verdict::Deny { code, warn: None, reason: None }
    }

    /// A denial that also explains itself on stderr (misconfiguration, unreadable file, ...).
    pub fn refuse(code: u8, reason: impl Into<String>) -> Verdict {
        Verdict::Deny { code, warn: None, reason: Some(reason.into()) }
    }

    pub fn config(e: impl std::fmt::Display) -> Verdict {
        Verdict::refuse(EX_CONFIG, e.to_string())
    }
}

/// Everything a helper judges: its argv, the environment minus its parameters, the parameters.
#[derive(Debug, Clone)]
pub struct Setup {
    pub invocation: Invocation,
    pub env: Env,
    pub params: Params,
}

/// Parses argv (after argv[0]) and takes the parameters. `Ok(Err(request))` is `-h`/`-H`/`-V`.
pub fn setup(
    h: &Helper,
    args: &[Vec<u8>],
    mut env: Env,
    is_own: impl Fn(&[u8]) -> bool,
) -> Result<Result<Setup, Request>, (Verdict, Params)> {
    let invocation = match invocation::parse(args) {
        Ok(Request::Judge(i)) => *i,
        Ok(other) => return Ok(Err(other)),
        Err(e) => return Err((Verdict::refuse(e.exit_code(), e.to_string()), Params::default())),
    };
    let params = Params::take(&mut env, is_own).map_err(|e| (Verdict::config(e), Params::default()))?;
    if let Err(e) = params.reveal(h.reveal_var) {
        return Err((Verdict::config(e), params));
    }
    Ok(Ok(Setup { invocation, env, params }))
}

/// The reply for a verdict and the code it carries.
pub fn compose(h: &Helper, params: &Params, verdict: &Verdict) -> (Writer, u8) {
    let mut reply = Writer::new();
    let code = match verdict {
        Verdict::Deny { code, .. } => *code,
        Verdict::Allow { relay } => {
            let written = (|| -> Result<(), WriteError> {
                for line in relay {
                    reply.relay(line)?;
                }
                for name in params.names() {
                    reply.delete(name)?;
                }
                if let Ok(Some(prefix)) = params.reveal(h.reveal_var) {
                    reply.reveal(&prefix)?;
                }
                Ok(())
            })();
            if written.is_err() {
                reply = Writer::new();
                EX_SOFTWARE
            } else {
                0
            }
        }
    };
    reply.code(code);
    (reply, code)
}

/// The text for stderr on a denial: the reason (prefixed with the helper's name), then the
/// `_WARN` text, control characters shown as `?`.
pub fn warning(h: &Helper, params: &Params, verdict: &Verdict) -> Vec<u8> {
    let Verdict::Deny { warn, reason, .. } = verdict else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(r) = reason {
        out.extend_from_slice(format!("{}: {}\n", h.name, r).as_bytes());
    }
    let text: &[u8] = match (warn, params.get(h.warn_var)) {
        (Some(w), _) => w,
        (None, Some(w)) => w,
        (None, None) => b"Access denied.",
    };
    if !text.is_empty() {
        out.extend(text.iter().map(|&c| if c.is_ascii_control() && c != b'\t' { b'?' } else { c }));
        out.push(b'\n');
    }
    out
}

/// `-h`, `-H` or `-V` output.
pub fn describe(h: &Helper, request: &Request) -> String {
    match request {
        Request::Version => format!(
            "{}: escapes-helpers {}\n{}: {}\n",
            h.name,
            env!("CARGO_PKG_VERSION"),
            h.name,
            h.reads.join(", ")
        ),
        Request::Grammar => h.grammar.iter().map(|(v, g)| format!("{v}={g}\n")).collect(),
        _ => format!(
            "usage: {n} [-P pid] [-f file] [-u user] [-g group] [-R root] [-C config] -- mnemonic program euid:egid cred_type:cred\n\
             \x20      {n} -h | -H | -V\n\
             {about}\n\
             \x20 -P pid     run as a jacket: release the command (pid), wait for it, exit with its status\n\
             \x20 -C config  the configuration that held the rule (ignored)\n\
             \x20 -f -u -g -R -j -m  op's other options (ignored; unknown letters are ignored too)\n\
             \x20 -h         this help\n\
             \x20 -H         the grammar of each parameter\n\
             \x20 -V         version and the variables read\n\
             exit: 0 allow, 77 deny, 64 usage, 65 bad euid:egid, 76 bad credential, 78 bad parameters\n",
            n = h.name,
            about = h.about
        ),
    }
}

/// Jacket mode: release the command (close our stdout) and wait for it; an allowed run exits with
/// the command's status (128+signal for a signal), a denied one with the denial code.
pub fn release_and_wait(pid: i32, code: u8) -> u8 {
    if sys::release_stdout().is_err() {
        return if code == 0 { EX_IOERR } else { code };
    }
    match sys::wait_pid(pid) {
        Ok(ended) if code == 0 => ended.exit_code(),
        _ => code,
    }
}

/// Jacket mode for a helper that must clean up after the command: release it, wait for it
/// (passing on SIGTERM/SIGHUP, see [`sys::hold`]), and return the exit code to use: the
/// command's status when it is our child, 0 when it is not (inside coat, which reports the
/// command's status itself). If the release fails the command is killed: it must not run with
/// nobody left to clean up after it.
pub fn release_and_hold(command: &sys::Watched) -> u8 {
    if sys::release_stdout().is_err() {
        let _ = command.signal(libc::SIGKILL);
        let _ = sys::hold(command);
        return EX_IOERR;
    }
    match sys::hold(command) {
        Ok(Some(ended)) => ended.exit_code(),
        Ok(None) => 0,
        Err(_) => EX_IOERR,
    }
}

fn write_reply(reply: &Writer) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(reply.bytes()).and_then(|()| out.flush()).is_ok()
}

/// Writes the reply on stdout and, for a denial, the warning on stderr; returns the exit code.
pub fn deliver(h: &Helper, params: &Params, verdict: &Verdict) -> u8 {
    let (reply, mut code) = compose(h, params, verdict);
    if !write_reply(&reply) && code == 0 {
        code = EX_IOERR;
    }
    if code != 0 {
        let _ = std::io::stderr().write_all(&warning(h, params, verdict));
    }
    code
}

/// Delivers the verdict, then exits (after the command, in jacket mode).
pub fn finish(h: &Helper, pid: Option<i32>, params: &Params, verdict: &Verdict) -> ! {
    let mut code = deliver(h, params, verdict);
    if let Some(pid) = pid {
        code = release_and_wait(pid, code);
    }
    std::process::exit(i32::from(code))
}

/// Answers `-h`, `-H` or `-V` on stdout and exits 0.
pub fn print_and_exit(h: &Helper, request: &Request) -> ! {
    let _ = std::io::stdout().write_all(describe(h, request).as_bytes());
    std::process::exit(0)
}

/// Prints `name: reason` on stderr for a problem found after the verdict was delivered (a
/// jacket's cleanup), without any `_WARN` text: the escalation was not refused.
pub fn complain(h: &Helper, verdict: &Verdict) {
    if let Verdict::Deny { reason: Some(r), .. } = verdict {
        let _ = std::io::stderr().write_all(format!("{}: {r}\n", h.name).as_bytes());
    }
}

/// This process's argv after argv[0].
pub fn args() -> Vec<Vec<u8>> {
    std::env::args_os().skip(1).map(OsStringExt::into_vec).collect()
}

/// The whole life of a simple helper.
pub fn main(h: &Helper, is_own: impl Fn(&[u8]) -> bool, decide: impl FnOnce(&Setup) -> Verdict) -> ! {
    match setup(h, &args(), Env::from_process(), is_own) {
        Ok(Ok(s)) => {
            let verdict = decide(&s);
            finish(h, s.invocation.pid, &s.params, &verdict)
        }
        Ok(Err(request)) => print_and_exit(h, &request),
        Err((verdict, params)) => finish(h, None, &params, &verdict),
    }
}

/// Turns a parameter problem into the EX_CONFIG refusal every helper gives for it.
impl From<ParamError> for Verdict {
    fn from(e: ParamError) -> Verdict {
        Verdict::config(e)
    }
}
