//! Text from elsewhere (an IdP's answer, a token's claim) as it may appear in a message.

#![forbid(unsafe_code)]

/// At most 200 characters of `s`, control characters dropped.
pub fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}
