//! strict JSON (stub).
#[derive(Debug, Clone, PartialEq)]
pub enum Value { Null, Bool(bool), Int(i64), Number(String), Str(String), Array(Vec<Value>), Object(Vec<(String, Value)>) }
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error { Stub }
pub fn parse(_input: &[u8]) -> Result<Value, Error> { Err(Error::Stub) }
