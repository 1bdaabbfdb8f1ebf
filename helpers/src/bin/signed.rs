//! signed: allow only when the program's SHA-256 is one the rule lists.

use escapes_helpers::helper::{self, Helper, Verdict};
use escapes_helpers::params::Params;
use escapes_helpers::signed;
use opwire::sysexits::{EX_IOERR, EX_NOPERM};
use escapes_helpers::trusted;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const SIGNED: Helper = Helper {
    name: "signed",
    about:
        "Allows the command only when the SHA-256 of its program file is listed in SIGNED_SHA256.\n\
            The file is opened once, without following a symbolic link anywhere on its path, and\n\
            hashed from that descriptor; it and its directories must be root's and not\n\
            group/world-writable, so nobody else can change the name or the bytes before the exec.",
    reads: &["SIGNED_SHA256", "SIGNED_WARN", "SIGNED_REVEAL"],
    grammar: &[
        (
            "SIGNED_SHA256",
            "hex[,hex]*  (64 hex digits each; any one may match)",
        ),
        ("SIGNED_WARN", "text printed on stderr when refused"),
        (
            "SIGNED_REVEAL",
            "prefix: reply ~prefix after removing the SIGNED_ parameters",
        ),
    ],
    warn_var: "SIGNED_WARN",
    reveal_var: "SIGNED_REVEAL",
};

fn main() {
    helper::main(&SIGNED, Params::prefixed("SIGNED_"), |s| {
        let expected = match signed::expected(&s.params) {
            Ok(e) => e,
            Err(e) => return Verdict::config(e),
        };
        let program = Path::new(OsStr::from_bytes(&s.invocation.program));
        let file = match trusted::open(program) {
            Ok(f) => f,
            // A program whose name or bytes someone else could change is a denial; one that is
            // not there is EX_NOINPUT.
            Err(e) if trusted::is_untrusted(&e) => return Verdict::refuse(EX_NOPERM, trusted::describe(program, &e)),
            Err(e) => return Verdict::refuse(trusted::exit_code(&e), trusted::describe(program, &e)),
        };
        match signed::sha256_of(&file) {
            Ok(d) if expected.contains(&d) => Verdict::allow(),
            Ok(d) => Verdict::refuse(
                EX_NOPERM,
                format!(
                    "{}: sha256 {} is not listed",
                    program.display(),
                    signed::hex(&d)
                ),
            ),
            Err(e) => Verdict::refuse(EX_IOERR, format!("{}: {e}", program.display())),
        }
    })
}
