//! The only place in this crate with `unsafe`: an owned descriptor, errno, and the few calls the
//! trust rule needs (openat, fstat, readlinkat, read). Wrappers return `Result<_, Errno>` and
//! never panic. escapes' own `sys` builds on these types, so there is one `Fd` and one `Errno`.

use core::ffi::CStr;

/// An errno value from a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// This thread's errno, right after a failed call.
    pub fn last() -> Errno {
        // SAFETY: __errno_location returns a valid pointer to this thread's errno.
        Errno(unsafe { *libc::__errno_location() })
    }

    /// A short, stable description; never derived from the locale or the environment.
    pub fn describe(self) -> &'static str {
        match self.0 {
            libc::ENOENT => "no such file or directory",
            libc::EACCES => "permission denied",
            libc::EPERM => "operation not permitted",
            libc::ELOOP => "is a symbolic link",
            libc::ENOTDIR => "a path component is not a directory",
            libc::EISDIR => "is a directory",
            libc::ENOSPC => "no space left on device",
            libc::EFBIG => "file too large",
            libc::EIO => "input/output error",
            libc::EMFILE | libc::ENFILE => "too many open files",
            libc::ENOEXEC => "exec format error",
            libc::ETXTBSY => "text file busy",
            libc::ENOMEM => "out of memory",
            libc::EAGAIN => "resource temporarily unavailable",
            libc::EINTR => "interrupted",
            libc::ENAMETOOLONG => "file name too long",
            libc::E2BIG => "argument list too long",
            libc::EXDEV => "cross-device link",
            libc::EROFS => "read-only file system",
            libc::EBADF => "bad file descriptor",
            libc::EINVAL => "invalid argument",
            libc::ETIMEDOUT => "timed out",
            _ => "system error",
        }
    }
}

impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (errno {})", self.describe(), self.0)
    }
}

/// Ok(ret) for a non-negative return, else the errno.
pub fn check(ret: libc::c_int) -> Result<libc::c_int, Errno> {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// An owned file descriptor, closed on drop.
#[derive(Debug)]
pub struct Fd(libc::c_int);

impl Fd {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    /// `fd` must be an open descriptor that nothing else owns or will close.
    pub unsafe fn from_raw(fd: libc::c_int) -> Fd {
        Fd(fd)
    }

    pub fn raw(&self) -> libc::c_int {
        self.0
    }

    /// The descriptor as a `std::fs::File` (for `Read`), ownership moving with it.
    pub fn into_file(self) -> std::fs::File {
        use std::os::fd::FromRawFd;
        let fd = self.0;
        core::mem::forget(self);
        // SAFETY: `fd` is open and owned by us; forgetting `self` hands its ownership over.
        unsafe { std::fs::File::from_raw_fd(fd) }
    }
}

impl std::os::fd::AsRawFd for Fd {
    fn as_raw_fd(&self) -> libc::c_int {
        self.0
    }
}

impl std::os::fd::AsFd for Fd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: the descriptor is open for as long as `self` is, which the borrow cannot outlive.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(self.0) }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor and close it exactly once.
        unsafe { libc::close(self.0) };
    }
}

/// Metadata of an open file, from fstat on the descriptor (never by path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub size: i64,
    pub dev: u64,
    pub ino: u64,
    /// The device a character or block special file stands for.
    pub rdev: u64,
}

impl From<&libc::stat> for Stat {
    fn from(st: &libc::stat) -> Stat {
        Stat {
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            nlink: st.st_nlink,
            size: st.st_size,
            dev: st.st_dev,
            ino: st.st_ino,
            rdev: st.st_rdev,
        }
    }
}

impl Stat {
    pub fn is_regular(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }
    /// The same file as `other`: device and inode.
    pub fn same_file(&self, other: &Stat) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// openat(2) with O_CLOEXEC always added; `dir` None means relative to the cwd (or absolute).
pub fn openat(dir: Option<&Fd>, path: &CStr, flags: i32, mode: u32) -> Result<Fd, Errno> {
    let dirfd = dir.map_or(libc::AT_FDCWD, Fd::raw);
    // SAFETY: path is a valid NUL-terminated string; flags are plain integers.
    let fd = check(unsafe { libc::openat(dirfd, path.as_ptr(), flags | libc::O_CLOEXEC, mode) })?;
    Ok(Fd(fd))
}

pub fn fstat(fd: &Fd) -> Result<Stat, Errno> {
    // SAFETY: a zeroed stat is a valid out-parameter.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: st points to writable memory of the right size; fd is open.
    check(unsafe { libc::fstat(fd.0, &mut st) })?;
    Ok(Stat::from(&st))
}

/// The target of the symbolic link that `fd` (opened O_PATH | O_NOFOLLOW) is, at most 4 KiB.
pub fn readlink_fd(fd: &Fd) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: buf is valid for writes of buf.len() bytes; an empty path names `fd` itself.
    let n = unsafe { libc::readlinkat(fd.0, c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(Errno::last());
    }
    let n = n as usize;
    if n >= buf.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    Ok(buf)
}

/// The effective uid of this process.
pub fn geteuid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::geteuid() }
}

/// Outcome of a capped read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    TooLarge,
    Io(Errno),
}

/// Reads descriptor `fd` until EOF, refusing more than `cap` bytes (reads at most cap+1
/// before refusing). `size`: the fstat size of a regular file, when known: once that many
/// bytes have come, a read that stopped short of its buffer was the end of the file, so the
/// extra read(2) that would return 0 is skipped (a file that grows meanwhile is read whole).
pub fn read_to_end(fd: libc::c_int, cap: usize, size: Option<usize>) -> Result<Vec<u8>, ReadError> {
    read_to_end_until(fd, cap, size, &|| false)
}

/// [`read_to_end`] that gives up with ETIMEDOUT as soon as `late()` says so, checked before
/// every read: a descriptor that trickles a byte at a time cannot stretch it either.
pub fn read_to_end_until(
    fd: libc::c_int,
    cap: usize,
    size: Option<usize>,
    late: &dyn Fn() -> bool,
) -> Result<Vec<u8>, ReadError> {
    if size.is_some_and(|s| s > cap) {
        return Err(ReadError::TooLarge);
    }
    let mut out = Vec::with_capacity(size.map_or(0, |s| s + 1));
    loop {
        if late() {
            return Err(ReadError::Io(Errno(libc::ETIMEDOUT)));
        }
        // Never more than cap+1 in all: one byte past the cap is enough to refuse.
        let room = cap.saturating_add(1).saturating_sub(out.len());
        let ask = match size {
            Some(s) if out.len() <= s => s + 1 - out.len(),
            _ => 4096,
        }
        .min(room);
        match read_into(fd, &mut out, ask) {
            Err(e) if e.0 == libc::EINTR => continue,
            Err(e) => return Err(ReadError::Io(e)),
            Ok(0) => return Ok(out),
            Ok(_) if out.len() > cap => return Err(ReadError::TooLarge),
            Ok(n) if n < ask && size == Some(out.len()) => return Ok(out),
            Ok(_) => {}
        }
    }
}

/// One read(2) of at most `max` bytes appended to `out`, into its spare capacity (nothing is
/// zeroed first); returns how many came, 0 at end of file.
pub fn read_into(fd: libc::c_int, out: &mut Vec<u8>, max: usize) -> Result<usize, Errno> {
    out.reserve(max);
    let spare = out.spare_capacity_mut();
    let len = spare.len().min(max);
    // SAFETY: spare points at `len` writable (uninitialised) bytes owned by `out`; read(2)
    // writes at most `len` of them.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), len) };
    if n < 0 {
        return Err(Errno::last());
    }
    let n = (n as usize).min(len);
    // SAFETY: read(2) initialised the first n bytes of the spare capacity, n <= len <= spare.
    unsafe { out.set_len(out.len() + n) };
    Ok(n)
}
