//! What a handler can do from inside the loop: send, close, timers, links, stop.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use mio::net::UnixStream;
use mio::{Interest, Poll, Token};
use tracing::{debug, warn};

use super::event_loop::{ConnId, DisconnectReason, Limits, SendError};
use super::link::{Link, LinkError, LinkId};
use super::queue::SendQueue;
use crate::wire::Framer;

/// One open connection: an accepted client or the current connection of a link.
pub(super) struct Connection {
    pub stream: UnixStream,
    /// The link this connection serves; `None` for a client.
    pub link: Option<LinkId>,
    pub framer: Framer,
    pub queue: SendQueue,
    /// When the queue last shrank, or became non-empty.
    pub progress_at: Instant,
    /// The queue passed the pause mark: we stop reading from this connection and call
    /// `drained` once it is down to half the mark.
    pub backlogged: bool,
    /// Data may be waiting in the socket that we have not read (budget or pause).
    pub read_more: bool,
    /// The peer closed its end (or the socket failed): the end of the stream is waiting
    /// behind any data, and no further edge will announce it, so reads go on to the end.
    pub hung_up: bool,
    pub closing: Option<DisconnectReason>,
}

impl Connection {
    /// Writes what the socket takes of the queue. False if the write failed: the connection
    /// is then marked for closing.
    pub fn write_queued(&mut self) -> bool {
        if self.queue.is_empty() {
            return true;
        }
        match self.queue.write_to(&mut self.stream) {
            Ok(0) => true,
            Ok(_) => {
                self.progress_at = Instant::now();
                true
            }
            Err(e) => {
                self.closing.get_or_insert(DisconnectReason::from_io(&e));
                false
            }
        }
    }
}

/// A connection whose `connected` or `link_up` call is still due.
#[derive(Debug, Clone, Copy)]
pub(super) enum Fresh {
    Client(ConnId),
    Link(LinkId),
}

/// Names a timer set with [`Ctx::set_timer`], for [`Ctx::cancel_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerKey(Instant, u64);

impl TimerKey {
    /// When the timer is due.
    pub fn at(&self) -> Instant {
        self.0
    }
}

/// The runtime as the handler sees it: send, close, timers, links, shutdown. `T` is the
/// handler's timer token ([`super::Handler::Timer`]).
pub struct Ctx<T> {
    pub(super) poll: Poll,
    pub(super) conns: HashMap<usize, Connection>,
    pub(super) next_token: usize,
    pub(super) timers: BTreeMap<TimerKey, T>,
    pub(super) timer_seq: u64,
    pub(super) links: Vec<Option<Link>>,
    pub(super) limits: Limits,
    pub(super) stopping: bool,
    pub(super) fresh: Vec<Fresh>,
}

pub(super) const FIRST_CONN_TOKEN: usize = 1024;

impl<T> Ctx<T> {
    pub(super) fn new(poll: Poll, limits: Limits) -> Self {
        Self {
            poll,
            conns: HashMap::new(),
            next_token: FIRST_CONN_TOKEN,
            timers: BTreeMap::new(),
            timer_seq: 0,
            links: Vec::new(),
            limits,
            stopping: false,
            fresh: Vec::new(),
        }
    }

    /// The current time: the one clock a handler passes into its logic.
    pub fn now(&self) -> Instant {
        Instant::now()
    }

    /// Queues one complete message for client `conn`.
    pub fn send(&mut self, conn: ConnId, msg: Vec<u8>) -> Result<(), SendError> {
        let max = self.limits.max_queue;
        let pause = self.limits.pause_reading_at;
        let c = match self.conns.get_mut(&conn.0) {
            Some(c) if c.closing.is_none() => c,
            _ => return Err(SendError::Closed(conn)),
        };
        if c.queue.is_empty() {
            c.progress_at = Instant::now();
        }
        c.queue.push(msg);
        if c.queue.bytes() > pause {
            c.backlogged = true;
        }
        if c.queue.bytes() > max {
            c.closing = Some(DisconnectReason::Stuck(format!(
                "send queue over {max} bytes"
            )));
            return Err(SendError::QueueFull(conn));
        }
        Ok(())
    }

    /// Writes what is queued for `conn` now instead of at the end of this loop turn, for a
    /// message whose latency matters more than batching (e.g. a flow-control ACK sent before
    /// slow work on the message it acknowledges). What the socket does not take stays queued.
    /// A backlogged connection is left to the loop (it also resumes reading there).
    pub fn flush_now(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn.0) else {
            return;
        };
        if c.closing.is_some() || c.backlogged {
            return;
        }
        c.write_queued();
    }

    /// Bytes waiting to be written to `conn` (0 if unknown).
    pub fn queued(&self, conn: ConnId) -> usize {
        self.conns.get(&conn.0).map_or(0, |c| c.queue.bytes())
    }

    /// Whether `conn` is open and not being closed.
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.conns.get(&conn.0).is_some_and(|c| c.closing.is_none())
    }

    /// Closes `conn` after this turn; the handler gets `disconnected`.
    pub fn close(&mut self, conn: ConnId, reason: &str) {
        if let Some(c) = self.conns.get_mut(&conn.0) {
            c.closing
                .get_or_insert(DisconnectReason::Dropped(reason.to_string()));
        }
    }

    /// Calls the handler's `timer(token)` after `after`.
    pub fn set_timer(&mut self, after: Duration, token: T) -> TimerKey {
        self.timer_seq += 1;
        let key = TimerKey(Instant::now() + after, self.timer_seq);
        self.timers.insert(key, token);
        key
    }

    /// Cancels a timer and returns its token; unknown or fired keys give `None`.
    pub fn cancel_timer(&mut self, key: TimerKey) -> Option<T> {
        self.timers.remove(&key)
    }

    /// Ends the loop once queues are flushed (bounded by a short grace period).
    pub fn stop(&mut self) {
        self.stopping = true;
    }

    // ------------------------------------------------------------------ links

    /// Opens a link to the service listening on `path` (`service` names it in logs). The
    /// first attempt is made now; failures are retried with back-off, and the handler gets
    /// `link_up` once a connection stands.
    pub fn open_link(&mut self, path: &Path, service: &str) -> LinkId {
        let id = LinkId(self.links.len());
        self.links.push(Some(Link::new(
            path.to_path_buf(),
            service.to_string(),
            self.limits.link_retry_max,
        )));
        self.connect_link(id);
        id
    }

    /// Closes `link` for good: its connection is closed after this turn (the handler gets
    /// `link_down` with [`DisconnectReason::Dropped`]) and it is not reconnected.
    pub fn close_link(&mut self, link: LinkId, reason: &str) {
        let Some(l) = self.links.get_mut(link.0).and_then(Option::take) else {
            return;
        };
        match l.conn {
            Some(t) => {
                if let Some(c) = self.conns.get_mut(&t) {
                    c.closing
                        .get_or_insert(DisconnectReason::Dropped(reason.to_string()));
                }
            }
            None => debug!(%link, service = %l.service, "closed while down"),
        }
    }

    /// Whether `link` has a connection now.
    pub fn link_is_up(&self, link: LinkId) -> bool {
        self.link_conn(link).is_ok()
    }

    /// Queues one complete message on `link`. A link that is down refuses it (see
    /// [`super::link`] for why nothing is queued across reconnects).
    pub fn link_send(&mut self, link: LinkId, msg: Vec<u8>) -> Result<(), LinkError> {
        let conn = self.link_conn(link)?;
        self.send(conn, msg).map_err(|e| match e {
            SendError::QueueFull(_) => LinkError::QueueFull(link),
            _ => LinkError::Down(link),
        })
    }

    /// [`Ctx::flush_now`] for a link.
    pub fn link_flush_now(&mut self, link: LinkId) {
        if let Ok(conn) = self.link_conn(link) {
            self.flush_now(conn);
        }
    }

    /// Keeps `msg` under `key` as a registration of `link`: it is sent now if the link is up,
    /// and first on every reconnect. Registering a key again replaces its message (and sends
    /// the new one if up).
    pub fn register(&mut self, link: LinkId, key: &[u8], msg: Vec<u8>) -> Result<(), LinkError> {
        let l = self
            .links
            .get_mut(link.0)
            .and_then(Option::as_mut)
            .ok_or(LinkError::Unknown(link))?;
        if !l.registrations.insert(key, msg.clone()) {
            return Err(LinkError::TooManyRegistrations(link));
        }
        match self.link_send(link, msg) {
            Ok(()) | Err(LinkError::Down(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Forgets the registration of `key`: it is not re-sent on later reconnects. Nothing is
    /// sent now; undoing it at the service (e.g. cadet's PORT_CLOSE) is the handler's message.
    /// False if there was none.
    pub fn unregister(&mut self, link: LinkId, key: &[u8]) -> bool {
        self.links
            .get_mut(link.0)
            .and_then(Option::as_mut)
            .is_some_and(|l| l.registrations.remove(key))
    }

    /// Whether `link` holds a registration under `key`.
    pub fn is_registered(&self, link: LinkId, key: &[u8]) -> bool {
        self.links
            .get(link.0)
            .and_then(Option::as_ref)
            .is_some_and(|l| l.registrations.contains(key))
    }

    fn link_conn(&self, link: LinkId) -> Result<ConnId, LinkError> {
        let l = self
            .links
            .get(link.0)
            .and_then(Option::as_ref)
            .ok_or(LinkError::Unknown(link))?;
        match l.conn {
            Some(t) if self.conns.get(&t).is_some_and(|c| c.closing.is_none()) => Ok(ConnId(t)),
            _ => Err(LinkError::Down(link)),
        }
    }

    /// One connection attempt for `link`: on success its registrations are queued first and
    /// `link_up` is due; on failure a retry is scheduled.
    pub(super) fn connect_link(&mut self, link: LinkId) {
        let now = Instant::now();
        let Some(l) = self.links.get_mut(link.0).and_then(Option::as_mut) else {
            return;
        };
        l.retry_at = None;
        let stream = match UnixStream::connect(&l.path) {
            Ok(s) => s,
            Err(e) => {
                let at = l.schedule_retry(now);
                let retry_in = at.saturating_duration_since(now);
                if l.warned {
                    debug!(service = %l.service, error = %e, ?retry_in, "still cannot connect");
                } else {
                    l.warned = true;
                    warn!(service = %l.service, path = %l.path.display(), error = %e, ?retry_in,
                        "cannot connect; retrying with back-off");
                }
                return;
            }
        };
        let messages: Vec<Vec<u8>> = l.registrations.messages().cloned().collect();
        match self.add_connection(stream, Some(link)) {
            Ok(conn) => {
                if let Some(l) = self.links.get_mut(link.0).and_then(Option::as_mut) {
                    l.conn = Some(conn.0);
                    l.up_since = Some(now);
                    l.warned = false;
                }
                for m in messages {
                    // A queue over its limit marks the connection stuck: it reconnects.
                    let _ = self.send(conn, m);
                }
                self.fresh.push(Fresh::Link(link));
            }
            Err(e) => {
                if let Some(l) = self.links.get_mut(link.0).and_then(Option::as_mut) {
                    l.schedule_retry(now);
                    warn!(service = %l.service, error = %e, "cannot register link connection");
                }
            }
        }
    }

    pub(super) fn add_connection(
        &mut self,
        mut stream: UnixStream,
        link: Option<LinkId>,
    ) -> io::Result<ConnId> {
        let token = self.next_token;
        self.next_token += 1;
        self.poll.registry().register(
            &mut stream,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.conns.insert(
            token,
            Connection {
                stream,
                link,
                framer: Framer::new(),
                queue: SendQueue::default(),
                progress_at: Instant::now(),
                backlogged: false,
                read_more: true,
                hung_up: false,
                closing: None,
            },
        );
        if link.is_none() {
            self.fresh.push(Fresh::Client(ConnId(token)));
        }
        Ok(ConnId(token))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn ctx() -> Ctx<()> {
        Ctx::new(Poll::new().unwrap(), Limits::default())
    }

    #[test]
    fn flush_now_writes_before_the_loop_turn_ends() {
        let mut ctx = ctx();
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        theirs.set_nonblocking(true).unwrap();
        let conn = ctx
            .add_connection(UnixStream::from_std(ours), None)
            .unwrap();
        let msg = vec![0, 8, 3, 253, 0, 0, 0, 7];
        ctx.send(conn, msg.clone()).unwrap();
        let mut buf = [0u8; 16];
        let mut peer = &theirs;
        assert_eq!(
            peer.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "send only queues"
        );
        ctx.flush_now(conn);
        assert_eq!(ctx.queued(conn), 0);
        let n = peer.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], &msg[..]);
        // Unknown and closing connections are left alone.
        ctx.flush_now(ConnId(1));
        ctx.send(conn, msg.clone()).unwrap();
        ctx.close(conn, "test");
        ctx.flush_now(conn);
        assert_eq!(ctx.queued(conn), msg.len());
    }

    #[test]
    fn a_link_that_cannot_connect_refuses_sends_but_keeps_registrations() {
        let mut ctx = ctx();
        let dir = tempfile::tempdir().unwrap();
        let link = ctx.open_link(&dir.path().join("nobody.sock"), "nobody");
        assert!(!ctx.link_is_up(link));
        assert_eq!(
            ctx.link_send(link, vec![0, 4, 0, 1]),
            Err(LinkError::Down(link))
        );
        assert_eq!(ctx.register(link, b"k", vec![0, 4, 0, 1]), Ok(()));
        assert!(ctx.unregister(link, b"k"));
        assert!(!ctx.unregister(link, b"k"));
        let retry = ctx.links[0].as_ref().unwrap().retry_at;
        assert!(retry.is_some(), "a retry is scheduled");
        ctx.close_link(link, "test");
        assert_eq!(
            ctx.link_send(link, vec![0, 4, 0, 1]),
            Err(LinkError::Unknown(link))
        );
    }
}
