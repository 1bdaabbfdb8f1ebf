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
    assert_eq!((r.status, r.content_type.as_deref(), r.body.as_slice()), (200, Some("application/json"), &b"{}"[..]));
}

#[test]
fn accepts_http10_with_content_length() {
    assert_eq!(ok(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n").status, 404);
}

#[test]
fn accepts_chunked_body_with_trailers() {
    let r = ok(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n",
    );
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
    assert_eq!(err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n"), Error::BadChunkEnd);
}

#[test]
fn refuses_endless_trailers() {
    let mut s = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
    for _ in 0..1000 {
        s.extend_from_slice(b"X-Pad: aaaaaaaa\r\n");
    }
    assert_eq!(err(&s), Error::TrailersTooLarge);
    assert_eq!(err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n"), Error::BadTrailer);
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
    assert_eq!(err(b"HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\nx"), Error::BodyNotAllowed { status: 204 });
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
    let r = request(Method::Post, "id.example.com", "/api/grants/abc/consume", &[("Authorization", "Bearer a.b.c")])
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
