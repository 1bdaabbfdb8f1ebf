//! Accounts: a user as /etc/passwd describes one (`parse::passwd` reads it), and the identity a
//! command runs with.

/// One validated `/etc/passwd` entry (password and GECOS fields are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
}

/// Who the command runs as.
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Sorted, without duplicates (the child compares getgroups against it).
    pub groups: Vec<u32>,
}

impl Identity {
    pub fn new(uid: u32, gid: u32, mut groups: Vec<u32>) -> Identity {
        groups.sort_unstable();
        groups.dedup();
        Identity { uid, gid, groups }
    }
}
