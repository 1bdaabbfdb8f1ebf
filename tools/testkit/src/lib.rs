//! Test-only OpenApe grant token minter (library behind `escapes-mint`). Never linked into escapes.
//!
//! Deliberately independent of the escapes crate (own base64url, own hex) so that a bug shared
//! by minter and verifier cannot make the tests pass. `tests/mint.py` is a second, Python
//! implementation that must produce byte-identical output.

use sha2::{Digest, Sha256};

pub const USAGE: &str = "usage:
  escapes-mint jwks --seed <64 hex> --kid <kid>
  escapes-mint sign --seed <64 hex> --kid <kid> --claims <json> [--header <json>]
  escapes-mint cmd-hash <arg>...";

/// Runs one minter sub-command (arguments without the program name); returns its output.
pub fn run(args: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let (command, rest) = args.split_first().ok_or("missing sub-command")?;
    match command.as_slice() {
        b"jwks" => {
            let opts = Options::parse(rest, &["--seed", "--kid"])?;
            let keypair = keypair(opts.required("--seed")?)?;
            let kid = opts.required("--kid")?;
            let mut out = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":""#.to_vec();
            out.extend_from_slice(b64url(keypair.public.as_bytes()).as_bytes());
            out.extend_from_slice(br#"","kid":""#);
            out.extend_from_slice(&json_escape(kid));
            out.extend_from_slice(br#"","alg":"EdDSA","use":"sig"}]}"#);
            Ok(out)
        }
        b"sign" => {
            let opts = Options::parse(rest, &["--seed", "--kid", "--claims", "--header"])?;
            let keypair = keypair(opts.required("--seed")?)?;
            let kid = opts.required("--kid")?;
            let claims = opts.required("--claims")?;
            let header = match opts.get("--header") {
                Some(h) => h.to_vec(),
                None => [&br#"{"alg":"EdDSA","typ":"JWT","kid":""#[..], &json_escape(kid), br#""}"#].concat(),
            };
            let signing_input = format!("{}.{}", b64url(&header), b64url(claims));
            let signature = keypair.sign(signing_input.as_bytes()).to_bytes();
            Ok(format!("{signing_input}.{}", b64url(&signature)).into_bytes())
        }
        b"cmd-hash" => {
            if rest.is_empty() {
                return Err("cmd-hash needs at least one argument".into());
            }
            Ok(hex(&Sha256::digest(rest.join(&b' '))).into_bytes())
        }
        other => Err(format!("unknown sub-command {:?}", String::from_utf8_lossy(other))),
    }
}

/// `--name value` pairs, each allowed name at most once.
struct Options<'a> {
    pairs: Vec<(&'static str, &'a [u8])>,
}

impl<'a> Options<'a> {
    fn parse(args: &'a [Vec<u8>], allowed: &[&'static str]) -> Result<Self, String> {
        let mut pairs: Vec<(&'static str, &[u8])> = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let name = *allowed
                .iter()
                .find(|a| a.as_bytes() == arg.as_slice())
                .ok_or_else(|| format!("unexpected argument {:?}", String::from_utf8_lossy(arg)))?;
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(format!("{name} given twice"));
            }
            let value = it.next().ok_or_else(|| format!("{name} needs a value"))?;
            pairs.push((name, value));
        }
        Ok(Options { pairs })
    }

    fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn required(&self, name: &str) -> Result<&'a [u8], String> {
        self.get(name).ok_or_else(|| format!("missing {name}"))
    }
}

fn keypair(seed_hex: &[u8]) -> Result<salty::Keypair, String> {
    let bytes = unhex(seed_hex).ok_or("--seed must be 64 hex digits")?;
    let seed: [u8; 32] = bytes.try_into().map_err(|_| "--seed must be 64 hex digits")?;
    Ok(salty::Keypair::from(&seed))
}

/// RFC 4648 §5 base64url without padding.
fn b64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [n >> 18, n >> 12, n >> 6, n];
        for s in &sextets[..chunk.len() + 1] {
            out.push(char::from(ALPHABET[(s & 63) as usize]));
        }
    }
    out
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|pair| {
            let digit = |c: u8| char::from(c).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

/// Minimal JSON string escaping for the kid: `"`, `\` and control bytes; other bytes pass
/// through unchanged (tests wanting anything odder pass `--header`).
fn json_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(br#"\""#),
            b'\\' => out.extend_from_slice(br"\\"),
            b if b < 0x20 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            b => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64url_matches_rfc4648_vectors_without_padding() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(b64url(input.as_bytes()), want);
        }
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn cmd_hash_of_whoami_matches_openape() {
        let args = vec![b"cmd-hash".to_vec(), b"whoami".to_vec()];
        assert_eq!(run(&args).unwrap(), b"f25297859cf0a70af5c053a5464a5fa647a35ceee1d91397331903846d79ffc1");
        let args = vec![b"cmd-hash".to_vec(), b"rm".to_vec(), b"-rf".to_vec(), b"/tmp/test".to_vec()];
        assert_eq!(run(&args).unwrap(), b"2fc3ad14f3d4d200227b09becf4024e5f6c410fa277e011ed3025b05021fea50");
    }

    #[test]
    fn rfc8032_test_1_public_key() {
        let kp = keypair(b"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap();
        assert_eq!(hex(kp.public.as_bytes()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        assert_eq!(
            hex(&kp.sign(b"").to_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }
}
