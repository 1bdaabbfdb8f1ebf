//! A real (test-only) OpenApe IdP: HTTPS on loopback with a private CA made at start, JWKS,
//! grants with the wire doc's lifecycle and `/consume` shapes, switchable fault modes and a
//! request log. Never linked into escapes.
//!
//! ```no_run
//! use escapes_testidp::{Idp, GrantSpec, GrantType, Fault};
//! let idp = Idp::start();                       // https://127.0.0.1:<free port>
//! idp.write_ca_pem("/run/x/ca.pem").unwrap();   // for `[tls] ca_bundle`
//! let g = idp.issue(GrantSpec::new(GrantType::Once, &["whoami"]));  // created + approved
//! // run escapes with g.token …
//! assert_eq!(idp.count("POST", &format!("/api/grants/{}/consume", g.id)), 1);
//! idp.set_fault(Fault::Truncated);
//! ```
//!
//! Issuer (`iss`) is `https://127.0.0.1:PORT` by default (`Options::issuer_host = "localhost"`
//! gives `https://localhost:PORT`); the certificate is valid for both and for `::1`.

mod certs;
pub mod client;
mod jwt;
mod server;

pub use certs::{SERVER_NAMES, WRONG_NAME};
pub use jwt::cmd_hash;
pub use server::{fault_from_json, faults_from_json, spec_from_json};

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Defaults match tests/support/mod.rs of escapes.
pub const DEFAULT_REQUESTER: &str = "agent+deploy@test.example";
pub const DEFAULT_APPROVER: &str = "admin@test.example";
pub const DEFAULT_TARGET_HOST: &str = "testhost";
pub const DEFAULT_AUDIENCE: &str = "escapes";
pub const GRANT_NOT_FOUND: &str = "https://openape.org/errors/grant_not_found";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    Once,
    Timed,
    Always,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::Once => "once",
            GrantType::Timed => "timed",
            GrantType::Always => "always",
        }
    }
    pub fn parse(s: &str) -> Option<GrantType> {
        Some(match s {
            "once" => GrantType::Once,
            "timed" => GrantType::Timed,
            "always" => GrantType::Always,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantStatus {
    Pending,
    Approved,
    Denied,
    Revoked,
    Expired,
    Used,
}

impl GrantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Pending => "pending",
            GrantStatus::Approved => "approved",
            GrantStatus::Denied => "denied",
            GrantStatus::Revoked => "revoked",
            GrantStatus::Expired => "expired",
            GrantStatus::Used => "used",
        }
    }
}

/// What a grant asks for, and the claims its tokens carry.
#[derive(Clone, Debug)]
pub struct GrantSpec {
    pub grant_type: GrantType,
    pub command: Vec<String>,
    /// `sub`
    pub requester: String,
    pub target_host: String,
    /// `aud`
    pub audience: String,
    pub run_as: Option<String>,
    pub reason: String,
    /// `timed` only: seconds from approval to expiry (default 3600).
    pub duration: Option<i64>,
    /// `decided_by` used when the grant is approved/denied without naming an approver.
    pub decided_by: String,
    /// Merged over the generated claims of every token of this grant; `null` removes a claim.
    pub extra_claims: Map<String, Value>,
}

impl GrantSpec {
    pub fn new(grant_type: GrantType, command: &[&str]) -> GrantSpec {
        GrantSpec {
            grant_type,
            command: command.iter().map(|s| s.to_string()).collect(),
            requester: DEFAULT_REQUESTER.into(),
            target_host: DEFAULT_TARGET_HOST.into(),
            audience: DEFAULT_AUDIENCE.into(),
            run_as: None,
            reason: "test".into(),
            duration: None,
            decided_by: DEFAULT_APPROVER.into(),
            extra_claims: Map::new(),
        }
    }
    /// Builder: override (or with `Value::Null`, remove) one token claim.
    pub fn claim(mut self, name: &str, value: Value) -> GrantSpec {
        self.extra_claims.insert(name.into(), value);
        self
    }
    pub fn target_host(mut self, h: &str) -> GrantSpec {
        self.target_host = h.into();
        self
    }
    pub fn run_as(mut self, u: &str) -> GrantSpec {
        self.run_as = Some(u.into());
        self
    }
    pub fn duration(mut self, secs: i64) -> GrantSpec {
        self.duration = Some(secs);
        self
    }
}

/// A grant created and approved by [`Idp::issue`], with a token signed by the current key.
#[derive(Clone, Debug)]
pub struct Issued {
    pub id: String,
    pub token: String,
}

/// Faults a test can switch on. Response faults apply after the request was read (and logged);
/// connection faults (marked) apply at accept/handshake, before any path is known, so a rule's
/// `path` is ignored for them. `/_test/` admin requests are never subject to response faults.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Sleep this long after reading the request, then answer normally.
    Slow(Duration),
    /// Send the normal response one byte per interval (tests a total, not per-read, timeout).
    Drip(Duration),
    /// `Content-Length` 100 more than the body sent, then a clean close (TLS close_notify).
    Truncated,
    /// A 200 `application/json` body of exactly `bytes` bytes (`{"keys":[],"pad":"aaa…"}`),
    /// framed by Content-Length or (chunked = true) in 16 KiB chunks.
    Oversized {
        bytes: usize,
        chunked: bool,
    },
    /// An `X-Padding` header of `bytes` bytes in the response head.
    OversizedHead {
        bytes: usize,
    },
    ContentLength(ContentLengthFault),
    Chunked(ChunkedFault),
    /// `status` (e.g. 302) with `Location: location`, empty body.
    Redirect {
        status: u16,
        location: String,
    },
    /// That status with a problem+json body.
    Status(u16),
    /// These exact bytes as the whole response, then a clean close.
    Raw(Vec<u8>),
    /// Read the request, then drop the TCP connection (no response, no close_notify).
    CloseAfterRequest,
    /// (connection) Server certificate from a different CA (same names).
    WrongCa,
    /// (connection) Certificate from the right CA but only for `wrong-host.invalid`.
    WrongHost,
    /// (connection) Certificate from the right CA, right names, expired in 2001.
    ExpiredCert,
    /// (connection) Accept, then close the TCP connection at once.
    CloseOnAccept,
    /// (connection) Complete the TLS handshake, then close_notify + close without reading.
    CloseAfterHandshake,
    /// (connection) Accept and never say anything (up to 60 s or shutdown).
    HandshakeStall,
    /// (connection) Answer in plaintext HTTP on the TLS port.
    NotTls,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentLengthFault {
    /// Half the real length; the whole body is sent anyway.
    Smaller,
    /// 100 more than sent, and the connection is kept open (stalls up to 60 s).
    Larger,
    /// Two Content-Length headers with different values (len, len+1).
    Duplicate,
    /// Two identical Content-Length headers.
    DuplicateSame,
    /// `Content-Length: abc`
    NonNumeric,
    /// `Content-Length: +len` (Rust's `u64::from_str` accepts that!)
    Plus,
    /// `Content-Length: -1`
    Negative,
    /// No Content-Length and no chunked: body delimited by close.
    Missing,
    /// Both `Transfer-Encoding: chunked` and `Content-Length` (body chunked).
    WithChunked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkedFault {
    /// Correct chunked encoding (two chunks + last-chunk): not a fault, for positive tests.
    Valid,
    /// Chunk size `zz`.
    NonHex,
    /// Chunk size 2^64 (`10000000000000000`).
    Overflow,
    /// Chunk size `-<hex>`.
    Negative,
    /// Empty chunk-size line.
    EmptySize,
    /// No CRLF after the chunk data.
    MissingCrlf,
    /// Declared chunk size 100 more than the data sent.
    LargerThanSent,
    /// No last-chunk (`0\r\n\r\n`), then a clean close.
    Truncated,
}

impl Fault {
    pub fn is_connection_level(&self) -> bool {
        matches!(
            self,
            Fault::WrongCa
                | Fault::WrongHost
                | Fault::ExpiredCert
                | Fault::CloseOnAccept
                | Fault::CloseAfterHandshake
                | Fault::HandshakeStall
                | Fault::NotTls
        )
    }
    /// Only requests whose path starts with `prefix` (response faults only).
    pub fn on(self, prefix: &str) -> FaultRule {
        FaultRule { fault: self, path: Some(prefix.into()), times: None }
    }
    /// Only the next `n` matching requests/connections; then the rule is gone.
    pub fn times(self, n: u32) -> FaultRule {
        FaultRule { fault: self, path: None, times: Some(n) }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    pub fault: Fault,
    /// Path prefix (e.g. `/.well-known/jwks.json`, `/api/grants/`); None = every path.
    pub path: Option<String>,
    /// None = until cleared.
    pub times: Option<u32>,
}

impl FaultRule {
    pub fn times(mut self, n: u32) -> FaultRule {
        self.times = Some(n);
        self
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> FaultRule {
        FaultRule { fault, path: None, times: None }
    }
}

/// One request as received on the TLS port (admin `/_test/` requests are not logged).
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Request target as sent (path and query).
    pub path: String,
    pub authorization: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn has_bearer(&self) -> bool {
        self.authorization.as_deref().is_some_and(|a| a.starts_with("Bearer ") && a.len() > 7)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    /// 0 = pick a free port.
    pub port: u16,
    /// Seed of the first signing key (random if None).
    pub seed: Option<[u8; 32]>,
    /// Kid of the first signing key (`key-<millis>` if None).
    pub kid: Option<String>,
    /// `127.0.0.1` (default) or `localhost`: the host of the issuer URL.
    pub issuer_host: String,
    /// Write the CA certificate (PEM) here at start.
    pub ca_out: Option<PathBuf>,
    /// Also serve the `/_test/` admin API as plain HTTP on 127.0.0.1 (Some(0) = free port).
    pub admin_port: Option<u16>,
}

impl Default for Options {
    fn default() -> Options {
        Options { port: 0, seed: None, kid: None, issuer_host: "127.0.0.1".into(), ca_out: None, admin_port: None }
    }
}

pub(crate) struct Grant {
    pub id: String,
    pub spec: GrantSpec,
    pub status: GrantStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl Grant {
    pub fn to_json(&self) -> Value {
        let s = &self.spec;
        let mut request = json!({
            "requester": s.requester,
            "target_host": s.target_host,
            "audience": s.audience,
            "grant_type": s.grant_type.as_str(),
            "command": s.command,
            "cmd_hash": cmd_hash(&s.command),
            "reason": s.reason,
        });
        if let Some(r) = &s.run_as {
            request["run_as"] = json!(r);
        }
        if let Some(d) = s.duration {
            request["duration"] = json!(d);
        }
        json!({
            "id": self.id,
            "type": s.grant_type.as_str(),
            "status": self.status.as_str(),
            "request": request,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "decided_by": self.decided_by,
            "used_at": self.used_at,
            "expires_at": self.expires_at,
        })
    }

    /// Timed grants past their expiry become expired.
    fn refresh(&mut self, now: i64) {
        if self.status == GrantStatus::Approved && self.expires_at.is_some_and(|e| now >= e) {
            self.status = GrantStatus::Expired;
        }
    }
}

pub(crate) struct State {
    pub keys: Vec<jwt::SigningKey>,
    pub grants: HashMap<String, Grant>,
    pub faults: Vec<FaultRule>,
    pub requests: Vec<Request>,
}

pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub certs: certs::Certs,
    pub issuer: String,
    pub stop: AtomicBool,
    pub connections: AtomicUsize,
}

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn now_millis() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The JWKS document exactly as served.
    pub fn jwks_text(&self) -> String {
        let st = self.lock();
        let keys: Vec<String> = st.keys.iter().filter(|k| k.published).map(|k| k.jwk()).collect();
        format!(r#"{{"keys":[{}]}}"#, keys.join(","))
    }

    pub fn jwks(&self) -> Value {
        serde_json::from_str(&self.jwks_text()).unwrap()
    }

    pub fn create(&self, spec: GrantSpec) -> String {
        let id = jwt::uuid();
        let g = Grant {
            id: id.clone(),
            spec,
            status: GrantStatus::Pending,
            created_at: now(),
            decided_at: None,
            decided_by: None,
            used_at: None,
            expires_at: None,
        };
        self.lock().grants.insert(id.clone(), g);
        id
    }

    /// Moves a grant to `to` (any state to any state: tests decide). Returns its JSON.
    pub fn transition(&self, id: &str, to: GrantStatus, by: Option<&str>) -> Option<Value> {
        let mut st = self.lock();
        let g = st.grants.get_mut(id)?;
        let t = now();
        match to {
            GrantStatus::Approved | GrantStatus::Denied => {
                g.decided_at = Some(t);
                g.decided_by = Some(by.map(str::to_string).unwrap_or_else(|| g.spec.decided_by.clone()));
                if to == GrantStatus::Approved && g.spec.grant_type == GrantType::Timed {
                    g.expires_at = Some(t + g.spec.duration.unwrap_or(3600));
                }
            }
            GrantStatus::Used => g.used_at = Some(t),
            GrantStatus::Expired => g.expires_at = Some(g.expires_at.map_or(t, |e| e.min(t))),
            _ => {}
        }
        g.status = to;
        Some(g.to_json())
    }

    pub fn grant_json(&self, id: &str) -> Option<Value> {
        let mut st = self.lock();
        let g = st.grants.get_mut(id)?;
        g.refresh(now());
        Some(g.to_json())
    }

    /// A fresh token (new jti) for a grant in whatever state, signed with the current key.
    pub fn token(&self, id: &str) -> Option<String> {
        let st = self.lock();
        let g = st.grants.get(id)?;
        let s = &g.spec;
        let iat = now();
        let exp = match s.grant_type {
            GrantType::Once => iat + 300,
            GrantType::Always => iat + 3600,
            GrantType::Timed => g.expires_at.unwrap_or(g.created_at + s.duration.unwrap_or(3600)),
        };
        let mut claims = json!({
            "iss": self.issuer,
            "sub": s.requester,
            "aud": s.audience,
            "target_host": s.target_host,
            "iat": iat,
            "exp": exp,
            "jti": jwt::uuid(),
            "grant_id": g.id,
            "grant_type": s.grant_type.as_str(),
            "approval": s.grant_type.as_str(),
            "decided_by": g.decided_by.clone().unwrap_or_else(|| s.decided_by.clone()),
            "command": s.command,
            "cmd_hash": cmd_hash(&s.command),
        });
        if let Some(r) = &s.run_as {
            claims["run_as"] = json!(r);
        }
        let obj = claims.as_object_mut().unwrap();
        for (k, v) in &s.extra_claims {
            if v.is_null() {
                obj.remove(k);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
        Some(st.keys.last().unwrap().sign(&claims))
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.lock().keys.last().unwrap().sign(claims)
    }

    pub fn rotate(&self, keep_old: bool) -> String {
        let mut st = self.lock();
        let mut n = now_millis();
        while st.keys.iter().any(|k| k.kid == format!("key-{n}")) {
            n += 1;
        }
        if !keep_old {
            for k in st.keys.iter_mut() {
                k.published = false;
            }
        }
        let kid = format!("key-{n}");
        st.keys.push(jwt::SigningKey::new(kid.clone(), jwt::random_bytes()));
        kid
    }

    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.lock().faults = rules;
    }

    /// The first matching rule's fault (its `times` counted down).
    pub fn take_fault(&self, connection_level: bool, path: Option<&str>) -> Option<Fault> {
        let mut st = self.lock();
        let i = st.faults.iter().position(|r| {
            r.fault.is_connection_level() == connection_level
                && (connection_level || r.path.as_deref().is_none_or(|p| path.unwrap_or("").starts_with(p)))
        })?;
        let fault = st.faults[i].fault.clone();
        if let Some(t) = st.faults[i].times.as_mut() {
            *t = t.saturating_sub(1);
            if *t == 0 {
                st.faults.remove(i);
            }
        }
        Some(fault)
    }
}

/// A running test IdP. Stops (and frees its ports) when dropped.
pub struct Idp {
    shared: Arc<Shared>,
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
}

impl Idp {
    /// Defaults: free port, random key, issuer `https://127.0.0.1:PORT`, no admin port.
    pub fn start() -> Idp {
        Idp::start_with(Options::default()).expect("start test IdP")
    }

    pub fn start_with(opts: Options) -> io::Result<Idp> {
        if !SERVER_NAMES.contains(&opts.issuer_host.as_str()) || opts.issuer_host == "::1" {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "issuer_host must be 127.0.0.1 or localhost"));
        }
        let listener = TcpListener::bind(("127.0.0.1", opts.port))?;
        let addr = listener.local_addr()?;
        let certs = certs::Certs::generate();
        if let Some(p) = &opts.ca_out {
            write_atomically(p, certs.ca_pem.as_bytes())?;
        }
        let kid = opts.kid.clone().unwrap_or_else(|| format!("key-{}", now_millis()));
        let key = jwt::SigningKey::new(kid, opts.seed.unwrap_or_else(jwt::random_bytes));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                keys: vec![key],
                grants: HashMap::new(),
                faults: Vec::new(),
                requests: Vec::new(),
            }),
            certs,
            issuer: format!("https://{}:{}", opts.issuer_host, addr.port()),
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
        });
        let mut threads = Vec::new();
        let mut admin_addr = None;
        if let Some(port) = opts.admin_port {
            let admin = TcpListener::bind(("127.0.0.1", port))?;
            admin_addr = Some(admin.local_addr()?);
            let s = shared.clone();
            threads.push(std::thread::spawn(move || server::accept_loop(s, admin, false)));
        }
        let s = shared.clone();
        threads.push(std::thread::spawn(move || server::accept_loop(s, listener, true)));
        Ok(Idp { shared, addr, admin_addr, threads })
    }

    /// The issuer, `https://127.0.0.1:PORT` (or `https://localhost:PORT`), no trailing slash.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Plain-HTTP admin address, when `Options::admin_port` was set.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }
    /// The private CA certificate (PEM) that signs the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.shared.certs.ca_pem
    }
    pub fn ca_der(&self) -> rustls::pki_types::CertificateDer<'static> {
        self.shared.certs.ca_der.clone()
    }
    /// The CA of the `WrongCa` certificate (a bundle with only this must fail too).
    pub fn other_ca_pem(&self) -> &str {
        &self.shared.certs.other_ca_pem
    }
    /// Writes the CA PEM to `path` (mode as umask gives; the caller sets owner/mode).
    pub fn write_ca_pem(&self, path: impl AsRef<Path>) -> io::Result<()> {
        write_atomically(path.as_ref(), self.ca_pem().as_bytes())
    }

    /// `{"keys":[…]}` exactly as served (published keys only).
    pub fn jwks(&self) -> String {
        self.shared.jwks_text()
    }
    /// Hex seed of the current signing key (to mint odd tokens with escapes-testkit).
    pub fn current_seed_hex(&self) -> String {
        jwt::hex(&self.shared.lock().keys.last().unwrap().seed)
    }
    pub fn current_kid(&self) -> String {
        self.shared.lock().keys.last().unwrap().kid.clone()
    }
    /// New signing key with a new kid (`key-<millis>`); `keep_old` keeps the old keys in the
    /// JWKS, else only the new one is published. Returns the new kid.
    pub fn rotate_key(&self, keep_old: bool) -> String {
        self.shared.rotate(keep_old)
    }

    /// A pending grant; returns its id.
    pub fn create_grant(&self, spec: GrantSpec) -> String {
        self.shared.create(spec)
    }
    /// Created, approved (by `spec.decided_by`) and a token minted.
    pub fn issue(&self, spec: GrantSpec) -> Issued {
        let id = self.create_grant(spec);
        self.approve(&id);
        Issued { token: self.token(&id), id }
    }
    pub fn approve(&self, id: &str) {
        self.set_status(id, GrantStatus::Approved);
    }
    pub fn deny(&self, id: &str) {
        self.set_status(id, GrantStatus::Denied);
    }
    pub fn revoke(&self, id: &str) {
        self.set_status(id, GrantStatus::Revoked);
    }
    pub fn expire(&self, id: &str) {
        self.set_status(id, GrantStatus::Expired);
    }
    /// Any state, no questions asked (e.g. `Used` to fake a replay).
    pub fn set_status(&self, id: &str, to: GrantStatus) {
        self.shared.transition(id, to, None).unwrap_or_else(|| panic!("unknown grant {id}"));
    }
    pub fn status(&self, id: &str) -> Option<GrantStatus> {
        let mut st = self.shared.lock();
        let g = st.grants.get_mut(id)?;
        g.refresh(now());
        Some(g.status)
    }
    /// The grant as `GET /api/grants/{id}` shows it.
    pub fn grant_json(&self, id: &str) -> Option<Value> {
        self.shared.grant_json(id)
    }
    /// A fresh token (new jti, iat now) for the grant, in any state, signed with the current key.
    pub fn token(&self, id: &str) -> String {
        self.shared.token(id).unwrap_or_else(|| panic!("unknown grant {id}"))
    }
    /// Signs arbitrary claims with the current key (header alg EdDSA, typ JWT, kid).
    pub fn sign_claims(&self, claims: &Value) -> String {
        self.shared.sign(claims)
    }

    /// Replaces all fault rules with this one (`Fault` or `FaultRule`).
    pub fn set_fault(&self, rule: impl Into<FaultRule>) {
        self.shared.set_faults(vec![rule.into()]);
    }
    /// Replaces all fault rules.
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.shared.set_faults(rules);
    }
    /// Adds a rule after the existing ones (first match wins).
    pub fn add_fault(&self, rule: impl Into<FaultRule>) {
        self.shared.lock().faults.push(rule.into());
    }
    pub fn clear_faults(&self) {
        self.shared.set_faults(Vec::new());
    }
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.lock().faults.clone()
    }

    /// Requests received on the TLS port so far (oldest first; `/_test/` excluded).
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }
    /// How many logged requests had this method and exactly this path (query ignored).
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.split('?').next() == Some(path))
            .count()
    }
    pub fn jwks_fetches(&self) -> usize {
        self.count("GET", "/.well-known/jwks.json")
    }
    pub fn consume_calls(&self, grant_id: &str) -> usize {
        self.count("POST", &format!("/api/grants/{grant_id}/consume"))
    }
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }
    /// TCP connections accepted on the TLS port (including ones a fault cut short).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    pub fn shutdown(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        for a in std::iter::once(self.addr).chain(self.admin_addr) {
            let _ = TcpStream::connect_timeout(&a, Duration::from_millis(200));
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub(crate) fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// Parses a 64-hex-digit Ed25519 seed.
pub fn parse_seed(hex: &str) -> Option<[u8; 32]> {
    jwt::unhex32(hex)
}

/// Verifies a token against this IdP's keys (all ever used, published or not); returns claims.
impl Idp {
    pub fn verify_token(&self, token: &str) -> Result<Value, &'static str> {
        jwt::verify(token, &self.shared.lock().keys, now())
    }
}
