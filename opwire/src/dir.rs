//! A directory reached by the trust rule's walk (`crate::trusted`), handed out so that a
//! caller can look at, open or create names *in that descriptor* instead of resolving a path
//! again. [`dir`] walks under rules 1–3 (and keeps what it checked, as every rule-3 walk does);
//! [`walk`] is the same walk with the caller's own judgement of each directory in place of rule
//! 3, for a rule that is genuinely another (a home its owner controls, a sticky parent in which
//! root makes a private directory), and keeps nothing.

#![forbid(unsafe_code)]

use crate::sys::{Errno, Fd, Stat};
use crate::trusted::{components, cstr, open_dir, open_in, regular, shown, stat_of, walk_kept, Error};

/// Rules 1–3 for the directory `path` itself (`/` included): the walked directory.
pub fn dir(path: &[u8]) -> Result<Dir, Error> {
    let parts = if path == b"/" { Vec::new() } else { components(path)? };
    Ok(Dir { fd: Held::Kept(walk_kept(&parts)?), path: path.to_vec() })
}

/// Rules 1 and 2 for the directory `path`, each directory (`/` first, `path` itself last)
/// judged by `judge(path so far, its metadata)` instead of by rule 3. Nothing is kept: the next
/// walk looks again.
pub fn walk<E: From<Error>>(path: &[u8], judge: impl Fn(&[u8], &Stat) -> Result<(), E>) -> Result<Dir, E> {
    let parts = if path == b"/" { Vec::new() } else { components(path)? };
    let mut fd = open_dir(None, c"/", b"/")?;
    judge(b"/", &stat_of(&fd, b"/")?)?;
    let mut walked_to = Vec::new();
    for name in parts {
        walked_to.push(b'/');
        walked_to.extend_from_slice(name);
        fd = open_dir(Some(&fd), &cstr(name)?, &walked_to)?;
        judge(&walked_to, &stat_of(&fd, &walked_to)?)?;
    }
    Ok(Dir { fd: Held::Own(fd), path: path.to_vec() })
}

/// A directory reached by a walk from `/` in which every step was judged on the descriptor the
/// next step opens from. What is looked at or opened through it is in that very directory,
/// wherever its path points meanwhile.
#[derive(Debug)]
pub struct Dir {
    fd: Held,
    path: Vec<u8>,
}

#[derive(Debug)]
enum Held {
    /// Kept for the rest of the process by rule-3 walks.
    Kept(&'static Fd),
    Own(Fd),
}

impl Dir {
    /// The O_PATH descriptor (usable as the directory of `*at` calls).
    pub fn fd(&self) -> &Fd {
        match &self.fd {
            Held::Kept(fd) => fd,
            Held::Own(fd) => fd,
        }
    }

    /// The path it was walked by (for messages; never resolved again here).
    pub fn path(&self) -> &[u8] {
        &self.path
    }

    /// The path of `name` in it, for messages.
    pub fn shown(&self, name: &[u8]) -> String {
        let mut p = self.path.clone();
        if p != b"/" {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        shown(&p)
    }

    /// Its metadata now.
    pub fn stat(&self) -> Result<Stat, Error> {
        stat_of(self.fd(), &self.path)
    }

    /// The entry `name` as it is (O_PATH | O_NOFOLLOW: a symbolic link is the link itself), or
    /// None when nothing is there.
    pub fn entry(&self, name: &[u8]) -> Result<Option<(Fd, Stat)>, Error> {
        match self.open(name, libc::O_PATH) {
            Ok(found) => Ok(Some(found)),
            Err(Error::Open { errno: Errno(libc::ENOENT), .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens `name` in it with `flags` (O_NOFOLLOW, O_NONBLOCK, O_NOCTTY and O_CLOEXEC added),
    /// whatever it is: the caller judges the metadata returned.
    pub fn open(&self, name: &[u8], flags: i32) -> Result<(Fd, Stat), Error> {
        open_in(self.fd(), name, flags, &self.shown(name))
    }

    /// Rules 3 and 4 for `name` in it: opens the regular file with `flags`.
    pub fn open_trusted(&self, name: &[u8], flags: i32) -> Result<(Fd, Stat), Error> {
        regular(self.open(name, flags)?, &self.shown(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::sync::Mutex;

    use crate::trusted::tests::{bytes, scratch};

    #[test]
    fn walks_to_root_owned_system_directories_and_looks_inside() {
        // /usr and /usr/bin are root's and 0755 on any system the tests run on.
        let d = dir(b"/usr/bin").unwrap();
        assert_eq!(d.path(), b"/usr/bin");
        assert!(d.stat().unwrap().is_dir());
        assert!(d.entry(b"env").unwrap().is_some());
        assert!(d.entry(b"no-such-entry-here").unwrap().is_none());
        assert_eq!(d.entry(b"..").err(), Some(Error::BadPath));
        assert!(dir(b"/").unwrap().entry(b"usr").unwrap().is_some_and(|(_, st)| st.is_dir()));
    }

    #[test]
    fn refuses_dot_dot_before_touching_the_filesystem() {
        assert_eq!(dir(b"/usr/../etc").err(), Some(Error::BadPath));
        assert_eq!(walk(b"/usr/../etc", |_, _| Ok::<(), Error>(())).err(), Some(Error::BadPath));
    }

    #[test]
    fn reports_a_missing_directory() {
        assert!(dir(b"/no-such-dir-anywhere").unwrap_err().is_missing());
    }

    #[test]
    fn a_walk_of_ones_own_judges_every_directory_and_keeps_nothing() {
        let seen = Mutex::new(Vec::new());
        let d = walk(b"/usr/bin", |p, st| {
            seen.lock().unwrap().push((p.to_vec(), st.is_dir()));
            Ok::<(), Error>(())
        })
        .unwrap();
        assert_eq!(d.path(), b"/usr/bin");
        let want: Vec<(Vec<u8>, bool)> =
            vec![(b"/".to_vec(), true), (b"/usr".to_vec(), true), (b"/usr/bin".to_vec(), true)];
        assert_eq!(*seen.lock().unwrap(), want);
        // A sticky world-writable directory: refused by rule 3, accepted by a judge that allows it.
        assert!(matches!(dir(b"/tmp"), Err(Error::Writable { by: "world", .. })));
        let sticky_ok = |p: &[u8], st: &Stat| {
            if st.mode & 0o022 != 0 && st.mode & 0o1000 == 0 {
                return Err(Error::Writable { path: shown(p), by: "group or world" });
            }
            Ok(())
        };
        assert!(walk(b"/tmp", sticky_ok).is_ok());
        let e = walk(b"/usr", |p, _| if p == b"/usr" { Err(Error::NotDirectory { path: shown(p) }) } else { Ok(()) });
        assert!(matches!(e, Err(Error::NotDirectory { .. })));
    }

    #[test]
    fn a_walk_refuses_a_link_as_a_directory_and_opens_names_without_following() {
        let Some(d) = scratch("dir") else { return };
        std::fs::create_dir(d.join("real")).unwrap();
        std::fs::write(d.join("real/f"), b"x").unwrap();
        symlink(d.join("real"), d.join("dirlink")).unwrap();
        symlink(d.join("real/f"), d.join("real/flink")).unwrap();
        let e = dir(&bytes(&d.join("dirlink"))).unwrap_err();
        assert!(e.to_string().contains("refusing a symbolic link"), "{e}");
        let e = walk(&bytes(&d.join("dirlink")), |_, _| Ok::<(), Error>(())).unwrap_err();
        assert!(e.to_string().contains("refusing a symbolic link"), "{e}");
        let real = dir(&bytes(&d.join("real"))).unwrap();
        assert!(real.entry(b"flink").unwrap().is_some_and(|(_, st)| st.is_symlink()));
        assert!(matches!(real.open(b"flink", libc::O_RDONLY), Err(Error::Open { errno: Errno(libc::ELOOP), .. })));
        assert!(real.open_trusted(b"f", libc::O_RDONLY).is_ok());
        assert_eq!(real.shown(b"f"), format!("{}/real/f", d.display()));
        let _ = std::fs::remove_dir_all(&d);
    }
}
