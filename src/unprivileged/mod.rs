//! Code that runs only after the process has given up root for good: `--verify-log` first
//! sets every uid and gid to the caller's, then hands over to [`verify_log::run`]. `make tcb`
//! checks that nothing else reaches into this folder.
//!
//! `anchors` holds pure parsers (a journal export, a syslog file) with fuzz targets; they live
//! here rather than in `parse` because only this unprivileged path ever runs them.

#![forbid(unsafe_code)]

pub mod anchors;
pub mod chain;
pub mod verify_log;
