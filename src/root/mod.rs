//! The root process's own work with the outside world: the files it trusts, the audit log, the
//! caller's process state, the grant, the IdP, the accounts, the program and the helpers
//! around it. Everything here runs with root's ids; the parsing it needs is done by confined
//! children (`confined`), the deciding by pure code (`policy`).

pub mod idp;
pub mod keys;
pub mod rotation;
pub mod syslog;
pub mod trusted_file;
pub mod tty;
pub mod users;
