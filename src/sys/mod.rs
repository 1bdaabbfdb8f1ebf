//! The only place with `unsafe`: thin, safe wrappers over the libc calls escapes makes, one file
//! per concern.
//!
//! Every raw syscall of the binary goes through here, which keeps `audit/syscalls` easy to keep
//! true. Wrappers return `Result<_, Errno>` and never panic.
//!
//! Each file that the root process calls into is re-exported whole below, so callers write
//! `sys::openat`. The two that only a confined child calls are not: `bpf` (the seccomp filter)
//! and `net` (the network child's sockets) are named by their callers in src/confined/child/
//! (`sys::bpf::…`, `sys::net::…`), so no root-executed module reaches them and `make tcb`
//! counts them as child code. `start` is the binary's ELF entry point, which no Rust code calls.

// The root process's (each file's header says which children share it).
mod clock; // the wall and monotonic clocks, sleeping
mod cred; // uids, gids, groups, dumpability
mod facts; // host name, working directory
mod fd; // descriptors, capped and bounded reads and writes, send, poll
mod fs; // open flags, locks, metadata by name, names in a directory, /proc/self/status
mod proc; // fork, exec, wait, exit, rlimits, argv
mod signal; // dispositions, masks, timers, `within`
mod start; // the ELF entry point, before glibc's _start
mod syslog; // the system-log copy's unix datagram socket

// Only a confined child's.
pub mod bpf; // the seccomp filter
pub mod net; // the network child's TCP and UDP sockets

pub use opwire::sys::{fstat, openat, readlink_fd, Errno, Fd, ReadError, Stat};

pub use clock::*;
pub use cred::*;
pub use facts::*;
pub use fd::*;
pub use fs::*;
pub use proc::*;
pub use signal::*;
pub use syslog::*;
