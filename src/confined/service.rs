//! The root process's side of the parse service (`confined::child::service`): it hands over
//! bytes, and reads back values in the `wire` format. It never parses argv, a token, the
//! config, passwd, group, a key set or a CA bundle itself.
//!
//! A child that has parsed bytes someone else could shape might, through a parser bug, lie in
//! every answer after that one. So each child parses one kind of input only:
//! - **files only root writes** (the config, key sets, the JWKS cache, the CA bundle): one
//!   service for the run ([`Domain::RootFiles`]);
//! - **accounts** (/etc/passwd and /etc/group, root's files whose GECOS and shell fields users
//!   may write through chfn and chsh): a service of their own ([`Domain::Accounts`]);
//! - **the grant token** (the caller's bytes): a fresh child for the one token, which then ends
//!   ([`token`]); its report is bound to the bytes the parent holds.
//!
//! argv is parsed by the root process itself (`parse::cli`, a few dozen lines of byte
//! comparisons), so no child's answers ever depend on it.
//!
//! Each request is answered within [`TIMEOUT_MS`], or the child is killed and the run fails
//! closed; `stop` ends the services before the command runs.

use crate::confined::job::{Parse, Work, ANSWER_OK, ANSWER_REFUSED};
use crate::confined::spawn::{self, Child, Failure};
use crate::confined::wire::{self, Reader, Writer};
use crate::policy::account::User;
use crate::policy::base64url;
use crate::policy::config::{Config, Helper, SyslogMode, SyslogSettings};
use crate::policy::token::{Claims, Header, Key, Token, MAX_TOKEN_LEN};
use crate::time::Deadline;
use opwire::reply::edit::{is_name, Edit, Reply};
use std::fmt;
use std::sync::Mutex;

/// The service parses a 16 KiB token or a 64 KiB config in well under a millisecond; two
/// seconds is generous even under load (and a large /etc/passwd).
pub const TIMEOUT_MS: u64 = 2_000;

/// Largest answer: a config or a passwd entry is a few KiB; a token's report a few times the
/// token.
const MAX_ANSWER: usize = 8 * MAX_TOKEN_LEN + (1 << 20);

/// Why the service gave no usable answer. Every case fails closed (exit 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Child(Failure),
    /// The answer could not be read back.
    Report(wire::Error),
    /// The signing input the child names is not `header.claims` of the token the parent holds.
    SigningInput,
    /// The signature the child reports is not the token's third part.
    Signature,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Child(e) => f.write_str(&e.describe("confined parser", TIMEOUT_MS / 1000)),
            Error::Report(e) => write!(f, "the confined parser process sent a bad report: {e}"),
            Error::SigningInput => f.write_str(
                "the confined parser process sent a bad report: report names a signing input the token does not have",
            ),
            Error::Signature => f.write_str(
                "the confined parser process sent a bad report: report carries a signature the token does not have",
            ),
        }
    }
}

impl From<wire::Error> for Error {
    fn from(e: wire::Error) -> Error {
        Error::Report(e)
    }
}

/// A parser's value, or its refusal in words.
pub type Parsed<T> = Result<T, String>;

/// A user and the gids of all its groups.
pub type UserAndGroups = (User, Vec<u32>);

/// Which inputs a service child parses (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    RootFiles = 0,
    Accounts = 1,
}

static SERVICES: [Mutex<Option<Child>>; 2] = [Mutex::new(None), Mutex::new(None)];

fn service(domain: Domain) -> &'static Mutex<Option<Child>> {
    let [root_files, accounts] = &SERVICES;
    match domain {
        Domain::RootFiles => root_files,
        Domain::Accounts => accounts,
    }
}

/// One request to the service of `domain`, one answer: the value's bytes, or the refusal text.
fn ask(domain: Domain, kind: Parse, payload: &[u8]) -> Result<Result<Vec<u8>, String>, Error> {
    let mut guard = service(domain).lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        *guard = Some(spawn::spawn(Work::Parse).map_err(Error::Child)?);
    }
    let Some(child) = guard.as_ref() else {
        return Err(Error::Child(Failure::Died { signal: None, status: None }));
    };
    match request(child, kind, payload) {
        Ok(answer) => Ok(answer),
        Err(Error::Child(why)) => {
            let failed = guard.take().map_or(why.clone(), |c| c.fail(why));
            Err(Error::Child(failed))
        }
        Err(e) => Err(e),
    }
}

fn request(child: &Child, kind: Parse, payload: &[u8]) -> Result<Result<Vec<u8>, String>, Error> {
    let deadline = Deadline::after_ms(TIMEOUT_MS);
    let mut request = Writer::new();
    request.u8(kind as u8).bytes(payload);
    child.send(&request.into_bytes(), &deadline).map_err(Error::Child)?;
    let answer = child.answer(&deadline, MAX_ANSWER).map_err(Error::Child)?;
    Ok(decode_answer(&answer)?.map(<[u8]>::to_vec))
}

/// An answer's status: the value's bytes, or the parser's refusal in words.
pub fn decode_answer(answer: &[u8]) -> Result<Result<&[u8], String>, wire::Error> {
    match answer.split_first() {
        Some((&ANSWER_OK, value)) => Ok(Ok(value)),
        Some((&ANSWER_REFUSED, why)) => read(why, Reader::str).map(Err),
        _ => Err(wire::Error::BadTag),
    }
}

/// Ends the service (it has nothing left to finish), so nothing of escapes but the command's
/// own processes remains while the command runs.
pub fn stop() {
    for service in &SERVICES {
        if let Some(child) = service.lock().unwrap_or_else(|e| e.into_inner()).take() {
            child.kill();
        }
    }
}

/// Reads a value with `get` and requires that nothing follows it.
fn read<'a, T>(bytes: &'a [u8], get: impl FnOnce(&mut Reader<'a>) -> Result<T, wire::Error>) -> Result<T, wire::Error> {
    let mut r = Reader::new(bytes);
    let v = get(&mut r)?;
    r.finish()?;
    Ok(v)
}

fn parsed<T>(
    domain: Domain,
    kind: Parse,
    payload: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<T, wire::Error>,
) -> Result<Parsed<T>, Error> {
    match ask(domain, kind, payload)? {
        Ok(value) => Ok(Ok(decode(&value)?)),
        Err(why) => Ok(Err(why)),
    }
}

/// `parse::config::parse` of the config file's bytes.
pub fn config(bytes: &[u8]) -> Result<Parsed<Config>, Error> {
    parsed(Domain::RootFiles, Parse::Config, bytes, decode_config)
}

pub fn decode_config(value: &[u8]) -> Result<Config, wire::Error> {
    read(value, |r| {
        Ok(Config {
            host: r.opt_str()?,
            run_as: r.opt_str()?,
            audit_log: r.str()?,
            allowed_issuers: r.strs()?,
            allowed_approvers: r.strs()?,
            allowed_audiences: r.strs()?,
            offline: r.bool()?,
            ca_bundle: r.opt_str()?,
            keys: r.list(8, |r| Ok((r.str()?, r.str()?)))?,
            helmets: r.list(14, helper)?,
            jackets: r.list(14, helper)?,
            syslog: SyslogSettings {
                mode: SyslogMode::from_index(r.i64()?).ok_or(wire::Error::BadTag)?,
                required: r.bool()?,
            },
        })
    })
}

fn helper(r: &mut Reader<'_>) -> Result<Helper, wire::Error> {
    Ok(Helper {
        path: r.str()?,
        programs: r.opt(Reader::strs)?,
        params: r.list(8, |r| Ok((r.str()?, r.str()?)))?,
        copies: r.strs()?,
        env: r.strs()?,
        timeout_secs: u64::try_from(r.i64()?).map_err(|_| wire::Error::BadTag)?,
    })
}

/// `jwt::parse` of the grant token, bound to the bytes the parent holds: the signing input is
/// a prefix of `token` (`header.claims`, one '.' inside), and the rest of `token` is the
/// reported signature in the one spelling the parser accepts. So every byte the parent holds
/// is what the issuer signed or wrote, and the parent checks the signature over its own copy.
pub fn token(token: &[u8]) -> Result<Parsed<Token<'_>>, Error> {
    match once(Parse::Token, token)? {
        Ok(value) => decode_token(&value, token).map(Ok),
        Err(why) => Ok(Err(why)),
    }
}

/// One question to a child of its own, which must then exit: for bytes that may be hostile
/// (the caller's token, a helper's reply, which can carry what the caller gave the helper), so
/// that a child they took over is never asked anything again.
fn once(kind: Parse, payload: &[u8]) -> Result<Result<Vec<u8>, String>, Error> {
    let child = spawn::spawn(Work::Parse).map_err(Error::Child)?;
    let answered = request(&child, kind, payload);
    let deadline = Deadline::after_ms(TIMEOUT_MS);
    match answered {
        Ok(a) => child.finish(&deadline).map(|()| a).map_err(Error::Child),
        Err(Error::Child(why)) => Err(Error::Child(child.fail(why))),
        Err(e) => {
            child.kill();
            Err(e)
        }
    }
}

/// `opwire::reply::parse` of a helper's reply, in a child of its own; a protocol error comes
/// back in words.
pub fn reply(bytes: &[u8]) -> Result<Parsed<Reply>, Error> {
    match once(Parse::Reply, bytes)? {
        Ok(value) => Ok(Ok(read(&value, decode_reply)?)),
        Err(why) => Ok(Err(why)),
    }
}

pub fn decode_reply(r: &mut Reader<'_>) -> Result<Reply, wire::Error> {
    let (code, explicit) = (r.u8()?, r.bool()?);
    let edits = r.list(5, |r| {
        Ok(match r.u8()? {
            b'$' => Edit::Set { name: r.bytes()?.to_vec(), value: r.bytes()?.to_vec() },
            b'c' => Edit::Copy { name: r.bytes()?.to_vec() },
            b'-' => Edit::Remove { name: r.bytes()?.to_vec() },
            b'~' => Edit::Reveal { prefix: r.bytes()?.to_vec() },
            _ => return Err(wire::Error::BadTag),
        })
    })?;
    // The child's word is not taken for the language's rules the root process relies on.
    let named = |n: &[u8]| is_name(n);
    let sound = edits.iter().all(|e| match e {
        Edit::Set { name, value } => named(name) && !value.contains(&0),
        Edit::Copy { name } | Edit::Remove { name } | Edit::Reveal { prefix: name } => named(name),
    });
    if !sound {
        return Err(wire::Error::BadTag);
    }
    Ok(Reply { edits, code, explicit })
}

/// Reads a token report back against `token`, the bytes the parent holds (see [`token`]).
pub fn decode_token<'t>(value: &[u8], token: &'t [u8]) -> Result<Token<'t>, Error> {
    let mut r = Reader::new(value);
    let len = r.len()?;
    let signing_input = token
        .get(..len)
        .filter(|s| token.get(len) == Some(&b'.') && s.iter().filter(|&&b| b == b'.').count() == 1)
        .ok_or(Error::SigningInput)?;
    let signature: [u8; 64] = r.take(64)?.try_into().map_err(|_| wire::Error::Truncated)?;
    if token.get(len + 1..) != Some(base64url::encode(&signature).as_bytes()) {
        return Err(Error::Signature);
    }
    let header = Header { alg: r.str()?, kid: r.opt_str()?, typ: r.opt_str()? };
    let claims = Claims {
        iss: r.opt_str()?,
        sub: r.opt_str()?,
        aud: r.strs()?,
        target_host: r.opt_str()?,
        iat: r.opt(Reader::i64)?,
        exp: r.opt(Reader::i64)?,
        nbf: r.opt(Reader::i64)?,
        jti: r.opt_str()?,
        grant_id: r.opt_str()?,
        grant_type: r.opt_str()?,
        decided_by: r.opt_str()?,
        command: r.opt(Reader::strs)?,
        cmd_hash: r.opt_str()?,
        run_as: r.opt_str()?,
    };
    r.finish()?;
    Ok(Token { header, claims, signing_input, signature })
}

fn user(r: &mut Reader<'_>) -> Result<User, wire::Error> {
    Ok(User {
        name: r.bytes()?.to_vec(),
        uid: r.u32()?,
        gid: r.u32()?,
        home: r.bytes()?.to_vec(),
        shell: r.bytes()?.to_vec(),
    })
}

/// The user `name` in /etc/passwd (`passwd`), with its groups from /etc/group (`groups`; just
/// its primary group without one). None when there is no such user.
pub fn user_by_name(passwd: &[u8], groups: Option<&[u8]>, name: &[u8]) -> Result<Parsed<Option<UserAndGroups>>, Error> {
    let mut w = Writer::new();
    w.bytes(passwd).opt(groups, |w, g| {
        w.bytes(g);
    });
    w.bytes(name);
    parsed(Domain::Accounts, Parse::UserByName, &w.into_bytes(), decode_user_and_groups)
}

pub fn decode_user_and_groups(value: &[u8]) -> Result<Option<(User, Vec<u32>)>, wire::Error> {
    read(value, |r| r.opt(|r| Ok((user(r)?, r.list(4, Reader::u32)?))))
}

/// The user with `uid` in /etc/passwd, if there is one.
pub fn user_by_uid(passwd: &[u8], uid: u32) -> Result<Parsed<Option<User>>, Error> {
    let mut w = Writer::new();
    w.bytes(passwd).u32(uid);
    parsed(Domain::Accounts, Parse::UserByUid, &w.into_bytes(), decode_user)
}

pub fn decode_user(value: &[u8]) -> Result<Option<User>, wire::Error> {
    read(value, |r| r.opt(user))
}

/// A list of (kid, 32-byte key), the one way keys travel (also in the network child's report).
pub fn keys(r: &mut Reader<'_>) -> Result<Vec<Key>, wire::Error> {
    r.list(36, |r| {
        let kid = r.str()?;
        let x: [u8; 32] = r.take(32)?.try_into().map_err(|_| wire::Error::Truncated)?;
        Ok(Key { kid, x })
    })
}

pub fn decode_keys(value: &[u8]) -> Result<Vec<Key>, wire::Error> {
    read(value, keys)
}

/// The usable Ed25519 keys of a key set (a pinned JWKS file).
pub fn jwks(bytes: &[u8]) -> Result<Parsed<Vec<Key>>, Error> {
    parsed(Domain::RootFiles, Parse::Jwks, bytes, decode_keys)
}

/// The keys of a JWKS cache file for `issuer`, if it is fresh at `now`.
pub fn jwks_cache(file: &[u8], issuer: &str, now: i64) -> Result<Parsed<Vec<Key>>, Error> {
    let mut w = Writer::new();
    w.bytes(file).str(issuer).i64(now);
    parsed(Domain::RootFiles, Parse::JwksCache, &w.into_bytes(), decode_keys)
}

/// `config_edit::edit` of the config's bytes (`escapes trust`): the new config's bytes, or the
/// editor's refusal in words.
pub fn config_edit(old: &[u8], t: &crate::policy::config::TrustEdit<'_>) -> Result<Parsed<Vec<u8>>, Error> {
    let mut w = Writer::new();
    w.bytes(old).str(t.issuer).strs(t.approvers).opt_str(t.ca_bundle).opt_str(t.pinned).bool(t.replace);
    parsed(Domain::RootFiles, Parse::ConfigEdit, &w.into_bytes(), |v| read(v, |r| r.bytes().map(<[u8]>::to_vec)))
}

/// How many certificates a PEM CA bundle holds (every block must be one).
pub fn certificates(bundle: &[u8]) -> Result<Parsed<usize>, Error> {
    parsed(Domain::RootFiles, Parse::Certificates, bundle, |v| read(v, Reader::len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::jwt;

    #[test]
    fn a_token_parsed_in_the_child_is_the_token_parsed_here() {
        let h = base64url::encode(br#"{"alg":"EdDSA","kid":"k"}"#);
        let c = base64url::encode(br#"{"iss":"https://id.example","command":["/bin/true"],"exp":5}"#);
        let t = format!("{h}.{c}.{}", base64url::encode(&[1u8; 64]));
        assert_eq!(token(t.as_bytes()).unwrap(), Ok(jwt::parse(t.as_bytes()).unwrap()));
    }

    #[test]
    fn a_malformed_token_comes_back_as_the_parsers_words() {
        for bad in [&b"a.b"[..], b"", b"!!.!!.!!", &[b'a'; MAX_TOKEN_LEN + 1]] {
            let want = jwt::parse(bad).err().unwrap().to_string();
            assert_eq!(token(bad).unwrap(), Err(want));
        }
    }

    #[test]
    fn a_report_is_bound_to_the_token_the_parent_holds() {
        let h = base64url::encode(br#"{"alg":"EdDSA","kid":"k"}"#);
        let c = base64url::encode(br#"{"iss":"https://a"}"#);
        let t = format!("{h}.{c}.{}", base64url::encode(&[1u8; 64]));
        let report = crate::confined::child::service::encode_token_for_test(&jwt::parse(t.as_bytes()).unwrap());
        // Another token of the same shape: the report's signature is not its third part.
        let other = format!("{h}.{c}.{}", base64url::encode(&[2u8; 64]));
        assert_eq!(decode_token(&report, other.as_bytes()), Err(Error::Signature));
        // A signing input that is not `header.claims` of what the parent holds.
        let shorter = format!("{h}x.{c}.{}", base64url::encode(&[1u8; 64]));
        assert_eq!(decode_token(&report, shorter.as_bytes()), Err(Error::SigningInput));
        assert!(decode_token(&report, t.as_bytes()).is_ok());
    }

    #[test]
    fn config_and_users_round_trip_through_the_services() {
        let cfg = config(b"[security]\nallowed_issuers = [\"https://id.example\"]\nallowed_approvers = [\"a\"]\n[[helmet]]\npath = \"/h\"\nparams = [\"A=b\"]\n").unwrap().unwrap();
        assert_eq!(cfg, crate::parse::config::parse(b"[security]\nallowed_issuers = [\"https://id.example\"]\nallowed_approvers = [\"a\"]\n[[helmet]]\npath = \"/h\"\nparams = [\"A=b\"]\n").unwrap());
        assert!(config(b"[nope]").unwrap().is_err());
        let db = b"root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        let groups = b"wheel:x:10:alice\n";
        let (u, gids) = user_by_name(db, Some(groups), b"alice").unwrap().unwrap().unwrap();
        assert_eq!((u.uid, gids), (1000, vec![1000, 10]));
        assert_eq!(user_by_uid(db, 0).unwrap().unwrap().map(|u| u.name), Some(b"root".to_vec()));
        assert_eq!(user_by_name(db, None, b"bob").unwrap(), Ok(None));
    }

    #[test]
    fn a_reply_report_round_trips_and_a_lying_child_is_not_believed() {
        let reply = opwire::reply::parse::parse(b"$DISPLAY=:0\n$TERM\n-PATH\n~HIDE_\n3\n").unwrap();
        let report = crate::confined::child::service::encode_reply_for_test(&reply);
        assert_eq!(read(&report, decode_reply), Ok(reply));
        // What the parser never yields, a child taken over might: names outside the language,
        // a NUL in a value, an unknown edit, trailing bytes.
        for edit in [
            Edit::Set { name: b"LD PRELOAD".to_vec(), value: b"x".to_vec() },
            Edit::Set { name: b"A".to_vec(), value: b"a\0b".to_vec() },
            Edit::Remove { name: b"".to_vec() },
            Edit::Reveal { prefix: b"1X".to_vec() },
        ] {
            let lie = Reply { edits: vec![edit], code: 0, explicit: true };
            let report = crate::confined::child::service::encode_reply_for_test(&lie);
            assert!(read(&report, decode_reply).is_err(), "{lie:?}");
        }
        let mut report = crate::confined::child::service::encode_reply_for_test(&Reply::default());
        report.push(0);
        assert!(read(&report, decode_reply).is_err());
        assert!(read(&[0, 1, 0, 0, 0, 1, b'?'], decode_reply).is_err());
    }
}
