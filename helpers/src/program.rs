//! Running a program the helper needs (sheval's commands, xdisplay's xauth): by absolute path,
//! with exactly the environment given, cwd `/`, stdin the bytes given (or /dev/null), stdout
//! captured up to a cap, stderr ours, in its own process group, killed with us
//! (PR_SET_PDEATHSIG), as a given user if asked, and killed as a group when it overruns its
//! deadline or its output cap.

use crate::sys::{self, Ended};
use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One run to make.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// Absolute path; no PATH search ever happens.
    pub path: &'a [u8],
    /// argv after argv[0] (argv[0] is the path).
    pub args: &'a [Vec<u8>],
    /// The whole environment.
    pub env: &'a [(&'a [u8], &'a [u8])],
    /// Written to the program's stdin, which is then closed; `None` gives it /dev/null.
    pub stdin: Option<&'a [u8]>,
    /// Run as (uid, gid, supplementary groups), verified before exec; `None` keeps our ids.
    pub user: Option<(u32, u32, Vec<u32>)>,
    pub deadline: Instant,
    /// Most stdout bytes accepted.
    pub cap: usize,
}

/// Why a run gave no usable result.
#[derive(Debug)]
pub enum RunError {
    NotAbsolute,
    /// It could not be started (missing, not executable, or the credential change failed).
    Spawn(io::Error),
    /// It had not finished (or closed its stdout) by the deadline.
    Timeout,
    /// It wrote more than the cap.
    TooLong,
    Io(io::Error),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NotAbsolute => f.write_str("not an absolute path"),
            RunError::Spawn(e) => write!(f, "cannot run: {e}"),
            RunError::Timeout => f.write_str("did not finish in time"),
            RunError::TooLong => f.write_str("wrote too much output"),
            RunError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub ended: Ended,
    pub stdout: Vec<u8>,
}

enum Captured {
    Done(Vec<u8>),
    TooLong,
    Failed(io::Error),
}

/// How the child ended, from its wait status (coat uses it too).
pub(crate) fn ended(status: std::process::ExitStatus) -> Ended {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => Ended::Exited(u8::try_from(c & 0xff).unwrap_or(255)),
        (None, Some(s)) => Ended::Signaled(s),
        (None, None) => Ended::Signaled(0),
    }
}

/// Kills the whole process group the program leads (so a background child holding a pipe dies
/// with it), then reaps the program. Coat kills its helpers so too.
pub(crate) fn kill(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = sys::signal(-pid, libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs the program to completion (or kills it), returning how it ended and what it wrote.
pub fn run(r: &Run<'_>) -> Result<Finished, RunError> {
    if r.path.first() != Some(&b'/') {
        return Err(RunError::NotAbsolute);
    }
    let mut cmd = Command::new(OsStr::from_bytes(r.path));
    cmd.args(r.args.iter().map(|a| OsStr::from_bytes(a)))
        .env_clear()
        .envs(r.env.iter().map(|(k, v)| (OsStr::from_bytes(k), OsStr::from_bytes(v))))
        .current_dir("/")
        .stdin(if r.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0);
    use std::os::unix::process::CommandExt;
    match &r.user {
        Some((uid, gid, groups)) => sys::spawn_as(&mut cmd, *uid, *gid, groups.clone()),
        None => sys::kill_with_parent(&mut cmd),
    }
    let mut child = cmd.spawn().map_err(RunError::Spawn)?;
    if let (Some(data), Some(mut pipe)) = (r.stdin, child.stdin.take()) {
        let data = data.to_vec();
        // A thread writes, so a program that never reads cannot stall us past the deadline.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let Some(mut out) = child.stdout.take() else {
        kill(&mut child);
        return Err(RunError::Io(io::Error::other("no stdout pipe")));
    };
    let cap = r.cap;
    let (tx, rx) = mpsc::channel();
    // A thread reads so the wait can time out even if a descendant keeps the pipe open.
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let got = match (&mut out).take(cap as u64 + 1).read_to_end(&mut buf) {
            Ok(_) if buf.len() > cap => Captured::TooLong,
            Ok(_) => Captured::Done(buf),
            Err(e) => Captured::Failed(e),
        };
        let _ = tx.send(got);
    });
    let stdout = match rx.recv_timeout(r.deadline.saturating_duration_since(Instant::now())) {
        Ok(Captured::Done(b)) => b,
        Ok(Captured::TooLong) => {
            kill(&mut child);
            return Err(RunError::TooLong);
        }
        Ok(Captured::Failed(e)) => {
            kill(&mut child);
            return Err(RunError::Io(e));
        }
        Err(_) => {
            kill(&mut child);
            return Err(RunError::Timeout);
        }
    };
    let Ok(pid) = i32::try_from(child.id()) else {
        kill(&mut child);
        return Err(RunError::Io(io::Error::other("pid out of range")));
    };
    loop {
        match sys::has_ended(pid) {
            Ok(true) => {
                // Nothing of its group may outlive the run (a background child, say); the
                // leader is not reaped yet, so the group id is still its own.
                let _ = sys::signal(-pid, libc::SIGKILL);
                return match child.wait() {
                    Ok(s) => Ok(Finished { ended: ended(s), stdout }),
                    Err(e) => Err(RunError::Io(e)),
                };
            }
            Ok(false) if Instant::now() >= r.deadline => {
                kill(&mut child);
                return Err(RunError::Timeout);
            }
            Ok(false) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => {
                kill(&mut child);
                return Err(RunError::Io(e));
            }
        }
    }
}
