//! Files and directories: open flags, locks, fsync and truncation, positional reads, names in
//! a directory (mkdirat, renameat, unlinkat, fstatat), ownership, symbolic links, and this
//! process's /proc/self/status. `openat`, `fstat` and `readlink_fd` are opwire's; mod.rs
//! re-exports them. Called by the root process; the network child uses only the open flags
//! (for /etc/hosts and /etc/resolv.conf, through `openat`).

use core::ffi::CStr;

use opwire::sys::{check, openat, Errno, Fd, Stat};

use super::fd::read_append;

pub const O_RDONLY: i32 = libc::O_RDONLY;
pub const O_PATH: i32 = libc::O_PATH;
pub const O_DIRECTORY: i32 = libc::O_DIRECTORY;
pub const O_NOFOLLOW: i32 = libc::O_NOFOLLOW;
pub const O_NONBLOCK: i32 = libc::O_NONBLOCK;
pub const O_RDWR: i32 = libc::O_RDWR;
pub const O_APPEND: i32 = libc::O_APPEND;
pub const O_CREAT: i32 = libc::O_CREAT;
pub const O_NOCTTY: i32 = libc::O_NOCTTY;
pub const O_WRONLY: i32 = libc::O_WRONLY;
pub const O_EXCL: i32 = libc::O_EXCL;

pub fn fsync(fd: &Fd) -> Result<(), Errno> {
    // SAFETY: plain syscall on an open descriptor.
    check(unsafe { libc::fsync(fd.raw()) }).map(|_| ())
}

/// One non-blocking attempt at an exclusive lock: Ok(false) while someone else holds it.
pub fn flock_try_exclusive(fd: &Fd) -> Result<bool, Errno> {
    // SAFETY: plain syscall on an open descriptor.
    match check(unsafe { libc::flock(fd.raw(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(_) => Ok(true),
        Err(e) if e.0 == libc::EWOULDBLOCK || e.0 == libc::EINTR => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn flock_unlock(fd: &Fd) {
    // SAFETY: plain syscall on an open descriptor; failure only delays the unlock to close.
    unsafe { libc::flock(fd.raw(), libc::LOCK_UN) };
}

pub fn ftruncate(fd: &Fd, len: i64) -> Result<(), Errno> {
    // SAFETY: plain syscall on an open descriptor.
    check(unsafe { libc::ftruncate(fd.raw(), len) }).map(|_| ())
}

pub fn pread(fd: &Fd, buf: &mut [u8], offset: i64) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let n = unsafe { libc::pread(fd.raw(), buf.as_mut_ptr().cast(), buf.len(), offset) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

pub fn mkdirat(dir: &Fd, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: name is a valid NUL-terminated string; dir is open.
    check(unsafe { libc::mkdirat(dir.raw(), name.as_ptr(), mode) }).map(|_| ())
}

/// Renames within one directory (atomic replace of `to`).
pub fn renameat(dir: &Fd, from: &CStr, to: &CStr) -> Result<(), Errno> {
    // SAFETY: both names are valid NUL-terminated strings; dir is open.
    check(unsafe { libc::renameat(dir.raw(), from.as_ptr(), dir.raw(), to.as_ptr()) }).map(|_| ())
}

/// Removes a file (not a directory) from `dir`.
pub fn unlinkat(dir: &Fd, name: &CStr) -> Result<(), Errno> {
    // SAFETY: name is a valid NUL-terminated string; dir is open.
    check(unsafe { libc::unlinkat(dir.raw(), name.as_ptr(), 0) }).map(|_| ())
}

/// fchown(2) on an open descriptor (never by path, so no race with renames).
pub fn fchown(fd: &Fd, uid: u32, gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall on an open descriptor.
    check(unsafe { libc::fchown(fd.raw(), uid, gid) }).map(|_| ())
}

/// The metadata of `name` in the directory `dir` without following a symbolic link
/// (fstatat(AT_SYMLINK_NOFOLLOW)): a socket is inspected by name, since it cannot be opened.
pub fn fstatat_nofollow(dir: &Fd, name: &CStr) -> Result<Stat, Errno> {
    // SAFETY: a zeroed stat is a valid out-parameter.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: name is NUL-terminated; st points to writable memory of the right size.
    check(unsafe { libc::fstatat(dir.raw(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(Stat::from(&st))
}

/// Whether `st` is a socket.
pub fn is_socket(st: &Stat) -> bool {
    st.mode & libc::S_IFMT == libc::S_IFSOCK
}

/// The target of the symbolic link `path` (EINVAL when it is not a link), at most 4 KiB.
pub fn readlink(path: &CStr) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: path is NUL-terminated; buf is valid for writes of buf.len() bytes.
    let n = unsafe { libc::readlink(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(Errno::last());
    }
    buf.truncate((n as usize).min(buf.len()));
    Ok(buf)
}

/// This process's `/proc/self/status` in one read(2) (the kernel hands a seq_file over whole
/// when the buffer is big enough; a short one only makes the SigIgn parse fail, and the caller
/// then resets every signal), or an error where /proc is not mounted.
pub fn read_proc_self_status() -> Result<Vec<u8>, Errno> {
    let fd = openat(None, c"/proc/self/status", libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY, 0)?;
    let mut buf = Vec::new();
    read_append(&fd, &mut buf, 8192)?;
    Ok(buf)
}
