//! HTTP/1.1 as escapes speaks it to its IdP: one request out (built here), one response in
//! (framed here). Pure: bytes in, bytes out; the socket and TLS are `net`'s and `tls`'s job.
//!
//! The response head is parsed by `httparse`; the body framing is our own and deliberately
//! narrow: exactly one `Content-Length`, or `Transfer-Encoding: chunked` alone, never both and
//! never a body delimited by the connection closing (a truncation an attacker could cause would
//! then look like a complete body). Bytes after the framed end are refused, because they mean
//! the two sides disagree about where the response ends.

use std::fmt;

/// Largest response head (status line and headers) accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest decoded body accepted; a JWKS or a consume answer is a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Headers beyond this many make the head an error.
pub const MAX_HEADERS: usize = 64;
/// A chunk-size line: at most 8 hex digits (then CRLF); chunk extensions are refused.
const MAX_CHUNK_DIGITS: usize = 8;
/// All trailer lines of a chunked body together.
const MAX_TRAILERS: usize = 4 * 1024;

/// A framed response. `content_type` is the header value as sent (visible ASCII only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Why a response was refused. `Incomplete` alone means "more bytes may fix it".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Incomplete,
    HeadTooLarge,
    TooManyHeaders,
    Head(httparse::Error),
    /// 1xx: we never ask for one (no `Expect`, no upgrade), so it is not an answer.
    Interim {
        status: u16,
    },
    DuplicateContentLength,
    BadContentLength,
    DuplicateTransferEncoding,
    UnsupportedTransferEncoding,
    LengthAndChunked,
    ChunkedInHttp10,
    /// Neither Content-Length nor chunked: the body would end where the connection does.
    NoLength,
    BodyTooLarge,
    BodyNotAllowed {
        status: u16,
    },
    DuplicateContentType,
    BadContentType,
    BadChunkSize,
    BadChunkEnd,
    BadTrailer,
    TrailersTooLarge,
    TrailingData {
        extra: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Incomplete => f.write_str("response ended early (truncated)"),
            Error::HeadTooLarge => write!(f, "response headers exceed {MAX_HEAD} bytes"),
            Error::TooManyHeaders => write!(f, "response has more than {MAX_HEADERS} headers"),
            Error::Head(e) => write!(f, "malformed response head: {e}"),
            Error::Interim { status } => write!(f, "unexpected interim response {status}"),
            Error::DuplicateContentLength => f.write_str("response has more than one Content-Length"),
            Error::BadContentLength => f.write_str("response Content-Length is not a plain decimal number"),
            Error::DuplicateTransferEncoding => f.write_str("response has more than one Transfer-Encoding"),
            Error::UnsupportedTransferEncoding => f.write_str("response Transfer-Encoding is not exactly \"chunked\""),
            Error::LengthAndChunked => f.write_str("response has both Content-Length and chunked encoding"),
            Error::ChunkedInHttp10 => f.write_str("HTTP/1.0 response uses chunked encoding"),
            Error::NoLength => f.write_str("response has neither Content-Length nor chunked encoding"),
            Error::BodyTooLarge => write!(f, "response body exceeds {MAX_BODY} bytes"),
            Error::BodyNotAllowed { status } => write!(f, "status {status} must not carry a body"),
            Error::DuplicateContentType => f.write_str("response has more than one Content-Type"),
            Error::BadContentType => f.write_str("response Content-Type is not printable ASCII"),
            Error::BadChunkSize => f.write_str("chunk size is not 1 to 8 hex digits followed by CRLF"),
            Error::BadChunkEnd => f.write_str("chunk data is not followed by CRLF"),
            Error::BadTrailer => f.write_str("malformed trailer line after the last chunk"),
            Error::TrailersTooLarge => write!(f, "trailers exceed {MAX_TRAILERS} bytes"),
            Error::TrailingData { extra } => write!(f, "{extra} bytes follow the end of the response"),
        }
    }
}

impl std::error::Error for Error {}

/// How the body is delimited.
enum Framing {
    Empty,
    Length(usize),
    Chunked,
}

/// Accepts exactly one HTTP/1.0 or 1.1 final response (status 200–599) whose head fits in
/// [`MAX_HEAD`] bytes and whose body is delimited by a single Content-Length or by chunked
/// encoding, decodes to at most [`MAX_BODY`] bytes, and ends at the last byte of `input`.
/// Returns [`Error::Incomplete`] while `input` is a strict prefix of such a response.
pub fn parse_response(input: &[u8]) -> Result<Response, Error> {
    let window = input.get(..MAX_HEAD).unwrap_or(input);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Response::new(&mut headers);
    let head_len = match head.parse(window) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if input.len() >= MAX_HEAD => return Err(Error::HeadTooLarge),
        Ok(httparse::Status::Partial) => return Err(Error::Incomplete),
        Err(httparse::Error::TooManyHeaders) => return Err(Error::TooManyHeaders),
        Err(e) => return Err(Error::Head(e)),
    };
    let status = head.code.ok_or(Error::Incomplete)?;
    if status < 200 {
        return Err(Error::Interim { status });
    }
    let http10 = head.version == Some(0);

    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut seen_te = false;
    let mut content_type: Option<String> = None;
    for h in head.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            if length.is_some() {
                return Err(Error::DuplicateContentLength);
            }
            length = Some(content_length(h.value)?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if seen_te {
                return Err(Error::DuplicateTransferEncoding);
            }
            seen_te = true;
            if !trim(h.value).eq_ignore_ascii_case(b"chunked") {
                return Err(Error::UnsupportedTransferEncoding);
            }
            chunked = true;
        } else if h.name.eq_ignore_ascii_case("content-type") {
            if content_type.is_some() {
                return Err(Error::DuplicateContentType);
            }
            content_type = Some(printable(trim(h.value)).ok_or(Error::BadContentType)?);
        }
    }

    let framing = match (length, chunked) {
        (Some(_), true) => return Err(Error::LengthAndChunked),
        (None, true) if http10 => return Err(Error::ChunkedInHttp10),
        (None, true) => Framing::Chunked,
        (Some(n), false) => Framing::Length(n),
        // 204 and 304 never have a body, whatever the headers say (RFC 9112 section 6.3).
        (None, false) if status == 204 || status == 304 => Framing::Empty,
        (None, false) => return Err(Error::NoLength),
    };
    if (status == 204 || status == 304) && !matches!(framing, Framing::Empty | Framing::Length(0)) {
        return Err(Error::BodyNotAllowed { status });
    }

    let rest = input.get(head_len..).unwrap_or(&[]);
    let (body, used) = match framing {
        Framing::Empty => (Vec::new(), 0),
        Framing::Length(n) => {
            let body = rest.get(..n).ok_or(Error::Incomplete)?;
            (body.to_vec(), n)
        }
        Framing::Chunked => dechunk(rest)?,
    };
    if rest.len() > used {
        return Err(Error::TrailingData { extra: rest.len() - used });
    }
    Ok(Response { status, content_type, body })
}

/// 1 to 10 ASCII digits (after optional surrounding blanks), at most [`MAX_BODY`].
fn content_length(value: &[u8]) -> Result<usize, Error> {
    let v = trim(value);
    if v.is_empty() || v.len() > 10 || !v.iter().all(u8::is_ascii_digit) {
        return Err(Error::BadContentLength);
    }
    let n = v.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    if n > MAX_BODY as u64 {
        return Err(Error::BodyTooLarge);
    }
    usize::try_from(n).map_err(|_| Error::BodyTooLarge)
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| *b != b' ' && *b != b'\t').unwrap_or(v.len());
    let end = v.iter().rposition(|b| *b != b' ' && *b != b'\t').map_or(start, |p| p + 1);
    v.get(start..end).unwrap_or(&[])
}

fn printable(v: &[u8]) -> Option<String> {
    if v.iter().all(|b| (0x20..0x7f).contains(b) || *b == b'\t') {
        String::from_utf8(v.to_vec()).ok()
    } else {
        None
    }
}

/// The line starting at `pos` up to (not including) its CRLF, and the position after the CRLF.
/// A bare CR, LF or NUL inside the line is `bad`; no CRLF within `max` bytes is `too_long`,
/// unless the input simply ends first (then more bytes may complete it).
fn line(input: &[u8], pos: usize, max: usize, bad: Error, too_long: Error) -> Result<(&[u8], usize), Error> {
    let rest = input.get(pos..).unwrap_or(&[]);
    for (i, b) in rest.iter().enumerate() {
        if i > max {
            return Err(too_long);
        }
        match b {
            b'\r' => {
                return match rest.get(i + 1) {
                    Some(b'\n') => Ok((rest.get(..i).unwrap_or(&[]), pos + i + 2)),
                    Some(_) => Err(bad),
                    None => Err(Error::Incomplete),
                }
            }
            b'\n' | 0 => return Err(bad),
            _ => {}
        }
    }
    if rest.len() > max {
        Err(too_long)
    } else {
        Err(Error::Incomplete)
    }
}

/// Decodes a chunked body at the start of `input`: chunk-size lines of 1–8 hex digits (no
/// extensions, no blanks), each chunk followed by CRLF, a zero-size last chunk, trailer lines
/// of `name: value` (ignored, bounded), and the final empty line. Returns the body and the
/// number of bytes consumed.
fn dechunk(input: &[u8]) -> Result<(Vec<u8>, usize), Error> {
    let mut body = Vec::new();
    let mut pos = 0usize;
    loop {
        let (size_line, next) = line(input, pos, MAX_CHUNK_DIGITS, Error::BadChunkSize, Error::BadChunkSize)?;
        let size = hex_size(size_line)?;
        pos = next;
        if size == 0 {
            break;
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(Error::BodyTooLarge);
        }
        let end = pos.checked_add(size).ok_or(Error::BodyTooLarge)?;
        let data = input.get(pos..end).ok_or(Error::Incomplete)?;
        body.extend_from_slice(data);
        match input.get(end..end + 2) {
            Some(b"\r\n") => {}
            Some(_) => return Err(Error::BadChunkEnd),
            None if input.get(end) == Some(&b'\r') || input.len() == end => return Err(Error::Incomplete),
            None => return Err(Error::BadChunkEnd),
        }
        pos = end + 2;
    }
    let mut trailers = 0usize;
    loop {
        let budget = MAX_TRAILERS.saturating_sub(trailers);
        let (t, next) = line(input, pos, budget, Error::BadTrailer, Error::TrailersTooLarge)?;
        if t.is_empty() {
            return Ok((body, next));
        }
        trailers += next - pos;
        if trailers > MAX_TRAILERS {
            return Err(Error::TrailersTooLarge);
        }
        trailer(t)?;
        pos = next;
    }
}

fn hex_size(digits: &[u8]) -> Result<usize, Error> {
    if digits.is_empty() || digits.len() > MAX_CHUNK_DIGITS || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(Error::BadChunkSize);
    }
    let mut n = 0usize;
    for d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(Error::BadChunkSize),
        };
        n = n.checked_mul(16).and_then(|n| n.checked_add(usize::from(v))).ok_or(Error::BadChunkSize)?;
    }
    Ok(n)
}

/// `token ":" value`, with a non-empty token name and a printable value.
fn trailer(t: &[u8]) -> Result<(), Error> {
    let colon = t.iter().position(|b| *b == b':').ok_or(Error::BadTrailer)?;
    let (name, value) = (t.get(..colon).unwrap_or(&[]), t.get(colon + 1..).unwrap_or(&[]));
    if name.is_empty() || !name.iter().all(|b| is_tchar(*b)) || printable(value).is_none() {
        return Err(Error::BadTrailer);
    }
    Ok(())
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The two methods escapes uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A request field that would not survive on the wire as written (CR, LF, NUL, spaces where
/// they are not allowed...). Inputs come from the config and the token, so refuse, never fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestError {
    Host,
    Path,
    HeaderName,
    HeaderValue,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestError::Host => "request host contains characters not allowed in a Host header",
            RequestError::Path => "request path must start with / and contain only URL path characters",
            RequestError::HeaderName => "request header name is not an HTTP token",
            RequestError::HeaderValue => "request header value contains a control character",
        })
    }
}

impl std::error::Error for RequestError {}

/// An HTTP/1.1 request without a body: `host` is the Host header value (host, or host:port),
/// `path` the origin-form target. Adds `Connection: close` (one exchange per connection),
/// `Accept: application/json`, a User-Agent, and `Content-Length: 0` for POST.
pub fn request(method: Method, host: &str, path: &str, headers: &[(&str, &str)]) -> Result<Vec<u8>, RequestError> {
    let host_ok = |b: u8| b.is_ascii_alphanumeric() || b"-._~:[]".contains(&b);
    if host.is_empty() || !host.bytes().all(host_ok) {
        return Err(RequestError::Host);
    }
    if !path.starts_with('/') || !path.bytes().all(is_path_char) {
        return Err(RequestError::Path);
    }
    let mut out = Vec::with_capacity(256);
    let m = match method {
        Method::Get => "GET",
        Method::Post => "POST",
    };
    out.extend_from_slice(format!("{m} {path} HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
    out.extend_from_slice(concat!("User-Agent: escapes/", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes());
    out.extend_from_slice(b"Accept: application/json\r\nConnection: close\r\n");
    if method == Method::Post {
        out.extend_from_slice(b"Content-Length: 0\r\n");
    }
    for (name, value) in headers {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(RequestError::HeaderName);
        }
        if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(RequestError::HeaderValue);
        }
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// RFC 3986 `pchar` plus `/`: unreserved, percent sign, sub-delims, `:` and `@`.
pub fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@/".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &[u8]) -> Response {
        parse_response(s).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(s)))
    }
    fn err(s: &[u8]) -> Error {
        parse_response(s).expect_err("must be refused")
    }

    #[test]
    fn accepts_content_length_body() {
        let r = ok(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(
            (r.status, r.content_type.as_deref(), r.body.as_slice()),
            (200, Some("application/json"), &b"{}"[..])
        );
    }

    #[test]
    fn accepts_http10_with_content_length() {
        assert_eq!(ok(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n").status, 404);
    }

    #[test]
    fn accepts_chunked_body_with_trailers() {
        let r = ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n");
        assert_eq!(r.body, b"{\"0123456789");
    }

    #[test]
    fn every_strict_prefix_is_incomplete() {
        let full: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n";
        for n in 0..full.len() {
            assert_eq!(parse_response(&full[..n]), Err(Error::Incomplete), "prefix {n}");
        }
        let cl: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        for n in 0..cl.len() {
            assert_eq!(parse_response(&cl[..n]), Err(Error::Incomplete), "prefix {n}");
        }
    }

    #[test]
    fn refuses_duplicate_content_length_even_when_equal() {
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
            Error::DuplicateContentLength
        );
    }

    #[test]
    fn refuses_content_length_lists_signs_and_hex() {
        for v in ["1, 1", "+1", "-1", "0x1", "1.0", "", "12345678901"] {
            let s = format!("HTTP/1.1 200 OK\r\nContent-Length: {v}\r\n\r\nx");
            assert_eq!(err(s.as_bytes()), Error::BadContentLength, "{v}");
        }
    }

    #[test]
    fn refuses_content_length_with_chunked() {
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            Error::LengthAndChunked
        );
    }

    #[test]
    fn refuses_other_transfer_codings() {
        for te in ["gzip", "gzip, chunked", "chunked, chunked", "identity"] {
            let s = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\n\r\n0\r\n\r\n");
            assert_eq!(err(s.as_bytes()), Error::UnsupportedTransferEncoding, "{te}");
        }
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            Error::DuplicateTransferEncoding
        );
    }

    #[test]
    fn refuses_body_delimited_by_close() {
        assert_eq!(err(b"HTTP/1.1 200 OK\r\n\r\n{}"), Error::NoLength);
    }

    #[test]
    fn refuses_bytes_after_the_body() {
        assert_eq!(err(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy"), Error::TrailingData { extra: 1 });
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"),
            Error::TrailingData { extra: 17 }
        );
    }

    #[test]
    fn refuses_oversized_bodies_before_reading_them() {
        let s = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1);
        assert_eq!(err(s.as_bytes()), Error::BodyTooLarge);
        let s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10001\r\n";
        assert_eq!(err(s.as_bytes()), Error::BodyTooLarge);
    }

    #[test]
    fn refuses_many_chunks_adding_up_past_the_cap() {
        let mut s = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..=MAX_BODY / 4096 {
            s.extend_from_slice(b"1000\r\n");
            s.extend_from_slice(&[b'a'; 4096]);
            s.extend_from_slice(b"\r\n");
        }
        assert_eq!(err(&s), Error::BodyTooLarge);
    }

    #[test]
    fn refuses_malformed_chunk_sizes() {
        for size in ["", " 1", "1 ", "0x1", "-1", "g", "1;ext=1", "123456789", "+1"] {
            let s = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nx\r\n0\r\n\r\n");
            assert_eq!(err(s.as_bytes()), Error::BadChunkSize, "{size:?}");
        }
    }

    #[test]
    fn refuses_bare_lf_in_chunked_framing() {
        assert_eq!(err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n"), Error::BadChunkSize);
        assert_eq!(err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n"), Error::BadChunkEnd);
    }

    #[test]
    fn refuses_chunk_longer_than_its_size() {
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n"),
            Error::BadChunkEnd
        );
    }

    #[test]
    fn refuses_endless_trailers() {
        let mut s = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        for _ in 0..1000 {
            s.extend_from_slice(b"X-Pad: aaaaaaaa\r\n");
        }
        assert_eq!(err(&s), Error::TrailersTooLarge);
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n"),
            Error::BadTrailer
        );
    }

    #[test]
    fn refuses_chunked_in_http10() {
        assert_eq!(err(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), Error::ChunkedInHttp10);
    }

    #[test]
    fn refuses_interim_responses() {
        assert_eq!(err(b"HTTP/1.1 100 Continue\r\n\r\n"), Error::Interim { status: 100 });
    }

    #[test]
    fn no_content_has_no_body() {
        assert_eq!(ok(b"HTTP/1.1 204 No Content\r\n\r\n").body, b"");
        assert_eq!(err(b"HTTP/1.1 204 No Content\r\n\r\nx"), Error::TrailingData { extra: 1 });
        assert_eq!(
            err(b"HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\nx"),
            Error::BodyNotAllowed { status: 204 }
        );
    }

    #[test]
    fn refuses_endless_head() {
        let mut s = b"HTTP/1.1 200 OK\r\n".to_vec();
        while s.len() <= MAX_HEAD {
            s.extend_from_slice(b"X: y\r\n");
        }
        assert!(matches!(err(&s), Error::HeadTooLarge | Error::TooManyHeaders));
        let mut s = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        s.resize(MAX_HEAD + 10, b'a');
        assert_eq!(err(&s), Error::HeadTooLarge);
    }

    #[test]
    fn refuses_too_many_headers() {
        let mut s = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            s.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        s.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        assert_eq!(err(&s), Error::TooManyHeaders);
    }

    #[test]
    fn refuses_obsolete_line_folding_and_garbage_heads() {
        assert!(matches!(err(b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"), Error::Head(_)));
        assert!(matches!(err(b"HTTP/2 200\r\n\r\n"), Error::Head(_)));
        assert!(matches!(err(b"SSH-2.0-OpenSSH\r\n\r\n"), Error::Head(_)));
    }

    #[test]
    fn refuses_control_characters_in_content_type() {
        assert_eq!(err(b"HTTP/1.1 200 OK\r\nContent-Type: a\x80b\r\nContent-Length: 0\r\n\r\n"), Error::BadContentType);
    }

    #[test]
    fn builds_post_with_empty_body() {
        let r =
            request(Method::Post, "id.example.com", "/api/grants/abc/consume", &[("Authorization", "Bearer a.b.c")])
                .unwrap();
        let s = String::from_utf8(r).unwrap();
        assert!(s.starts_with("POST /api/grants/abc/consume HTTP/1.1\r\nHost: id.example.com\r\n"));
        assert!(s.contains("\r\nConnection: close\r\n"));
        assert!(s.contains("\r\nContent-Length: 0\r\n"));
        assert!(s.ends_with("\r\nAuthorization: Bearer a.b.c\r\n\r\n"));
    }

    #[test]
    fn get_has_no_content_length() {
        let s = String::from_utf8(request(Method::Get, "[::1]:8443", "/.well-known/jwks.json", &[]).unwrap()).unwrap();
        assert!(s.starts_with("GET /.well-known/jwks.json HTTP/1.1\r\nHost: [::1]:8443\r\n"));
        assert!(!s.contains("Content-Length"));
    }

    #[test]
    fn request_refuses_header_injection() {
        assert_eq!(request(Method::Get, "a\r\nX: y", "/", &[]), Err(RequestError::Host));
        assert_eq!(request(Method::Get, "a", "/x y", &[]), Err(RequestError::Path));
        assert_eq!(request(Method::Get, "a", "/x\r\nX: y", &[]), Err(RequestError::Path));
        assert_eq!(request(Method::Get, "a", "x", &[]), Err(RequestError::Path));
        assert_eq!(request(Method::Get, "a", "/", &[("A", "b\r\nX: y")]), Err(RequestError::HeaderValue));
        assert_eq!(request(Method::Get, "a", "/", &[("A:", "b")]), Err(RequestError::HeaderName));
    }
}
