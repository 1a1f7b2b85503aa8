//! The service driver: puts the sans-IO [`crate::place::Social`] on the runtime's loop.
//!
//! It makes no protocol decisions. It
//! - loads `DATA_HOME` at start-up and hands the places to the logic, and carries out the
//!   logic's [`StoreOp`]s (a failed write is logged; the logic's state stands);
//! - maps client connections to [`ClientId`]s, decodes their messages (an undecodable one
//!   drops that client with a log line naming type and size) and hands them to the logic;
//! - keeps one link to IDENTITY (START on every connect, each UPDATE decoded by
//!   [`identity::Monitor`] into ego events for the logic), one to NAMESTORE and one to GNS
//!   (their sessions match answers to requests and re-send what is open after a reconnect),
//!   and one link to psyc per place, opened and closed when the logic says;
//! - answers every NAMESTORE store and GNS lookup exactly once: with the service's answer, or
//!   with an error after [`NAME_OP_TIMEOUT`] when the service does not answer;
//! - tells the logic that the ego list is complete after [`EGO_LIST_PATIENCE`] even when
//!   IDENTITY cannot be reached, so clients are not held for ever;
//! - sends statistics to the statistics service, coalesced.

use std::path::PathBuf;
use std::time::Duration;

use gnunet_service::crypto::eddsa;
use gnunet_service::privacy::KnobsWatch;
use gnunet_service::server::{
    self, ConnId, DisconnectReason, Handler, KeyedLinks, LinkId, Verdict,
};
use gnunet_service::statistics::PendingStats;
use gnunet_service::wire::RawMessage;
use rand_core::OsRng;
use tracing::{debug, error, info, warn};

use super::config::ServiceConfig;
use super::names::{NameOp, Names};
use crate::msg::Request;
use crate::place::{Action, ClientId, LogicConfig, PlaceId, Social};
use crate::store::{DataHome, StoreOp};

/// Subsystem name under which the statistics appear (`gnunet-statistics -s social`).
pub const SUBSYSTEM: &str = "social";

/// Statistic: clients dropped for breaking the protocol.
pub const STAT_CLIENTS_DROPPED: &str = "# clients dropped";
/// Statistic: places whose psyc connection was opened.
pub const STAT_PLACES_OPENED: &str = "# place connections to psyc opened";
/// Statistic: writes to `DATA_HOME` that failed.
pub const STAT_STORE_FAILURES: &str = "# DATA_HOME writes failed";

/// How long statistics are coalesced before they are sent.
const STATS_PERIOD: Duration = Duration::from_millis(200);

/// How long clients wait for IDENTITY's first ego list before the logic goes on without it.
pub const EGO_LIST_PATIENCE: Duration = Duration::from_secs(10);

/// How long a NAMESTORE store or a GNS lookup may take before its client gets an error.
pub const NAME_OP_TIMEOUT: Duration = Duration::from_secs(60);

/// The driver's timers.
#[derive(Debug, Clone)]
pub enum DriverTimer {
    /// Send the coalesced statistics.
    StatsFlush,
    /// IDENTITY had its time to list the egos.
    EgoListPatience,
    /// A NAMESTORE store or GNS lookup had its time.
    NameOp(NameOp),
    /// A timer of the place logic (relays held for their privacy delay), for this time.
    Logic(std::time::Instant),
}

/// The runtime's context with the driver's timers.
pub(super) type Ctx = server::Ctx<DriverTimer>;

/// The social service: the place logic plus its connections and its store.
pub struct Service {
    pub(super) social: Social,
    pub(super) cfg: ServiceConfig,
    pub(super) names: Names,
    home: Option<DataHome>,
    /// Each place's connection to psyc.
    psyc: KeyedLinks<PlaceId>,
    stats_link: Option<LinkId>,
    stats: PendingStats,
    stats_flush_pending: bool,
    /// The privacy knobs, re-read when the configuration file changes; handed to the logic
    /// before each client message.
    privacy: KnobsWatch,
}

impl Service {
    /// A service with `cfg`. Nothing is loaded or connected before the loop starts
    /// ([`Handler::started`]).
    pub fn new(cfg: ServiceConfig) -> Self {
        let mut logic = LogicConfig::new(cfg.me);
        cfg.knobs.apply(&mut logic);
        let new_place_key = Box::new(|| eddsa::PrivateKey::generate(&mut rand_core::OsRng)) as _;
        let mut social = Social::new(logic, new_place_key);
        social.set_privacy(&cfg.privacy);
        Self {
            privacy: KnobsWatch::fixed(cfg.privacy.clone()),
            social,
            cfg,
            names: Names::new(),
            home: None,
            psyc: KeyedLinks::default(),
            stats_link: None,
            stats: PendingStats::new(SUBSYSTEM),
            stats_flush_pending: false,
        }
    }

    /// Re-reads the privacy knobs whenever `file` (the `-c` file the service was started
    /// with) changes, so a new level takes effect for the next message without a restart.
    pub fn watching(mut self, file: Option<PathBuf>) -> Self {
        self.privacy = KnobsWatch::new(file, self.cfg.privacy.clone());
        self
    }

    /// Opens `DATA_HOME` and returns what it holds; problems are logged, never fatal.
    fn load(&mut self) -> Vec<crate::store::SavedPlace> {
        // Without DATA_HOME the configuration reading has logged the error already.
        let Some(root) = self.cfg.data_home.clone() else {
            return Vec::new();
        };
        let home = match DataHome::open(&root) {
            Ok(h) => h,
            Err(e) => {
                error!(error = %e, "cannot open DATA_HOME: places are neither loaded nor saved");
                return Vec::new();
            }
        };
        let places = match home.load() {
            Ok((places, problems)) => {
                for p in problems {
                    warn!(problem = %p, "skipped in DATA_HOME");
                }
                info!(places = places.len(), root = %root.display(), "DATA_HOME loaded");
                places
            }
            Err(e) => {
                error!(error = %e, "cannot read DATA_HOME");
                Vec::new()
            }
        };
        self.home = Some(home);
        places
    }

    fn store(&mut self, op: &StoreOp) {
        let Some(home) = self.home.as_mut() else {
            return;
        };
        if let Err(e) = home.apply(op) {
            self.stats.add(STAT_STORE_FAILURES, 1);
            error!(error = %e, "DATA_HOME write failed");
        }
    }

    /// Carries out every action the logic has for us, in order.
    pub(super) fn run_actions(&mut self, ctx: &mut Ctx) {
        while let Some(action) = self.social.poll_action() {
            match action {
                Action::SendClient { client, reply } => {
                    // A full queue drops the client; `disconnected` tells the logic.
                    let _ = ctx.send(conn_of(client), reply.to_message());
                }
                Action::DropClient { client, reason } => {
                    warn!(client = client.0, %reason, "dropping client");
                    self.stats.add(STAT_CLIENTS_DROPPED, 1);
                    ctx.close(conn_of(client), &reason);
                }
                Action::OpenPsyc { place } => {
                    if self.psyc.open(ctx, place, &self.cfg.psyc_socket, "psyc") {
                        self.stats.add(STAT_PLACES_OPENED, 1);
                    }
                }
                Action::Psyc { place, msg } => {
                    // Down: the logic sends what matters again after the reconnect.
                    if let Err(e) = self.psyc.send(ctx, &place, msg.to_message()) {
                        debug!(?place, error = %e, "psyc message not sent");
                    }
                }
                Action::ClosePsyc { place } => {
                    self.psyc.close(ctx, &place, "place closed");
                }
                Action::Store(op) => self.store(&op),
                Action::SetTimer { at } => {
                    ctx.set_timer(
                        at.saturating_duration_since(ctx.now()),
                        DriverTimer::Logic(at),
                    );
                }
                Action::ZoneStore { .. } | Action::ZoneLookup { .. } | Action::GnsLookup { .. } => {
                    self.names_action(ctx, action)
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

    fn psyc_message(&mut self, ctx: &mut Ctx, place: PlaceId, msg: RawMessage) -> Verdict {
        match psyc::msg::Reply::decode(msg.bytes()) {
            Ok(reply) => {
                // The delay of the MSG_PROC relay this message may complete.
                let policy = self.privacy.current().response_delay;
                self.social.set_response_delay(policy.sample(&mut OsRng));
                self.social.handle_psyc(ctx.now(), place, reply);
                self.run_actions(ctx);
                Verdict::Continue
            }
            // The link reconnects; the logic starts or joins again.
            Err(e) => Verdict::Drop(format!(
                "undecodable psyc message type {} size {}: {e}",
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

    fn started(&mut self, ctx: &mut Ctx) {
        info!(me = %self.cfg.me, "social service starting");
        if let Some(path) = &self.cfg.statistics_socket {
            self.stats_link = Some(ctx.open_link(path, "statistics"));
        }
        self.open_name_links(ctx);
        ctx.set_timer(EGO_LIST_PATIENCE, DriverTimer::EgoListPatience);
        let places = self.load();
        self.social.restore(ctx.now(), places);
        self.run_actions(ctx);
    }

    fn message(&mut self, ctx: &mut Ctx, conn: ConnId, msg: RawMessage) -> Verdict {
        let request = match Request::decode(msg.bytes()) {
            Ok(r) => r,
            Err(e) => {
                // The runtime reports the connection gone (`disconnected`), which tells the
                // logic.
                self.stats.add(STAT_CLIENTS_DROPPED, 1);
                self.run_actions(ctx);
                return Verdict::Drop(format!(
                    "malformed message type {} size {}: {e}",
                    msg.msg_type(),
                    msg.len()
                ));
            }
        };
        self.social.set_privacy(self.privacy.current());
        self.social
            .handle_client(ctx.now(), client_of(conn), request);
        self.run_actions(ctx);
        Verdict::Continue
    }

    fn disconnected(&mut self, ctx: &mut Ctx, conn: ConnId, _reason: &DisconnectReason) {
        self.social.handle_client_gone(ctx.now(), client_of(conn));
        self.run_actions(ctx);
    }

    fn timer(&mut self, ctx: &mut Ctx, token: DriverTimer) {
        match token {
            DriverTimer::StatsFlush => {
                self.stats_flush_pending = false;
                self.flush_stats(ctx);
            }
            DriverTimer::EgoListPatience => {
                if !self.names.egos_listed {
                    warn!("IDENTITY has not listed the egos; going on without them");
                    self.names.egos_listed = true;
                    self.social.handle_egos_listed(ctx.now());
                    self.run_actions(ctx);
                }
            }
            DriverTimer::Logic(at) => {
                // What is due at `at` goes, even if the timer fired a little early.
                self.social.handle_timeout(ctx.now().max(at));
                self.run_actions(ctx);
            }
            DriverTimer::NameOp(op) => {
                self.name_op_timeout(ctx, op);
                self.run_actions(ctx);
            }
        }
    }

    fn link_up(&mut self, ctx: &mut Ctx, link: LinkId) {
        if Some(link) == self.stats_link {
            self.flush_stats(ctx);
        } else if let Some(place) = self.psyc.came_up(link) {
            self.social.handle_psyc_up(ctx.now(), place);
            self.run_actions(ctx);
        } else {
            self.name_link_up(ctx, link);
        }
    }

    fn link_message(&mut self, ctx: &mut Ctx, link: LinkId, msg: RawMessage) -> Verdict {
        if let Some(place) = self.psyc.key_of(link) {
            return self.psyc_message(ctx, place, msg);
        }
        if Some(link) == self.stats_link {
            // Statistics: SET has no reply, and nothing else is asked.
            return Verdict::Continue;
        }
        self.name_link_message(ctx, link, msg)
    }

    fn link_down(&mut self, ctx: &mut Ctx, link: LinkId, reason: &DisconnectReason) {
        if *reason == DisconnectReason::Shutdown {
            return;
        }
        if self.psyc.key_of(link).is_some() {
            let Some(place) = self.psyc.went_down(link) else {
                return;
            };
            warn!(?place, ?reason, "lost psyc for a place; reconnecting");
            self.social.handle_psyc_down(ctx.now(), place);
            self.run_actions(ctx);
        } else {
            self.name_link_down(ctx, link, reason);
        }
    }

    fn shutdown(&mut self, ctx: &mut Ctx) {
        self.flush_stats(ctx);
    }
}
