//! Rotation without breaking the chain (issue 15). logrotate renames `<log>` to `<log>.1` and
//! creates an empty `<log>` (packaging/logrotate: `delaycompress`, `notifempty`, `create`).
//! The first record escapes writes to an empty log links to the last line of `<log>.1`, named
//! in its `rotated_from`, and an escapes that opened the log before the rename appends to the
//! new file, not the renamed one.

use crate::root::trusted_file;
use crate::sys::{self, Fd};
use std::ffi::CString;

/// The name logrotate gives the log it rotates away (with `delaycompress`, uncompressed until
/// the rotation after).
pub fn predecessor_of(path: &str) -> String {
    format!("{path}.1")
}

/// `<log>.1` opened read-only under the trusted-file rules (every directory and the file root's
/// and not group/world-writable, no symbolic link, one link), with its size and name; `None`
/// when there is none.
pub fn open_predecessor(path: &str) -> Result<Option<(Fd, i64, String)>, trusted_file::Error> {
    let old = predecessor_of(path);
    let (dir, name) = trusted_file::open_parent(&old)?;
    let cname = CString::new(name).map_err(|_| trusted_file::Error::BadPath)?;
    let fd = match sys::openat(Some(dir), &cname, sys::O_RDONLY | sys::O_NOFOLLOW | sys::O_NONBLOCK | sys::O_NOCTTY, 0)
    {
        Ok(fd) => fd,
        Err(e) if e.0 == libc::ENOENT => return Ok(None),
        Err(errno) => return Err(trusted_file::Error::Open { path: old, errno }),
    };
    let st = sys::fstat(&fd).map_err(|errno| trusted_file::Error::Open { path: old.clone(), errno })?;
    if !st.is_regular() {
        return Err(trusted_file::Error::NotRegular { path: old });
    }
    opwire::trusted::check_owner_and_mode(&old, &st)?;
    Ok(Some((fd, st.size, old)))
}

/// Whether `fd` is still the file at `path`; false once it was renamed away or replaced. When
/// the path cannot be looked at, the open file is kept (the append then goes on as before).
pub fn is_current(fd: &Fd, path: &str) -> bool {
    let Ok((dir, name)) = trusted_file::open_parent(path) else {
        return true;
    };
    let Ok(cname) = CString::new(name) else {
        return true;
    };
    match (sys::fstatat_nofollow(dir, &cname), sys::fstat(fd)) {
        (Ok(at_path), Ok(open)) => at_path.same_file(&open),
        (Err(e), _) if e.0 == libc::ENOENT => false,
        _ => true,
    }
}
