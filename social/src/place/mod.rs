//! The social service's logic, without IO: apps, egos, places, hosts and guests on top of
//! psyc (spec `social.md` §4–§9), with the C service's gaps fixed and its wire quirks kept.
//!
//! [`Social`] takes decoded inputs through `handle_*(now, …)` methods and returns [`Action`]s
//! through [`Social::poll_action`]. It reads no clock, opens no socket and draws no random
//! numbers (new place keys come from the [`PlaceKeySource`] given to [`Social::new`]).
//!
//! # The driver's duties
//!
//! - **Start-up**: build [`Social::new`] with [`LogicConfig`] (this peer's identity in
//!   [`LogicConfig::peer`]); hand the places the store loaded to [`Social::restore`]; connect
//!   to IDENTITY and pass every ego with [`Social::handle_ego`], every deletion with
//!   [`Social::handle_ego_deleted`], and the end of the initial list with
//!   [`Social::handle_egos_listed`]. Until then client requests are held (so that an app
//!   never gets a partial ego list, and a guest re-entering right after a restart finds its
//!   ego); if IDENTITY cannot be reached, call `handle_egos_listed` anyway after a while.
//! - **Clients**: number connections with [`ClientId`]; decode each message with
//!   [`crate::msg::Request::decode`] and drop the client on a decoding error (the logic never
//!   sees those); pass the rest to [`Social::handle_client`], and a closed connection to
//!   [`Social::handle_client_gone`] (not for clients the logic dropped itself).
//! - **psyc**: one connection per [`PlaceId`], opened at [`Action::OpenPsyc`], reconnected
//!   with back-off while it breaks ([`Social::handle_psyc_up`] / [`Social::handle_psyc_down`]
//!   each time), closed at [`Action::ClosePsyc`]; every decoded [`psyc::msg::Reply`] goes to
//!   [`Social::handle_psyc`]; [`Action::Psyc`] messages are sent on it (dropped while down).
//! - **NAMESTORE / GNS**: carry out [`Action::ZoneStore`] and [`Action::GnsLookup`] with the
//!   0.19 services and report with [`Social::handle_zone_stored`] (NAMESTORE error code 0 →
//!   `Ok`) and [`Social::handle_gns_result`]. Every operation must be answered once.
//! - **Store**: carry out [`Action::Store`] in order (`social::store`).
//! - After each `handle_*` call, drain [`Social::poll_action`] and carry the actions out in
//!   order.
//!
//! # What differs from the C service (its gaps, spec §16), and who can see it
//!
//! - **Egos** (G5, I2): apps hear of egos created or renamed after they connected (APP_EGO,
//!   only when it says something new to that client); a deleted ego is announced as an
//!   APP_EGO with an **empty name** (the C library stores the empty name and calls its ego
//!   callback with `""`, which matches no ego name; IDENTITY never names an ego `""`). EdDSA
//!   egos are never listed and a request naming one is refused with a reason naming it
//!   ([`ego`]). APP_CONNECT is answered only once IDENTITY's initial list is complete.
//! - **Apps** (G5, G8): an app id is kept under its directory name
//!   ([`app_dir_name`](crate::store::app_dir_name): unsafe ids escaped, gap G8). Entering a place (host or guest, new or again) associates
//!   the app with it, and connected clients of that app get an APP_PLACE for a new
//!   association. APP_DETACH removes the association in memory and on disk: RESULT_CODE 1 if
//!   it existed, else −1.
//! - **Host enter** (G7, G17): a new place's key comes from the [`PlaceKeySource`]; a known
//!   place (restored at start-up from the store with its private key) re-enters at once
//!   with ACK 1; an unknown place key gets HOST_ENTER_ACK −1 (C started a master with a zero
//!   key). A client entering before psyc answered waits for that answer (C answered 1 at
//!   once with a stale id). A client naming an EdDSA ego is dropped.
//! - **Guest enter** (G7, G9, I9): guests are re-joined after a restart as soon as IDENTITY
//!   reported their ego, with the stored origin, relays and join message, and keep their
//!   last entry decision (persisted; a restored refusal is not re-joined). A reconnect
//!   request with a zero origin (the C library's) takes the stored origin and relays; an
//!   unknown place with a zero origin gets GUEST_ENTER_ACK −1. By name: `.gnu` is stripped,
//!   the first PLACE record with valid data is used, and a lookup without one gets
//!   GUEST_ENTER_ACK −1 (logged; C dropped the client, whose library then retried for ever).
//! - **Entry decisions** (G4): cached whole and persisted; a refused guest parts its slave
//!   and the decision reaches its clients after the part (as C).
//! - **Entry requests**: kept per host place (bounded) until a client decides; a host client
//!   entering later gets the open ones after its ACK.
//! - **Messages** (G3, G13): see [`transmit`]; **relay and save** (G2, G15): see
//!   [`msg_proc`]; **history and state** (G11): see [`query`].
//! - **Leaving** (G6, G12): PLACE_LEAVE from a client without a place drops it; queued
//!   complete messages go out first, unfinished ones are cancelled; then PLACE_LEAVE_ACK to
//!   all the place's clients, the place is forgotten in memory and on disk
//!   ([`StoreOp::ForgetPlace`](crate::store::StoreOp::ForgetPlace)). Eject and farewell are
//!   client-library conventions (§7).
//! - **Zone** (G10, I4, I6, I8): see [`zone`]; nyms and places stored as private records
//!   as the privacy knobs say, names through private nyms resolved with NAMESTORE first.
//! - **psyc restarts**: a place's connection coming back starts the master or joins the
//!   slave again; what was at psyc is answered (queries −1, MESSAGE_ACKs for containers
//!   handed over) and a message half sent is cancelled by psyc's record going; its sender is
//!   dropped with a reason (its library reconnects).
//! - Every map and queue is bounded ([`LogicConfig`]); a client that breaks the protocol is
//!   dropped with a reason and nobody else is affected.

mod action;
mod app;
mod attach;
mod client;
pub mod ego;
mod guest;
mod host;
mod leave;
pub mod level;
mod link;
pub mod msg_proc;
pub mod query;
mod relay_delay;
pub mod restore;
mod state;
pub mod transmit;
pub mod zone;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use gnunet_service::crypto::eddsa;
use gnunet_service::crypto::identity_key::{PrivateKey, PublicKey};
use gnunet_service::privacy::Knobs;
use tracing::warn;

pub use action::{
    record_type, Action, ClientId, GnsAnswer, GnsOpId, LogicConfig, PlaceId, ZoneError, ZoneOpId,
    ZoneRecord,
};

use action::Outbox;
use client::{ClientState, DropReason};
use ego::Egos;
use guest::ByName;
use state::Place;

use crate::msg::Request;
use crate::store::SavedPlace;

/// Where new place keys come from: a fresh EdDSA private key per call (the driver's OS
/// randomness; tests pass a deterministic one).
pub type PlaceKeySource = Box<dyn FnMut() -> eddsa::PrivateKey + Send>;

/// The social service's places, apps and egos on one peer, without IO.
///
/// After each `handle_*` call drain [`Social::poll_action`] and carry the actions out in
/// order.
pub struct Social {
    cfg: LogicConfig,
    new_place_key: PlaceKeySource,
    egos: Egos,
    clients: HashMap<ClientId, ClientState>,
    places: HashMap<PlaceId, Place>,
    /// Places per app id (the `apps/` markers).
    apps: BTreeMap<String, BTreeSet<PlaceId>>,
    /// NAMESTORE stores waiting for their result: the client and its op id.
    zone_ops: HashMap<ZoneOpId, (ClientId, u64)>,
    /// GNS lookups of GUEST_ENTER_BY_NAME waiting for their result.
    gns_ops: HashMap<GnsOpId, ByName>,
    /// The privacy knobs now ([`Social::set_privacy`]).
    privacy: Knobs,
    /// Entries (with an origin) into a guest place that was still being left: carried out
    /// once it is left (a client that leaves and enters again at once, as `test_social`
    /// does after its leave, with a name resolved locally in no time).
    after_leave: HashMap<PlaceId, (ClientId, crate::msg::GuestEnter, &'static str)>,
    next_op: u64,
    out: Outbox,
    /// MSG_PROC relays waiting for their privacy delay.
    held_relays: relay_delay::HeldRelays,
}

impl std::fmt::Debug for Social {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Social")
            .field("cfg", &self.cfg)
            .field("clients", &self.clients.len())
            .field("places", &self.places.keys().collect::<Vec<_>>())
            .field("apps", &self.apps)
            .finish_non_exhaustive()
    }
}

impl Social {
    /// No places yet; new place keys from `new_place_key`.
    pub fn new(cfg: LogicConfig, new_place_key: PlaceKeySource) -> Self {
        Self {
            cfg,
            new_place_key,
            egos: Egos::default(),
            clients: HashMap::new(),
            places: HashMap::new(),
            apps: BTreeMap::new(),
            zone_ops: HashMap::new(),
            gns_ops: HashMap::new(),
            privacy: Knobs::default(),
            after_leave: HashMap::new(),
            next_op: 0,
            out: Outbox::default(),
            held_relays: relay_delay::HeldRelays::default(),
        }
    }

    /// The next action to carry out, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.pop()
    }

    /// The privacy knobs from now on (the driver passes them before each input, re-read when
    /// the configuration changed; until then the default level's). What social uses of them:
    /// see [`zone`].
    pub fn set_privacy(&mut self, knobs: &Knobs) {
        if self.privacy != *knobs {
            self.privacy = knobs.clone();
        }
    }

    /// The privacy knobs in use.
    pub fn privacy(&self) -> &Knobs {
        &self.privacy
    }

    /// The place a client entered, if any.
    pub fn place_of(&self, client: ClientId) -> Option<PlaceId> {
        self.clients.get(&client).and_then(|c| c.place)
    }

    /// At start-up: the places the store loaded. Hosts start their PSYC master with the
    /// stored key at once; guests join once IDENTITY reported their ego (see [`restore`](mod@restore)).
    pub fn restore(&mut self, now: Instant, saved: Vec<SavedPlace>) {
        self.restore_places(now, saved);
    }

    /// A message from a client.
    pub fn handle_client(&mut self, now: Instant, client: ClientId, request: Request) {
        let state = self.clients.entry(client).or_default();
        if !self.egos.listed {
            if state.held.len() >= self.cfg.max_held_requests {
                let max = self.cfg.max_held_requests;
                self.drop_client(now, client, DropReason::TooManyHeld(max));
            } else {
                state.held.push_back(request);
            }
            return;
        }
        if let Err(reason) = self.dispatch(client, request) {
            self.drop_client(now, client, reason);
        }
    }

    fn dispatch(&mut self, client: ClientId, request: Request) -> Result<(), DropReason> {
        match request {
            Request::AppConnect(m) => self.app_connect(client, m),
            Request::AppDetach(m) => self.app_detach(client, m),
            Request::HostEnter(m) => self.host_enter(client, m),
            Request::GuestEnter(m) => self.guest_enter(client, m, "SOCIAL_GUEST_ENTER"),
            Request::GuestEnterByName(m) => self.guest_enter_by_name(client, m),
            Request::PlaceLeave(_) => self.place_leave(client),
            Request::JoinDecision(d) => self.client_join_decision(client, d),
            Request::Message(m) => self.client_message(client, m.parts),
            Request::MsgProcSet(m) => self.msg_proc_set(client, m),
            Request::MsgProcClear(_) => self.msg_proc_clear(client),
            r @ (Request::HistoryReplay(_) | Request::StateGet(_) | Request::StateGetPrefix(_)) => {
                self.query(client, r)
            }
            Request::ZoneAddPlace(m) => {
                self.zone_add_place(client, m);
                Ok(())
            }
            Request::ZoneAddNym(m) => {
                self.zone_add_nym(client, m);
                Ok(())
            }
        }
    }

    /// Drops a client: the action, then the same cleanup as when it goes away.
    fn drop_client(&mut self, now: Instant, client: ClientId, reason: DropReason) {
        if let DropReason::EddsaEgo { .. } = reason {
            warn!(?client, "{reason}");
        }
        self.out.push(Action::DropClient {
            client,
            reason: reason.to_string(),
        });
        self.handle_client_gone(now, client);
    }

    /// A client disconnected (or was dropped). Its place stays; its unfinished message is
    /// cancelled, its queries and name operations are forgotten.
    pub fn handle_client_gone(&mut self, _now: Instant, client: ClientId) {
        let Some(state) = self.clients.remove(&client) else {
            return;
        };
        if let Some(op) = state.by_name {
            self.gns_ops.remove(&op);
        }
        self.zone_ops.retain(|_, (c, _)| *c != client);
        self.after_leave.retain(|_, (c, _, _)| *c != client);
        if let Some(id) = state.place {
            self.detach_client(id, client);
        }
    }

    /// IDENTITY reported an ego: new, or renamed (the same key).
    pub fn handle_ego(&mut self, _now: Instant, name: &str, key: PrivateKey) {
        let change = self.egos.update(name, key, self.cfg.max_egos);
        self.ego_changed(change);
    }

    /// IDENTITY deleted an ego.
    pub fn handle_ego_deleted(&mut self, _now: Instant, key: PublicKey) {
        let change = self.egos.remove(&key);
        self.ego_changed(change);
    }

    /// IDENTITY's initial ego list is complete: held requests are processed now, in order.
    pub fn handle_egos_listed(&mut self, now: Instant) {
        if self.egos.listed {
            return;
        }
        self.egos.listed = true;
        self.warn_egoless_guests();
        let mut waiting: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| !c.held.is_empty())
            .map(|(&id, _)| id)
            .collect();
        waiting.sort();
        for client in waiting {
            while let Some(request) = self
                .clients
                .get_mut(&client)
                .and_then(|c| c.held.pop_front())
            {
                if let Err(reason) = self.dispatch(client, request) {
                    self.drop_client(now, client, reason);
                    break;
                }
            }
        }
    }

    /// A new operation id for NAMESTORE / GNS.
    fn next_op_id(&mut self) -> u64 {
        self.next_op += 1;
        self.next_op
    }
}

#[cfg(test)]
mod tests;
