//! The caller's controlling terminal, as the kernel records it (`/proc/self/stat`'s tty_nr),
//! named by its device node and checked against it: what the audit record's `tty` field and a
//! helper parameter's `$y` say. Not whatever the caller opened as fd 0.

use crate::parse::proc_stat;
use crate::sys;
use std::ffi::CString;
use std::sync::OnceLock;

/// `/dev/pts/N` or `/dev/ttyN`, when the caller has a controlling terminal of that kind and the
/// node of that name is that device; asked once per run.
pub fn controlling() -> Option<&'static [u8]> {
    static NAME: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    NAME.get_or_init(find).as_deref()
}

fn find() -> Option<Vec<u8>> {
    let fd = sys::openat(None, c"/proc/self/stat", sys::O_RDONLY | sys::O_NOCTTY, 0).ok()?;
    let stat = sys::read_capped(&fd, 4096).ok()?;
    let dev = proc_stat::tty_nr(&stat).ok().filter(|&d| d != 0)?;
    let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    let name = match major {
        136..=143 => format!("/dev/pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("/dev/tty{minor}"),
        _ => return None,
    };
    let c = CString::new(name.clone()).ok()?;
    let node = sys::openat(None, &c, sys::O_PATH | sys::O_NOFOLLOW, 0).ok()?;
    let st = sys::fstat(&node).ok()?;
    // tty_nr and st_rdev encode a device alike for these majors and minors.
    (st.mode & libc::S_IFMT == libc::S_IFCHR && st.rdev == u64::from(dev)).then(|| name.into_bytes())
}
