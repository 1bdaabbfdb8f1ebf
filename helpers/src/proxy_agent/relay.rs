//! The proxy process: forked by the jacket, it becomes the caller (verified) before it touches
//! the caller's socket, and from then on accepts connections on the listening socket it was
//! handed and joins each to a fresh connection to the caller's socket.
//!
//! Every upstream connection is checked twice: the path must be a socket the caller owns
//! (lstat, as the caller), and the process listening on it must run as the caller
//! (SO_PEERCRED), so the target reaches only a service of the caller's, with the caller's
//! rights. Downstream peers must be the target or root. At most [`MAX_CONNECTIONS`] pairs are
//! open at once (a further one is closed at once); each direction of a pair is its own thread
//! with a [`BUFFER`]-byte buffer, so a peer that stops reading stalls only its own pair.

use crate::identity::Ids;
use crate::sys;
use opwire::sysexits::{EX_NOINPUT, EX_NOPERM, EX_OSERR, EX_UNAVAILABLE};
use std::fs;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Most connection pairs open at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Bytes buffered per direction of a pair.
pub const BUFFER: usize = 16 * 1024;
const STACK: usize = 128 * 1024;

/// Why the caller's socket is not used; `code` is the refusal's exit code.
#[derive(Debug)]
pub struct SourceError {
    pub code: u8,
    pub reason: String,
}

fn refused(code: u8, reason: String) -> SourceError {
    SourceError { code, reason }
}

/// Connects to the caller's socket, as the caller (this process must already be the caller).
pub fn connect_source(source: &Path, caller: u32) -> Result<UnixStream, SourceError> {
    let shown = source.display();
    let meta = fs::symlink_metadata(source).map_err(|e| {
        let code = match e.kind() {
            io::ErrorKind::NotFound => EX_NOINPUT,
            _ => EX_NOPERM,
        };
        refused(code, format!("{shown}: cannot examine it as uid {caller}: {e}"))
    })?;
    if !meta.file_type().is_socket() {
        return Err(refused(EX_NOPERM, format!("{shown} is not a socket")));
    }
    if meta.uid() != caller {
        return Err(refused(EX_NOPERM, format!("{shown} is owned by uid {}, not the caller's {caller}", meta.uid())));
    }
    let up =
        UnixStream::connect(source).map_err(|e| refused(EX_UNAVAILABLE, format!("{shown}: cannot connect: {e}")))?;
    match sys::peer_credentials(&up) {
        Ok((_, uid, _)) if uid == caller => Ok(up),
        Ok((pid, uid, _)) => {
            Err(refused(EX_NOPERM, format!("{shown} is served by pid {pid} as uid {uid}, not by the caller {caller}")))
        }
        Err(e) => Err(refused(EX_OSERR, format!("{shown}: SO_PEERCRED: {e}"))),
    }
}

/// Becomes the caller: uid, primary gid, that gid as the only group; verified.
pub fn become_caller(caller: Ids) -> Result<(), SourceError> {
    sys::become_user(caller.uid, caller.gid, &[caller.gid])
        .map_err(|e| refused(EX_OSERR, format!("cannot become uid {}: {e}", caller.uid)))
}

fn pump(mut from: UnixStream, mut to: UnixStream) {
    let mut buf = vec![0u8; BUFFER];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let Some(chunk) = buf.get(..n) else { break };
                if to.write_all(chunk).is_err() {
                    let _ = from.shutdown(Shutdown::Read);
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn join(down: UnixStream, source: &Path, caller: u32) {
    let Ok(up) = connect_source(source, caller) else {
        return;
    };
    let (Ok(down2), Ok(up2)) = (down.try_clone(), up.try_clone()) else {
        return;
    };
    let there = std::thread::Builder::new().stack_size(STACK).spawn(move || pump(down2, up2));
    pump(up, down);
    if let Ok(t) = there {
        let _ = t.join();
    }
}

/// Serves until killed.
pub fn serve(listener: UnixListener, source: &Path, caller: u32, target: u32) -> ! {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let down = match listener.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors, say: do not spin.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        match sys::peer_credentials(&down) {
            Ok((_, uid, _)) if uid == target || uid == 0 => {}
            _ => continue,
        }
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (count, source) = (Arc::clone(&active), source.to_path_buf());
        let spawned = std::thread::Builder::new().stack_size(STACK).spawn(move || {
            join(down, &source, caller);
            count.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
