//! The service driver: puts the sans-IO [`crate::channel::Channels`] on the runtime's loop.
//!
//! It makes no protocol decisions. It
//! - maps client connections to [`ClientId`]s, decodes their messages (an undecodable one
//!   drops that client with a log line naming type and size) and hands them to the logic;
//! - keeps one runtime link to psycstore for every record, and one link to multicast per
//!   channel record (multicast binds a client connection to one origin or member), opened
//!   and closed when the logic says; the runtime reconnects a link that breaks, and the
//!   driver tells the logic when each is up or down (`handle_store_up`,
//!   `handle_multicast_up` / `_down`), which then re-sends what it must: unanswered
//!   psycstore requests, ORIGIN_START / MEMBER_JOIN and the fragment in flight;
//! - sends only on links it was told are up; what the logic asks to send on a link that is
//!   down is dropped (the logic sends it again when the link is back);
//! - relies on the runtime's bounded per-client queues (a client that stops reading is
//!   dropped when its queue passes the hard limit), and the logic bounds every per-channel
//!   queue;
//! - carries out timers, and sends statistics to the statistics service, coalesced;
//! - hands the logic the current padding scheme before each input
//!   ([`Channels::set_padding`]) from a [`KnobsWatch`] on the `-c` file, so a changed
//!   `[secushare] PRIVACY` or `PADDING` pads the next message without a restart.

mod config;

use std::time::Duration;

use gnunet_service::privacy::{DelayPolicy, KnobsWatch};
use gnunet_service::server::{
    self, ConnId, DisconnectReason, Handler, KeyedLinks, LinkId, Verdict,
};
use gnunet_service::statistics::PendingStats;
use gnunet_service::wire::RawMessage;
use multicast::client::Event;
use rand_core::OsRng;
use tracing::{debug, info, warn};

pub use config::{ServiceConfig, ServiceError};

use crate::channel::{Action, Channels, ClientId, RecordKey, Timer};
use crate::msg::{Reply, Request};

/// Config section of the service.
pub const SECTION: &str = "psyc";

/// Subsystem name under which the statistics appear (`gnunet-statistics -s psyc`).
pub const SUBSYSTEM: &str = "psyc";

/// Statistic: client messages (PSYC_MESSAGE containers) accepted for sending.
pub const STAT_CONTAINERS_SENT: &str = "# message containers from clients";
/// Statistic: message fragments delivered to clients (live, not history).
pub const STAT_FRAGMENTS_DELIVERED: &str = "# message fragments delivered to clients";
/// Statistic: clients dropped for breaking the protocol.
pub const STAT_CLIENTS_DROPPED: &str = "# clients dropped";
/// Statistic: channel records (masters and slaves) opened on multicast.
pub const STAT_RECORDS_OPENED: &str = "# channel records opened";
/// Statistic: times the connection to psycstore came (back) up.
pub const STAT_STORE_CONNECTS: &str = "# connections to psycstore";
/// Statistic: times a record's connection to multicast broke.
pub const STAT_MULTICAST_BREAKS: &str = "# multicast connections lost";

/// How long statistics are coalesced before they are sent.
const STATS_PERIOD: Duration = Duration::from_millis(200);

/// The driver's timers.
#[derive(Debug, Clone)]
pub enum DriverTimer {
    /// Send the coalesced statistics.
    StatsFlush,
    /// A timer of the channel logic, handed back to it.
    Logic(Timer),
}

/// The runtime's context with the driver's timers.
type Ctx = server::Ctx<DriverTimer>;

/// The psyc service: the channel logic plus its connections.
pub struct Service {
    channels: Channels,
    cfg: ServiceConfig,
    /// The link to psycstore, opened when the first client comes.
    store: Option<LinkId>,
    store_up: bool,
    /// The link to statistics, if configured, opened with the psycstore link.
    stats_link: Option<LinkId>,
    /// Each channel record's connection to multicast.
    multicast: KeyedLinks<RecordKey>,
    stats: PendingStats,
    stats_flush_pending: bool,
    /// The privacy knobs, re-read when the config file changes.
    privacy: KnobsWatch,
}

impl Service {
    /// A service with `cfg`; it connects to psycstore and statistics when the first client
    /// comes, and to multicast per channel record.
    pub fn new(cfg: ServiceConfig) -> Self {
        info!(
            multicast = %cfg.multicast_socket.display(),
            psycstore = %cfg.psycstore_socket.display(),
            "psyc service ready"
        );
        Self {
            channels: Channels::new(cfg.channel.clone()),
            privacy: KnobsWatch::new(cfg.config_file.clone(), cfg.privacy.clone()),
            cfg,
            store: None,
            store_up: false,
            stats_link: None,
            multicast: KeyedLinks::default(),
            stats: PendingStats::new(SUBSYSTEM),
            stats_flush_pending: false,
        }
    }

    /// Hands the logic the padding scheme of the knobs now (one `stat` of the config file),
    /// so that a changed `[secushare]` level or `PADDING` pads the next message; returns the
    /// response delay of the same knobs.
    fn refresh_privacy(&mut self) -> DelayPolicy {
        let knobs = self.privacy.current();
        self.channels.set_padding(&knobs.padding);
        self.channels.set_deniable(knobs.deniable);
        knobs.response_delay
    }

    fn ensure_links(&mut self, ctx: &mut Ctx) {
        if self.store.is_none() {
            self.store = Some(ctx.open_link(&self.cfg.psycstore_socket, "psycstore"));
            if let Some(path) = &self.cfg.statistics_socket {
                self.stats_link = Some(ctx.open_link(path, "statistics"));
            }
        }
    }

    /// Carries out every action the logic has for us, in order.
    fn run_actions(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        while let Some(action) = self.channels.poll_action() {
            match action {
                Action::SendClient { client, reply } => {
                    if matches!(reply, Reply::Message(_)) {
                        self.stats.add(STAT_FRAGMENTS_DELIVERED, 1);
                    }
                    // A full queue drops the client; `disconnected` tells the logic.
                    let _ = ctx.send(conn_of(client), reply.to_message());
                }
                Action::DropClient { client, reason } => {
                    warn!(client = client.0, %reason, "dropping client");
                    self.stats.add(STAT_CLIENTS_DROPPED, 1);
                    ctx.close(conn_of(client), &reason);
                }
                Action::OpenMulticast { record } => {
                    if self
                        .multicast
                        .open(ctx, record, &self.cfg.multicast_socket, "multicast")
                    {
                        self.stats.add(STAT_RECORDS_OPENED, 1);
                    }
                }
                Action::Multicast { record, msg } => {
                    // Down: the logic sends what matters again after the reconnect.
                    if let Err(e) = self.multicast.send(ctx, &record, msg.to_message()) {
                        debug!(?record, error = %e, "multicast message not sent");
                    }
                }
                Action::CloseMulticast { record } => {
                    self.multicast.close(ctx, &record, "channel record closed");
                }
                Action::Store { request } => match self.store {
                    Some(link) if self.store_up => {
                        if let Err(e) = ctx.link_send(link, request.to_message()) {
                            debug!(error = %e, "psycstore request not sent");
                        }
                    }
                    _ => debug!("psycstore down; request kept for the reconnect"),
                },
                Action::SetTimer { at, timer } => {
                    ctx.set_timer(at.saturating_duration_since(now), DriverTimer::Logic(timer));
                }
            }
        }
        if !self.stats.is_empty() && !self.stats_flush_pending {
            self.stats_flush_pending = true;
            ctx.set_timer(STATS_PERIOD, DriverTimer::StatsFlush);
        }
    }

    fn flush_stats(&mut self, ctx: &mut Ctx) {
        if let Some(link) = self.stats_link {
            self.stats.flush(ctx, link);
        }
    }

    fn store_message(&mut self, ctx: &mut Ctx, msg: RawMessage) -> Verdict {
        match psycstore::msg::Reply::decode(msg.bytes()) {
            Ok(reply) => {
                // The delay of the automatic answers this reply may complete (replays, joins
                // decided by membership), from the current knobs.
                let policy = self.refresh_privacy();
                self.channels.set_response_delay(policy.sample(&mut OsRng));
                self.channels.handle_store(ctx.now(), reply);
                self.run_actions(ctx);
                Verdict::Continue
            }
            // The link reconnects; the logic sends its open requests again.
            Err(e) => Verdict::Drop(format!(
                "undecodable psycstore message type {} size {}: {e}",
                msg.msg_type(),
                msg.len()
            )),
        }
    }

    fn multicast_message(&mut self, ctx: &mut Ctx, record: RecordKey, msg: RawMessage) -> Verdict {
        match Event::decode(msg.bytes()) {
            Ok(event) => {
                self.refresh_privacy();
                self.channels.handle_multicast(ctx.now(), record, event);
                self.run_actions(ctx);
                Verdict::Continue
            }
            // The link reconnects: the record starts or joins again.
            Err(e) => Verdict::Drop(format!(
                "undecodable multicast message type {} size {}: {e}",
                msg.msg_type(),
                msg.len()
            )),
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

    fn connected(&mut self, ctx: &mut Ctx, _conn: ConnId) {
        self.ensure_links(ctx);
    }

    fn message(&mut self, ctx: &mut Ctx, conn: ConnId, msg: RawMessage) -> Verdict {
        let client = client_of(conn);
        let request = match Request::decode(msg.bytes()) {
            Ok(r) => r,
            Err(e) => {
                self.stats.add(STAT_CLIENTS_DROPPED, 1);
                self.run_actions(ctx);
                return Verdict::Drop(format!(
                    "malformed message type {} size {}: {e}",
                    msg.msg_type(),
                    msg.len()
                ));
            }
        };
        if matches!(request, Request::Message(_)) {
            self.stats.add(STAT_CONTAINERS_SENT, 1);
        }
        self.refresh_privacy();
        self.channels.handle_client(ctx.now(), client, request);
        self.run_actions(ctx);
        Verdict::Continue
    }

    fn disconnected(&mut self, ctx: &mut Ctx, conn: ConnId, _reason: &DisconnectReason) {
        self.refresh_privacy();
        self.channels.handle_client_gone(ctx.now(), client_of(conn));
        self.run_actions(ctx);
    }

    fn timer(&mut self, ctx: &mut Ctx, token: DriverTimer) {
        match token {
            DriverTimer::StatsFlush => {
                self.stats_flush_pending = false;
                self.flush_stats(ctx);
            }
            DriverTimer::Logic(t) => {
                self.refresh_privacy();
                self.channels.handle_timeout(ctx.now(), t);
                self.run_actions(ctx);
            }
        }
    }

    fn link_up(&mut self, ctx: &mut Ctx, link: LinkId) {
        if Some(link) == self.stats_link {
            self.flush_stats(ctx);
        } else if Some(link) == self.store {
            debug!("connected to psycstore");
            self.store_up = true;
            self.stats.add(STAT_STORE_CONNECTS, 1);
            self.refresh_privacy();
            self.channels.handle_store_up(ctx.now());
            self.run_actions(ctx);
        } else if let Some(record) = self.multicast.came_up(link) {
            self.refresh_privacy();
            self.channels.handle_multicast_up(ctx.now(), record);
            self.run_actions(ctx);
        }
    }

    fn link_message(&mut self, ctx: &mut Ctx, link: LinkId, msg: RawMessage) -> Verdict {
        if Some(link) == self.store {
            return self.store_message(ctx, msg);
        }
        if let Some(record) = self.multicast.key_of(link) {
            return self.multicast_message(ctx, record, msg);
        }
        // Statistics: SET has no reply, and nothing else is asked.
        Verdict::Continue
    }

    fn link_down(&mut self, ctx: &mut Ctx, link: LinkId, reason: &DisconnectReason) {
        if *reason == DisconnectReason::Shutdown {
            return;
        }
        if Some(link) == self.store {
            warn!(?reason, "lost psycstore; requests wait for the reconnect");
            self.store_up = false;
        } else if self.multicast.key_of(link).is_some() {
            let Some(record) = self.multicast.went_down(link) else {
                return;
            };
            warn!(
                ?record,
                ?reason,
                "lost multicast for a channel record; reconnecting"
            );
            self.stats.add(STAT_MULTICAST_BREAKS, 1);
            self.channels.handle_multicast_down(ctx.now(), record);
            self.run_actions(ctx);
        }
    }

    fn shutdown(&mut self, ctx: &mut Ctx) {
        self.flush_stats(ctx);
    }
}
