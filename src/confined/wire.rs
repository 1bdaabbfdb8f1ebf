//! The one byte format of everything that crosses between escapes and its confined children:
//! the parse service's requests and answers, and the network child's report. Lengths and
//! numbers are big-endian, text is checked to be UTF-8, and decoding is total and strict: every
//! field in order, a count the remaining bytes cannot hold is refused before anything is
//! allocated for it, and nothing may follow the last field ([`Reader::finish`]).

#![forbid(unsafe_code)]

use std::fmt;

/// Why bytes could not be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The bytes end inside a field.
    Truncated,
    /// Bytes follow the last field.
    Trailing,
    /// A tag or marker that is not one of the defined values.
    BadTag,
    /// A text field is not UTF-8.
    NotUtf8,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "report is truncated",
            Error::Trailing => "report has bytes after its end",
            Error::BadTag => "report has an unknown tag",
            Error::NotUtf8 => "report text is not UTF-8",
        })
    }
}

impl std::error::Error for Error {}

/// Builds a message field by field.
#[derive(Default)]
pub struct Writer(Vec<u8>);

impl Writer {
    pub fn new() -> Writer {
        Writer(Vec::with_capacity(256))
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    pub fn u8(&mut self, v: u8) -> &mut Writer {
        self.0.push(v);
        self
    }
    pub fn bool(&mut self, v: bool) -> &mut Writer {
        self.u8(u8::from(v))
    }
    pub fn u32(&mut self, v: u32) -> &mut Writer {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A length; every one here is bounded far below 4 GiB by the caps on the inputs, so a
    /// larger one saturates (and then fails to decode) rather than wrapping.
    pub fn len(&mut self, n: usize) -> &mut Writer {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX))
    }
    pub fn i64(&mut self, v: i64) -> &mut Writer {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Fixed-size bytes, without a length.
    pub fn raw(&mut self, b: &[u8]) -> &mut Writer {
        self.0.extend_from_slice(b);
        self
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Writer {
        self.len(b.len()).raw(b)
    }
    pub fn str(&mut self, s: &str) -> &mut Writer {
        self.bytes(s.as_bytes())
    }
    /// A marker byte, 0 for None or 1, then the value.
    pub fn opt<T: ?Sized>(&mut self, v: Option<&T>, put: impl FnOnce(&mut Writer, &T)) -> &mut Writer {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                put(self, v);
                self
            }
        }
    }
    pub fn opt_str(&mut self, s: Option<&str>) -> &mut Writer {
        self.opt(s, |w, s| {
            w.str(s);
        })
    }
    pub fn list<T>(&mut self, items: &[T], mut put: impl FnMut(&mut Writer, &T)) -> &mut Writer {
        self.len(items.len());
        for i in items {
            put(self, i);
        }
        self
    }
    pub fn strs(&mut self, items: &[String]) -> &mut Writer {
        self.list(items, |w, s| {
            w.str(s);
        })
    }
}

/// Reads a message field by field, in the order [`Writer`] wrote it.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader(b)
    }
    /// Ends the message: nothing may follow.
    pub fn finish(&self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Trailing)
        }
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.0.len() {
            return Err(Error::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    pub fn u8(&mut self) -> Result<u8, Error> {
        self.take(1)?.first().copied().ok_or(Error::Truncated)
    }
    pub fn bool(&mut self) -> Result<bool, Error> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::BadTag),
        }
    }
    pub fn u32(&mut self) -> Result<u32, Error> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| Error::Truncated)?;
        Ok(u32::from_be_bytes(b))
    }
    pub fn len(&mut self) -> Result<usize, Error> {
        usize::try_from(self.u32()?).map_err(|_| Error::Truncated)
    }
    pub fn i64(&mut self) -> Result<i64, Error> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| Error::Truncated)?;
        Ok(i64::from_be_bytes(b))
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.len()?;
        self.take(n)
    }
    pub fn str(&mut self) -> Result<String, Error> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| Error::NotUtf8)
    }
    /// [`Writer::opt`]'s marker, then the value if there is one.
    pub fn opt<T>(&mut self, get: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<Option<T>, Error> {
        match self.u8()? {
            0 => Ok(None),
            1 => get(self).map(Some),
            _ => Err(Error::BadTag),
        }
    }
    pub fn opt_str(&mut self) -> Result<Option<String>, Error> {
        self.opt(Reader::str)
    }
    /// A counted list; each element takes at least `min` bytes, so a count the rest cannot
    /// hold is refused before anything is allocated for it.
    pub fn list<T>(&mut self, min: usize, mut get: impl FnMut(&mut Self) -> Result<T, Error>) -> Result<Vec<T>, Error> {
        let n = self.len()?;
        if n > self.0.len() / min.max(1) {
            return Err(Error::Truncated);
        }
        (0..n).map(|_| get(self)).collect()
    }
    pub fn strs(&mut self) -> Result<Vec<String>, Error> {
        self.list(4, Reader::str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips() {
        let mut w = Writer::new();
        w.u8(7).bool(true).u32(9).i64(-5).bytes(b"\x00\xff").str("é").opt_str(None).opt_str(Some("x"));
        w.strs(&["a".into(), "".into()]).list(&[vec![1u8, 2]], |w, b| {
            w.bytes(b);
        });
        let b = w.into_bytes();
        let mut r = Reader::new(&b);
        assert_eq!(r.u8(), Ok(7));
        assert_eq!(r.bool(), Ok(true));
        assert_eq!(r.u32(), Ok(9));
        assert_eq!(r.i64(), Ok(-5));
        assert_eq!(r.bytes(), Ok(&b"\x00\xff"[..]));
        assert_eq!(r.str().as_deref(), Ok("é"));
        assert_eq!(r.opt_str(), Ok(None));
        assert_eq!(r.opt_str(), Ok(Some("x".into())));
        assert_eq!(r.strs(), Ok(vec!["a".to_string(), String::new()]));
        assert_eq!(r.list(4, |r| r.bytes().map(<[u8]>::to_vec)), Ok(vec![vec![1, 2]]));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn hostile_bytes_are_refused_not_trusted() {
        // A count no remaining bytes could hold: refused before allocating.
        let mut r = Reader::new(b"\xff\xff\xff\xff");
        assert_eq!(r.strs(), Err(Error::Truncated));
        assert_eq!(Reader::new(b"\x00\x00\x00\x05ab").bytes(), Err(Error::Truncated));
        assert_eq!(Reader::new(b"\x00\x00\x00\x01\xff").str(), Err(Error::NotUtf8));
        assert_eq!(Reader::new(b"\x02").bool(), Err(Error::BadTag));
        assert_eq!(Reader::new(b"\x02").opt_str(), Err(Error::BadTag));
        let mut r = Reader::new(b"\x01\x00");
        let _ = r.u8();
        assert_eq!(r.finish(), Err(Error::Trailing));
    }
}
