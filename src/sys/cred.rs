//! User and group ids, the supplementary groups, dumpability. The root process reads them and
//! acts with them (the caller's rights, the exec child's drop); a confined child drops to the
//! caller's ids with them and checks that the drop held.

use opwire::sys::{check, Errno};

pub fn getuid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::getuid() }
}

pub fn getgid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::getgid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::geteuid() }
}

pub fn getegid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::getegid() }
}

/// Sets only the effective uid (real and saved stay), to act with the caller's rights.
pub fn set_euid(uid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall; -1 leaves real and saved ids unchanged.
    check(unsafe { libc::setresuid(u32::MAX, uid, u32::MAX) }).map(|_| ())
}

pub fn set_egid(gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall; -1 leaves real and saved ids unchanged.
    check(unsafe { libc::setresgid(u32::MAX, gid, u32::MAX) }).map(|_| ())
}

/// Sets real, effective and saved ids at once, so none of root is left.
pub fn set_all_uids(uid: u32) -> Result<(), Errno> {
    set_uids(uid, uid, uid)
}

/// setresuid(2) as given; `u32::MAX` (-1) leaves that id unchanged.
pub fn set_uids(real: u32, effective: u32, saved: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall.
    check(unsafe { libc::setresuid(real, effective, saved) }).map(|_| ())
}

pub fn set_all_gids(gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall.
    check(unsafe { libc::setresgid(gid, gid, gid) }).map(|_| ())
}

pub fn getresuid() -> Result<(u32, u32, u32), Errno> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: the three pointers are valid for writes.
    check(unsafe { libc::getresuid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

pub fn getresgid() -> Result<(u32, u32, u32), Errno> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: the three pointers are valid for writes.
    check(unsafe { libc::getresgid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

pub fn setgroups(gids: &[u32]) -> Result<(), Errno> {
    // SAFETY: gids points to gids.len() valid gid_t values.
    check(unsafe { libc::setgroups(gids.len(), gids.as_ptr()) }).map(|_| ())
}

/// The supplementary groups, when there are at most `cap` of them (EINVAL when more).
pub fn getgroups(cap: usize) -> Result<Vec<u32>, Errno> {
    let mut buf = vec![0u32; cap.max(1)];
    let len = libc::c_int::try_from(buf.len()).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: buf holds `len` gid_t slots, the size we pass.
    let n = check(unsafe { libc::getgroups(len, buf.as_mut_ptr()) })?;
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn set_not_dumpable() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) }).map(|_| ())
}

/// PR_GET_DUMPABLE: 0 when this process is not dumpable.
pub fn dumpable() -> Result<i32, Errno> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) })
}
