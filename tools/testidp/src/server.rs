//! Accept loops, one thread per connection, request reading, routing and (faulty) responses.

use crate::{
    jwt, now, ChunkedFault, ContentLengthFault, Fault, FaultRule, GrantSpec, GrantStatus, GrantType, Request, Shared,
    GRANT_NOT_FOUND,
};
use serde_json::{json, Value};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const STALL: Duration = Duration::from_secs(60);

pub fn accept_loop(shared: Arc<Shared>, listener: TcpListener, tls: bool) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let s = shared.clone();
        std::thread::spawn(move || if tls { tls_connection(&s, stream) } else { admin_connection(&s, stream) });
    }
}

/// Sleeps up to `d`, waking early on shutdown; false if the server is stopping.
fn nap(shared: &Shared, d: Duration) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(20)));
    }
    !shared.stop.load(Ordering::SeqCst)
}

fn tls_connection(shared: &Shared, mut tcp: TcpStream) {
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = tcp.set_write_timeout(Some(Duration::from_secs(10)));
    let fault = shared.take_fault(true, None);
    let config = match fault {
        Some(Fault::CloseOnAccept) => return,
        Some(Fault::HandshakeStall) => {
            nap(shared, STALL);
            return;
        }
        Some(Fault::NotTls) => {
            let body = b"plain HTTP on a TLS port\n";
            let _ = tcp.write_all(format!("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
            let _ = tcp.write_all(body);
            linger_close(tcp);
            return;
        }
        Some(Fault::WrongCa) => shared.certs.wrong_ca.clone(),
        Some(Fault::WrongHost) => shared.certs.wrong_host.clone(),
        Some(Fault::ExpiredCert) => shared.certs.expired.clone(),
        _ => shared.certs.good.clone(),
    };
    let Ok(conn) = rustls::ServerConnection::new(config) else { return };
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    if fault == Some(Fault::CloseAfterHandshake) {
        while tls.conn.is_handshaking() {
            if tls.conn.complete_io(&mut tls.sock).is_err() {
                return;
            }
        }
        tls.conn.send_close_notify();
        let _ = tls.flush();
        linger_close(tls.sock);
        return;
    }
    let req = match read_request(&mut tls) {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            if e.kind() == io::ErrorKind::InvalidData && !tls.conn.is_handshaking() {
                let resp = Resp::problem(400, "about:blank", "Bad Request", &e.to_string());
                let _ = write_response(shared, &mut tls, &resp, None);
                finish_tls(tls);
            }
            return;
        }
    };
    let admin = req.path.starts_with("/_test/");
    if !admin {
        shared.lock().requests.push(req.clone());
    }
    let fault = if admin { None } else { shared.take_fault(false, Some(&req.path)) };
    if fault == Some(Fault::CloseAfterRequest) {
        let _ = tls.sock.shutdown(Shutdown::Both);
        return;
    }
    if let Some(Fault::Slow(d)) = fault {
        if !nap(shared, d) {
            return;
        }
    }
    let resp = route(shared, &req);
    match write_response(shared, &mut tls, &resp, fault.as_ref()) {
        Ok(After::Close) => finish_tls(tls),
        Ok(After::Stall) => {
            let _ = tls.flush();
            nap(shared, STALL);
        }
        Err(_) => {}
    }
}

fn finish_tls(mut tls: rustls::StreamOwned<rustls::ServerConnection, TcpStream>) {
    tls.conn.send_close_notify();
    let _ = tls.flush();
    linger_close(tls.sock);
}

/// Half-close, then drain what the peer still sends (briefly) so the close is not a reset.
fn linger_close(tcp: TcpStream) {
    let _ = tcp.shutdown(Shutdown::Write);
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 4096];
    let mut tcp = tcp;
    let end = Instant::now() + Duration::from_secs(1);
    while Instant::now() < end {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn admin_connection(shared: &Shared, mut tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let resp = match read_request(&mut tcp) {
        Ok(Some(req)) if req.path.starts_with("/_test/") => route(shared, &req),
        Ok(Some(_)) => Resp::problem(404, "about:blank", "Not Found", "the admin port serves /_test/ only"),
        Ok(None) => return,
        Err(e) => Resp::problem(400, "about:blank", "Bad Request", &e.to_string()),
    };
    let _ = write_response(shared, &mut tcp, &resp, None);
    let _ = tcp.flush();
    linger_close(tcp);
}

/// Reads one request: head (≤ 64 KiB) then a Content-Length body (≤ 1 MiB). None on EOF before
/// any byte.
fn read_request<S: Read>(s: &mut S) -> io::Result<Option<Request>> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(bad("request head too large"));
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return if buf.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(&buf[..head_end]) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(bad("malformed request head")),
    }
    let method = parsed.method.unwrap_or("").to_string();
    let path = parsed.path.unwrap_or("").to_string();
    let headers: Vec<(String, String)> =
        parsed.headers.iter().map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned())).collect();
    let find = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    if find("transfer-encoding").is_some() {
        return Err(bad("request bodies must use Content-Length"));
    }
    let len = match find("content-length") {
        Some(v) => v.trim().parse::<usize>().map_err(|_| bad("bad Content-Length"))?,
        None => 0,
    };
    if len > MAX_BODY {
        return Err(bad("request body too large"));
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    let authorization = find("authorization");
    Ok(Some(Request { method, path, authorization, headers, body }))
}

pub struct Resp {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    fn json(status: u16, v: &Value) -> Resp {
        Resp { status, content_type: "application/json", body: v.to_string().into_bytes(), headers: Vec::new() }
    }
    fn problem(status: u16, type_: &str, title: &str, detail: &str) -> Resp {
        let v = json!({"type": type_, "title": title, "status": status, "detail": detail});
        Resp { status, content_type: "application/problem+json", body: v.to_string().into_bytes(), headers: Vec::new() }
    }
    fn not_found() -> Resp {
        Resp::problem(404, "about:blank", "Not Found", "no such endpoint")
    }
    fn method_not_allowed(allow: &str) -> Resp {
        let mut r = Resp::problem(405, "about:blank", "Method Not Allowed", "method not allowed");
        r.headers.push(("Allow".into(), allow.into()));
        r
    }
    fn grant_not_found(id: &str) -> Resp {
        Resp::problem(404, GRANT_NOT_FOUND, "Grant not found", &format!("grant {id} not found"))
    }
}

fn route(shared: &Shared, req: &Request) -> Resp {
    let path = req.path.split('?').next().unwrap_or("");
    let m = req.method.as_str();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        [".well-known", "jwks.json"] => match m {
            "GET" => Resp {
                status: 200,
                content_type: "application/json",
                body: shared.jwks_text().into_bytes(),
                headers: Vec::new(),
            },
            _ => Resp::method_not_allowed("GET"),
        },
        [".well-known", "openid-configuration"] => match m {
            "GET" => Resp::json(
                200,
                &json!({
                    "issuer": shared.issuer,
                    "jwks_uri": format!("{}/.well-known/jwks.json", shared.issuer),
                    "openape_grants_endpoint": format!("{}/api/grants", shared.issuer),
                    "id_token_signing_alg_values_supported": ["EdDSA"],
                }),
            ),
            _ => Resp::method_not_allowed("GET"),
        },
        ["api", "grants"] => match m {
            "POST" => {
                if bearer(req).is_none_or(str::is_empty) {
                    return Resp::problem(
                        401,
                        "https://openape.org/errors/unauthorized",
                        "Unauthorized",
                        "missing bearer token",
                    );
                }
                match body_json(req).and_then(|v| spec_from_json(&v)) {
                    Ok(spec) => {
                        let id = shared.create(spec);
                        Resp::json(201, &shared.grant_json(&id).unwrap())
                    }
                    Err(e) => Resp::problem(400, "https://openape.org/errors/invalid_request", "Bad Request", &e),
                }
            }
            _ => Resp::method_not_allowed("POST"),
        },
        ["api", "grants", id] => match m {
            "GET" => shared.grant_json(id).map_or_else(|| Resp::grant_not_found(id), |g| Resp::json(200, &g)),
            _ => Resp::method_not_allowed("GET"),
        },
        ["api", "grants", id, "consume"] => match m {
            "POST" => consume(shared, req, id),
            _ => Resp::method_not_allowed("POST"),
        },
        ["api", "grants", id, "token"] => match m {
            "POST" => match shared.grant_json(id) {
                None => Resp::grant_not_found(id),
                Some(g) if g["status"] == "approved" => {
                    Resp::json(200, &json!({"authz_jwt": shared.token(id).unwrap(), "grant": g}))
                }
                Some(g) => Resp::problem(
                    400,
                    "https://openape.org/errors/grant_not_approved",
                    "Grant not approved",
                    &format!("grant is {}", g["status"].as_str().unwrap_or("")),
                ),
            },
            _ => Resp::method_not_allowed("POST"),
        },
        ["api", "grants", id, action @ ("approve" | "deny" | "revoke")] => match m {
            "POST" => {
                let by =
                    body_json(req).ok().and_then(|v| v.get("decided_by").and_then(Value::as_str).map(str::to_string));
                let to = match *action {
                    "approve" => GrantStatus::Approved,
                    "deny" => GrantStatus::Denied,
                    _ => GrantStatus::Revoked,
                };
                shared
                    .transition(id, to, by.as_deref())
                    .map_or_else(|| Resp::grant_not_found(id), |g| Resp::json(200, &g))
            }
            _ => Resp::method_not_allowed("POST"),
        },
        ["_test", rest @ ..] => admin(shared, req, rest),
        _ => Resp::not_found(),
    }
}

fn bearer(req: &Request) -> Option<&str> {
    let a = req.authorization.as_deref()?;
    let (scheme, token) = a.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

fn body_json(req: &Request) -> Result<Value, String> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body).map_err(|e| format!("body is not JSON: {e}"))
}

fn consume(shared: &Shared, req: &Request, id: &str) -> Resp {
    let unauthorized = |d: &str| Resp::problem(401, "https://openape.org/errors/unauthorized", "Unauthorized", d);
    let Some(token) = bearer(req).filter(|t| !t.is_empty()) else {
        return unauthorized("missing bearer token");
    };
    let claims = match jwt::verify(token, &shared.lock().keys, now()) {
        Ok(c) => c,
        Err(e) => return unauthorized(&format!("invalid token: {e}")),
    };
    if claims.get("grant_id").and_then(Value::as_str) != Some(id) {
        return Resp::problem(
            400,
            "https://openape.org/errors/invalid_request",
            "Grant mismatch",
            "token grant_id does not match the URL",
        );
    }
    let mut st = shared.lock();
    let Some(g) = st.grants.get_mut(id) else {
        return Resp::grant_not_found(id);
    };
    let t = now();
    g.refresh(t);
    let err = |e: &str, s: &str| Resp::json(200, &json!({"error": e, "status": s}));
    match g.status {
        GrantStatus::Approved if g.spec.grant_type == GrantType::Once => {
            g.status = GrantStatus::Used;
            g.used_at = Some(t);
            Resp::json(200, &json!({"status": "consumed", "grant": g.to_json()}))
        }
        GrantStatus::Approved => Resp::json(200, &json!({"status": "valid", "grant": g.to_json()})),
        GrantStatus::Used => err("already_consumed", "used"),
        GrantStatus::Pending => err("not_approved", "pending"),
        s => err(s.as_str(), s.as_str()),
    }
}

fn admin(shared: &Shared, req: &Request, rest: &[&str]) -> Resp {
    let m = req.method.as_str();
    let bad = |e: String| Resp::problem(400, "about:blank", "Bad Request", &e);
    match (m, rest) {
        ("POST", ["grants"]) => {
            let v = match body_json(req) {
                Ok(v) => v,
                Err(e) => return bad(e),
            };
            let spec = match spec_from_json(&v) {
                Ok(s) => s,
                Err(e) => return bad(e),
            };
            let id = shared.create(spec);
            if v.get("approve").and_then(Value::as_bool).unwrap_or(true) {
                shared.transition(&id, GrantStatus::Approved, v.get("decided_by").and_then(Value::as_str));
            }
            let g = shared.grant_json(&id).unwrap();
            Resp::json(201, &json!({"id": id, "status": g["status"], "token": shared.token(&id).unwrap(), "grant": g}))
        }
        ("GET", ["grants", id]) => {
            shared.grant_json(id).map_or_else(|| Resp::grant_not_found(id), |g| Resp::json(200, &g))
        }
        ("POST", ["grants", id, "token"]) => {
            shared.token(id).map_or_else(|| Resp::grant_not_found(id), |t| Resp::json(200, &json!({"token": t})))
        }
        ("POST", ["grants", id, action]) => {
            let to = match *action {
                "approve" => GrantStatus::Approved,
                "deny" => GrantStatus::Denied,
                "revoke" => GrantStatus::Revoked,
                "expire" => GrantStatus::Expired,
                "use" => GrantStatus::Used,
                "pending" => GrantStatus::Pending,
                _ => return Resp::not_found(),
            };
            let by = body_json(req).ok().and_then(|v| v.get("decided_by").and_then(Value::as_str).map(str::to_string));
            shared.transition(id, to, by.as_deref()).map_or_else(|| Resp::grant_not_found(id), |g| Resp::json(200, &g))
        }
        ("POST", ["sign"]) => match body_json(req) {
            Ok(v) => Resp::json(200, &json!({"token": shared.sign(v.get("claims").unwrap_or(&v))})),
            Err(e) => bad(e),
        },
        ("POST", ["fault"]) => match body_json(req).and_then(|v| faults_from_json(&v)) {
            Ok(rules) => {
                let n = rules.len();
                shared.set_faults(rules);
                Resp::json(200, &json!({"ok": true, "rules": n}))
            }
            Err(e) => bad(e),
        },
        ("POST", ["rotate"]) => {
            let keep_old =
                body_json(req).ok().and_then(|v| v.get("keep_old").and_then(Value::as_bool)).unwrap_or(false);
            Resp::json(200, &json!({"kid": shared.rotate(keep_old), "jwks": shared.jwks()}))
        }
        ("GET", ["requests"]) => {
            let st = shared.lock();
            let list: Vec<Value> = st
                .requests
                .iter()
                .map(|r| json!({"method": r.method, "path": r.path, "auth": r.authorization.is_some(), "bearer": r.has_bearer()}))
                .collect();
            Resp::json(200, &json!({"requests": list, "connections": shared.connections.load(Ordering::SeqCst)}))
        }
        ("DELETE", ["requests"]) => {
            shared.lock().requests.clear();
            Resp::json(200, &json!({"ok": true}))
        }
        ("GET", ["info"]) => Resp::json(
            200,
            &json!({"issuer": shared.issuer, "kid": shared.lock().keys.last().unwrap().kid, "jwks": shared.jwks(), "ca_pem": shared.certs.ca_pem}),
        ),
        _ => Resp::not_found(),
    }
}

fn string_field(v: &Value, name: &str) -> Result<Option<String>, String> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// Grant request JSON (spec field names; admin extras `claims`, `decided_by`).
pub fn spec_from_json(v: &Value) -> Result<GrantSpec, String> {
    if !v.is_object() {
        return Err("body must be a JSON object".into());
    }
    let gt = string_field(v, "grant_type")?.unwrap_or_else(|| "once".into());
    let gt = GrantType::parse(&gt).ok_or_else(|| format!("unknown grant_type {gt}"))?;
    let command: Vec<String> = match v.get("command") {
        None => vec!["whoami".into()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or("command must be strings"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("command must be an array of strings".into()),
    };
    let mut spec = GrantSpec::new(gt, &[]);
    spec.command = command;
    if let Some(s) = string_field(v, "requester")? {
        spec.requester = s;
    }
    if let Some(s) = string_field(v, "target_host")? {
        spec.target_host = s;
    }
    if let Some(s) = string_field(v, "audience")? {
        spec.audience = s;
    }
    if let Some(s) = string_field(v, "reason")? {
        spec.reason = s;
    }
    if let Some(s) = string_field(v, "decided_by")? {
        spec.decided_by = s;
    }
    spec.run_as = string_field(v, "run_as")?;
    spec.duration = match v.get("duration") {
        None | Some(Value::Null) => None,
        Some(d) => Some(d.as_i64().ok_or("duration must be an integer")?),
    };
    match v.get("claims") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => spec.extra_claims = m.clone(),
        Some(_) => return Err("claims must be an object".into()),
    }
    Ok(spec)
}

/// `{"mode":…, …, "path"?, "times"?}`, or `{"rules":[…]}`; mode `none` clears.
pub fn faults_from_json(v: &Value) -> Result<Vec<FaultRule>, String> {
    if let Some(rules) = v.get("rules") {
        let rules = rules.as_array().ok_or("rules must be an array")?;
        return rules
            .iter()
            .map(|r| rule_from_json(r).and_then(|r| r.ok_or_else(|| "mode none inside rules".into())))
            .collect();
    }
    Ok(rule_from_json(v)?.into_iter().collect())
}

fn rule_from_json(v: &Value) -> Result<Option<FaultRule>, String> {
    let Some(fault) = fault_from_json(v)? else { return Ok(None) };
    let times = match v.get("times") {
        None | Some(Value::Null) => None,
        Some(t) => Some(
            t.as_u64()
                .and_then(|t| u32::try_from(t).ok())
                .filter(|&t| t > 0)
                .ok_or("times must be a positive integer")?,
        ),
    };
    Ok(Some(FaultRule { fault, path: string_field(v, "path")?, times }))
}

pub fn fault_from_json(v: &Value) -> Result<Option<Fault>, String> {
    let mode = string_field(v, "mode")?.ok_or("missing mode")?;
    let num = |name: &str, default: u64| -> Result<u64, String> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(x) => x.as_u64().ok_or_else(|| format!("{name} must be a non-negative integer")),
        }
    };
    let kind = string_field(v, "kind")?.unwrap_or_default();
    let secs = |default: f64| -> Result<Duration, String> {
        match v.get("secs") {
            None | Some(Value::Null) => Ok(Duration::from_secs_f64(default)),
            Some(x) => x
                .as_f64()
                .filter(|s| *s >= 0.0 && *s < 3600.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| "secs must be a number 0..3600".to_string()),
        }
    };
    Ok(Some(match mode.as_str() {
        "none" => return Ok(None),
        "slow" => Fault::Slow(secs(15.0)?),
        "drip" => Fault::Drip(Duration::from_millis(num("interval_ms", 200)?)),
        "truncated" => Fault::Truncated,
        "oversized" => Fault::Oversized {
            bytes: num("bytes", 1 << 20)? as usize,
            chunked: v.get("chunked").and_then(Value::as_bool).unwrap_or(false),
        },
        "oversized_head" => Fault::OversizedHead { bytes: num("bytes", 64 * 1024)? as usize },
        "content_length" => Fault::ContentLength(match kind.as_str() {
            "smaller" => ContentLengthFault::Smaller,
            "larger" => ContentLengthFault::Larger,
            "duplicate" => ContentLengthFault::Duplicate,
            "duplicate_same" => ContentLengthFault::DuplicateSame,
            "non_numeric" => ContentLengthFault::NonNumeric,
            "plus" => ContentLengthFault::Plus,
            "negative" => ContentLengthFault::Negative,
            "missing" => ContentLengthFault::Missing,
            "with_chunked" => ContentLengthFault::WithChunked,
            k => return Err(format!("unknown content_length kind {k:?}")),
        }),
        "chunked" => Fault::Chunked(match kind.as_str() {
            "valid" => ChunkedFault::Valid,
            "non_hex" => ChunkedFault::NonHex,
            "overflow" => ChunkedFault::Overflow,
            "negative" => ChunkedFault::Negative,
            "empty_size" => ChunkedFault::EmptySize,
            "missing_crlf" => ChunkedFault::MissingCrlf,
            "larger_than_sent" => ChunkedFault::LargerThanSent,
            "truncated" => ChunkedFault::Truncated,
            k => return Err(format!("unknown chunked kind {k:?}")),
        }),
        "redirect" => Fault::Redirect {
            status: num("status", 302)? as u16,
            location: string_field(v, "location")?.unwrap_or_else(|| "https://127.0.0.1:1/elsewhere".into()),
        },
        "status" => Fault::Status(num("code", 500)? as u16),
        "raw" => Fault::Raw(string_field(v, "data")?.unwrap_or_default().into_bytes()),
        "close_after_request" => Fault::CloseAfterRequest,
        "wrong_ca" => Fault::WrongCa,
        "wrong_host" => Fault::WrongHost,
        "expired_cert" => Fault::ExpiredCert,
        "close_on_accept" => Fault::CloseOnAccept,
        "close_after_handshake" => Fault::CloseAfterHandshake,
        "handshake_stall" => Fault::HandshakeStall,
        "not_tls" => Fault::NotTls,
        m => return Err(format!("unknown fault mode {m:?}")),
    }))
}

pub enum After {
    /// close_notify, then close.
    Close,
    /// Keep the connection open (up to 60 s or shutdown).
    Stall,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The response bytes as the fault wants them, and what to do after sending them.
pub fn render(resp: &Resp, fault: Option<&Fault>) -> (Vec<u8>, After) {
    let mut status = resp.status;
    let mut content_type = resp.content_type;
    let mut body = resp.body.clone();
    let mut extra: Vec<(String, String)> = resp.headers.clone();
    let mut after = After::Close;
    // Framing: Some(len header values) or chunked body already encoded.
    let mut lengths: Vec<String> = vec![body.len().to_string()];
    let mut chunked = false;
    let len = body.len();
    match fault {
        Some(Fault::Raw(bytes)) => return (bytes.clone(), After::Close),
        Some(Fault::Truncated) => lengths = vec![(len + 100).to_string()],
        Some(Fault::Oversized { bytes, chunked: c }) => {
            status = 200;
            content_type = "application/json";
            let frame = br#"{"keys":[],"pad":""}"#.len();
            let pad = bytes.saturating_sub(frame);
            body = format!(r#"{{"keys":[],"pad":"{}"}}"#, "a".repeat(pad)).into_bytes();
            if *c {
                let mut out = Vec::new();
                for part in body.chunks(16 * 1024) {
                    chunk(&mut out, part);
                }
                out.extend_from_slice(b"0\r\n\r\n");
                body = out;
                chunked = true;
                lengths.clear();
            } else {
                lengths = vec![body.len().to_string()];
            }
        }
        Some(Fault::OversizedHead { bytes }) => extra.push(("X-Padding".into(), "a".repeat(*bytes))),
        Some(Fault::ContentLength(k)) => match k {
            ContentLengthFault::Smaller => lengths = vec![(len / 2).to_string()],
            ContentLengthFault::Larger => {
                lengths = vec![(len + 100).to_string()];
                after = After::Stall;
            }
            ContentLengthFault::Duplicate => lengths = vec![len.to_string(), (len + 1).to_string()],
            ContentLengthFault::DuplicateSame => lengths = vec![len.to_string(), len.to_string()],
            ContentLengthFault::NonNumeric => lengths = vec!["abc".into()],
            ContentLengthFault::Plus => lengths = vec![format!("+{len}")],
            ContentLengthFault::Negative => lengths = vec!["-1".into()],
            ContentLengthFault::Missing => lengths.clear(),
            ContentLengthFault::WithChunked => {
                let mut out = Vec::new();
                chunk(&mut out, &body);
                out.extend_from_slice(b"0\r\n\r\n");
                body = out;
                chunked = true;
            }
        },
        Some(Fault::Chunked(k)) => {
            let (a, b) = body.split_at(len.min(7));
            let mut out = Vec::new();
            match k {
                ChunkedFault::Valid => {
                    chunk(&mut out, a);
                    chunk(&mut out, b);
                    out.extend_from_slice(b"0\r\n\r\n");
                }
                ChunkedFault::NonHex | ChunkedFault::Overflow | ChunkedFault::Negative | ChunkedFault::EmptySize => {
                    let size = match k {
                        ChunkedFault::NonHex => "zz".to_string(),
                        ChunkedFault::Overflow => "10000000000000000".to_string(),
                        ChunkedFault::Negative => format!("-{len:x}"),
                        _ => String::new(),
                    };
                    out.extend_from_slice(format!("{size}\r\n").as_bytes());
                    out.extend_from_slice(&body);
                    out.extend_from_slice(b"\r\n0\r\n\r\n");
                }
                ChunkedFault::MissingCrlf => {
                    out.extend_from_slice(format!("{len:x}\r\n").as_bytes());
                    out.extend_from_slice(&body);
                    out.extend_from_slice(b"0\r\n\r\n");
                }
                ChunkedFault::LargerThanSent => {
                    out.extend_from_slice(format!("{:x}\r\n", len + 100).as_bytes());
                    out.extend_from_slice(&body);
                    out.extend_from_slice(b"\r\n0\r\n\r\n");
                }
                ChunkedFault::Truncated => {
                    chunk(&mut out, a);
                    chunk(&mut out, b);
                }
            }
            body = out;
            chunked = true;
            lengths.clear();
        }
        Some(Fault::Redirect { status: s, location }) => {
            status = *s;
            body.clear();
            lengths = vec!["0".into()];
            extra.push(("Location".into(), location.clone()));
        }
        Some(Fault::Status(code)) => {
            status = *code;
            content_type = "application/problem+json";
            body = json!({"type":"about:blank","title":reason(*code),"status":code,"detail":"injected fault"})
                .to_string()
                .into_bytes();
            lengths = vec![body.len().to_string()];
        }
        _ => {}
    }
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    let mut header = |n: &str, v: &str| out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    header("Content-Type", content_type);
    header("Cache-Control", "no-store");
    header("Connection", "close");
    if chunked {
        header("Transfer-Encoding", "chunked");
    }
    for l in &lengths {
        header("Content-Length", l);
    }
    for (n, v) in &extra {
        header(n, v);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    (out, after)
}

fn write_response<S: Write>(shared: &Shared, s: &mut S, resp: &Resp, fault: Option<&Fault>) -> io::Result<After> {
    let (bytes, after) = render(resp, fault);
    if let Some(Fault::Drip(interval)) = fault {
        for b in bytes {
            s.write_all(&[b])?;
            s.flush()?;
            if !nap(shared, *interval) {
                return Err(io::ErrorKind::Interrupted.into());
            }
        }
    } else {
        s.write_all(&bytes)?;
        s.flush()?;
    }
    Ok(after)
}
