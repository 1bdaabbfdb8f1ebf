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
mod tests;
