//! The mio readiness loop: listeners, connections, links, timers and shutdown signals.

use std::io::{self, Read};
use std::os::unix::net::UnixListener as StdUnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::UnixListener;
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook_mio::v1_0::Signals;
use tracing::{debug, info, warn};

use super::access::AccessPolicy;
use super::ctx::{Ctx, Fresh};
use super::link::LinkId;
use crate::wire::RawMessage;

/// Identifies one connection for the lifetime of the process (never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub usize);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
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

impl DisconnectReason {
    /// The reason for a failed read or write. A reset or broken pipe is the other end closing
    /// with data still unread (a client that sent requests and left without the replies): a
    /// normal disconnect, not an I/O fault.
    pub fn from_io(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Self::Closed,
            _ => Self::Io(e.to_string()),
        }
    }
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
    /// Longest pause between two connection attempts of a link that is down.
    pub link_retry_max: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pause_reading_at: 256 * 1024,
            max_queue: 8 * 1024 * 1024,
            stuck_after: Duration::from_secs(60),
            read_budget: 256 * 1024,
            link_retry_max: Duration::from_secs(5),
        }
    }
}

/// The protocol side of a service: called by the loop for every event.
pub trait Handler {
    /// What the handler's timers carry: given to [`Ctx::set_timer`], handed back to
    /// [`Handler::timer`] (typically an enum of the handler's timer kinds).
    type Timer;

    /// The loop is about to run, before any client is accepted: open the links a service
    /// needs from the start, and load what it restores (a service that must act without a
    /// client, like social re-entering its places).
    fn started(&mut self, _ctx: &mut Ctx<Self::Timer>) {}
    /// A client connected to one of our listeners.
    fn connected(&mut self, _ctx: &mut Ctx<Self::Timer>, _conn: ConnId) {}
    /// One complete message arrived from client `conn`.
    fn message(&mut self, ctx: &mut Ctx<Self::Timer>, conn: ConnId, msg: RawMessage) -> Verdict;
    /// Client `conn` is gone; forget everything about it.
    fn disconnected(
        &mut self,
        _ctx: &mut Ctx<Self::Timer>,
        _conn: ConnId,
        _reason: &DisconnectReason,
    ) {
    }
    /// A timer set with [`Ctx::set_timer`] is due.
    fn timer(&mut self, _ctx: &mut Ctx<Self::Timer>, _token: Self::Timer) {}
    /// `conn` had passed the pause mark and its queue is down to half of it: produce more.
    fn drained(&mut self, _ctx: &mut Ctx<Self::Timer>, _conn: ConnId) {}
    /// `link` (see [`Ctx::open_link`]) has a new connection; its registrations are already
    /// queued on it.
    fn link_up(&mut self, _ctx: &mut Ctx<Self::Timer>, _link: LinkId) {}
    /// One complete message arrived on `link`. [`Verdict::Drop`] closes its connection (the
    /// link then reconnects).
    fn link_message(
        &mut self,
        _ctx: &mut Ctx<Self::Timer>,
        _link: LinkId,
        msg: RawMessage,
    ) -> Verdict {
        Verdict::unknown(&msg)
    }
    /// `link` lost its connection: what was sent on it is gone. Unless the runtime is
    /// stopping or the handler closed the link, it reconnects with back-off.
    fn link_down(
        &mut self,
        _ctx: &mut Ctx<Self::Timer>,
        _link: LinkId,
        _reason: &DisconnectReason,
    ) {
    }
    /// SIGTERM or SIGINT arrived; the loop ends after this returns and queues are flushed.
    fn shutdown(&mut self, _ctx: &mut Ctx<Self::Timer>) {}
}

/// A service's event loop: its listeners, its connections, its links and its [`Handler`].
pub struct Runtime<H: Handler> {
    ctx: Ctx<H::Timer>,
    listeners: Vec<UnixListener>,
    signals: Signals,
    handler: H,
    access: AccessPolicy,
    /// Scratch buffer for socket reads, allocated once.
    read_buf: Vec<u8>,
    stop_handle: StopHandle,
}

/// Stops a [`Runtime`] from another thread as SIGTERM would: the handler gets `shutdown`,
/// queues are flushed briefly, and `run` returns. For tests and embedders.
#[derive(Clone, Debug)]
pub struct StopHandle {
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl StopHandle {
    /// Asks the loop to stop; returns at once.
    pub fn stop(&self) {
        self.requested.store(true, Ordering::Release);
        // A failed wake only delays the stop until the loop's next event.
        let _ = self.waker.wake();
    }
}

const SIGNAL_TOKEN: Token = Token(usize::MAX);
const WAKE_TOKEN: Token = Token(usize::MAX - 1);

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
        let waker = Waker::new(poll.registry(), WAKE_TOKEN).map_err(RuntimeError::Poll)?;
        let stop_handle = StopHandle {
            requested: Arc::new(AtomicBool::new(false)),
            waker: Arc::new(waker),
        };
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
            ctx: Ctx::new(poll, limits),
            listeners: mio_listeners,
            signals,
            handler,
            access: AccessPolicy::default(),
            read_buf: vec![0; READ_CHUNK],
            stop_handle,
        })
    }

    /// A handle that stops this runtime from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop_handle.clone()
    }

    /// Refuses clients whose credentials the `UNIX_MATCH_*` policy does not allow.
    pub fn with_access(mut self, access: AccessPolicy) -> Self {
        self.access = access;
        self
    }

    /// Lets the handler act before the loop starts (e.g. open links to other services).
    pub fn with_ctx<R>(&mut self, f: impl FnOnce(&mut H, &mut Ctx<H::Timer>) -> R) -> R {
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
        self.handler.started(&mut self.ctx);
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
                    WAKE_TOKEN => {
                        if self.stop_handle.requested.load(Ordering::Acquire) {
                            self.begin_shutdown("stop requested");
                        }
                    }
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
            self.retry_links();
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
            .map(|key| key.at().saturating_duration_since(now));
        let retry = (!self.ctx.stopping)
            .then(|| {
                self.ctx
                    .links
                    .iter()
                    .flatten()
                    .filter_map(|l| l.retry_at)
                    .min()
            })
            .flatten()
            .map(|at| at.saturating_duration_since(now));
        let stuck_check = if self.ctx.conns.values().any(|c| !c.queue.is_empty()) {
            Some(Duration::from_secs(1))
        } else {
            None
        };
        let stop = self.ctx.stopping.then_some(Duration::from_millis(50));
        [timer, retry, stuck_check, stop]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_signal(&mut self) {
        let got: Vec<i32> = self.signals.pending().collect();
        if !got.is_empty() {
            self.begin_shutdown(&format!("signals {got:?}"));
        }
    }

    fn begin_shutdown(&mut self, why: &str) {
        if self.ctx.stopping {
            return;
        }
        info!(why, "shutting down");
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
                    match self.ctx.add_connection(stream, None) {
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
            for fresh in std::mem::take(&mut self.ctx.fresh) {
                match fresh {
                    Fresh::Client(id) if self.ctx.conns.contains_key(&id.0) => {
                        self.handler.connected(&mut self.ctx, id);
                    }
                    Fresh::Link(link) if self.ctx.link_is_up(link) => {
                        debug!(%link, "link up");
                        self.handler.link_up(&mut self.ctx, link);
                    }
                    _ => {}
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
                    c.closing = Some(DisconnectReason::from_io(&e));
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
            let verdict = match c.link {
                Some(link) => self.handler.link_message(&mut self.ctx, link, msg),
                None => self.handler.message(&mut self.ctx, id, msg),
            };
            if let Verdict::Drop(reason) = verdict {
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
            if c.link.is_none() {
                self.handler.drained(&mut self.ctx, ConnId(t));
            }
        }
    }

    /// Removes connections marked for closing and tells the handler; links that lost their
    /// connection get a retry scheduled (not while stopping).
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
            match c.link {
                Some(link) => self.link_lost(link, &reason),
                None => {
                    match &reason {
                        DisconnectReason::Closed => debug!(conn = t, "client disconnected"),
                        DisconnectReason::Shutdown => {}
                        other => warn!(conn = t, reason = ?other, "client dropped"),
                    }
                    self.handler.disconnected(&mut self.ctx, ConnId(t), &reason);
                }
            }
        }
    }

    fn link_lost(&mut self, link: LinkId, reason: &DisconnectReason) {
        let stopping = self.ctx.stopping;
        match self.ctx.links.get_mut(link.0).and_then(Option::as_mut) {
            Some(l) if !stopping => {
                let retry_in = l
                    .schedule_retry(Instant::now())
                    .saturating_duration_since(Instant::now());
                warn!(service = %l.service, ?reason, ?retry_in, "link lost; reconnecting");
            }
            Some(l) => l.conn = None,
            // Closed by the handler: nothing to reconnect.
            None => debug!(%link, ?reason, "link closed"),
        }
        self.handler.link_down(&mut self.ctx, link, reason);
    }

    fn close_all(&mut self) {
        self.ctx.stopping = true;
        for c in self.ctx.conns.values_mut() {
            c.closing.get_or_insert(DisconnectReason::Shutdown);
        }
        self.reap();
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(key) = self.ctx.timers.keys().next().copied() {
            if key.at() > now {
                break;
            }
            if let Some(token) = self.ctx.timers.remove(&key) {
                self.handler.timer(&mut self.ctx, token);
            }
        }
    }

    /// Connection attempts of links whose back-off is over.
    fn retry_links(&mut self) {
        if self.ctx.stopping {
            return;
        }
        let now = Instant::now();
        let due: Vec<LinkId> = (0..self.ctx.links.len())
            .filter(|&i| {
                self.ctx.links[i]
                    .as_ref()
                    .and_then(|l| l.retry_at)
                    .is_some_and(|at| at <= now)
            })
            .map(LinkId)
            .collect();
        for link in due {
            self.ctx.connect_link(link);
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
