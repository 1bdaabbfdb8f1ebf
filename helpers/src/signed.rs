//! signed: the program must have a known SHA-256. `SIGNED_SHA256=hex[,hex…]` lists the accepted
//! digests (several allow an upgrade window). The program is opened once and the digest is taken
//! from that open file, after checking that it and every directory above it are root's and not
//! group/world-writable, so no one else can change the bytes between the check and the exec.
//! op's `SIGNED_CMD_<cmd>` / `SIGNED_FILTER_<cmd>` (run an external checksum program) are not
//! supported: they are refused rather than ignored.

use crate::params::{ParamError, Params};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read};

pub const SHA256: &str = "SIGNED_SHA256";

/// Why `SIGNED_SHA256` is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestError {
    Empty,
    /// Entry (1-based) that is not 64 hex digits.
    BadDigest {
        entry: usize,
    },
}

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestError::Empty => write!(f, "{SHA256} lists no digest"),
            DigestError::BadDigest { entry } => {
                write!(f, "{SHA256}: entry {entry} is not 64 hex digits")
            }
        }
    }
}

/// Parses a comma-separated list of hex SHA-256 digests (either case, spaces around entries ok).
pub fn parse_digests(s: &[u8]) -> Result<Vec<[u8; 32]>, DigestError> {
    if s.trim_ascii().is_empty() {
        return Err(DigestError::Empty);
    }
    s.split(|&c| c == b',')
        .enumerate()
        .map(|(i, e)| {
            let e = e.trim_ascii();
            let bad = DigestError::BadDigest { entry: i + 1 };
            if e.len() != 64 {
                return Err(bad);
            }
            let mut out = [0u8; 32];
            for (o, pair) in out.iter_mut().zip(e.chunks(2)) {
                let hex = |c: u8| char::from(c).to_digit(16);
                match pair {
                    [h, l] => {
                        *o = u8::try_from(hex(*h).ok_or(bad.clone())? * 16 + hex(*l).ok_or(bad.clone())?)
                            .map_err(|_| bad.clone())?
                    }
                    _ => return Err(bad),
                }
            }
            Ok(out)
        })
        .collect()
}

/// Why signed's parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// op's `SIGNED_CMD_<cmd>` / `SIGNED_FILTER_<cmd>`: external checksum programs.
    Unsupported(String),
    Param(ParamError),
    Digest(DigestError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Unsupported(n) => {
                write!(f, "{n} is not supported: use {SHA256}=<hex digest>")
            }
            ConfigError::Param(e) => e.fmt(f),
            ConfigError::Digest(e) => e.fmt(f),
        }
    }
}

/// The accepted digests from the parameters.
pub fn expected(params: &Params) -> Result<Vec<[u8; 32]>, ConfigError> {
    for name in params.names() {
        if name.starts_with(b"SIGNED_CMD_") || name.starts_with(b"SIGNED_FILTER_") {
            return Err(ConfigError::Unsupported(String::from_utf8_lossy(name).into_owned()));
        }
    }
    params.only(&[SHA256, "SIGNED_WARN", "SIGNED_REVEAL"], &[]).map_err(ConfigError::Param)?;
    let value = params.get(SHA256).ok_or(ConfigError::Param(ParamError::Missing(SHA256)))?;
    parse_digests(value).map_err(ConfigError::Digest)
}

/// SHA-256 of everything read from `r` to EOF.
pub fn sha256_of(mut r: impl Read) -> io::Result<[u8; 32]> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(h.finalize().into())
}

pub fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------- the signed program

/// What `signed -h`, `-H` and `-V` say, and its standard suffixes.
pub const HELPER: crate::helper::Helper = crate::helper::Helper {
    name: "signed",
    about: "Allows the command only when the SHA-256 of its program file is listed in SIGNED_SHA256.\n\
            The file is opened once, without following a symbolic link anywhere on its path, and\n\
            hashed from that descriptor; it and its directories must be root's and not\n\
            group/world-writable, so nobody else can change the name or the bytes before the exec.",
    reads: &["SIGNED_SHA256", "SIGNED_WARN", "SIGNED_REVEAL"],
    grammar: &[
        ("SIGNED_SHA256", "hex[,hex]*  (64 hex digits each; any one may match)"),
        ("SIGNED_WARN", "text printed on stderr when refused"),
        ("SIGNED_REVEAL", "prefix: reply ~prefix after removing the SIGNED_ parameters"),
    ],
    warn_var: "SIGNED_WARN",
    reveal_var: "SIGNED_REVEAL",
};

/// The signed program: allow only when the program's SHA-256 is one the rule lists.
pub fn main() -> ! {
    use crate::helper::{self, Verdict};
    use crate::params::Params;
    use crate::signed;
    use crate::trusted;
    use opwire::sysexits::{EX_IOERR, EX_NOPERM};
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    helper::main(&HELPER, Params::prefixed("SIGNED_"), |s| {
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
            Ok(d) => {
                Verdict::refuse(EX_NOPERM, format!("{}: sha256 {} is not listed", program.display(), signed::hex(&d)))
            }
            Err(e) => Verdict::refuse(EX_IOERR, format!("{}: {e}", program.display())),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_a_stream() {
        assert_eq!(hex(&sha256_of(&b""[..]).unwrap()), EMPTY);
        assert_eq!(
            hex(&sha256_of(&b"abc"[..]).unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parses_digest_lists() {
        let d = parse_digests(EMPTY.to_uppercase().as_bytes()).unwrap();
        assert_eq!(hex(&d[0]), EMPTY);
        assert_eq!(parse_digests(format!("{EMPTY} , {EMPTY}").as_bytes()).unwrap().len(), 2);
        assert_eq!(parse_digests(b""), Err(DigestError::Empty));
        assert_eq!(parse_digests(format!("{EMPTY},").as_bytes()), Err(DigestError::BadDigest { entry: 2 }));
        assert_eq!(parse_digests(&EMPTY.as_bytes()[1..]), Err(DigestError::BadDigest { entry: 1 }));
        let bad = format!("{}g", &EMPTY[1..]);
        assert_eq!(parse_digests(bad.as_bytes()), Err(DigestError::BadDigest { entry: 1 }));
        assert_eq!(parse_digests("é".repeat(32).as_bytes()), Err(DigestError::BadDigest { entry: 1 }));
    }
}
