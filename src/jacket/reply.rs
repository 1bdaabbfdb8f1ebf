//! The reply language a helmet or jacket writes on its stdout (op(1l), `op-jacket-protocol.md`
//! §2): the one the helpers write and coat relays, `opwire::reply` (its module comment lists
//! every form). escapes reads it in a confined child of its own (`confined::service::reply`;
//! the root process holds only the values), with op's `&` redirections refused (escapes
//! implements none), and a protocol error is **sticky**: the first bad line refuses the whole
//! reply, as does a reply over [`MAX_REPLY`] bytes (op would let a later `0` undo a junk line,
//! flaw F5; it reads without limit, F7).

pub use opwire::reply::edit::{is_name, Edit, Reply, MAX_REPLY};
