//! proxy-agent (jacket only): the caller's ssh-agent (or any one UNIX-socket service of the
//! caller's) for the escalated command.
//!
//! `SPROXY_FROM` names the variable holding the caller's socket (default `SSH_AUTH_SOCK`),
//! `SPROXY_ENV` the variable the command gets the new path in (default: the same name),
//! `SPROXY_TO` the template of the new path ([`template`], default
//! `/tmp/ssh-XXXXXX/agent.XXXXXX`). As root it makes the directory (mode 0700, in a parent that
//! only root controls, a fresh random name, mkdtemp-style) and binds the socket in it (0600),
//! then hands both to the target (chown): nobody but the target and root can reach them. It
//! forks the proxy process, which drops to the caller before its first connect and serves the
//! socket ([`relay`]); once that process has checked the caller's socket, the jacket replies
//! `$<SPROXY_ENV>=<path>`, releases the command, waits for it, kills the proxy, removes the
//! socket and the directory (through descriptors held since they were made, so a target that
//! moves things around cannot redirect the removal), and exits with the command's status.
//!
//! Refused: helmet mode (no `-P`: nobody would clean up), a `-P` that is not our running child,
//! a source that is not a socket owned by the caller and served by the caller, a template whose
//! parent others could change. `SPROXY_FROM`'s variable unset or empty: nothing to proxy; the
//! command runs without.

pub mod relay;
pub mod template;

use crate::env::Env;
use crate::helper::{self, Helper, Verdict};
use crate::identity::{self, Ids};
use crate::params::{ParamError, Params};
use crate::passwd;
use crate::sys::{self, Forked};
use crate::trusted;
use opwire::dir::Dir;
use opwire::reply::is_name;
use opwire::reply::write::Writer;
use opwire::sysexits::{EX_CONFIG, EX_IOERR, EX_NOINPUT, EX_OSERR, EX_SOFTWARE, EX_USAGE};
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;
use template::Template;

pub const FROM: &str = "SPROXY_FROM";
pub const ENV: &str = "SPROXY_ENV";
pub const TO: &str = "SPROXY_TO";
pub const WARN: &str = "SPROXY_WARN";
pub const REVEAL: &str = "SPROXY_REVEAL";
pub const DEFAULT_FROM: &[u8] = b"SSH_AUTH_SOCK";
/// How long the proxy process may take to check the caller's socket.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts at a fresh directory name before giving up.
const TRIES: usize = 64;

pub const HELPER: Helper = Helper {
    name: "proxy-agent",
    about: "Jacket only. Gives the command the caller's ssh-agent: a private socket the target alone\n\
            can reach (dir 0700, socket 0600, both the target's), proxied to the caller's socket by\n\
            a process running as the caller, removed when the command ends.",
    reads: &["SPROXY_FROM", "SPROXY_ENV", "SPROXY_TO", "SPROXY_WARN", "SPROXY_REVEAL"],
    grammar: &[
        ("SPROXY_FROM", "NAME of the variable holding the caller's socket (default SSH_AUTH_SOCK)"),
        ("SPROXY_ENV", "NAME of the variable the command gets the new path in (default: SPROXY_FROM's name)"),
        ("SPROXY_TO", "/parent/dir-XXXXXX/socket-XXXXXX  (XXXXXX groups in the last two components; default /tmp/ssh-XXXXXX/agent.XXXXXX; at most 107 bytes)"),
        ("SPROXY_WARN", "text printed on stderr when refused"),
        ("SPROXY_REVEAL", "prefix: reply ~prefix after removing the SPROXY_ parameters"),
    ],
    warn_var: WARN,
    reveal_var: REVEAL,
};

/// What the parameters ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub from: Vec<u8>,
    pub env: Vec<u8>,
    pub template: Template,
}

/// Why the parameters are refused (78).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Param(ParamError),
    /// `SPROXY_FROM` or `SPROXY_ENV` is not a variable name.
    BadName(&'static str),
    Template(template::TemplateError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Param(e) => e.fmt(f),
            ConfigError::BadName(v) => {
                write!(f, "{v} must be a variable name [A-Za-z_][A-Za-z0-9_]*")
            }
            ConfigError::Template(e) => write!(f, "{TO}: {e}"),
        }
    }
}

pub fn config(params: &Params) -> Result<Config, ConfigError> {
    params.only(&[FROM, ENV, TO, WARN, REVEAL], &[]).map_err(ConfigError::Param)?;
    let name = |var: &'static str, default: &[u8]| {
        let v = params.get(var).unwrap_or(default);
        if is_name(v) {
            Ok(v.to_vec())
        } else {
            Err(ConfigError::BadName(var))
        }
    };
    let from = name(FROM, DEFAULT_FROM)?;
    let env = name(ENV, &from)?;
    let template = template::parse(params.get(TO).unwrap_or(template::DEFAULT)).map_err(ConfigError::Template)?;
    Ok(Config { from, env, template })
}

/// The private directory and socket, as made; removed by [`Rendezvous::remove`].
pub struct Rendezvous {
    parent: Dir,
    dir: File,
    dir_name: Vec<u8>,
    socket_name: Vec<u8>,
    pub path: PathBuf,
}

/// Random bytes for the names: enough for every try (64 directories of six characters, one
/// socket name, with rejection), read at once.
fn random_bytes() -> std::io::Result<impl FnMut() -> u8> {
    let mut pool = vec![0u8; 4096];
    File::open("/dev/urandom")?.read_exact(&mut pool)?;
    let mut draws = pool.into_iter();
    Ok(move || draws.next().unwrap_or(0))
}

fn refusal(code: u8, what: impl fmt::Display) -> Verdict {
    Verdict::refuse(code, what.to_string())
}

impl Rendezvous {
    /// Makes the directory and the listening socket as root, then gives both to `target`.
    pub fn make(t: &Template, target: Ids) -> Result<(Rendezvous, UnixListener), Verdict> {
        let parent_path = PathBuf::from(OsStr::from_bytes(&t.parent));
        let parent = trusted::root_dir(&parent_path)
            .map_err(|e| refusal(EX_CONFIG, format!("{TO}: parent {}: {e}", parent_path.display())))?;
        let mut random = random_bytes().map_err(|e| refusal(EX_OSERR, format!("/dev/urandom: {e}")))?;
        let old = sys::set_umask(0o077);
        let made = (|| {
            for _ in 0..TRIES {
                let dir_name = template::fill(&t.dir, &mut random);
                let dir_path = parent_path.join(OsStr::from_bytes(&dir_name));
                match sys::mkdir_in(parent.fd(), &dir_name, 0o700) {
                    Ok(()) => return Ok((dir_name, dir_path)),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(refusal(EX_IOERR, format!("{}: {e}", dir_path.display()))),
                }
            }
            Err(refusal(EX_IOERR, format!("{TO}: no free name after {TRIES} tries")))
        })();
        let made = made.and_then(|(dir_name, dir_path)| {
            let dir = parent
                .open(&dir_name, libc::O_RDONLY | libc::O_DIRECTORY)
                .map(|(fd, _)| fd.into_file())
                .map_err(|e| refusal(EX_IOERR, e))?;
            let socket_name = template::fill(&t.socket, &mut random);
            let path = dir_path.join(OsStr::from_bytes(&socket_name));
            let r = Rendezvous { parent, dir, dir_name, socket_name, path };
            match UnixListener::bind(&r.path) {
                Ok(l) => Ok((r, l)),
                Err(e) => {
                    let v = refusal(EX_IOERR, format!("{}: {e}", r.path.display()));
                    r.remove();
                    Err(v)
                }
            }
        });
        sys::set_umask(old);
        let (r, listener) = made?;
        let handed = std::os::unix::fs::lchown(&r.path, Some(target.uid), Some(target.gid))
            .and_then(|()| fs::set_permissions(&r.path, fs::Permissions::from_mode(0o600)))
            .and_then(|()| std::os::unix::fs::fchown(&r.dir, Some(target.uid), Some(target.gid)))
            .and_then(|()| r.dir.set_permissions(fs::Permissions::from_mode(0o700)));
        if let Err(e) = handed {
            let v = refusal(EX_IOERR, format!("{}: {e}", r.path.display()));
            r.remove();
            return Err(v);
        }
        Ok((r, listener))
    }

    /// Removes the socket and the directory; the directory only if the entry of that name in
    /// the parent is still the one we made. A directory the target filled is left (and named).
    pub fn remove(self) -> Option<String> {
        let _ = sys::remove_at(&self.dir, &self.socket_name, false);
        let ours = match (self.dir.metadata(), self.parent.entry(&self.dir_name)) {
            (Ok(m), Ok(Some((_, found)))) => (found.dev, found.ino) == (m.dev(), m.ino()),
            _ => false,
        };
        let shown = self.path.parent().map(|p| p.display().to_string()).unwrap_or_default();
        if !ours {
            return Some(format!("{shown} was moved or replaced; left alone"));
        }
        sys::remove_at(self.parent.fd(), &self.dir_name, true).err().map(|e| format!("{shown}: {e}"))
    }
}

/// The proxy process's side: never returns.
fn proxy_process(
    listener: UnixListener,
    mut status: UnixStream,
    parent: i32,
    source: &Path,
    caller: Ids,
    target: Ids,
) -> ! {
    let report = |status: &mut UnixStream, code: u8, reason: &str| {
        let _ = status.write_all(format!("{code} {reason}\n").as_bytes());
    };
    if sys::close_all_but(&[listener.as_raw_fd(), status.as_raw_fd(), 2]).is_err() {
        report(&mut status, EX_OSERR, "cannot close inherited descriptors");
        std::process::exit(1)
    }
    let checked = relay::become_caller(caller)
        .and_then(|()| {
            sys::die_with_parent(parent)
                .map_err(|e| relay::SourceError { code: EX_OSERR, reason: format!("PR_SET_PDEATHSIG: {e}") })
        })
        .and_then(|()| relay::connect_source(source, caller.uid));
    match checked {
        Ok(first) => {
            drop(first);
            report(&mut status, 0, "ok");
            drop(status);
            relay::serve(listener, source, caller.uid, target.uid)
        }
        Err(e) => {
            report(&mut status, e.code, &e.reason);
            std::process::exit(1)
        }
    }
}

/// What the proxy process said about the caller's socket.
fn read_status(mut s: UnixStream) -> Result<(), Verdict> {
    let _ = s.set_read_timeout(Some(CHECK_TIMEOUT));
    let mut buf = Vec::new();
    let _ = (&mut s).take(1024).read_to_end(&mut buf);
    let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
    let (code, reason) = match line.iter().position(|&c| c == b' ') {
        Some(sp) => (line.get(..sp).unwrap_or_default(), line.get(sp + 1..).unwrap_or_default()),
        None => (line, &b""[..]),
    };
    match opwire::reply::parse::code(code) {
        Ok(0) => Ok(()),
        Ok(c) => Err(refusal(c, String::from_utf8_lossy(reason))),
        Err(_) => Err(refusal(EX_SOFTWARE, "the proxy process gave no answer in time")),
    }
}

fn stop(pid: i32) {
    let _ = sys::signal(pid, libc::SIGKILL);
    let _ = sys::wait_pid(pid);
}

/// The proxy-agent program.
pub fn main() -> ! {
    let s = match helper::setup(&HELPER, &helper::args(), Env::from_process(), Params::prefixed("SPROXY_")) {
        Ok(Ok(s)) => s,
        Ok(Err(request)) => helper::print_and_exit(&HELPER, &request),
        Err((verdict, params)) => helper::finish(&HELPER, None, &params, &verdict),
    };
    let params = &s.params;
    let Some(pid) = s.invocation.pid else {
        helper::finish(
            &HELPER,
            None,
            params,
            &refusal(
                EX_USAGE,
                "proxy-agent runs only as a jacket (-P pid): its socket must be removed after the command",
            ),
        )
    };
    let fail = |v: Verdict| -> ! { helper::finish(&HELPER, Some(pid), params, &v) };
    let watched = sys::watch(pid)
        .unwrap_or_else(|e| fail(refusal(EX_USAGE, format!("-P {pid} names no running process to wait for: {e}"))));
    let cfg = config(params).unwrap_or_else(|e| fail(Verdict::config(e)));
    let source = match s.env.get(&cfg.from) {
        None | Some(b"") => fail(Verdict::allow()),
        Some(v) => v.to_vec(),
    };
    if source.first() != Some(&b'/') || source.len() > template::MAX_PATH {
        fail(refusal(
            EX_NOINPUT,
            format!(
                "{}={}: not an absolute socket path",
                String::from_utf8_lossy(&cfg.from),
                String::from_utf8_lossy(&source)
            ),
        ));
    }
    let source = PathBuf::from(OsStr::from_bytes(&source));
    let passwd_data =
        passwd::load().unwrap_or_else(|e| fail(refusal(trusted::exit_code(&e), format!("{}: {e}", passwd::PASSWD))));
    let caller =
        identity::caller(&s.env, sys::real_ids().0, &passwd_data).unwrap_or_else(|e| fail(refusal(e.exit_code(), e)));
    let target = Ids { uid: s.invocation.euid, gid: s.invocation.egid };
    let (rendezvous, listener) = Rendezvous::make(&cfg.template, target).unwrap_or_else(|v| fail(v));
    let (status_parent, status_child) = match UnixStream::pair() {
        Ok(p) => p,
        Err(e) => {
            let _ = rendezvous.remove();
            fail(refusal(EX_OSERR, format!("socketpair: {e}")))
        }
    };
    let me = sys::pid();
    let proxy = match sys::fork() {
        Ok(Forked::Child) => {
            drop(status_parent);
            proxy_process(listener, status_child, me, &source, caller, target)
        }
        Ok(Forked::Parent(p)) => p,
        Err(e) => {
            let _ = rendezvous.remove();
            fail(refusal(EX_OSERR, format!("fork: {e}")))
        }
    };
    drop(listener);
    drop(status_child);
    if let Err(v) = read_status(status_parent) {
        stop(proxy);
        let _ = rendezvous.remove();
        fail(v)
    }
    let mut reply = Writer::new();
    let _ = reply.set(&cfg.env, rendezvous.path.as_os_str().as_bytes());
    let relay_lines = reply.bytes().split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
    let code = helper::deliver(&HELPER, params, &Verdict::Allow { relay: relay_lines });
    if code != 0 {
        stop(proxy);
        let _ = rendezvous.remove();
        std::process::exit(i32::from(helper::release_and_wait(pid, code)))
    }
    let ended = helper::release_and_hold(&watched);
    stop(proxy);
    if let Some(problem) = rendezvous.remove() {
        helper::complain(&HELPER, &refusal(EX_IOERR, problem));
    }
    std::process::exit(i32::from(ended))
}
