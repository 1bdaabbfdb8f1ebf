//! The root process's side of one HTTPS exchange: it hands the network child a job, and reads
//! back a small verdict (`confined::child::net` writes it). It never sees a byte of DNS, TLS,
//! HTTP or the IdP's JSON.

use crate::confined::job::{NetJob, Work};
use crate::confined::service;
use crate::confined::spawn::{self, Failure};
use crate::confined::wire::{self, Reader};
use crate::policy::token::Key;
use crate::time::Deadline;
use opwire::sysexits::Exit;

/// The child's own limit for the whole exchange, DNS included (`child::stream`).
const TOTAL_TIMEOUT_MS: u64 = 10_000;
/// The parent waits this much longer than the child's own deadline before killing it.
const GRACE_MS: u64 = 1_000;
/// Largest report: the key set's body (64 KiB at most) and its keys, or a message.
const MAX_REPORT: usize = 256 * 1024;

/// The stable codes a refusal may carry; anything else the child names is `idp_error`.
const CODES: [&str; 9] = [
    "consumed",
    "revoked",
    "denied",
    "grant_expired",
    "not_approved",
    "idp_refused",
    "ca_bundle",
    "idp_unreachable",
    "idp_error",
];

/// What the IdP said, once the child judged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The issuer's usable Ed25519 keys, and the body they came from (for the cache).
    Keys { keys: Vec<Key>, raw: Vec<u8> },
    /// `consumed` (once) or `valid` (timed, always).
    Consumed(String),
    /// The discovery document's `issuer`, and its `jwks_uri` if it has one.
    Discovery { issuer: String, jwks_uri: Option<String> },
}

/// Why the exchange does not let the grant run: `Refused` when the IdP refused it, `Error`
/// otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub exit: Exit,
    pub code: &'static str,
    pub message: String,
}

/// Runs `job` in the network child and reads its verdict.
pub fn ask(job: &NetJob) -> Result<Answer, Refusal> {
    let unreachable = |f: Failure| Refusal {
        exit: Exit::Error,
        code: if matches!(f, Failure::Spawn(_)) { "idp_error" } else { "idp_unreachable" },
        message: format!("IdP {} unreachable: {}", job.issuer, f.describe("network helper", TOTAL_TIMEOUT_MS / 1000)),
    };
    let deadline = Deadline::after_ms(TOTAL_TIMEOUT_MS + GRACE_MS);
    let child = spawn::spawn(Work::Network(job)).map_err(unreachable)?;
    let report = match child.answer(&deadline, MAX_REPORT) {
        Ok(r) => r,
        Err(why) => return Err(unreachable(child.fail(why))),
    };
    child.finish(&deadline).map_err(unreachable)?;
    decode(&report).map_err(|e| Refusal {
        exit: Exit::Error,
        code: "idp_error",
        message: format!("IdP {}: the network helper process sent a bad report: {e}", job.issuer),
    })?
}

/// The network child's report (see `confined::child::net`).
pub fn decode(report: &[u8]) -> Result<Result<Answer, Refusal>, wire::Error> {
    let mut r = Reader::new(report);
    let answer = match r.u8()? {
        b'K' => {
            let keys = service::keys(&mut r)?;
            Ok(Answer::Keys { keys, raw: r.bytes()?.to_vec() })
        }
        b'C' => Ok(Answer::Consumed(r.str()?)),
        b'D' => Ok(Answer::Discovery { issuer: r.str()?, jwks_uri: r.opt_str()? }),
        b'E' => {
            let exit = if r.u8()? == 5 { Exit::Refused } else { Exit::Error };
            let named = r.str()?;
            let code = CODES.iter().copied().find(|c| *c == named).unwrap_or("idp_error");
            Err(Refusal { exit, code, message: r.str()? })
        }
        _ => return Err(wire::Error::BadTag),
    };
    r.finish()?;
    Ok(answer)
}
