//! Code that runs only in a confined child, after `confined::spawn` carried out rules 1–5.
//! The root process never calls into this folder: its one entry is [`run`], called from the
//! fork in `spawn` (`make tcb` checks that no other reference exists).

mod idp;
mod net;
mod resolve;
pub mod service;
mod stream;
mod tls;

use crate::confined::job::Work;

/// The child's work; it ends the process.
pub fn run(work: &Work<'_>) -> ! {
    match work {
        Work::Parse => service::serve(),
        Work::Network(job) => net::exchange(job),
        #[cfg(test)]
        Work::Test(work) => {
            // Written as it is, without a framed copy: a test thread's malloc arena grows by
            // mprotect, which the parse list rightly refuses.
            let out = work();
            let len = u32::try_from(out.len()).unwrap_or(u32::MAX).to_be_bytes();
            let _ = crate::sys::write_all(1, &len).and_then(|()| crate::sys::write_all(1, &out));
            crate::sys::exit_now(0)
        }
    }
}
