//! Code that runs only after the process has given up root for good: `--verify-log` first
//! sets every uid and gid to the caller's, then hands over to [`verify_log`]. `make tcb` checks
//! that nothing else reaches into this folder.

#![forbid(unsafe_code)]

mod chain;

pub use chain::verify_log;
