//! envauth: allow only when the environment satisfies every ENVAUTH_VAR_/ENVAUTH_NOT_ check.

use escapes_helpers::envauth;
use escapes_helpers::helper::{self, Helper, Verdict};
use escapes_helpers::params::Params;
use opwire::sysexits::EX_NOPERM;

const ENVAUTH: Helper = Helper {
    name: "envauth",
    about:
        "Allows the command only when every ENVAUTH_VAR_<name> matches and no ENVAUTH_NOT_<name>\n\
            matches, checked on the environment the command will get (minus envauth's parameters).",
    reads: &[
        "ENVAUTH_VAR_<name>",
        "ENVAUTH_NOT_<name>",
        "ENVAUTH_WARN",
        "ENVAUTH_REVEAL",
    ],
    grammar: &[
        (
            "ENVAUTH_VAR_<name>",
            "RE  (<name> must be set and match; unanchored, POSIX ERE subset)",
        ),
        (
            "ENVAUTH_NOT_<name>",
            "RE  (<name> must not match; unset passes)",
        ),
        ("ENVAUTH_WARN", "text printed on stderr when refused"),
        (
            "ENVAUTH_REVEAL",
            "prefix: reply ~prefix after removing the ENVAUTH_ parameters",
        ),
    ],
    warn_var: "ENVAUTH_WARN",
    reveal_var: "ENVAUTH_REVEAL",
};

fn main() {
    helper::main(&ENVAUTH, Params::prefixed("ENVAUTH_"), |s| {
        let checks = match envauth::checks(&s.params) {
            Ok(c) => c,
            Err(e) => return Verdict::config(e),
        };
        match envauth::first_failure(&checks, &s.env.command_env()) {
            None => Verdict::allow(),
            Some(_) => Verdict::deny(EX_NOPERM),
        }
    })
}
