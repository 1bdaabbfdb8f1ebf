//! The reply language a helmet or jacket writes on its stdout (op(1l),
//! `op-jacket-protocol.md` §2), spoken by the helpers and read by escapes and by coat.
//!
//! One command per `\n`-terminated line (the last newline optional):
//! * leading blanks (space, tab, form feed, CR) are skipped and one trailing `\r` is dropped;
//!   blank lines are ignored;
//! * `#text`: a comment;
//! * `$NAME=value`: set NAME (the value is everything after `=`, blanks included; no NUL);
//! * `$NAME`: copy NAME from the caller's original environment;
//! * `-NAME`: remove NAME (an `=` and what follows it are ignored, as op does);
//! * `~PREFIX`: rename every `PREFIXname` entry to `name` (newer op's "reveal");
//! * `N`: a decimal exit code 0–255, no sign, no leading zero; the last one wins;
//! * `&…`: newer op's redirections; escapes refuses them, coat relays `&` + digit unread;
//! * `"…"`: any of the above, double-quoted, with the escapes `\d` (`"`), `\o` (backquote),
//!   `\q` (`'`), `\\`, `\n`, `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\e`; the closing quote ends the
//!   line, and a newline may stand only inside a `$NAME=value` value.
//!
//! Trailing blanks after `$NAME`, `-NAME`, `~PREFIX` and codes are ignored; names and prefixes
//! are `[A-Za-z_][A-Za-z0-9_]*` ([`edit::is_name`]). Anything else is a protocol error, and it
//! is **sticky**: the whole reply is refused (op would let a later `0` line undo it, flaw F5).
//! So is a reply over [`edit::MAX_REPLY`] bytes.
//!
//! [`edit`] holds the values a reply means (escapes' root process needs only these and the
//! parser), [`parse`] reads replies, [`relay`] reads them to pass them on (coat), [`write`] writes
//! them (the helpers).

pub mod edit;
pub mod parse;
pub mod relay;
pub mod write;

pub use edit::{is_name, Edit, Reply, MAX_REPLY};

#[cfg(test)]
mod tests;
