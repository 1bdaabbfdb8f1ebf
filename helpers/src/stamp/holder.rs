//! The stamp holder: the process `stampctl -M` leaves behind, owning one stamp's socket.
//!
//! `Stamp` is the pure state machine (tableau, owner, limits, penalty) that answers one request
//! at a time; `serve` is the single-threaded poll loop around it. Invariants: one holder is one
//! stamp (no request names a stamp, so nothing a client sends concerns another); the holder
//! exits at its end time, at its idle timeout, after its last counted use, or when ended, and
//! removes its socket first (only if the name still holds *its* socket); every client gets at
//! most `MAX_REQUEST` bytes per line, `MAX_REQUESTS` requests and `CONN_DEADLINE` of time, and at
//! most `MAX_CLIENTS` are served at once (the oldest is dropped for a newcomer), so no client
//! can hang the holder or make it grow.

use super::place;
use super::wire::{self, Reply, Request, MAX_REQUEST};
use crate::sys;
use opwire::dir::Dir;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

/// Clients served at once.
pub const MAX_CLIENTS: usize = 16;
/// Requests on one connection.
pub const MAX_REQUESTS: usize = 64;
/// How long one connection may stay open.
pub const CONN_DEADLINE: Duration = Duration::from_secs(10);
/// Unsent replies kept for a client that does not read (more means it is dropped).
const MAX_PENDING: usize = MAX_REQUESTS * wire::MAX_REPLY;

/// Whose authority a request carries: a root peer (stampctl under op or escapes, or root
/// itself) speaks for the uid it names; anyone else for itself only.
pub fn acting_uid(peer_uid: u32, claimed: u32) -> u32 {
    if peer_uid == 0 {
        claimed
    } else {
        peer_uid
    }
}

/// What the holder does after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Continue,
    /// Remove the socket, send the reply, exit.
    End,
}

/// One stamp's state. Times are boot-clock offsets (`sys::boottime`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    tableau: Vec<(Vec<u8>, Vec<u8>)>,
    owner: u32,
    penalty: bool,
    remaining: Option<u32>,
    end_at: Duration,
    idle: Option<Duration>,
    last_use: Duration,
}

/// How a stamp is built (`stampctl -M`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub tableau: Vec<(Vec<u8>, Vec<u8>)>,
    /// The uid that may end, refresh or penalise it besides root.
    pub owner: u32,
    pub penalty: bool,
    /// At most this many `y` answers.
    pub max: Option<u32>,
    /// Lifetime from creation.
    pub end: Duration,
    pub idle: Option<Duration>,
}

impl Stamp {
    pub fn new(terms: Terms, now: Duration) -> Stamp {
        Stamp {
            tableau: terms.tableau,
            owner: terms.owner,
            penalty: terms.penalty,
            remaining: terms.max,
            end_at: now.saturating_add(terms.end),
            idle: terms.idle,
            last_use: now,
        }
    }

    /// When the stamp ends unless used or refreshed.
    pub fn expires_at(&self) -> Duration {
        match self.idle {
            Some(i) => self.end_at.min(self.last_use.saturating_add(i)),
            None => self.end_at,
        }
    }

    pub fn expired(&self, now: Duration) -> bool {
        now >= self.expires_at() || self.remaining == Some(0)
    }

    fn may_change(&self, acting: u32) -> bool {
        acting == 0 || acting == self.owner
    }

    fn ok(&self) -> Reply {
        Reply::Ok { idle_secs: self.idle.map_or(0, |d| d.as_secs()) }
    }

    /// The answer to one request from a peer whose SO_PEERCRED uid is `peer_uid`.
    pub fn answer(&mut self, req: &Request, peer_uid: u32, now: Duration) -> (Reply, After) {
        if self.expired(now) {
            return (Reply::No, After::End);
        }
        let acting = |claimed: u32| acting_uid(peer_uid, claimed);
        match req {
            Request::Query(name) => {
                let v = self.tableau.iter().find(|(k, _)| k == name);
                let r = v.map_or(Reply::Absent, |(_, v)| Reply::Value(v.clone()));
                (r, After::Continue)
            }
            Request::Status if self.penalty => (Reply::Penalty, After::Continue),
            Request::Status => {
                self.last_use = now;
                match self.remaining {
                    Some(n) if n <= 1 => {
                        self.remaining = Some(0);
                        (Reply::Yes, After::End)
                    }
                    Some(n) => {
                        self.remaining = Some(n - 1);
                        (Reply::Yes, After::Continue)
                    }
                    None => (Reply::Yes, After::Continue),
                }
            }
            Request::Refresh(u) if !self.may_change(acting(*u)) => (Reply::Denied, After::Continue),
            Request::Refresh(_) if self.penalty => (Reply::Penalty, After::Continue),
            Request::Refresh(_) => {
                self.last_use = now;
                (self.ok(), After::Continue)
            }
            Request::Penalty(u) if !self.may_change(acting(*u)) => (Reply::Denied, After::Continue),
            Request::Penalty(_) => {
                self.penalty = true;
                (self.ok(), After::Continue)
            }
            Request::End(u) | Request::EndPenalty(u) if !self.may_change(acting(*u)) => {
                (Reply::Denied, After::Continue)
            }
            Request::End(_) if self.penalty => (Reply::Penalty, After::Continue),
            Request::End(_) | Request::EndPenalty(_) => (self.ok(), After::End),
        }
    }
}

/// A holder about to serve: its listening socket, the directory holding it, its name there
/// and its identity (device, inode), so that it removes only its own socket.
pub struct Holder {
    pub listener: UnixListener,
    pub dir: Dir,
    pub name: Vec<u8>,
    pub inode: (u64, u64),
    pub stamp: Stamp,
}

impl Holder {
    /// Unlinks the socket if the name still refers to the one this holder bound.
    pub fn remove_socket(&self) {
        if let Ok(Some((_, st))) = self.dir.entry(&self.name) {
            if (st.dev, st.ino) == self.inode {
                let _ = place::unlink(&self.dir, &self.name);
            }
        }
    }
}

struct Client {
    stream: UnixStream,
    peer_uid: u32,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    deadline: Instant,
    served: usize,
    /// No more requests are read; drop once the replies are out.
    closing: bool,
}

impl Client {
    fn done(&self, now: Instant) -> bool {
        now >= self.deadline || (self.closing && self.outbuf.is_empty())
    }

    fn flush(&mut self) -> io::Result<()> {
        while !self.outbuf.is_empty() {
            match self.stream.write(&self.outbuf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.outbuf.drain(..n.min(self.outbuf.len()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

enum Event {
    Nothing,
    /// The stamp ended; this reply goes out last.
    End(Vec<u8>),
}

/// Reads what the client sent and answers each complete line.
fn service(c: &mut Client, stamp: &mut Stamp) -> Event {
    let mut chunk = [0u8; 256];
    while !c.closing {
        match c.stream.read(&mut chunk) {
            Ok(0) => {
                c.closing = true;
            }
            Ok(n) => c.inbuf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                c.closing = true;
                c.outbuf.clear();
            }
        }
        loop {
            let (reply, consumed) = match wire::next_line(&c.inbuf, MAX_REQUEST) {
                Ok(None) => break,
                Err(_) => {
                    c.closing = true;
                    (Reply::BadRequest, c.inbuf.len())
                }
                Ok(Some((line, used))) => {
                    c.served += 1;
                    let r = match wire::parse_request(line) {
                        Err(_) => {
                            c.closing = true;
                            Reply::BadRequest
                        }
                        Ok(req) => {
                            let (r, after) = stamp.answer(&req, c.peer_uid, sys::boottime());
                            if after == After::End {
                                return Event::End(r.encode());
                            }
                            r
                        }
                    };
                    if c.served >= MAX_REQUESTS {
                        c.closing = true;
                    }
                    (r, used)
                }
            };
            c.inbuf.drain(..consumed.min(c.inbuf.len()));
            c.outbuf.extend(reply.encode());
            if c.closing {
                c.inbuf.clear();
                break;
            }
        }
        if c.outbuf.len() > MAX_PENDING {
            c.closing = true;
            c.outbuf.clear();
        }
    }
    Event::Nothing
}

/// Ends the holder: removes the socket, sends `last` (if any) to `to`, exits 0.
fn finish(h: &Holder, to: Option<&mut Client>, last: Option<Vec<u8>>) -> ! {
    h.remove_socket();
    if let (Some(c), Some(bytes)) = (to, last) {
        c.outbuf.extend(bytes);
        let _ = c.stream.set_nonblocking(false);
        let _ = c.stream.set_write_timeout(Some(Duration::from_millis(200)));
        let _ = c.flush();
    }
    std::process::exit(0)
}

/// Serves until the stamp ends. Never returns.
pub fn serve(mut h: Holder) -> ! {
    let mut clients: Vec<Client> = Vec::new();
    loop {
        let now = sys::boottime();
        if h.stamp.expired(now) {
            finish(&h, None, None);
        }
        let mono = Instant::now();
        clients.retain(|c| !c.done(mono));
        let mut timeout = h.stamp.expires_at().saturating_sub(now);
        for c in &clients {
            timeout = timeout.min(c.deadline.saturating_duration_since(mono));
        }
        let mut fds = vec![(h.listener.as_fd(), libc::POLLIN)];
        for c in &clients {
            let mut ev = 0;
            if !c.closing {
                ev |= libc::POLLIN;
            }
            if !c.outbuf.is_empty() {
                ev |= libc::POLLOUT;
            }
            fds.push((c.stream.as_fd(), ev));
        }
        let ready = match sys::poll(&fds, Some(timeout)) {
            Ok(r) => r,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        drop(fds);
        let mut i = 0;
        while i < clients.len() {
            let revents = ready.get(i + 1).copied().unwrap_or(0);
            if revents != 0 {
                let Some(c) = clients.get_mut(i) else { break };
                if let Event::End(last) = service(c, &mut h.stamp) {
                    finish(&h, Some(c), Some(last));
                }
                if c.flush().is_err() || revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                    c.closing = true;
                    c.outbuf.clear();
                }
            }
            i += 1;
        }
        if ready.first().copied().unwrap_or(0) != 0 {
            accept_all(&h.listener, &mut clients);
        }
    }
}

fn accept_all(listener: &UnixListener, clients: &mut Vec<Client>) {
    for _ in 0..MAX_CLIENTS * 4 {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let Ok((_, peer_uid, _)) = sys::peer_credentials(&stream) else {
            continue;
        };
        if stream.set_nonblocking(true).is_err() {
            continue;
        }
        if clients.len() >= MAX_CLIENTS {
            // The oldest connection goes: a crowd of idle clients cannot lock newcomers out
            // for longer than it takes them to reconnect.
            clients.remove(0);
        }
        clients.push(Client {
            stream,
            peer_uid,
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            deadline: Instant::now() + CONN_DEADLINE,
            served: 0,
            closing: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Duration = Duration::from_secs(1000);

    fn stamp(owner: u32, penalty: bool, max: Option<u32>, idle: Option<u64>) -> Stamp {
        Stamp::new(
            Terms {
                tableau: vec![(b"TTY".to_vec(), b"/dev/pts/3".to_vec())],
                owner,
                penalty,
                max,
                end: Duration::from_secs(600),
                idle: idle.map(Duration::from_secs),
            },
            T0,
        )
    }

    fn at(s: u64) -> Duration {
        T0 + Duration::from_secs(s)
    }

    #[test]
    fn answers_queries_and_status() {
        let mut s = stamp(1000, false, None, None);
        let q = |n: &[u8]| Request::Query(n.to_vec());
        assert_eq!(s.answer(&q(b"TTY"), 0, at(1)).0, Reply::Value(b"/dev/pts/3".to_vec()));
        assert_eq!(s.answer(&q(b"DISPLAY"), 0, at(1)).0, Reply::Absent);
        assert_eq!(s.answer(&Request::Status, 0, at(1)), (Reply::Yes, After::Continue));
    }

    #[test]
    fn ends_at_its_end_time_whatever_the_use() {
        let mut s = stamp(0, false, None, Some(60));
        for t in (0..600).step_by(30) {
            assert_eq!(s.answer(&Request::Status, 0, at(t)).0, Reply::Yes, "{t}");
        }
        assert_eq!(s.answer(&Request::Status, 0, at(600)), (Reply::No, After::End));
        assert!(s.expired(at(600)));
    }

    #[test]
    fn idle_timeout_is_reset_by_use_and_refresh() {
        let mut s = stamp(0, false, None, Some(60));
        assert_eq!(s.expires_at(), at(60));
        s.answer(&Request::Status, 0, at(50));
        assert_eq!(s.expires_at(), at(110));
        assert_eq!(s.answer(&Request::Refresh(0), 0, at(100)).0, Reply::Ok { idle_secs: 60 });
        assert_eq!(s.expires_at(), at(160));
        assert!(s.expired(at(160)));
        // Queries alone do not keep it alive.
        let mut s = stamp(0, false, None, Some(60));
        s.answer(&Request::Query(b"TTY".to_vec()), 0, at(59));
        assert!(s.expired(at(60)));
    }

    #[test]
    fn count_runs_out() {
        let mut s = stamp(0, false, Some(2), None);
        assert_eq!(s.answer(&Request::Status, 0, at(1)), (Reply::Yes, After::Continue));
        assert_eq!(s.answer(&Request::Status, 0, at(2)), (Reply::Yes, After::End));
        assert!(s.expired(at(2)));
        assert_eq!(s.answer(&Request::Status, 0, at(3)), (Reply::No, After::End));
    }

    #[test]
    fn penalty_denies_and_holds_against_k_but_not_k_capital() {
        let mut s = stamp(1000, true, Some(1), None);
        assert_eq!(s.answer(&Request::Status, 0, at(1)).0, Reply::Penalty);
        assert_eq!(s.answer(&Request::Status, 0, at(2)).0, Reply::Penalty, "no count used");
        assert_eq!(s.answer(&Request::End(0), 0, at(3)).0, Reply::Penalty);
        assert_eq!(s.answer(&Request::Refresh(0), 0, at(3)).0, Reply::Penalty);
        assert_eq!(s.answer(&Request::EndPenalty(1000), 0, at(4)).1, After::End);
    }

    #[test]
    fn penalty_mode_can_be_switched_on() {
        let mut s = stamp(1000, false, None, None);
        assert_eq!(s.answer(&Request::Penalty(1000), 0, at(1)).0, Reply::Ok { idle_secs: 0 });
        assert_eq!(s.answer(&Request::Status, 0, at(2)).0, Reply::Penalty);
    }

    #[test]
    fn only_root_or_the_owner_changes_state() {
        let mut s = stamp(1000, false, None, None);
        for req in [Request::Refresh(2000), Request::Penalty(2000), Request::End(2000), Request::EndPenalty(2000)] {
            // A root peer speaking for uid 2000, and uid 2000 itself: both refused.
            assert_eq!(s.answer(&req, 0, at(1)), (Reply::Denied, After::Continue), "{req:?}");
            assert_eq!(s.answer(&req, 2000, at(1)).0, Reply::Denied, "{req:?}");
        }
        // A non-root peer cannot borrow root's or the owner's authority by claiming it.
        assert_eq!(s.answer(&Request::End(0), 2000, at(1)).0, Reply::Denied);
        assert_eq!(s.answer(&Request::End(1000), 2000, at(1)).0, Reply::Denied);
        assert_eq!(s.answer(&Request::Status, 0, at(1)).0, Reply::Yes);
        // The owner, directly or through a root peer, and root itself may.
        assert_eq!(s.clone().answer(&Request::End(1000), 1000, at(1)).1, After::End);
        assert_eq!(s.clone().answer(&Request::End(1000), 0, at(1)).1, After::End);
        assert_eq!(s.clone().answer(&Request::End(0), 0, at(1)).1, After::End);
    }

    #[test]
    fn acting_uid_believes_only_root_peers() {
        assert_eq!(acting_uid(0, 1000), 1000);
        assert_eq!(acting_uid(1000, 0), 1000);
        assert_eq!(acting_uid(1000, 2000), 1000);
    }
}
