//! `--verify-log FILE [FILE...] [--anchors EXPORT]`: first gives up root for good (any user may
//! run it on files they can read), then hands over to `unprivileged::verify_log`, which walks
//! the hash chain across the files and names the first broken line, and with `--anchors`
//! compares each line with the system logger's copy. 0 intact, 5 broken or disagreeing.
//! The only way into `src/unprivileged/` (`make tcb` checks it).

use crate::mode::failure::Failure;
use crate::policy::request::VerifyLog;
use crate::process;
use crate::sys;

pub fn run(v: &VerifyLog) -> i32 {
    let caller = process::caller();
    if sys::set_all_gids(caller.gid).and_then(|_| sys::set_all_uids(caller.uid)).is_err() {
        return Failure::error("internal", "cannot drop privileges").report();
    }
    crate::unprivileged::verify_log::run(&v.files, v.anchors.as_deref())
}
