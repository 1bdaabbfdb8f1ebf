//! TOML subset parser (stub: to be implemented).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value { Str(String), Int(i64), Bool(bool), StrArray(Vec<String>) }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry { pub key: String, pub value: Value, pub line: usize, pub col: usize }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table { pub name: String, pub line: usize, pub entries: Vec<Entry> }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document { pub tables: Vec<Table> }
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind { Unsupported(&'static str) }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error { pub line: usize, pub col: usize, pub kind: ErrorKind }
pub fn parse(_input: &[u8]) -> Result<Document, Error> { Err(Error { line: 1, col: 1, kind: ErrorKind::Unsupported("stub") }) }
