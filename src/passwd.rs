//! passwd/group (stub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User { pub name: Vec<u8>, pub uid: u32, pub gid: u32, pub home: Vec<u8>, pub shell: Vec<u8> }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group { pub name: Vec<u8>, pub gid: u32, pub members: Vec<Vec<u8>> }
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error { Stub }
pub fn parse_passwd_line(_line: &[u8]) -> Result<User, Error> { Err(Error::Stub) }
pub fn parse_group_line(_line: &[u8]) -> Result<Group, Error> { Err(Error::Stub) }
pub fn find_user_by_name(_file: &[u8], _name: &[u8]) -> Result<Option<User>, Error> { Ok(None) }
pub fn find_user_by_uid(_file: &[u8], _uid: u32) -> Result<Option<User>, Error> { Ok(None) }
pub fn supplementary_groups(_file: &[u8], _user: &[u8], _primary: u32) -> Result<Vec<u32>, Error> { Ok(vec![]) }
