//! `SPROXY_TO`: where the proxy socket goes, `/PARENT/DIR/SOCKET` with at least one `XXXXXX`
//! group in DIR (made like mkdtemp) and one in SOCKET (named like mktemp), e.g.
//! `/tmp/ssh-XXXXXX/agent.XXXXXX`. Each group is replaced by six random letters and digits.

use std::fmt;

/// The default: beside ssh-agent's own sockets.
pub const DEFAULT: &[u8] = b"/tmp/ssh-XXXXXX/agent.XXXXXX";
/// A UNIX socket path must fit sun_path (108 bytes with its NUL).
pub const MAX_PATH: usize = 107;
const GROUP: &[u8] = b"XXXXXX";

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The existing directory the private one is made in (`/` or `/a/b`).
    pub parent: Vec<u8>,
    /// The private directory's name, groups still `XXXXXX`.
    pub dir: Vec<u8>,
    /// The socket's name, groups still `XXXXXX`.
    pub socket: Vec<u8>,
}

/// Why a template is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateError {
    NotAbsolute,
    /// Longer than a socket path may be.
    TooLong,
    /// A byte outside `[A-Za-z0-9._+,@%=/-]`.
    BadByte(u8),
    /// An empty, `.` or `..` component.
    BadComponent,
    /// Fewer than two components after the root.
    TooShort,
    /// The directory component has no `XXXXXX`.
    DirWithoutGroup,
    /// The socket component has no `XXXXXX`.
    SocketWithoutGroup,
    /// An `XXXXXX` above the private directory: only the last two components are filled.
    GroupAbove,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::NotAbsolute => f.write_str("not an absolute path"),
            TemplateError::TooLong => write!(f, "longer than {MAX_PATH} bytes (a socket path)"),
            TemplateError::BadByte(b) => {
                write!(f, "'{}' is not one of [A-Za-z0-9._+,@%=/-]", char::from(*b).escape_default())
            }
            TemplateError::BadComponent => f.write_str("an empty, '.' or '..' component"),
            TemplateError::TooShort => f.write_str("must be /PARENT/DIR-XXXXXX/SOCKET-XXXXXX"),
            TemplateError::DirWithoutGroup => f.write_str("the directory component has no XXXXXX"),
            TemplateError::SocketWithoutGroup => f.write_str("the socket component has no XXXXXX"),
            TemplateError::GroupAbove => {
                f.write_str("XXXXXX above the directory component (only the last two are filled)")
            }
        }
    }
}

fn has_group(s: &[u8]) -> bool {
    s.windows(GROUP.len()).any(|w| w == GROUP)
}

/// Parses a template.
pub fn parse(s: &[u8]) -> Result<Template, TemplateError> {
    let rest = s.strip_prefix(b"/").ok_or(TemplateError::NotAbsolute)?;
    if s.len() > MAX_PATH {
        return Err(TemplateError::TooLong);
    }
    if let Some(&b) = s.iter().find(|&&b| !(b.is_ascii_alphanumeric() || b"._+,@%=/-".contains(&b))) {
        return Err(TemplateError::BadByte(b));
    }
    let parts: Vec<&[u8]> = rest.split(|&c| c == b'/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == b"." || *p == b"..") {
        return Err(TemplateError::BadComponent);
    }
    let [above @ .., dir, socket] = parts.as_slice() else {
        return Err(TemplateError::TooShort);
    };
    if above.iter().any(|p| has_group(p)) {
        return Err(TemplateError::GroupAbove);
    }
    if !has_group(dir) {
        return Err(TemplateError::DirWithoutGroup);
    }
    if !has_group(socket) {
        return Err(TemplateError::SocketWithoutGroup);
    }
    let mut parent = Vec::new();
    for p in above {
        parent.push(b'/');
        parent.extend_from_slice(p);
    }
    if parent.is_empty() {
        parent.push(b'/');
    }
    Ok(Template { parent, dir: dir.to_vec(), socket: socket.to_vec() })
}

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Replaces every `XXXXXX` group (left to right, not overlapping) of `pattern` with six
/// characters drawn by `pick` (any byte; reduced without bias by rejection).
pub fn fill(pattern: &[u8], mut random: impl FnMut() -> u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while let Some(&c) = pattern.get(i) {
        if pattern.get(i..i + GROUP.len()) == Some(GROUP) {
            for _ in 0..GROUP.len() {
                let r = loop {
                    let b = random();
                    if b < 248 {
                        break b;
                    }
                };
                out.push(ALPHABET.get(usize::from(r % 62)).copied().unwrap_or(b'X'));
            }
            i += GROUP.len();
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_default_and_fills_its_groups() {
        let t = parse(DEFAULT).unwrap();
        assert_eq!(
            (t.parent.as_slice(), t.dir.as_slice(), t.socket.as_slice()),
            (&b"/tmp"[..], &b"ssh-XXXXXX"[..], &b"agent.XXXXXX"[..])
        );
        let mut n = 0u8;
        let d = fill(&t.dir, || {
            n = n.wrapping_add(61);
            n
        });
        assert_eq!(d.len(), t.dir.len());
        assert!(d.starts_with(b"ssh-") && !has_group(&d));
        assert_eq!(fill(b"aXXXXXXXb", || 0), b"aAAAAAAXb");
        assert_eq!(fill(b"XXXXXX.XXXXXX", || 1), b"BBBBBB.BBBBBB");
        assert_eq!(parse(b"/XXXXXX/sXXXXXX").unwrap().parent, b"/");
        assert!(parse(b"/run/u/a-XXXXXXXXXXXX/s.XXXXXX.XXXXXX").is_ok());
    }

    #[test]
    fn rejection_keeps_the_draw_unbiased() {
        let mut draws = [255u8, 248, 7].into_iter().cycle();
        assert_eq!(fill(b"XXXXXX", || draws.next().unwrap_or(0)), b"HHHHHH");
    }

    #[test]
    fn refuses_hostile_templates() {
        let cases: &[(&[u8], TemplateError)] = &[
            (b"tmp/ssh-XXXXXX/a.XXXXXX", TemplateError::NotAbsolute),
            (b"", TemplateError::NotAbsolute),
            (b"/ssh-XXXXXX", TemplateError::TooShort),
            (b"/tmp/ssh-XXXXXX", TemplateError::DirWithoutGroup),
            (b"/tmp/ssh-XXXXXX/agent", TemplateError::SocketWithoutGroup),
            (b"/tmp/ssh/agent.XXXXXX", TemplateError::DirWithoutGroup),
            (b"/tmp/XXXXXX/d-XXXXXX/s.XXXXXX", TemplateError::GroupAbove),
            (b"/tmp/../etc/d-XXXXXX/s.XXXXXX", TemplateError::BadComponent),
            (b"/tmp/./d-XXXXXX/s.XXXXXX", TemplateError::BadComponent),
            (b"/tmp//d-XXXXXX/s.XXXXXX", TemplateError::BadComponent),
            (b"/tmp/d-XXXXXX/s.XXXXXX/", TemplateError::BadComponent),
            (b"/tmp/d-XXXXXX/s XXXXXX", TemplateError::BadByte(b' ')),
            (b"/tmp/d-XXXXXX/s\nXXXXXX", TemplateError::BadByte(b'\n')),
            (b"/tmp/d-XXXXXX/$XXXXXX", TemplateError::BadByte(b'$')),
            (b"/tmp/d-XXXXX/s.XXXXXX", TemplateError::DirWithoutGroup),
        ];
        for (s, e) in cases {
            assert_eq!(parse(s), Err(*e), "{:?}", String::from_utf8_lossy(s));
        }
        let long = [b"/".as_slice(), &[b'a'; 90], b"/d-XXXXXX/s.XXXXXX"].concat();
        assert_eq!(parse(&long), Err(TemplateError::TooLong));
    }
}
