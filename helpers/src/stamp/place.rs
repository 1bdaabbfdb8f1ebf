//! Where stamps live, reached by the one file-trust rule (`opwire::trusted`): every directory
//! from `/` to a stamp walked with openat(O_PATH|O_DIRECTORY|O_NOFOLLOW) from the one before
//! it, each root's (or, as for every trusted file, the checking process's own effective uid,
//! which is root for stamp and stampctl) and neither group- nor world-writable, sticky or not;
//! a symbolic link anywhere on the way is refused, not followed. What is done afterwards is
//! done *in the walked descriptor*: entries are looked at with O_PATH|O_NOFOLLOW, made and
//! removed with `*at` calls, and bound or connected through `/proc/self/fd/N`, so the directory
//! checked is the directory used.

use crate::sys;
use opwire::dir::Dir;
use opwire::sys::Fd;
use opwire::trusted::{self, Error};
use std::io;
use std::os::fd::AsRawFd;

/// The directory whose components below `/` are `components`, walked and checked.
pub fn walk<C: AsRef<[u8]>>(components: &[C]) -> Result<Dir, Error> {
    opwire::dir::dir(&join(b"/", components))
}

/// The subdirectory `name` of `dir`, checked (the walk from `/` is the one already made).
pub fn child(dir: &Dir, name: &[u8]) -> Result<Dir, Error> {
    if !trusted::is_component(name) {
        return Err(Error::BadPath);
    }
    opwire::dir::dir(&join(dir.path(), &[name]))
}

fn join<C: AsRef<[u8]>>(base: &[u8], components: &[C]) -> Vec<u8> {
    let mut p = base.to_vec();
    for c in components {
        if p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(c.as_ref());
    }
    p
}

/// Creates the directory `name` in `dir` (mode before the umask; chmod afterwards).
pub fn mkdir(dir: &Dir, name: &[u8], mode: u32) -> io::Result<()> {
    sys::mkdir_in(dir.fd(), name, mode)
}

/// Removes the non-directory entry `name` of `dir`.
pub fn unlink(dir: &Dir, name: &[u8]) -> io::Result<()> {
    sys::remove_at(dir.fd(), name, false)
}

/// `/proc/self/fd/N/name`: `name` in *this* directory, for bind(2), connect(2) and lchown(2),
/// which take only paths. The kernel resolves `N` to the walked directory itself.
pub fn proc_path(dir: &Dir, name: &[u8]) -> Vec<u8> {
    let mut p = format!("/proc/self/fd/{}/", dir.fd().as_raw_fd()).into_bytes();
    p.extend_from_slice(name);
    p
}

/// `/proc/self/fd/N` for an open entry: connect(2) to exactly the inode that was inspected.
pub fn proc_fd_path(entry: &Fd) -> Vec<u8> {
    format!("/proc/self/fd/{}", entry.as_raw_fd()).into_bytes()
}

/// The exit code a failed walk means to stampctl: 69 when something on the way is missing, 71
/// when a system call failed for another reason, else 77 (refused: a link, a directory others
/// could change, a bad name).
pub fn exit_code(e: &Error) -> u8 {
    use opwire::sys::Errno;
    use opwire::sysexits::{EX_NOPERM, EX_OSERR, EX_UNAVAILABLE};
    match e {
        e if e.is_missing() => EX_UNAVAILABLE,
        Error::Open { errno: Errno(libc::ELOOP | libc::ENOTDIR), .. } => EX_NOPERM,
        Error::Open { .. } | Error::Read { .. } => EX_OSERR,
        _ => EX_NOPERM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_components_below_a_walked_directory() {
        assert_eq!(join(b"/", &["run", "escapes"]), b"/run/escapes");
        assert_eq!(join(b"/run", &[b"x".as_slice()]), b"/run/x");
        assert_eq!(join::<&[u8]>(b"/", &[]), b"/");
    }

    #[test]
    fn a_child_name_that_could_escape_is_refused_before_any_walk() {
        let d = walk(&["usr"]).unwrap();
        for bad in [&b".."[..], b".", b"", b"a/b"] {
            assert_eq!(child(&d, bad).err(), Some(Error::BadPath), "{bad:?}");
        }
        assert_eq!(child(&d, b"bin").unwrap().path(), b"/usr/bin");
    }

    #[test]
    fn walks_refuse_what_the_trust_rule_refuses() {
        assert!(walk(&["no-such-dir-anywhere"]).unwrap_err().is_missing());
        assert!(matches!(walk(&["tmp"]), Err(Error::Writable { .. })));
        assert_eq!(exit_code(&walk(&["no-such-dir-anywhere"]).unwrap_err()), 69);
        assert_eq!(exit_code(&walk(&["tmp"]).unwrap_err()), 77);
    }
}
