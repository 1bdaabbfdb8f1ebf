//! CLI (stub).
pub enum Request {}
#[derive(Debug)]
pub enum Error { Stub }
pub fn parse(_args: &[Vec<u8>]) -> Result<Request, Error> { Err(Error::Stub) }
