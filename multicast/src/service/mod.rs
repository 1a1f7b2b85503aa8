//! The service driver: puts the sans-IO [`crate::group::Node`] on the runtime's mio loop.
//!
//! It makes no protocol decisions. It
//! - maps client connections to [`ClientId`]s and CADET channel numbers to [`ChannelId`]s;
//! - speaks the CADET client protocol on one connection to the peer's C cadet service: ports,
//!   channel create/destroy, `LOCAL_DATA` under `LOCAL_ACK` credit, and a `LOCAL_ACK`
//!   (receive-done) for each received message, written as soon as the message is read (before
//!   its signature is checked) unless a channel is congested: the C cadet service drops what a
//!   sender sends more than four messages past the receiver's last receive-done and
//!   retransmits it only after 75 ms or more, so a slow receive-done stalls the channel;
//! - keeps a bounded queue per channel ([`channels::QueueLimits`]): while a channel has more
//!   than a few messages waiting for credit, the input that fed it is not acknowledged (the
//!   client's FRAGMENT_ACK, or the parent channel's receive-done), so the origin slows to the
//!   pace of the tree; past the bound the channel is closed and counted, so one slow peer
//!   never holds the others up for long (its member re-attaches and replays the gap);
//! - relies on the runtime's bounded per-client queues (a client that stops reading is
//!   dropped when its queue passes the hard limit);
//! - carries out timers, and sends statistics to the statistics service, coalesced;
//! - reconnects to cadet and statistics with back-off when they go away.

mod channels;
mod stats;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gnunet_service::cadet::msg::{
    ChannelCreate, ChannelDestroy, LocalAck, LocalData, LocalDataRef, PortClose, PortOpen,
    TYPE_LOCAL_ACK, TYPE_LOCAL_CHANNEL_CREATE, TYPE_LOCAL_CHANNEL_DESTROY, TYPE_LOCAL_DATA,
};
use gnunet_service::cadet::{FIRST_CLIENT_CCN, MAX_CADET_MESSAGE_SIZE};
use gnunet_service::client::Backoff;
use gnunet_service::config::Config;
use gnunet_service::crypto::HashCode;
use gnunet_service::peer::PeerIdentity;
use gnunet_service::server::{ConnId, Ctx, DisconnectReason, Handler, Origin, Verdict};
use gnunet_service::wire::{Message, RawMessage};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use tracing::{debug, info, warn};

pub use channels::QueueLimits;
use channels::{Channels, Queued};
pub use stats::{PendingStats, SUBSYSTEM};

use crate::crypto::GnunetCrypto;
use crate::group::{
    Action, ChannelId, ClientId, ClientMessage, Config as GroupConfig, Node, PeerMessage, Timer,
};
use crate::msg::TYPE_FRAGMENT_ACK;

/// Config section of the service.
pub const SECTION: &str = "multicast";

/// Statistic: channels closed because their queue overflowed (a peer too slow to keep up).
pub const STAT_SLOW_CHANNELS: &str = "# channels closed for slow peers";

/// How long statistics are coalesced before they are sent.
const STATS_PERIOD: Duration = Duration::from_millis(200);
/// How long an acknowledgement may be held for a congested channel before that channel is
/// closed as too slow (so a peer that stops granting credit cannot stall its group).
const HOLD_PATIENCE: Duration = Duration::from_secs(10);
/// How often held acknowledgements are checked against [`HOLD_PATIENCE`].
const HOLD_CHECK_PERIOD: Duration = Duration::from_secs(1);
/// Longest pause between reconnection attempts to cadet or statistics.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

const TIMER_STATS_FLUSH: u64 = 1;
const TIMER_CADET_RECONNECT: u64 = 2;
const TIMER_STATS_RECONNECT: u64 = 3;
const TIMER_HOLD_CHECK: u64 = 4;
/// Tokens from here on carry the logic's timers.
const FIRST_LOGIC_TIMER: u64 = 16;

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A config value could not be read.
    #[error("bad configuration value [{section}] {option}: {reason}")]
    BadValue {
        /// Section.
        section: &'static str,
        /// Option.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A service we need has no UNIXPATH.
    #[error("[{0}] UNIXPATH is not set")]
    NoSocket(&'static str),
    /// Our own peer identity is unknown.
    #[error("cannot learn this peer's identity: {0}")]
    Identity(String),
}

/// Everything the service reads from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// This peer.
    pub me: PeerIdentity,
    /// Knobs of the group logic (`[multicast] MAX_CHILDREN`, …).
    pub group: GroupConfig,
    /// Channel queue bounds (`[multicast] CHANNEL_QUEUE`).
    pub queue: QueueLimits,
    /// The cadet service's socket.
    pub cadet_socket: PathBuf,
    /// The statistics service's socket, if configured.
    pub statistics_socket: Option<PathBuf>,
}

fn number(cfg: &Config, option: &'static str) -> Result<Option<u64>, ServiceError> {
    cfg.get_number(SECTION, option)
        .map_err(|e| ServiceError::BadValue {
            section: SECTION,
            option,
            reason: e.to_string(),
        })
}

impl ServiceConfig {
    /// Reads `[multicast]` (`MAX_CHILDREN`: children per peer before tree-capable joiners are
    /// redirected; `CHANNEL_QUEUE`: messages waiting for CADET credit per channel before the
    /// channel is closed; `REPLAY_CACHE_SIZE`: bytes of fragments kept per group for replays,
    /// 0 for none), the cadet and statistics sockets, and this peer's identity (from
    /// `[PEER] PRIVATE_KEY`, else by asking CORE).
    pub fn from_config(cfg: &Config) -> Result<Self, ServiceError> {
        let mut group = GroupConfig::default();
        if let Some(n) = number(cfg, "MAX_CHILDREN")? {
            if n == 0 {
                return Err(ServiceError::BadValue {
                    section: SECTION,
                    option: "MAX_CHILDREN",
                    reason: "must be at least 1".into(),
                });
            }
            group.max_children = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) =
            cfg.get_size(SECTION, "REPLAY_CACHE_SIZE")
                .map_err(|e| ServiceError::BadValue {
                    section: SECTION,
                    option: "REPLAY_CACHE_SIZE",
                    reason: e.to_string(),
                })?
        {
            group.replay_cache_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let mut queue = QueueLimits::default();
        if let Some(n) = number(cfg, "CHANNEL_QUEUE")? {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n < 2 * queue.congested_at {
                return Err(ServiceError::BadValue {
                    section: SECTION,
                    option: "CHANNEL_QUEUE",
                    reason: format!("must be at least {}", 2 * queue.congested_at),
                });
            }
            queue.max_messages = n;
        }
        let cadet_socket = socket(cfg, "cadet").ok_or(ServiceError::NoSocket("cadet"))?;
        let statistics_socket = socket(cfg, "statistics");
        let me = own_identity(cfg)?;
        Ok(Self {
            me,
            group,
            queue,
            cadet_socket,
            statistics_socket,
        })
    }
}

fn socket(cfg: &Config, service: &str) -> Option<PathBuf> {
    cfg.get_filename(service, "UNIXPATH")
        .filter(|p| !p.as_os_str().is_empty())
}

fn own_identity(cfg: &Config) -> Result<PeerIdentity, ServiceError> {
    if let Some(path) = cfg.get_filename("PEER", "PRIVATE_KEY") {
        match PeerIdentity::from_private_key_file(&path) {
            Ok(id) => return Ok(id),
            Err(e) => debug!(error = %e, "no host key file; asking CORE"),
        }
    }
    gnunet_service::core::own_identity(cfg, Duration::from_secs(30))
        .map_err(|e| ServiceError::Identity(e.to_string()))
}

/// What completes an input once the channels it fed have room again.
#[derive(Debug)]
enum Release {
    /// A FRAGMENT_ACK (or other held message) for a client.
    Client(ConnId, Vec<u8>),
    /// The receive-done of a channel message.
    CadetAck(ChannelId),
}

/// An acknowledgement held back while channels it fed are congested.
#[derive(Debug)]
struct Hold {
    waiting: BTreeSet<ChannelId>,
    release: Release,
    since: Instant,
}

/// Which input a batch of actions answers.
#[derive(Debug, Clone, Copy)]
enum Input {
    Client(ClientId),
    Channel(ChannelId),
    Other,
}

/// A connection to another service, reconnected with back-off.
#[derive(Debug, Default)]
struct Link {
    conn: Option<ConnId>,
    backoff: Backoff,
    reconnect_pending: bool,
}

/// The multicast service: the group logic plus its connections.
pub struct Service {
    node: Node<GnunetCrypto, ChaCha8Rng>,
    cfg: ServiceConfig,
    cadet: Link,
    stats_link: Link,
    channels: Channels,
    ports: BTreeSet<HashCode>,
    stats: PendingStats,
    stats_flush_pending: bool,
    timers: HashMap<u64, Timer>,
    next_timer: u64,
    holds: Vec<Hold>,
    hold_check_pending: bool,
}

impl Service {
    /// A service with `cfg`; it connects to cadet and statistics when the first client comes.
    pub fn new(cfg: ServiceConfig) -> Self {
        let node = Node::new(
            cfg.me,
            cfg.group.clone(),
            GnunetCrypto,
            ChaCha8Rng::from_entropy(),
        );
        info!(peer = %hex_prefix(&cfg.me.0), max_children = cfg.group.max_children, "multicast service ready");
        Self {
            node,
            channels: Channels::new(cfg.queue),
            cfg,
            cadet: Link::default(),
            stats_link: Link::default(),
            ports: BTreeSet::new(),
            stats: PendingStats::default(),
            stats_flush_pending: false,
            timers: HashMap::new(),
            next_timer: FIRST_LOGIC_TIMER,
            holds: Vec::new(),
            hold_check_pending: false,
        }
    }

    // ------------------------------------------------------------ connections

    fn ensure_links(&mut self, ctx: &mut Ctx) {
        if self.cadet.conn.is_none() && !self.cadet.reconnect_pending {
            self.connect_cadet(ctx);
        }
        if self.stats_link.conn.is_none()
            && !self.stats_link.reconnect_pending
            && self.cfg.statistics_socket.is_some()
        {
            self.connect_stats(ctx);
        }
    }

    fn connect_cadet(&mut self, ctx: &mut Ctx) {
        self.cadet.reconnect_pending = false;
        match ctx.connect(&self.cfg.cadet_socket, "cadet") {
            Ok(conn) => {
                self.cadet.conn = Some(conn);
                // Ports opened before (or while cadet was away) are opened again.
                for port in self.ports.clone() {
                    let _ = ctx.send(conn, PortOpen { port }.to_message());
                }
            }
            Err(e) => {
                warn!(error = %e, path = %self.cfg.cadet_socket.display(), "cannot connect to cadet");
                self.schedule_reconnect(ctx, TIMER_CADET_RECONNECT);
            }
        }
    }

    fn connect_stats(&mut self, ctx: &mut Ctx) {
        self.stats_link.reconnect_pending = false;
        let Some(path) = self.cfg.statistics_socket.clone() else {
            return;
        };
        match ctx.connect(&path, "statistics") {
            Ok(conn) => {
                self.stats_link.conn = Some(conn);
                self.flush_stats(ctx);
            }
            Err(e) => {
                debug!(error = %e, "cannot connect to statistics");
                self.schedule_reconnect(ctx, TIMER_STATS_RECONNECT);
            }
        }
    }

    fn schedule_reconnect(&mut self, ctx: &mut Ctx, token: u64) {
        let link = if token == TIMER_CADET_RECONNECT {
            &mut self.cadet
        } else {
            &mut self.stats_link
        };
        if link.reconnect_pending {
            return;
        }
        link.reconnect_pending = true;
        let delay = link.backoff.next_delay().min(MAX_RECONNECT_DELAY);
        ctx.set_timer(delay, token);
    }

    fn cadet_send(&mut self, ctx: &mut Ctx, msg: Vec<u8>) {
        if let Some(conn) = self.cadet.conn {
            if let Err(e) = ctx.send(conn, msg) {
                warn!(error = %e, "cadet connection lost while sending");
            }
        }
    }

    /// The cadet connection is gone: every channel with it.
    fn cadet_lost(&mut self, ctx: &mut Ctx) {
        self.cadet.conn = None;
        let now = Instant::now();
        for ch in self.channels.clear() {
            self.node.handle_channel_destroyed(now, ch);
        }
        self.release_all_holds(ctx);
        self.run_actions(ctx, Input::Other);
        self.schedule_reconnect(ctx, TIMER_CADET_RECONNECT);
    }

    // ---------------------------------------------------------------- actions

    /// Carries out every action the logic has for us. FRAGMENT_ACKs for the client whose
    /// message caused them (and the receive-done of the channel message that caused them) are
    /// held while a channel they fed is congested.
    fn run_actions(&mut self, ctx: &mut Ctx, input: Input) {
        let now = Instant::now();
        let mut fed: BTreeSet<ChannelId> = BTreeSet::new();
        let mut acks: Vec<Vec<u8>> = Vec::new();
        while let Some(action) = self.node.poll_action() {
            match action {
                Action::SendClient { client, msg } => {
                    let is_ack = crate::msg::message_type(&msg) == Some(TYPE_FRAGMENT_ACK);
                    match input {
                        Input::Client(c) if c == client && is_ack => acks.push(msg),
                        _ => {
                            // A full queue drops the client; `disconnected` tells the logic.
                            let _ = ctx.send(conn_of(client), msg);
                        }
                    }
                }
                Action::DropClient { client, reason } => ctx.close(conn_of(client), &reason),
                Action::OpenPort { port } => {
                    if self.ports.insert(port) {
                        self.cadet_send(ctx, PortOpen { port }.to_message());
                    }
                }
                Action::ClosePort { port } => {
                    if self.ports.remove(&port) {
                        self.cadet_send(ctx, PortClose { port }.to_message());
                    }
                }
                Action::OpenChannel {
                    channel,
                    peer,
                    port,
                } => {
                    if self.cadet.conn.is_none() {
                        // No CADET right now: the attempt fails at once, the logic moves on.
                        self.node.handle_channel_destroyed(now, channel);
                        continue;
                    }
                    let ccn = self.channels.allocate_ccn();
                    self.channels.insert(channel, ccn);
                    self.cadet_send(
                        ctx,
                        ChannelCreate {
                            ccn,
                            peer,
                            port,
                            opt: 0,
                        }
                        .to_message(),
                    );
                }
                Action::SendChannel { channel, msg } => {
                    if msg.len() > MAX_CADET_MESSAGE_SIZE {
                        warn!(
                            channel = channel.0,
                            size = msg.len(),
                            "message too large for CADET dropped"
                        );
                        continue;
                    }
                    match self.channels.enqueue(channel, msg) {
                        Queued::Ok => {
                            self.pump(ctx, channel);
                            fed.insert(channel);
                        }
                        Queued::Overflow => {
                            warn!(
                                channel = channel.0,
                                "channel queue overflowed (peer too slow); closing it"
                            );
                            self.stats.add(STAT_SLOW_CHANNELS, 1);
                            self.destroy_now(ctx, channel);
                            self.node.handle_channel_destroyed(now, channel);
                        }
                        Queued::Unknown => {}
                    }
                }
                Action::CloseChannel { channel, reason } => {
                    debug!(channel = channel.0, reason, "closing channel");
                    self.close_channel(ctx, channel);
                }
                Action::SetTimer { at, timer } => {
                    let token = self.next_timer;
                    self.next_timer += 1;
                    self.timers.insert(token, timer);
                    ctx.set_timer(at.saturating_duration_since(now), token);
                }
                Action::Statistic { name, delta } => self.stats.add(name, delta),
            }
        }
        let congested: BTreeSet<ChannelId> = fed
            .into_iter()
            .filter(|c| self.channels.congested(*c))
            .collect();
        match input {
            Input::Client(client) => {
                for msg in acks {
                    if congested.is_empty() {
                        let _ = ctx.send(conn_of(client), msg);
                    } else {
                        self.holds.push(Hold {
                            waiting: congested.clone(),
                            release: Release::Client(conn_of(client), msg),
                            since: now,
                        });
                    }
                }
            }
            Input::Channel(ch) => {
                if congested.is_empty() {
                    self.receive_done(ctx, ch);
                } else {
                    self.holds.push(Hold {
                        waiting: congested,
                        release: Release::CadetAck(ch),
                        since: now,
                    });
                }
            }
            Input::Other => {}
        }
        if !self.holds.is_empty() && !self.hold_check_pending {
            self.hold_check_pending = true;
            ctx.set_timer(HOLD_CHECK_PERIOD, TIMER_HOLD_CHECK);
        }
        if !self.stats.is_empty() && !self.stats_flush_pending {
            self.stats_flush_pending = true;
            ctx.set_timer(STATS_PERIOD, TIMER_STATS_FLUSH);
        }
    }

    /// Sends what credit allows on `ch`; finishes a close once the queue is out; releases
    /// holds once it is no longer congested.
    fn pump(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        let Some(ccn) = self.channels.get_mut(ch).map(|c| c.ccn) else {
            return;
        };
        for payload in self.channels.sendable(ch) {
            // Header and payload as two buffers of one write: no copy of the payload.
            match LocalData::prefix(ccn, 0, payload.len()) {
                Some(prefix) => {
                    self.cadet_send(ctx, prefix.to_vec());
                    self.cadet_send(ctx, payload);
                }
                None => warn!(
                    channel = ch.0,
                    size = payload.len(),
                    "message too large for CADET dropped"
                ),
            }
        }
        let closing = self.channels.get_mut(ch).is_some_and(|c| c.closing);
        if closing && self.channels.is_idle(ch) {
            self.destroy_now(ctx, ch);
        }
        if !self.channels.congested(ch) {
            self.release_holds(ctx, ch);
        }
    }

    /// The logic closed `ch`: send what credit allows, destroy once the rest is out.
    fn close_channel(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        let Some(c) = self.channels.get_mut(ch) else {
            return;
        };
        c.closing = true;
        self.pump(ctx, ch);
        self.release_holds(ctx, ch);
    }

    /// Destroys `ch` at CADET and forgets it (the logic is told by the caller if needed).
    fn destroy_now(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        if let Some(c) = self.channels.remove(ch) {
            self.cadet_send(ctx, ChannelDestroy { ccn: c.ccn }.to_message());
        }
        self.release_holds(ctx, ch);
    }

    fn receive_done(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        let Some(c) = self.channels.get_mut(ch) else {
            return;
        };
        if c.flow.on_receive_done() {
            let ccn = c.ccn;
            self.cadet_send(ctx, LocalAck { ccn }.to_message());
        }
    }

    fn release_holds(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        if self.holds.is_empty() {
            return;
        }
        let (ready, waiting): (Vec<Hold>, Vec<Hold>) = std::mem::take(&mut self.holds)
            .into_iter()
            .map(|mut h| {
                h.waiting.remove(&ch);
                h
            })
            .partition(|h| h.waiting.is_empty());
        self.holds = waiting;
        for h in ready {
            self.release(ctx, h.release);
        }
    }

    fn release_all_holds(&mut self, ctx: &mut Ctx) {
        for h in std::mem::take(&mut self.holds) {
            self.release(ctx, h.release);
        }
    }

    fn release(&mut self, ctx: &mut Ctx, r: Release) {
        match r {
            Release::Client(conn, msg) => {
                let _ = ctx.send(conn, msg);
            }
            Release::CadetAck(ch) => self.receive_done(ctx, ch),
        }
    }

    /// Closes channels that have kept an acknowledgement held for longer than
    /// [`HOLD_PATIENCE`]: their peers stopped taking messages.
    fn check_holds(&mut self, ctx: &mut Ctx) {
        self.hold_check_pending = false;
        let now = Instant::now();
        let stuck: BTreeSet<ChannelId> = self
            .holds
            .iter()
            .filter(|h| now.duration_since(h.since) >= HOLD_PATIENCE)
            .flat_map(|h| h.waiting.iter().copied())
            .collect();
        for ch in stuck {
            warn!(
                channel = ch.0,
                "channel made no progress; closing it as too slow"
            );
            self.stats.add(STAT_SLOW_CHANNELS, 1);
            self.destroy_now(ctx, ch);
            self.node.handle_channel_destroyed(now, ch);
        }
        self.run_actions(ctx, Input::Other);
    }

    fn flush_stats(&mut self, ctx: &mut Ctx) {
        let Some(conn) = self.stats_link.conn else {
            return;
        };
        for m in self.stats.take_messages() {
            if ctx.send(conn, m).is_err() {
                break;
            }
        }
    }

    // ------------------------------------------------------------ cadet input

    fn cadet_message(&mut self, ctx: &mut Ctx, msg: RawMessage) -> Verdict {
        let now = Instant::now();
        match msg.msg_type() {
            TYPE_LOCAL_CHANNEL_CREATE => {
                let Ok(c) = ChannelCreate::from_message(msg.bytes()) else {
                    return Verdict::Drop("malformed CHANNEL_CREATE from cadet".into());
                };
                if c.ccn >= FIRST_CLIENT_CCN || self.channels.by_ccn(c.ccn).is_some() {
                    warn!(
                        ccn = c.ccn,
                        "cadet announced a channel number we cannot take"
                    );
                    self.cadet_send(ctx, ChannelDestroy { ccn: c.ccn }.to_message());
                    return Verdict::Continue;
                }
                let ch = self.node.handle_incoming_channel(now, c.peer, c.port);
                self.channels.insert(ch, c.ccn);
                self.run_actions(ctx, Input::Other);
            }
            TYPE_LOCAL_ACK => {
                let Ok(a) = LocalAck::from_message(msg.bytes()) else {
                    return Verdict::Drop("malformed LOCAL_ACK from cadet".into());
                };
                let Some(ch) = self.channels.by_ccn(a.ccn) else {
                    return Verdict::Continue;
                };
                if let Some(c) = self.channels.get_mut(ch) {
                    if let Err(e) = c.flow.on_ack() {
                        warn!(ccn = a.ccn, error = %e, "cadet credit");
                    }
                }
                self.pump(ctx, ch);
            }
            TYPE_LOCAL_DATA => self.cadet_data(ctx, now, msg),
            TYPE_LOCAL_CHANNEL_DESTROY => {
                let Ok(d) = ChannelDestroy::from_message(msg.bytes()) else {
                    return Verdict::Drop("malformed CHANNEL_DESTROY from cadet".into());
                };
                if let Some(ch) = self.channels.by_ccn(d.ccn) {
                    self.channels.remove(ch);
                    self.release_holds(ctx, ch);
                    self.node.handle_channel_destroyed(now, ch);
                    self.run_actions(ctx, Input::Other);
                }
            }
            t => debug!(msg_type = t, "ignoring cadet message"),
        }
        Verdict::Continue
    }

    fn cadet_data(&mut self, ctx: &mut Ctx, now: Instant, msg: RawMessage) {
        // The ccn comes first; read it even if the payload turns out to be bad.
        let Some(ccn) = msg
            .body()
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
        else {
            warn!("LOCAL_DATA from cadet without a channel number");
            return;
        };
        let Some(ch) = self.channels.by_ccn(ccn) else {
            debug!(ccn, "data for a channel that is gone");
            return;
        };
        if let Some(c) = self.channels.get_mut(ch) {
            c.flow.on_receive();
        }
        // CADET holds the channel's next message until we acknowledge this one, and a sender
        // that runs more than a few messages ahead of that acknowledgement has its messages
        // dropped and retransmitted after 75 ms or more. So when no channel is congested (no
        // reason to slow the sender down) acknowledge at once, before the signature check and
        // the fan-out, and put the acknowledgement on the wire right away.
        let input = if self.channels.any_congested() {
            Input::Channel(ch)
        } else {
            self.receive_done(ctx, ch);
            if let Some(conn) = self.cadet.conn {
                ctx.flush_now(conn);
            }
            Input::Other
        };
        let data = match LocalDataRef::from_message(msg.bytes()) {
            Ok(d) => d,
            Err(e) => {
                warn!(ccn, error = %e, "garbage on a channel; closing it");
                self.stats
                    .add(crate::group::stat::CHANNELS_CLOSED_BAD_INPUT, 1);
                self.destroy_now(ctx, ch);
                self.node.handle_channel_destroyed(now, ch);
                self.run_actions(ctx, Input::Other);
                return;
            }
        };
        // One message per LOCAL_DATA is the rule; take every one that is there.
        let mut rest = data.payload;
        while rest.len() >= 4 {
            let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            let Some(one) = rest.get(..size).filter(|_| size >= 4) else {
                break;
            };
            if !self.channels.contains(ch) {
                break;
            }
            match PeerMessage::decode(one) {
                Ok(m) => self.node.handle_channel_message(now, ch, m),
                Err(e) => {
                    let msg_type = crate::msg::message_type(one).unwrap_or(0);
                    warn!(
                        ccn, msg_type, size, error = %e,
                        "malformed message on a channel; closing it"
                    );
                    self.stats
                        .add(crate::group::stat::CHANNELS_CLOSED_BAD_INPUT, 1);
                    self.destroy_now(ctx, ch);
                    self.node.handle_channel_destroyed(now, ch);
                    break;
                }
            }
            rest = &rest[size..];
        }
        self.run_actions(ctx, input);
    }
}

fn conn_of(client: ClientId) -> ConnId {
    ConnId(client.0 as usize)
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

impl Handler for Service {
    fn connected(&mut self, ctx: &mut Ctx, conn: ConnId, origin: &Origin) {
        match origin {
            Origin::Client => {
                self.ensure_links(ctx);
                self.node.handle_client_connected(ClientId(conn.0 as u64));
            }
            Origin::Outbound(name) if name == "cadet" => {
                debug!("connected to cadet");
                self.cadet.backoff.reset();
            }
            Origin::Outbound(_) => self.stats_link.backoff.reset(),
        }
    }

    fn message(&mut self, ctx: &mut Ctx, conn: ConnId, msg: RawMessage) -> Verdict {
        if Some(conn) == self.cadet.conn {
            return self.cadet_message(ctx, msg);
        }
        if Some(conn) == self.stats_link.conn {
            // SET has no reply; nothing else is asked.
            return Verdict::Continue;
        }
        let client = ClientId(conn.0 as u64);
        let decoded = match ClientMessage::decode(msg.bytes()) {
            Ok(m) => m,
            Err(e) => {
                self.stats.add(crate::group::stat::CLIENTS_DROPPED, 1);
                self.run_actions(ctx, Input::Other);
                return Verdict::Drop(format!(
                    "malformed message type {} size {}: {e}",
                    msg.msg_type(),
                    msg.len()
                ));
            }
        };
        self.node
            .handle_client_message(Instant::now(), client, decoded);
        self.run_actions(ctx, Input::Client(client));
        Verdict::Continue
    }

    fn disconnected(&mut self, ctx: &mut Ctx, conn: ConnId, reason: &DisconnectReason) {
        if Some(conn) == self.cadet.conn {
            if matches!(reason, DisconnectReason::Shutdown) {
                // We are stopping; every connection goes.
                self.cadet.conn = None;
                return;
            }
            warn!(?reason, "lost the cadet service; reconnecting");
            self.cadet_lost(ctx);
            return;
        }
        if Some(conn) == self.stats_link.conn {
            debug!(?reason, "lost the statistics service; reconnecting");
            self.stats_link.conn = None;
            self.schedule_reconnect(ctx, TIMER_STATS_RECONNECT);
            return;
        }
        self.holds
            .retain(|h| !matches!(h.release, Release::Client(c, _) if c == conn));
        self.node
            .handle_client_disconnected(Instant::now(), ClientId(conn.0 as u64));
        self.run_actions(ctx, Input::Other);
    }

    fn timer(&mut self, ctx: &mut Ctx, token: u64) {
        match token {
            TIMER_STATS_FLUSH => {
                self.stats_flush_pending = false;
                self.flush_stats(ctx);
            }
            TIMER_CADET_RECONNECT => self.connect_cadet(ctx),
            TIMER_STATS_RECONNECT => self.connect_stats(ctx),
            TIMER_HOLD_CHECK => self.check_holds(ctx),
            _ => {
                if let Some(t) = self.timers.remove(&token) {
                    self.node.handle_timeout(Instant::now(), t);
                    self.run_actions(ctx, Input::Other);
                }
            }
        }
    }

    fn shutdown(&mut self, ctx: &mut Ctx) {
        self.flush_stats(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration with a host key file (so no CORE is asked) plus `extra`.
    fn config(dir: &tempfile::TempDir, extra: &str) -> Config {
        let key = dir.path().join("host.key");
        std::fs::write(&key, [7u8; 32]).unwrap();
        let mut cfg = Config::with_install_paths();
        cfg.parse_str(
            &format!(
                "[PEER]\nPRIVATE_KEY = {}\n[cadet]\nUNIXPATH = /tmp/cadet.sock\n[multicast]\n{extra}",
                key.display()
            ),
            "test.conf",
        )
        .unwrap();
        cfg
    }

    #[test]
    fn knobs_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let c = ServiceConfig::from_config(&config(&dir, "")).unwrap();
        assert_eq!(c.group, GroupConfig::default());
        assert_eq!(
            c.me,
            PeerIdentity::from_private_key(&gnunet_service::crypto::eddsa::PrivateKey([7; 32]))
        );
        let c = ServiceConfig::from_config(&config(
            &dir,
            "MAX_CHILDREN = 3\nCHANNEL_QUEUE = 100\nREPLAY_CACHE_SIZE = 2 MiB\n",
        ))
        .unwrap();
        assert_eq!(c.group.max_children, 3);
        assert_eq!(c.queue.max_messages, 100);
        assert_eq!(c.group.replay_cache_bytes, 2 << 20);
        for bad in [
            "MAX_CHILDREN = 0\n",
            "CHANNEL_QUEUE = 10\n",
            "REPLAY_CACHE_SIZE = lots\n",
        ] {
            assert!(
                ServiceConfig::from_config(&config(&dir, bad)).is_err(),
                "{bad}"
            );
        }
    }
}
