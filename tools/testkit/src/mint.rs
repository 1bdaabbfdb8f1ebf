//! escapes-mint: test-only OpenApe grant token minter. Never linked into escapes.
//!
//! Deliberately independent of the escapes crate (own base64url, own hex) so that a bug shared
//! by minter and verifier cannot make the tests pass. `tests/mint.py` is a second, Python
//! implementation that must produce byte-identical output.
//!
//! ```text
//! escapes-mint jwks --seed <64 hex> --kid <kid>
//! escapes-mint sign --seed <64 hex> --kid <kid> --claims '<json>' [--header '<json>']
//! escapes-mint cmd-hash <arg>...
//! ```
//! Claims and header are used byte-for-byte as given. Errors go to stderr with exit status 2.

use escapes_testkit::{run, USAGE};
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Arguments are bytes, not necessarily UTF-8: tests may hash or sign any argv.
    let args: Vec<Vec<u8>> = std::env::args_os().skip(1).map(OsStringExt::into_vec).collect();
    match run(&args) {
        Ok(mut out) => {
            out.push(b'\n');
            match std::io::stdout().write_all(&out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("escapes-mint: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Err(msg) => {
            eprintln!("escapes-mint: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
