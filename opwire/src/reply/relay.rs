//! Reading a reply to pass it on (coat): the same lines as [`super::parse::parse`] reads, `&`
//! redirections included, each kept with its text so that it can be relayed as written.

use super::parse::{each_line, Error, Line, Redirects};

/// A reply to pass on (coat): every edit and `&` line in order with its text (as written, less
/// leading blanks and a CRLF's CR, unless the value itself ends in a CR), and the last code written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relayed {
    pub lines: Vec<(Vec<u8>, Line)>,
    pub code: Option<u8>,
}

/// Parses a whole reply whose `&` lines are relayed; the first bad line refuses all of it.
pub fn parse_relayed(input: &[u8]) -> Result<Relayed, Error> {
    let mut relayed = Relayed::default();
    each_line(input, Redirects::Relay, |text, line| match line {
        Line::Code(c) => relayed.code = Some(c),
        Line::Blank => {}
        line => relayed.lines.push((text.to_vec(), line)),
    })?;
    Ok(relayed)
}
