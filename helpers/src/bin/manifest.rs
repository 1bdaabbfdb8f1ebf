//! manifest: allow only programs a list names; `N=RE` lines force exit N.

use escapes_helpers::helper::{self, Helper, Verdict};
use escapes_helpers::manifest::{self, Decision};
use escapes_helpers::params::Params;
use opwire::sysexits::EX_NOPERM;
use escapes_helpers::trusted;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const MANIFEST: Helper = Helper {
    name: "manifest",
    about: "Allows the command only when its program path matches a line of a MANIFEST_LIST<spec> file;\n\
            the first matching line decides (RE allows, N=RE exits N); no match exits 77. The path must\n\
            name a file through root-only directories and no symbolic link (else 77; missing: 66).",
    reads: &["MANIFEST_LIST<spec>", "MANIFEST_WARN<spec>", "MANIFEST_WARN", "MANIFEST_REVEAL"],
    grammar: &[
        ("MANIFEST_LIST<spec>", "/absolute/file of lines: RE | N=RE | #comment | blank (files in name order)"),
        ("MANIFEST_WARN<spec>", "text printed when the list MANIFEST_LIST<spec> refuses"),
        ("MANIFEST_WARN", "text printed on stderr when refused"),
        ("MANIFEST_REVEAL", "prefix: reply ~prefix after removing the MANIFEST_ parameters"),
    ],
    warn_var: "MANIFEST_WARN",
    reveal_var: "MANIFEST_REVEAL",
};

fn main() {
    helper::main(&MANIFEST, Params::prefixed("MANIFEST_"), |s| {
        let lists = match manifest::load(&s.params) {
            Ok(l) => l,
            Err(e) => return Verdict::refuse(e.exit_code(), e.to_string()),
        };
        // The name is what is judged, so it must be one nobody but root can make mean another
        // file: a plain absolute path, no symbolic link on it, root-only directories.
        let program = Path::new(OsStr::from_bytes(&s.invocation.program));
        match trusted::inspect(program) {
            Ok(()) => {}
            Err(e) if trusted::is_untrusted(&e) => return Verdict::refuse(EX_NOPERM, trusted::describe(program, &e)),
            Err(e) => return Verdict::refuse(trusted::exit_code(&e), trusted::describe(program, &e)),
        }
        match manifest::decide(&lists, &s.invocation.program) {
            Decision::Matched { code: 0, .. } => Verdict::allow(),
            Decision::Matched { list, code, .. } => {
                let spec = lists.get(list).map(|l| l.spec.clone()).unwrap_or_default();
                let var = [manifest::WARN.as_bytes(), &spec].concat();
                let warn = s
                    .params
                    .iter()
                    .find(|(k, _)| *k == var.as_slice())
                    .map(|(_, v)| v.to_vec());
                Verdict::Deny {
                    code,
                    warn,
                    reason: None,
                }
            }
            Decision::NoMatch => Verdict::deny(EX_NOPERM),
        }
    })
}
