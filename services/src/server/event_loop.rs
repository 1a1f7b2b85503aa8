//! The mio readiness loop: listeners, connections, timers and shutdown signals.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::os::unix::net::UnixListener as StdUnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use mio::net::{UnixListener, UnixStream};
use mio::{Events, Interest, Poll, Token};
use signal_hook_mio::v1_0::Signals;
use tracing::{debug, info, warn};

use super::access::AccessPolicy;
use super::queue::SendQueue;
use crate::wire::{Framer, RawMessage};

/// Identifies one connection for the lifetime of the process (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub usize);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Who is at the other end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client that connected to one of our listeners.
    Client,
    /// A service we connected to, by its section name.
    Outbound(String),
}

/// What the handler decides after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the connection and go on reading.
    Continue,
    /// Drop the connection; the reason is logged.
    Drop(String),
}

impl Verdict {
    /// The verdict for a message type this handler does not know.
    pub fn unknown(msg: &RawMessage) -> Self {
        Verdict::Drop(format!(
            "unknown message type {} (size {})",
            msg.msg_type(),
            msg.len()
        ))
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The peer closed its end.
    Closed,
    /// A read or write failed.
    Io(String),
    /// The bytes were not valid GNUnet framing.
    Framing(String),
    /// The handler dropped it.
    Dropped(String),
    /// Its send queue overflowed or made no progress for too long.
    Stuck(String),
    /// The runtime is shutting down.
    Shutdown,
}

/// Why [`Ctx::send`] refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is gone (or about to be).
    #[error("connection {0} is closed")]
    Closed(ConnId),
    /// The queue is over its hard limit; the connection is being dropped as stuck.
    #[error("send queue of {0} is full; connection dropped")]
    QueueFull(ConnId),
}

/// Errors that end the whole runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// Creating or polling the readiness loop failed.
    #[error("event loop: {0}")]
    Poll(#[source] io::Error),
    /// Installing the SIGTERM/SIGINT handlers failed.
    #[error("signal setup: {0}")]
    Signals(#[source] io::Error),
}

/// Bounds that keep one slow or hostile connection from costing the others.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Queued bytes above which we stop reading from that connection until it drains.
    pub pause_reading_at: usize,
    /// Queued bytes above which the connection is dropped as stuck.
    pub max_queue: usize,
    /// A queue that has not shrunk for this long gets its connection dropped as stuck.
    pub stuck_after: Duration,
    /// Bytes read from one connection per loop turn before others get a turn.
    pub read_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pause_reading_at: 256 * 1024,
            max_queue: 8 * 1024 * 1024,
            stuck_after: Duration::from_secs(60),
            read_budget: 256 * 1024,
        }
    }
}

/// The protocol side of a service: called by the loop for every event.
pub trait Handler {
    /// A connection is up (accepted client, or outbound connect done).
    fn connected(&mut self, _ctx: &mut Ctx, _conn: ConnId, _origin: &Origin) {}
    /// One complete message arrived on `conn`.
    fn message(&mut self, ctx: &mut Ctx, conn: ConnId, msg: RawMessage) -> Verdict;
    /// `conn` is gone; forget everything about it.
    fn disconnected(&mut self, _ctx: &mut Ctx, _conn: ConnId, _reason: &DisconnectReason) {}
    /// A timer set with [`Ctx::set_timer`] is due.
    fn timer(&mut self, _ctx: &mut Ctx, _token: u64) {}
    /// `conn` had passed the pause mark and its queue is down to half of it: produce more.
    fn drained(&mut self, _ctx: &mut Ctx, _conn: ConnId) {}
    /// SIGTERM or SIGINT arrived; the loop ends after this returns and queues are flushed.
    fn shutdown(&mut self, _ctx: &mut Ctx) {}
}

struct Connection {
    stream: UnixStream,
    origin: Origin,
    framer: Framer,
    queue: SendQueue,
    /// When the queue last shrank, or became non-empty.
    progress_at: Instant,
    /// The queue passed the pause mark: we stop reading from this connection and call
    /// `drained` once it is down to half the mark.
    backlogged: bool,
    /// Data may be waiting in the socket that we have not read (budget or pause).
    read_more: bool,
    /// The peer closed its end (or the socket failed): the end of the stream is waiting
    /// behind any data, and no further edge will announce it, so reads go on to the end.
    hung_up: bool,
    closing: Option<DisconnectReason>,
}

impl Connection {
    /// Writes what the socket takes of the queue. False if the write failed: the connection
    /// is then marked for closing.
    fn write_queued(&mut self) -> bool {
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
                self.closing
                    .get_or_insert(DisconnectReason::Io(e.to_string()));
                false
            }
        }
    }
}

/// The runtime as the handler sees it: send, close, connect, timers, shutdown.
pub struct Ctx {
    poll: Poll,
    conns: HashMap<usize, Connection>,
    next_token: usize,
    timers: BTreeMap<(Instant, u64), u64>,
    timer_seq: u64,
    limits: Limits,
    stopping: bool,
    /// Connections whose `connected` call is still due.
    fresh: Vec<ConnId>,
}

const SIGNAL_TOKEN: Token = Token(usize::MAX);
const FIRST_CONN_TOKEN: usize = 1024;

impl Ctx {
    /// The current time, for handlers that pass time into their logic.
    pub fn now(&self) -> Instant {
        Instant::now()
    }

    /// Queues one complete message for `conn`.
    pub fn send(&mut self, conn: ConnId, msg: Vec<u8>) -> Result<(), SendError> {
        let max = self.limits.max_queue;
        let c = match self.conns.get_mut(&conn.0) {
            Some(c) if c.closing.is_none() => c,
            _ => return Err(SendError::Closed(conn)),
        };
        if c.queue.is_empty() {
            c.progress_at = Instant::now();
        }
        c.queue.push(msg);
        if c.queue.bytes() > self.limits.pause_reading_at {
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

    /// Connects to a service's unix socket. The handler gets `connected` on the next turn.
    pub fn connect(&mut self, path: &Path, service: &str) -> io::Result<ConnId> {
        let stream = UnixStream::connect(path)?;
        let id = self.add_connection(stream, Origin::Outbound(service.to_string()))?;
        Ok(id)
    }

    /// Calls the handler's `timer(token)` after `after`. Returns a key for [`Ctx::cancel_timer`].
    pub fn set_timer(&mut self, after: Duration, token: u64) -> (Instant, u64) {
        self.timer_seq += 1;
        let key = (Instant::now() + after, self.timer_seq);
        self.timers.insert(key, token);
        key
    }

    /// Cancels a timer; unknown keys are ignored.
    pub fn cancel_timer(&mut self, key: (Instant, u64)) {
        self.timers.remove(&key);
    }

    /// Ends the loop once queues are flushed (bounded by a short grace period).
    pub fn stop(&mut self) {
        self.stopping = true;
    }

    fn add_connection(&mut self, mut stream: UnixStream, origin: Origin) -> io::Result<ConnId> {
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
                origin,
                framer: Framer::new(),
                queue: SendQueue::default(),
                progress_at: Instant::now(),
                backlogged: false,
                read_more: true,
                hung_up: false,
                closing: None,
            },
        );
        self.fresh.push(ConnId(token));
        Ok(ConnId(token))
    }
}

/// A service's event loop: its listeners, its connections and its [`Handler`].
pub struct Runtime<H: Handler> {
    ctx: Ctx,
    listeners: Vec<UnixListener>,
    signals: Signals,
    handler: H,
    access: AccessPolicy,
    /// Scratch buffer for socket reads, allocated once.
    read_buf: Vec<u8>,
}

/// Bytes read from a socket in one call.
const READ_CHUNK: usize = 64 * 1024;

impl<H: Handler> Runtime<H> {
    /// A runtime serving `listeners` (from ARM or [`super::bind_unix`]) with `handler`.
    pub fn new(
        listeners: Vec<StdUnixListener>,
        handler: H,
        limits: Limits,
    ) -> Result<Self, RuntimeError> {
        let poll = Poll::new().map_err(RuntimeError::Poll)?;
        let mut signals =
            Signals::new([libc::SIGTERM, libc::SIGINT]).map_err(RuntimeError::Signals)?;
        poll.registry()
            .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)
            .map_err(RuntimeError::Signals)?;
        let mut mio_listeners = Vec::with_capacity(listeners.len());
        for (i, l) in listeners.into_iter().enumerate() {
            l.set_nonblocking(true).map_err(RuntimeError::Poll)?;
            let mut l = UnixListener::from_std(l);
            poll.registry()
                .register(&mut l, Token(i), Interest::READABLE)
                .map_err(RuntimeError::Poll)?;
            mio_listeners.push(l);
        }
        Ok(Self {
            ctx: Ctx {
                poll,
                conns: HashMap::new(),
                next_token: FIRST_CONN_TOKEN,
                timers: BTreeMap::new(),
                timer_seq: 0,
                limits,
                stopping: false,
                fresh: Vec::new(),
            },
            listeners: mio_listeners,
            signals,
            handler,
            access: AccessPolicy::default(),
            read_buf: vec![0; READ_CHUNK],
        })
    }

    /// Refuses clients whose credentials the `UNIX_MATCH_*` policy does not allow.
    pub fn with_access(mut self, access: AccessPolicy) -> Self {
        self.access = access;
        self
    }

    /// Lets the handler act before the loop starts (e.g. connect to other services).
    pub fn with_ctx<R>(&mut self, f: impl FnOnce(&mut H, &mut Ctx) -> R) -> R {
        f(&mut self.handler, &mut self.ctx)
    }

    /// The handler, for inspection after the loop ended.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Gives the handler back, e.g. to inspect its state after [`Runtime::run`] returned.
    pub fn into_handler(self) -> H {
        self.handler
    }

    /// Runs until SIGTERM/SIGINT or [`Ctx::stop`]; then flushes queues briefly and returns.
    pub fn run(&mut self) -> Result<(), RuntimeError> {
        let mut events = Events::with_capacity(256);
        let mut stop_deadline: Option<Instant> = None;
        loop {
            self.announce_fresh();
            self.service_pending_reads();
            self.flush_all();
            self.reap();
            if self.ctx.stopping {
                let deadline =
                    *stop_deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(2));
                let unflushed = self.ctx.conns.values().any(|c| !c.queue.is_empty());
                if !unflushed || Instant::now() >= deadline {
                    self.close_all();
                    return Ok(());
                }
            }
            let timeout = self.poll_timeout();
            match self.ctx.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(RuntimeError::Poll(e)),
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNAL_TOKEN => self.on_signal(),
                    Token(i) if i < self.listeners.len() => self.accept(i),
                    Token(t) => {
                        if let Some(c) = self.ctx.conns.get_mut(&t) {
                            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                                c.read_more = true;
                            }
                            if ev.is_read_closed() || ev.is_error() {
                                c.hung_up = true;
                            }
                        }
                        if ev.is_writable() {
                            self.flush(t);
                        }
                    }
                }
            }
            self.fire_timers();
            self.check_stuck();
        }
    }

    fn poll_timeout(&self) -> Option<Duration> {
        if !self.ctx.fresh.is_empty()
            || self
                .ctx
                .conns
                .values()
                .any(|c| c.read_more && !c.backlogged || c.closing.is_some())
        {
            return Some(Duration::ZERO);
        }
        let now = Instant::now();
        let timer = self
            .ctx
            .timers
            .keys()
            .next()
            .map(|(at, _)| at.saturating_duration_since(now));
        let stuck_check = if self.ctx.conns.values().any(|c| !c.queue.is_empty()) {
            Some(Duration::from_secs(1))
        } else {
            None
        };
        let stop = self.ctx.stopping.then_some(Duration::from_millis(50));
        [timer, stuck_check, stop].into_iter().flatten().min()
    }

    fn on_signal(&mut self) {
        let got: Vec<i32> = self.signals.pending().collect();
        if got.is_empty() || self.ctx.stopping {
            return;
        }
        info!(signals = ?got, "shutting down");
        self.handler.shutdown(&mut self.ctx);
        self.ctx.stopping = true;
    }

    fn accept(&mut self, i: usize) {
        loop {
            let Some(listener) = self.listeners.get(i) else {
                return;
            };
            match listener.accept() {
                Ok((stream, _)) => {
                    if let Err(reason) = self.access.check(&stream) {
                        warn!(%reason, "client refused");
                        continue;
                    }
                    match self.ctx.add_connection(stream, Origin::Client) {
                        Ok(id) => debug!(conn = %id, "client connected"),
                        Err(e) => warn!(error = %e, "cannot register accepted client"),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    return;
                }
            }
        }
    }

    fn announce_fresh(&mut self) {
        while !self.ctx.fresh.is_empty() {
            for id in std::mem::take(&mut self.ctx.fresh) {
                if let Some(origin) = self.ctx.conns.get(&id.0).map(|c| c.origin.clone()) {
                    self.handler.connected(&mut self.ctx, id, &origin);
                }
            }
        }
    }

    /// Reads from every connection that may have data, within its budget, and dispatches.
    fn service_pending_reads(&mut self) {
        let mut tokens: Vec<usize> = self
            .ctx
            .conns
            .iter()
            .filter(|(_, c)| c.read_more && !c.backlogged && c.closing.is_none())
            .map(|(t, _)| *t)
            .collect();
        tokens.sort_unstable();
        for t in tokens {
            self.read(t);
        }
    }

    fn read(&mut self, t: usize) {
        let mut buf = std::mem::take(&mut self.read_buf);
        buf.resize(READ_CHUNK, 0);
        self.read_into(t, &mut buf);
        self.read_buf = buf;
    }

    fn read_into(&mut self, t: usize, buf: &mut [u8]) {
        let budget = self.ctx.limits.read_budget;
        let mut taken = 0;
        loop {
            let Some(c) = self.ctx.conns.get_mut(&t) else {
                return;
            };
            if c.closing.is_some() {
                return;
            }
            if c.backlogged || taken >= budget {
                // Edge-triggered: remember that the socket may still hold data.
                c.read_more = true;
                return;
            }
            match c.stream.read(buf) {
                Ok(0) => {
                    let reason = match c.framer.finish() {
                        Ok(()) => DisconnectReason::Closed,
                        Err(e) => DisconnectReason::Framing(e.to_string()),
                    };
                    c.closing = Some(reason);
                    c.read_more = false;
                    return;
                }
                Ok(n) => {
                    taken += n;
                    c.framer.push(&buf[..n]);
                    // A short read emptied the socket; anything arriving later raises a new
                    // edge, so the extra read that would only say "would block" is skipped.
                    // Not after a hang-up: the end of the stream raises no further edge.
                    let drained = n < buf.len() && !c.hung_up;
                    if drained {
                        c.read_more = false;
                    }
                    self.dispatch(t);
                    if drained {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.read_more = false;
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    c.closing = Some(DisconnectReason::Io(e.to_string()));
                    return;
                }
            }
        }
    }

    /// Hands every complete buffered message of `t` to the handler, one at a time.
    fn dispatch(&mut self, t: usize) {
        loop {
            let Some(c) = self.ctx.conns.get_mut(&t) else {
                return;
            };
            if c.closing.is_some() {
                return;
            }
            let msg = match c.framer.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(e) => {
                    c.closing = Some(DisconnectReason::Framing(e.to_string()));
                    return;
                }
            };
            let id = ConnId(t);
            if let Verdict::Drop(reason) = self.handler.message(&mut self.ctx, id, msg) {
                self.ctx.close(id, &reason);
                return;
            }
            self.announce_fresh();
        }
    }

    fn flush_all(&mut self) {
        let tokens: Vec<usize> = self
            .ctx
            .conns
            .iter()
            .filter(|(_, c)| !c.queue.is_empty())
            .map(|(t, _)| *t)
            .collect();
        for t in tokens {
            self.flush(t);
        }
    }

    fn flush(&mut self, t: usize) {
        let mark = self.ctx.limits.pause_reading_at;
        let Some(c) = self.ctx.conns.get_mut(&t) else {
            return;
        };
        if c.queue.is_empty() || !c.write_queued() {
            return;
        }
        if c.backlogged && c.queue.bytes() <= mark / 2 {
            c.backlogged = false;
            c.read_more = true;
            self.handler.drained(&mut self.ctx, ConnId(t));
        }
    }

    /// Removes connections marked for closing and tells the handler.
    fn reap(&mut self) {
        loop {
            let Some(t) = self
                .ctx
                .conns
                .iter()
                .find(|(_, c)| c.closing.is_some())
                .map(|(t, _)| *t)
            else {
                return;
            };
            let Some(mut c) = self.ctx.conns.remove(&t) else {
                return;
            };
            // Best effort: a dropped client still gets what was queued before the drop.
            let _ = c.queue.write_to(&mut c.stream);
            let _ = self.ctx.poll.registry().deregister(&mut c.stream);
            let reason = c.closing.take().unwrap_or(DisconnectReason::Closed);
            match &reason {
                DisconnectReason::Closed => debug!(conn = t, origin = ?c.origin, "disconnected"),
                DisconnectReason::Shutdown => {}
                other => warn!(conn = t, origin = ?c.origin, reason = ?other, "connection dropped"),
            }
            self.handler.disconnected(&mut self.ctx, ConnId(t), &reason);
        }
    }

    fn close_all(&mut self) {
        for c in self.ctx.conns.values_mut() {
            c.closing.get_or_insert(DisconnectReason::Shutdown);
        }
        self.reap();
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some((&key, &token)) = self.ctx.timers.iter().next() {
            if key.0 > now {
                break;
            }
            self.ctx.timers.remove(&key);
            self.handler.timer(&mut self.ctx, token);
        }
    }

    fn check_stuck(&mut self) {
        let now = Instant::now();
        let limit = self.ctx.limits.stuck_after;
        for c in self.ctx.conns.values_mut() {
            if !c.queue.is_empty()
                && c.closing.is_none()
                && now.duration_since(c.progress_at) > limit
            {
                c.closing = Some(DisconnectReason::Stuck(format!(
                    "no write progress for {limit:?} with {} bytes queued",
                    c.queue.bytes()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            poll: Poll::new().unwrap(),
            conns: HashMap::new(),
            next_token: FIRST_CONN_TOKEN,
            timers: BTreeMap::new(),
            timer_seq: 0,
            limits: Limits::default(),
            stopping: false,
            fresh: Vec::new(),
        }
    }

    #[test]
    fn flush_now_writes_before_the_loop_turn_ends() {
        let mut ctx = ctx();
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        theirs.set_nonblocking(true).unwrap();
        let conn = ctx
            .add_connection(UnixStream::from_std(ours), Origin::Client)
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
}
