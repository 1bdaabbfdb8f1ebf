//! Facts about where escapes runs, for the audit record and the policy: the kernel's node name
//! and the working directory. Called by the root process only (main.rs).

use opwire::sys::{check, Errno};

/// The kernel's node name, from uname(2) (never from $HOSTNAME).
pub fn hostname() -> Result<String, Errno> {
    // SAFETY: a zeroed utsname is a valid out-parameter.
    let mut u: libc::utsname = unsafe { core::mem::zeroed() };
    // SAFETY: u is valid for writes.
    check(unsafe { libc::uname(&mut u) })?;
    let bytes: Vec<u8> = u.nodename.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8(bytes).map_err(|_| Errno(libc::EINVAL))
}

/// The working directory, or None when it is deleted, unreadable or too long.
pub fn getcwd() -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let p = unsafe { libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) };
    if p.is_null() {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0)?;
    buf.truncate(len);
    // Linux prefixes "(unreachable)" when the cwd is outside our root.
    if buf.first() != Some(&b'/') {
        return None;
    }
    Some(buf)
}
