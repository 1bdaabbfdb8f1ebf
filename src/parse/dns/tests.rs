use super::*;

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().unwrap())
}

#[test]
fn hosts_file_matches_any_alias_case_insensitively() {
    let hosts = b"127.0.0.1 localhost\n# 10.0.0.9 id.example.com\n10.0.0.1\tIdP id.Example.com # ours\n::1 id.example.com\nfe80::1%eth0 id.example.com\nbogus id.example.com\n";
    assert_eq!(hosts_lookup(hosts, "id.example.com"), vec![v4("10.0.0.1"), "::1".parse().unwrap()]);
    assert_eq!(hosts_lookup(hosts, "idp"), vec![v4("10.0.0.1")]);
    assert!(hosts_lookup(hosts, "example.com").is_empty());
}

#[test]
fn hosts_file_refuses_octal_looking_addresses() {
    assert!(hosts_lookup(b"010.0.0.1 a\n", "a").is_empty());
}

#[test]
fn resolv_conf_yields_at_most_three_nameservers() {
    let conf = b"search corp.example\n; comment\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nnameserver ::1\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:5\n";
    assert!(nameservers(b" nameserver 10.0.0.1\n#nameserver 10.0.0.2\n").is_empty());
    assert_eq!(nameservers(conf), vec![v4("10.0.0.53"), "::1".parse().unwrap(), v4("1.1.1.1")]);
}

#[test]
fn validates_host_names() {
    for ok in ["a", "id.example.com", "x-1.example", "123.example"] {
        assert!(valid_hostname(ok), "{ok}");
    }
    for bad in ["", ".", "a.", ".a", "a..b", "-a", "a-", "a_b", "a b", "é.example", &"a".repeat(64)] {
        assert!(!valid_hostname(bad), "{bad}");
    }
}

#[test]
fn builds_a_recursive_query() {
    let q = query(0xabcd, "id.ex", QType::Aaaa).unwrap();
    assert_eq!(q, b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x02id\x02ex\x00\x00\x1c\x00\x01");
    assert_eq!(query(1, "a..b", QType::A), Err(Error::BadName));
}

/// A response to `query(id, name, qtype)` with the given answer records (already encoded).
fn response(id: u16, flags: u16, name: &str, qtype: QType, answers: &[Vec<u8>]) -> Vec<u8> {
    let mut m = query(id, name, qtype).unwrap();
    m[2..4].copy_from_slice(&flags.to_be_bytes());
    m[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
    for a in answers {
        m.extend_from_slice(a);
    }
    m
}

fn rr(owner: &[u8], rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut r = owner.to_vec();
    r.extend_from_slice(&rtype.to_be_bytes());
    r.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
    r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    r.extend_from_slice(rdata);
    r
}

/// Pointer to the question name, which starts at offset 12.
const QNAME: &[u8] = b"\xc0\x0c";

#[test]
fn reads_a_records_through_a_compressed_owner() {
    let m =
        response(7, 0x8180, "id.example.com", QType::A, &[rr(QNAME, 1, &[10, 0, 0, 1]), rr(QNAME, 1, &[10, 0, 0, 2])]);
    assert_eq!(parse_response(&m, 7, "ID.example.com", QType::A), Ok(vec![v4("10.0.0.1"), v4("10.0.0.2")]));
}

#[test]
fn follows_a_cname_chain_and_ignores_unrelated_records() {
    // id.example.com CNAME web.example.net (written in full), web.example.net A 10.0.0.5,
    // plus an A record for an unrelated owner that must not be used.
    let target = b"\x03web\x07example\x03net\x00";
    let mut m = response(9, 0x8180, "id.example.com", QType::A, &[]);
    m[7] = 3;
    let cname_at = m.len() + 12; // owner pointer (2) + type/class/ttl/len (10)
    m.extend_from_slice(&rr(QNAME, TYPE_CNAME, target));
    m.extend_from_slice(&rr(b"\x05other\x00", 1, &[6, 6, 6, 6]));
    m.extend_from_slice(&rr(&[0xc0, cname_at as u8], 1, &[10, 0, 0, 5]));
    assert_eq!(parse_response(&m, 9, "id.example.com", QType::A), Ok(vec![v4("10.0.0.5")]));
}

#[test]
fn reads_aaaa_records() {
    let ip: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let m = response(1, 0x8180, "a.example", QType::Aaaa, &[rr(QNAME, 28, &ip.octets())]);
    assert_eq!(parse_response(&m, 1, "a.example", QType::Aaaa), Ok(vec![IpAddr::V6(ip)]));
}

#[test]
fn reports_rcodes_truncation_and_wrong_ids() {
    let q = |flags| response(1, flags, "a.example", QType::A, &[]);
    assert_eq!(parse_response(&q(0x8183), 1, "a.example", QType::A), Err(Error::NameNotFound));
    assert_eq!(parse_response(&q(0x8182), 1, "a.example", QType::A), Err(Error::Server { rcode: 2 }));
    assert_eq!(parse_response(&q(0x8380), 1, "a.example", QType::A), Err(Error::Truncated));
    assert_eq!(parse_response(&q(0x0100), 1, "a.example", QType::A), Err(Error::NotResponse));
    assert_eq!(parse_response(&q(0x8180), 2, "a.example", QType::A), Err(Error::WrongId));
    assert_eq!(parse_response(&q(0x8180), 1, "a.example", QType::A), Err(Error::NoData));
}

#[test]
fn refuses_an_answer_to_another_question() {
    let m = response(1, 0x8180, "b.example", QType::A, &[rr(QNAME, 1, &[1, 2, 3, 4])]);
    assert_eq!(parse_response(&m, 1, "a.example", QType::A), Err(Error::QuestionMismatch));
    let m = response(1, 0x8180, "a.example", QType::Aaaa, &[]);
    assert_eq!(parse_response(&m, 1, "a.example", QType::A), Err(Error::QuestionMismatch));
}

#[test]
fn refuses_compression_loops_and_forward_pointers() {
    // Owner name: label "a" then a pointer back to that same label: a loop.
    let mut m = response(1, 0x8180, "a.example", QType::A, &[]);
    m[7] = 1;
    let at = m.len();
    m.extend_from_slice(&[1, b'a', 0xc0, at as u8]);
    m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
    assert!(matches!(parse_response(&m, 1, "a.example", QType::A), Err(Error::Malformed { .. })));
    // A pointer to itself and a pointer forwards.
    for ptr in [0u8, 2] {
        let mut m = response(1, 0x8180, "a.example", QType::A, &[]);
        m[7] = 1;
        let at = m.len() as u8 + ptr;
        m.extend_from_slice(&[0xc0, at]);
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        assert!(matches!(parse_response(&m, 1, "a.example", QType::A), Err(Error::Malformed { .. })));
    }
}

#[test]
fn refuses_wrong_sized_address_records() {
    let m = response(1, 0x8180, "a.example", QType::A, &[rr(QNAME, 1, &[1, 2, 3])]);
    assert!(matches!(parse_response(&m, 1, "a.example", QType::A), Err(Error::Malformed { .. })));
}

#[test]
fn refuses_records_running_past_the_end() {
    let mut m = response(1, 0x8180, "a.example", QType::A, &[rr(QNAME, 1, &[1, 2, 3, 4])]);
    m.truncate(m.len() - 1);
    assert!(matches!(parse_response(&m, 1, "a.example", QType::A), Err(Error::Malformed { .. })));
    assert!(parse_response(&[], 1, "a.example", QType::A).is_err());
}

#[test]
fn a_label_with_a_dot_is_not_two_labels() {
    let m = response(1, 0x8180, "a.example", QType::A, &[rr(b"\x09a.example\x00", 1, &[1, 2, 3, 4])]);
    assert_eq!(parse_response(&m, 1, "a.example", QType::A), Err(Error::NoData));
}
