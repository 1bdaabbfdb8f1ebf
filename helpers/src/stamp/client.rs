//! Finding a stamp and talking to its holder, for the stamp helper and stampctl.
//!
//! `locate` walks from `/` through the stamp root to the stamp's directory ([`super::place`]:
//! the one file-trust rule, no symlinks) and only then looks at the entry; a
//! socket is connected to through its own O_PATH descriptor, so the inode inspected is the one
//! reached. Every connect and every answer has a deadline.

use super::path::StampPath;
use super::place;
use super::wire::{self, Reply, Request, WireError};
use crate::sys;
use opwire::dir::Dir;
use opwire::sys::Fd;
use opwire::trusted::Error as WalkError;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// How long holders have to accept and answer: the stamp helper's whole judgement, and each of
/// stampctl's requests.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(3);
/// The most of a lock file shown.
pub const MAX_LOCK_TEXT: u64 = 4096;

/// What is at a stamp's path.
#[derive(Debug)]
pub enum Located {
    /// Nothing (the stamp, or a directory on the way, does not exist).
    Nothing,
    /// A plain file: a long-lived lock; its text (at most `MAX_LOCK_TEXT` bytes).
    Lock(Vec<u8>),
    Socket(Socket),
    /// A directory, FIFO, device or symlink: never a stamp.
    Other(&'static str),
}

/// A stamp socket, found by a checked walk.
#[derive(Debug)]
pub struct Socket {
    pub dir: Dir,
    pub leaf: Vec<u8>,
    /// O_PATH descriptor of the socket inode.
    entry: Fd,
}

/// Walks to `path` under the root whose components are `root` and says what is there.
pub fn locate(root: &[Vec<u8>], path: &StampPath) -> Result<Located, WalkError> {
    let mut comps: Vec<&[u8]> = root.iter().map(Vec::as_slice).collect();
    comps.extend(path.dirs().iter().map(Vec::as_slice));
    let dir = match place::walk(&comps) {
        Ok(d) => d,
        Err(e) if e.is_missing() => return Ok(Located::Nothing),
        Err(e) => return Err(e),
    };
    let leaf = path.leaf();
    let Some((entry, st)) = dir.entry(leaf)? else {
        return Ok(Located::Nothing);
    };
    if st.mode & libc::S_IFMT == libc::S_IFSOCK {
        return Ok(Located::Socket(Socket { dir, leaf: leaf.to_vec(), entry }));
    }
    if st.is_regular() {
        let (f, st) = dir.open(leaf, libc::O_RDONLY)?;
        if !st.is_regular() {
            return Ok(Located::Other("not a regular file"));
        }
        let mut text = Vec::new();
        f.into_file().take(MAX_LOCK_TEXT).read_to_end(&mut text).map_err(|e| WalkError::Read {
            path: dir.shown(leaf),
            errno: opwire::sys::Errno(e.raw_os_error().unwrap_or(libc::EIO)),
        })?;
        return Ok(Located::Lock(text));
    }
    Ok(Located::Other(if st.is_symlink() {
        "a symlink"
    } else if st.is_dir() {
        "a directory"
    } else {
        "neither a socket nor a plain file"
    }))
}

/// Why talking to a holder failed.
#[derive(Debug)]
pub enum ConnError {
    /// Nobody listens: a holder that died and left its socket.
    Dead,
    /// No connection or no answer before the deadline.
    Timeout,
    /// The holder closed the connection.
    Closed,
    /// The process serving the socket is not root (its SO_PEERCRED uid).
    NotRoot(u32),
    Protocol(WireError),
    Io(io::Error),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Dead => f.write_str("no holder listens (dead stamp)"),
            ConnError::Timeout => f.write_str("the holder did not answer in time"),
            ConnError::Closed => f.write_str("the holder closed the connection"),
            ConnError::NotRoot(uid) => write!(f, "the socket is served by uid {uid}, not root"),
            ConnError::Protocol(e) => write!(f, "the holder broke the protocol: {e}"),
            ConnError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// A connection to a holder with one deadline for everything said on it.
pub struct Conn {
    stream: UnixStream,
    deadline: Instant,
    buf: Vec<u8>,
}

impl Socket {
    /// Connects, retrying while the holder's backlog is full, until `deadline`.
    pub fn connect(&self, deadline: Instant) -> Result<Conn, ConnError> {
        let path = place::proc_fd_path(&self.entry);
        let fd = loop {
            match sys::connect_unix(&path) {
                Ok(fd) => break fd,
                Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => return Err(ConnError::Dead),
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    if Instant::now() >= deadline {
                        return Err(ConnError::Timeout);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(ConnError::Io(e)),
            }
        };
        // Only root can bind in the walked directories, and a holder runs as root; anything
        // else serving there is refused outright.
        let (_, uid, _) = sys::peer_credentials(&fd).map_err(ConnError::Io)?;
        if uid != 0 {
            return Err(ConnError::NotRoot(uid));
        }
        let stream = UnixStream::from(fd);
        stream.set_nonblocking(false).map_err(ConnError::Io)?;
        Ok(Conn { stream, deadline, buf: Vec::new() })
    }

    /// Removes a dead stamp's socket.
    pub fn remove(&self) -> io::Result<()> {
        place::unlink(&self.dir, &self.leaf)
    }
}

impl Conn {
    fn left(&self) -> Result<Duration, ConnError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(ConnError::Timeout)
        } else {
            Ok(left)
        }
    }

    /// Sends one request and reads its reply.
    pub fn ask(&mut self, req: &Request) -> Result<Reply, ConnError> {
        let timed_out = |e: io::Error| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ConnError::Timeout,
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => ConnError::Closed,
            _ => ConnError::Io(e),
        };
        self.stream.set_write_timeout(Some(self.left()?)).map_err(ConnError::Io)?;
        self.stream.write_all(&req.encode()).map_err(timed_out)?;
        let mut chunk = [0u8; 512];
        loop {
            match wire::next_line(&self.buf, wire::MAX_REPLY) {
                Ok(Some((line, used))) => {
                    let r = wire::parse_reply(line).map_err(ConnError::Protocol);
                    self.buf.drain(..used.min(self.buf.len()));
                    return r;
                }
                Ok(None) => {}
                Err(e) => return Err(ConnError::Protocol(e)),
            }
            self.stream.set_read_timeout(Some(self.left()?)).map_err(ConnError::Io)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ConnError::Closed),
                Ok(n) => self.buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(timed_out(e)),
            }
        }
    }
}
