//! The service driver: puts the sans-IO [`crate::group::Node`] on the runtime's mio loop.
//!
//! It makes no protocol decisions. It
//! - maps client connections to [`ClientId`]s and CADET channel numbers to [`ChannelId`]s;
//! - speaks the CADET client protocol on a runtime link to the peer's C cadet service: ports
//!   (kept as the link's registrations, so they are opened again after a reconnect), channel
//!   create/destroy, `LOCAL_DATA` under `LOCAL_ACK` credit, and a `LOCAL_ACK` (receive-done)
//!   for each received message, written as soon as the message is read (before its signature
//!   is checked) unless a channel is congested: the C cadet service drops what a sender sends
//!   more than four messages past the receiver's last receive-done and retransmits it only
//!   after 75 ms or more, so a slow receive-done stalls the channel;
//! - keeps a bounded queue per channel ([`channels::QueueLimits`]): while a channel has more
//!   than a few messages waiting for credit, the input that fed it is not acknowledged
//!   ([`holds`]), so the origin slows to the pace of the tree; past the bound the channel is
//!   closed and counted, so one slow peer never holds the others up for long (its member
//!   re-attaches and replays the gap);
//! - relies on the runtime's bounded per-client queues (a client that stops reading is
//!   dropped when its queue passes the hard limit);
//! - carries out timers, and sends statistics to the statistics service, coalesced.
//!
//! The runtime reconnects both links with back-off when cadet or statistics go away; losing
//! cadet loses every channel, which the logic is told.

mod cadet;
mod channels;
mod config;
pub mod holds;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use gnunet_service::cadet::msg::{ChannelCreate, PortClose, PortOpen};
use gnunet_service::cadet::MAX_CADET_MESSAGE_SIZE;
use gnunet_service::server::{self, ConnId, DisconnectReason, Handler, LinkId, Verdict};
use gnunet_service::statistics::PendingStats;
use gnunet_service::wire::{Message, RawMessage};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use tracing::{debug, info, warn};

pub use channels::QueueLimits;
use channels::{Channels, Queued};
pub use config::{ServiceConfig, ServiceError};
use holds::{Holds, Release};

use crate::crypto::GnunetCrypto;
use crate::group::{Action, ChannelId, ClientId, ClientMessage, Node, Privacy, Timer};
use crate::msg::TYPE_FRAGMENT_ACK;

/// Config section of the service.
pub const SECTION: &str = "multicast";

/// Subsystem name under which the statistics appear (`gnunet-statistics -s multicast`).
pub const SUBSYSTEM: &str = "multicast";

/// Statistic: channels closed because their queue overflowed (a peer too slow to keep up).
pub const STAT_SLOW_CHANNELS: &str = "# channels closed for slow peers";

/// How long statistics are coalesced before they are sent.
const STATS_PERIOD: Duration = Duration::from_millis(200);
/// How long an acknowledgement may be held for a congested channel before that channel is
/// closed as too slow (so a peer that stops granting credit cannot stall its group).
const HOLD_PATIENCE: Duration = Duration::from_secs(10);

/// The driver's timers.
#[derive(Debug, Clone)]
pub enum DriverTimer {
    /// Send the coalesced statistics.
    StatsFlush,
    /// Close the channels that kept acknowledgements held for too long.
    HoldCheck,
    /// A timer of the group logic, handed back to it.
    Logic(Timer),
}

/// The runtime's context with the driver's timers.
type Ctx = server::Ctx<DriverTimer>;

/// Which input a batch of actions answers.
#[derive(Debug, Clone, Copy)]
enum Input {
    Client(ClientId),
    Channel(ChannelId),
    Other,
}

/// The multicast service: the group logic plus its connections.
pub struct Service {
    node: Node<GnunetCrypto, ChaCha8Rng>,
    cfg: ServiceConfig,
    /// The link to cadet, opened when the first client comes.
    cadet: Option<LinkId>,
    /// The link to statistics, if configured, opened with the cadet link.
    stats_link: Option<LinkId>,
    channels: Channels,
    stats: PendingStats,
    stats_flush_pending: bool,
    holds: Holds,
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
        info!(peer = %gnunet_service::logging::short_hex(&cfg.me.0), max_children = cfg.group.max_children, "multicast service ready");
        Self {
            node,
            channels: Channels::new(cfg.queue),
            cfg,
            cadet: None,
            stats_link: None,
            stats: PendingStats::new(SUBSYSTEM),
            stats_flush_pending: false,
            holds: Holds::new(HOLD_PATIENCE),
            hold_check_pending: false,
        }
    }

    /// Hands the current privacy knobs to the logic (one `stat` of the config file), before
    /// each input: a changed level applies to the next message.
    pub(super) fn refresh_privacy(&mut self) {
        let privacy = Privacy::from(self.cfg.knobs.current());
        self.node.set_privacy(privacy);
    }

    fn ensure_links(&mut self, ctx: &mut Ctx) {
        if self.cadet.is_none() {
            self.cadet = Some(ctx.open_link(&self.cfg.cadet_socket, "cadet"));
            if let Some(path) = &self.cfg.statistics_socket {
                self.stats_link = Some(ctx.open_link(path, "statistics"));
            }
        }
    }

    // ---------------------------------------------------------------- actions

    /// Carries out every action the logic has for us. FRAGMENT_ACKs for the client whose
    /// message caused them (and the receive-done of the channel message that caused them) are
    /// held while a channel they fed is congested.
    fn run_actions(&mut self, ctx: &mut Ctx, input: Input) {
        let now = ctx.now();
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
                Action::OpenPort { port } => self.open_port(ctx, port),
                Action::ClosePort { port } => self.close_port(ctx, port),
                Action::OpenChannel {
                    channel,
                    peer,
                    port,
                } => {
                    if !self.cadet.is_some_and(|l| ctx.link_is_up(l)) {
                        // No CADET right now: the attempt fails at once, the logic moves on.
                        self.node.handle_channel_destroyed(now, channel);
                        continue;
                    }
                    let ccn = self.channels.allocate_ccn();
                    self.channels.insert(channel, ccn);
                    let create = ChannelCreate {
                        ccn,
                        peer,
                        port,
                        opt: 0,
                    };
                    self.cadet_send(ctx, create.to_message());
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
                    ctx.set_timer(at.saturating_duration_since(now), DriverTimer::Logic(timer));
                }
                Action::Statistic { name, delta } => self.stats.add(name, delta),
            }
        }
        let congested: BTreeSet<ChannelId> = fed
            .into_iter()
            .filter(|c| self.channels.congested(*c))
            .collect();
        let completions: Vec<Release> = match input {
            Input::Client(client) => acks
                .into_iter()
                .filter_map(|msg| {
                    self.holds
                        .hold(now, congested.clone(), Release::Client(client, msg))
                })
                .collect(),
            Input::Channel(ch) => self
                .holds
                .hold(now, congested, Release::CadetAck(ch))
                .into_iter()
                .collect(),
            Input::Other => Vec::new(),
        };
        for r in completions {
            self.release(ctx, r);
        }
        self.arm_timers(ctx, now);
    }

    /// The hold check for the oldest hold, and the statistics flush, when due.
    fn arm_timers(&mut self, ctx: &mut Ctx, now: Instant) {
        if let Some(deadline) = self.holds.deadline() {
            if !self.hold_check_pending {
                self.hold_check_pending = true;
                ctx.set_timer(
                    deadline.saturating_duration_since(now),
                    DriverTimer::HoldCheck,
                );
            }
        }
        if !self.stats.is_empty() && !self.stats_flush_pending {
            self.stats_flush_pending = true;
            ctx.set_timer(STATS_PERIOD, DriverTimer::StatsFlush);
        }
    }

    fn open_port(&mut self, ctx: &mut Ctx, port: gnunet_service::crypto::HashCode) {
        let Some(cadet) = self.cadet else {
            return;
        };
        if ctx.is_registered(cadet, &port.0) {
            return;
        }
        // Sent now if cadet is up, and again first thing after every reconnect.
        if let Err(e) = ctx.register(cadet, &port.0, PortOpen { port }.to_message()) {
            warn!(error = %e, "cannot open a cadet port");
        }
    }

    fn close_port(&mut self, ctx: &mut Ctx, port: gnunet_service::crypto::HashCode) {
        let Some(cadet) = self.cadet else {
            return;
        };
        if ctx.unregister(cadet, &port.0) {
            // Down: the port went with the old connection and is not opened again.
            let _ = ctx.link_send(cadet, PortClose { port }.to_message());
        }
    }

    fn release_holds(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        for r in self.holds.channel_ready(ch) {
            self.release(ctx, r);
        }
    }

    fn release(&mut self, ctx: &mut Ctx, r: Release) {
        match r {
            Release::Client(client, msg) => {
                let _ = ctx.send(conn_of(client), msg);
            }
            Release::CadetAck(ch) => self.receive_done(ctx, ch),
        }
    }

    /// Closes channels that have kept an acknowledgement held for longer than
    /// [`HOLD_PATIENCE`]: their peers stopped taking messages.
    fn check_holds(&mut self, ctx: &mut Ctx) {
        self.hold_check_pending = false;
        let now = ctx.now();
        for ch in self.holds.overdue(now) {
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
        if let Some(link) = self.stats_link {
            self.stats.flush(ctx, link);
        }
    }
}

fn conn_of(client: ClientId) -> ConnId {
    ConnId(client.0 as usize)
}

fn client_of(conn: ConnId) -> ClientId {
    ClientId(conn.0 as u64)
}

impl Handler for Service {
    type Timer = DriverTimer;

    fn connected(&mut self, ctx: &mut Ctx, conn: ConnId) {
        self.ensure_links(ctx);
        self.node.handle_client_connected(client_of(conn));
    }

    fn message(&mut self, ctx: &mut Ctx, conn: ConnId, msg: RawMessage) -> Verdict {
        let client = client_of(conn);
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
        self.refresh_privacy();
        self.node.handle_client_message(ctx.now(), client, decoded);
        self.run_actions(ctx, Input::Client(client));
        Verdict::Continue
    }

    fn disconnected(&mut self, ctx: &mut Ctx, conn: ConnId, _reason: &DisconnectReason) {
        let client = client_of(conn);
        self.holds.forget_client(client);
        self.node.handle_client_disconnected(ctx.now(), client);
        self.run_actions(ctx, Input::Other);
    }

    fn timer(&mut self, ctx: &mut Ctx, token: DriverTimer) {
        match token {
            DriverTimer::StatsFlush => {
                self.stats_flush_pending = false;
                self.flush_stats(ctx);
            }
            DriverTimer::HoldCheck => self.check_holds(ctx),
            DriverTimer::Logic(t) => {
                self.refresh_privacy();
                self.node.handle_timeout(ctx.now(), t);
                self.run_actions(ctx, Input::Other);
            }
        }
    }

    fn link_up(&mut self, ctx: &mut Ctx, link: LinkId) {
        if Some(link) == self.stats_link {
            self.flush_stats(ctx);
        } else {
            debug!("connected to cadet");
        }
    }

    fn link_message(&mut self, ctx: &mut Ctx, link: LinkId, msg: RawMessage) -> Verdict {
        if Some(link) == self.cadet {
            self.refresh_privacy();
            return self.cadet_message(ctx, msg);
        }
        // Statistics: SET has no reply, and nothing else is asked.
        Verdict::Continue
    }

    fn link_down(&mut self, ctx: &mut Ctx, link: LinkId, reason: &DisconnectReason) {
        if Some(link) == self.cadet && *reason != DisconnectReason::Shutdown {
            self.cadet_lost(ctx);
        }
    }

    fn shutdown(&mut self, ctx: &mut Ctx) {
        self.flush_stats(ctx);
    }
}
