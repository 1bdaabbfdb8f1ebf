//! Entry points shared by the fuzz targets (helpers/fuzz) and the corpus replay test, so a
//! plain `cargo test` runs every committed seed through the same code the fuzzer drives:
//! `timebox_spec`, `envauth_regex`, `stamp_spec` (STAMP_SPEC, durations, stamp paths,
//! stampctl's argv, STAMP_SET, numbers), `stamp_wire` (the socket protocol and the holder),
//! `reply_set`, `reply_relay`, `sheval_command`, `xdisplay_input`, `passwd_file`, `sproxy_template`,
//! `invocation_argv` and `coat_list`.

use crate::coat;
use crate::invocation::{self, CredType, Request};
use crate::proxy_agent::template;
use crate::regex::{self, Regex};
use crate::sheval;
use crate::stamp::holder::{After, Stamp, Terms};
use crate::stamp::wire;
use crate::stamp::{ctl, duration, helmet, path, spec as stamp_spec};
use crate::timebox::{spec, Timebox, Zone};
use crate::xdisplay::nlist;
use crate::{group, passwd};
use opwire::reply::is_name;
use opwire::reply::parse::{self as reply, Line};
use opwire::reply::write::{WriteError, Writer};
use opwire::reply::Edit;
use opwire::trusted::is_component;
use std::time::Duration;

const INSTANTS: [i64; 6] = [0, -1, 1_711_846_800, 1_729_990_799, 4_102_444_800, -2_208_988_800];

fn exercise(zone: &Zone) {
    for t in INSTANTS {
        if let Ok(l) = zone.local_time(t) {
            assert!(l.month >= 1 && l.month <= 12 && l.day >= 1 && l.day <= 31);
            assert!(l.hour < 24 && l.minute < 60 && l.second < 60 && l.weekday < 7 && l.yearday < 366);
            assert!(l.utoff.unsigned_abs() <= 26 * 3600);
        }
    }
}

/// Byte 0 picks the parser: a timebox spec (evaluated at fixed instants in UTC and a DST zone),
/// a POSIX TZ string, or a TZif file.
pub fn timebox_spec(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            if let Ok(s) = spec::parse(rest) {
                let tb = Timebox::parse(Some(rest), Some(rest)).ok();
                let zones =
                    [Zone::utc(), Zone::parse_posix(b"CET-1CEST,M3.5.0,M10.5.0/3").unwrap_or_else(|_| Zone::utc())];
                for z in &zones {
                    for t in INSTANTS {
                        if let Ok(l) = z.local_time(t) {
                            let any = s.any_holds(&l);
                            let all = s.all_hold(&l);
                            assert!(!all || any || s.relations().is_empty());
                            if let Some(tb) = &tb {
                                assert_eq!(tb.allows(&l), any && all);
                            }
                        }
                    }
                }
            }
        }
        1 => {
            if let Ok(z) = Zone::parse_posix(rest) {
                exercise(&z);
            }
        }
        _ => {
            if let Ok(z) = Zone::parse_tzif(rest) {
                exercise(&z);
            }
        }
    }
}

/// Pattern, a 0 byte, then the input. The NFA must agree with the reference matcher wherever
/// the reference is cheap enough to run.
pub fn envauth_regex(data: &[u8]) {
    let (pattern, hay) = match data.iter().position(|&b| b == 0) {
        Some(i) => (data.get(..i).unwrap_or_default(), data.get(i + 1..).unwrap_or_default()),
        None => (data, &b""[..]),
    };
    let Ok(node) = regex::parse(pattern) else {
        return;
    };
    let Ok(re) = Regex::from_node(&node) else {
        return;
    };
    let got = re.is_match(hay);
    if pattern.len() <= 48 && hay.len() <= 48 && !pattern.contains(&b'{') {
        assert_eq!(
            got,
            regex::reference::is_match(&node, hay),
            "pattern {:?} input {:?}",
            String::from_utf8_lossy(pattern),
            String::from_utf8_lossy(hay)
        );
    }
}

fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (data.get(..i).unwrap_or_default(), data.get(i + 1..).unwrap_or_default()),
        None => (data, &b""[..]),
    }
}

const FUZZ_ROOT: &[u8] = b"/run/escapes/stamp";

/// Byte 0 picks the parser: a STAMP_SPEC (checks evaluated on the input's tail), a duration,
/// a stamp name and facility (NUL between), stampctl's argv (NUL-separated words), a
/// STAMP_SET list, or two numbers compared both ways. Every accepted path stays inside the root.
pub fn stamp_spec(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => {
            let (text, value) = split_nul(rest);
            if let Ok(s) = stamp_spec::parse(text, FUZZ_ROOT) {
                let names = s.names();
                for (i, n) in names.iter().enumerate() {
                    assert!(!names.iter().take(i).any(|m| m == n));
                }
                for c in &s.checks {
                    let _ = c.passes(Some(value));
                    assert!(!c.passes(None), "a check passed without its entry");
                }
            }
        }
        1 => {
            if let Ok(secs) = duration::parse(rest) {
                assert!((1..=duration::MAX_SECS).contains(&secs));
                assert_eq!(duration::parse(duration::format(secs).as_bytes()), Ok(secs));
            }
        }
        2 => {
            let (name, facility) = split_nul(rest);
            if let Ok(f) = path::parse_facility(facility, FUZZ_ROOT) {
                if let Ok(p) = path::StampPath::parse(name, &f, FUZZ_ROOT) {
                    assert!(!p.leaf().is_empty());
                    assert!(p.dirs().len() < path::MAX_DEPTH);
                    for c in p.dirs().iter().map(Vec::as_slice).chain([p.leaf()]) {
                        assert!(is_component(c) && c.len() <= path::MAX_COMPONENT);
                    }
                }
            }
        }
        3 => {
            let args: Vec<Vec<u8>> = rest.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
            if let Ok(ctl::Command::Make(m)) = ctl::parse_args(&args) {
                assert!(m.end >= 1 && m.end <= duration::MAX_SECS);
                for e in &m.tableau {
                    if let ctl::EntryArg::Set(_, v) = e {
                        assert!(wire::is_value(v));
                    }
                }
            }
        }
        4 => {
            if let Ok(names) = helmet::parse_set(rest) {
                assert!(names.iter().all(|n| !n.starts_with(b"STAMP_")));
            }
        }
        _ => {
            let (a, b) = split_nul(rest);
            if let (Some(x), Some(y)) = (stamp_spec::Number::parse(a), stamp_spec::Number::parse(b)) {
                assert_eq!(x.compare(&y), y.compare(&x).reverse());
                assert_eq!(x.compare(&x), std::cmp::Ordering::Equal);
            }
        }
    }
}

/// Byte 0 picks: a request line, a reply line (each must re-encode to exactly its input), or
/// a conversation with a holder: lines framed as the holder frames them (byte 1: the peer's
/// uid, 0 or 1000; byte 2: the count limit; byte 3: penalty) with the holder's promises checked:
/// no more `y` than the limit, no `y` in penalty mode, nothing after the end, state changes only
/// for root or the owner (1000).
pub fn stamp_wire(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            if let Ok(r) = wire::parse_request(rest) {
                assert_eq!(r.encode(), [rest, b"\n"].concat());
            }
        }
        1 => {
            if let Ok(r) = wire::parse_reply(rest) {
                assert_eq!(r.encode(), [rest, b"\n"].concat());
            }
        }
        _ => {
            let [peer, max, penalty, ref stream @ ..] = *rest else {
                return;
            };
            let peer = if peer % 2 == 0 { 0 } else { 1000 };
            let max = (max % 4 != 0).then_some(u32::from(max % 4));
            let mut penalty = penalty % 2 == 1;
            let mut stamp = Stamp::new(
                Terms {
                    tableau: vec![(b"TTY".to_vec(), b"/dev/pts/1".to_vec())],
                    owner: 1000,
                    penalty,
                    max,
                    end: Duration::from_secs(60),
                    idle: Some(Duration::from_secs(5)),
                },
                Duration::from_secs(100),
            );
            let mut yes = 0u32;
            let mut buf = stream;
            let mut t = Duration::from_secs(100);
            loop {
                let (line, used) = match wire::next_line(buf, wire::MAX_REQUEST) {
                    Ok(Some(l)) => l,
                    Ok(None) | Err(_) => return,
                };
                assert!(used <= wire::MAX_REQUEST && line.len() < used);
                buf = buf.get(used..).unwrap_or_default();
                t += Duration::from_millis(10 * (line.len() % 256) as u64);
                let Ok(req) = wire::parse_request(line) else {
                    continue;
                };
                let (reply, after) = stamp.answer(&req, peer, t);
                match (&req, &reply) {
                    (_, wire::Reply::Yes) => {
                        assert!(!penalty);
                        yes += 1;
                        assert!(max.is_none_or(|m| yes <= m));
                    }
                    (wire::Request::Penalty(_), wire::Reply::Ok { .. }) => penalty = true,
                    (wire::Request::Query(n), wire::Reply::Value(_)) => assert_eq!(n.as_slice(), b"TTY"),
                    _ => {}
                }
                if let (
                    wire::Request::Refresh(u)
                    | wire::Request::Penalty(u)
                    | wire::Request::End(u)
                    | wire::Request::EndPenalty(u),
                    wire::Reply::Ok { .. },
                ) = (&req, &reply)
                {
                    let acting = if peer == 0 { *u } else { peer };
                    assert!(acting == 0 || acting == 1000);
                }
                if after == After::End {
                    return;
                }
            }
        }
    }
}

/// Any value: `Writer::set` either refuses a byte no reply form can carry, or writes one line
/// that the strict reply parser reads back as exactly that assignment and nothing else.
pub fn reply_set(data: &[u8]) {
    let mut r = Writer::new();
    match r.set(b"V", data) {
        Ok(()) => {
            assert_eq!(r.bytes().iter().filter(|&&c| c == b'\n').count(), 1);
            let want = Edit::Set { name: b"V".to_vec(), value: data.to_vec() };
            let p = reply::parse(r.bytes()).ok();
            assert!(matches!(p, Some(p) if p.edits == [want.clone()] && !p.explicit));
            let p = opwire::reply::relay::parse_relayed(r.bytes()).ok();
            assert!(
                matches!(p, Some(p) if p.code.is_none() && matches!(p.lines.as_slice(), [(_, Line::Edit(got))] if *got == want))
            );
        }
        Err(e) => {
            let carried = b"\t\n\r\x07\x08\x0b\x0c\x1b";
            assert!(matches!(e, WriteError::Unrepresentable(c)
                if data.contains(&c) && c.is_ascii_control() && !carried.contains(&c)));
            assert!(r.bytes().is_empty());
        }
    }
}

/// Any reply: what coat relays and what escapes reads are the same language. A reply escapes
/// accepts, coat accepts with the same edits and code; one coat accepts without `&` lines,
/// escapes accepts too; every relayed text is one line that reads back as its own meaning.
pub fn reply_relay(data: &[u8]) {
    let strict = reply::parse(data);
    let relayed = opwire::reply::relay::parse_relayed(data);
    if let Ok(r) = &strict {
        assert!(relayed.is_ok(), "escapes accepts what coat refuses");
        let Ok(p) = &relayed else { return };
        let edits: Vec<&Edit> = p
            .lines
            .iter()
            .filter_map(|(_, l)| match l {
                Line::Edit(e) => Some(e),
                _ => None,
            })
            .collect();
        assert!(edits.len() == r.edits.len() && edits.iter().zip(&r.edits).all(|(a, b)| *a == b));
        assert_eq!(p.code, r.explicit.then_some(r.code));
    }
    if let Ok(p) = &relayed {
        let redirects = p.lines.iter().any(|(_, l)| *l == Line::Redirect);
        assert_eq!(strict.is_ok(), !redirects);
        for (text, line) in &p.lines {
            assert!(!text.contains(&b'\n'));
            assert_eq!(reply::line(text, reply::Redirects::Relay).as_ref(), Ok(line));
        }
    }
}

/// Byte 0 even: a sheval command; odd: a `SHEVAL_UNSET` list. A command that splits must give
/// an absolute program and at most `MAX_WORDS` words, and its words, each single-quoted and
/// joined by spaces, must split back to the same words.
pub fn sheval_command(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 2 == 1 {
        if let Ok(names) = sheval::parse_unset(rest) {
            assert!(!names.is_empty() && names.iter().all(|n| is_name(n)));
        }
        return;
    }
    let Ok(words) = sheval::parse_command(rest) else {
        return;
    };
    assert!(!words.is_empty() && words.len() <= sheval::MAX_WORDS);
    assert!(words.first().is_some_and(|w| w.first() == Some(&b'/')));
    let mut quoted = Vec::new();
    for w in &words {
        if !quoted.is_empty() {
            quoted.push(b' ');
        }
        quoted.push(b'\'');
        for &c in w {
            if c == b'\'' {
                quoted.extend_from_slice(b"'\\''");
            } else {
                quoted.push(c);
            }
        }
        quoted.push(b'\'');
    }
    if quoted.len() <= sheval::MAX_COMMAND {
        assert_eq!(sheval::parse_command(&quoted).ok(), Some(words));
    }
}

/// Byte 0 even: xauth nextract output, which must parse to at most `MAX_ENTRIES` entries that
/// write back to a list parsing to the same entries; odd: a DISPLAY value, which if accepted
/// cannot be taken for an xauth option and ends in `:N` or `:N.S`.
pub fn xdisplay_input(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        if let Ok(entries) = nlist::parse(rest) {
            assert!(entries.len() <= nlist::MAX_ENTRIES);
            let written = nlist::write(&entries);
            assert_eq!(nlist::parse(&written).ok().as_ref(), Some(&entries));
        }
    } else if nlist::check_display(rest).is_ok() {
        assert!(rest.first() != Some(&b'-') && rest.contains(&b':'));
        assert!(rest.len() <= nlist::MAX_DISPLAY);
        assert!(rest.iter().all(|c| c.is_ascii_graphic()));
    }
}

/// A passwd (or group) file: every account `parse_line` accepts has an absolute home and a name,
/// `by_uid` and `by_name` find the first account of each uid and name, `group::by_name` the first
/// group of each name.
pub fn passwd_file(data: &[u8]) {
    let mut seen: Vec<u32> = Vec::new();
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut groups: Vec<Vec<u8>> = Vec::new();
    for line in data.split(|&c| c == b'\n') {
        if let Ok(e) = passwd::parse_line(line) {
            assert!(e.home.first() == Some(&b'/') && !e.name.is_empty());
            if !seen.contains(&e.uid) {
                seen.push(e.uid);
                assert_eq!(passwd::by_uid(data, e.uid).as_ref(), Some(&e));
            }
            if !names.contains(&e.name) {
                assert_eq!(passwd::by_name(data, &e.name).as_ref(), Some(&e));
                names.push(e.name);
            }
        }
        // The same bytes as /etc/group: the first group of a name is the one found.
        if let Ok(g) = group::parse_line(line) {
            assert!(!g.name.is_empty() && !g.name.contains(&b':'));
            if !groups.contains(&g.name) {
                assert_eq!(group::by_name(data, &g.name).as_ref(), Some(&g));
                groups.push(g.name);
            }
        }
    }
}

/// SPROXY_TO templates: an accepted one fits a socket path, fills to a path of the same length
/// with no group left in its last two components, and has its groups nowhere else.
pub fn sproxy_template(data: &[u8]) {
    let Ok(t) = template::parse(data) else {
        return;
    };
    assert!(data.len() <= template::MAX_PATH && t.parent.first() == Some(&b'/'));
    // Never draws 'X' (index 23), so any XXXXXX left would be an unfilled group; real draws
    // may of course spell X's.
    let mut n = 0u8;
    let mut next = || loop {
        n = n.wrapping_add(37);
        if n < 248 && n % 62 != 23 {
            break n;
        }
    };
    let (d, s) = (template::fill(&t.dir, &mut next), template::fill(&t.socket, &mut next));
    assert_eq!((d.len(), s.len()), (t.dir.len(), t.socket.len()));
    let group: &[u8] = b"XXXXXX";
    assert!(!d.windows(6).any(|w| w == group) && !s.windows(6).any(|w| w == group));
    assert!(!t.parent.windows(6).any(|w| w == group));
    assert!(!d.contains(&b'/') && !s.contains(&b'/'));
}

/// argv words separated by NUL bytes: a run that parses describes itself (`to_args`) in words
/// that parse back to the same run, and a `test:` credential is printable.
pub fn invocation_argv(data: &[u8]) {
    let args: Vec<Vec<u8>> = data.split(|&c| c == 0).map(<[u8]>::to_vec).collect();
    if let Ok(Request::Judge(run)) = invocation::parse(&args) {
        if run.cred_type == CredType::Test {
            assert!(!run.cred.is_empty() && run.cred.iter().all(|c| matches!(c, b' '..=b'~')));
        }
        assert_eq!(invocation::parse(&run.to_args()).ok(), Some(Request::Judge(run)));
    }
}

/// `COAT` lists: accepted entries are absolute paths, at most `MAX_HELPERS`, and a bare name
/// resolves to a file directly inside coat's directory.
pub fn coat_list(data: &[u8]) {
    let dir = std::path::Path::new("/usr/local/libexec/jacket");
    if let Ok(paths) = coat::parse_list_beside(data, Some(dir)) {
        assert!(!paths.is_empty() && paths.len() <= coat::MAX_HELPERS);
        for (p, word) in paths.iter().zip(data.split(|&c| c == b':' || c == b',')) {
            assert!(p.is_absolute());
            if word.first() != Some(&b'/') {
                assert_eq!(p.parent(), Some(dir));
                assert!(word != b".." && word != b".");
            }
        }
    }
    if let Ok(paths) = coat::parse_list(data) {
        assert!(paths.iter().all(|p| p.is_absolute()));
    }
}
