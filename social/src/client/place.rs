//! [`PlaceSession`]: the client side of one place connection to the social service, without
//! I/O (see the [module docs](super)).
//!
//! A psyc channel [`Session`] embedded in the social socket's protocol does the channel work;
//! this session adds what is social: the enter requests and their ACKs, PLACE_LEAVE, the
//! message-processing requests, and the library's own messages (the host's announcement of a
//! guest's farewell, the notice before leaving). Those own messages go through the channel
//! session like the caller's, but their [`Event::Transmitted`] / [`Event::TransmitLost`] are
//! kept from the caller, so that every outcome the caller sees is one of its messages, in
//! order (what psyc's blocking [`Client`](psyc::client::Client) counts on).

use std::collections::VecDeque;

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use psyc::client::{ChannelSession, Event, Role, Session, SessionError};
use psyc::format::env::Environment;
use psyc::format::message::PsycMessage;
use psyc::msg::{history_replay_flags, MasterStartAck, PartAck, SlaveJoinAck};

use super::notice::{with_nym, Farewell, METHOD_NOTICE_PLACE_CLOSING, METHOD_NOTICE_PLACE_LEAVE};
use super::{c_string, check_app_id};
use crate::msg::{
    msg_proc_flags, GuestEnter, GuestEnterByName, HostEnter, MsgProcClear, MsgProcSet, PlaceLeave,
    Reply,
};

/// Messages of the library's own, waiting for their outcome, at most (a host answering a
/// flood of farewells refuses the rest).
const MAX_OWN_MESSAGES: usize = 64;

/// A message the session transmitted itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Own {
    /// The host's announcement of a guest's farewell.
    Farewell,
    /// The notice before PLACE_LEAVE.
    LeaveNotice,
}

/// How far leaving has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaving {
    /// Not leaving.
    No,
    /// The notice is out; PLACE_LEAVE follows its outcome.
    AfterNotice,
    /// PLACE_LEAVE is written (or the session ended).
    Parting,
}

/// The client side of one place connection to the social service: a host or a guest of one
/// place, entered with one ego.
#[derive(Debug)]
pub struct PlaceSession {
    inner: Session,
    app_id: Vec<u8>,
    ego_pub_key: ecdsa::PublicKey,
    /// HOST_ENTER's channel policy, kept for the re-entry request.
    policy: u32,
    place_pub_key: Option<eddsa::PublicKey>,
    events: VecDeque<Event>,
    /// Outcomes of the channel session's messages seen so far.
    settled: u64,
    /// The session's own messages, by their place in the channel session's order.
    own: VecDeque<(u64, Own)>,
    leaving: Leaving,
}

impl PlaceSession {
    fn new(
        role: Role,
        start: Vec<u8>,
        app_id: Vec<u8>,
        ego: ecdsa::PublicKey,
        local: bool,
    ) -> Self {
        Self {
            inner: Session::embedded(role, start, PlaceLeave.to_message(), local),
            app_id,
            ego_pub_key: ego,
            policy: 0,
            place_pub_key: None,
            events: VecDeque::new(),
            settled: 0,
            own: VecDeque::new(),
            leaving: Leaving::No,
        }
    }

    /// Hosts a new place for application `app_id` with `ego` (only recorded by the service)
    /// and the PSYC channel `policy` ([`psyc::msg::policy`]). The service makes the place's
    /// key; it arrives with HOST_ENTER_ACK ([`place_pub_key`](Self::place_pub_key)). Not
    /// connected.
    pub fn host_enter(
        app_id: &str,
        ego: ecdsa::PublicKey,
        policy: u32,
    ) -> Result<Self, SessionError> {
        let app = check_app_id(app_id).map_err(SessionError::InvalidArgument)?;
        let start = host_enter_request(&app, ego, eddsa::PublicKey([0; 32]), policy)?;
        let mut s = Self::new(Role::Master, start, app, ego, false);
        s.policy = policy;
        Ok(s)
    }

    /// Enters again, as host with `ego`, the place `place` this application hosts (from
    /// [`AppEvent::Place`](super::AppEvent::Place)); policy 0 as in C (the service keeps the
    /// place's own). Not connected.
    pub fn host_reconnect(
        app_id: &str,
        ego: ecdsa::PublicKey,
        place: eddsa::PublicKey,
    ) -> Result<Self, SessionError> {
        let app = check_app_id(app_id).map_err(SessionError::InvalidArgument)?;
        let start = host_enter_request(&app, ego, place, 0)?;
        let mut s = Self::new(Role::Master, start, app, ego, false);
        s.place_pub_key = Some(place);
        Ok(s)
    }

    /// Asks to enter `place`, hosted at peer `origin`, as guest with `ego` (which the service
    /// must know), through `relays`, with an entry request (the C library requires one; the
    /// CLI's is `_request_enter`). Join flags are 0, as the C library sends them. Not
    /// connected.
    pub fn guest_enter(
        app_id: &str,
        ego: ecdsa::PublicKey,
        place: eddsa::PublicKey,
        origin: PeerIdentity,
        relays: Vec<PeerIdentity>,
        join_message: Option<&PsycMessage>,
    ) -> Result<Self, SessionError> {
        let app = check_app_id(app_id).map_err(SessionError::InvalidArgument)?;
        let start = GuestEnter {
            ego_pub_key: ego,
            place_pub_key: place,
            origin,
            flags: 0,
            app_id: app.clone(),
            relays,
            join_msg: nested(join_message)?,
        }
        .try_to_message()?;
        let mut s = Self::new(Role::Slave, start, app, ego, false);
        s.place_pub_key = Some(place);
        Ok(s)
    }

    /// Asks to enter the place that the GNS name `gns_name` (in the zone of `ego`) names, as
    /// guest with `ego`; `password` ("" for none) is not used by the service. The place's
    /// key is learnt from the service's APP_PLACE. Not connected.
    pub fn guest_enter_by_name(
        app_id: &str,
        ego: ecdsa::PublicKey,
        gns_name: &str,
        password: &str,
        join_message: Option<&PsycMessage>,
    ) -> Result<Self, SessionError> {
        let app = check_app_id(app_id).map_err(SessionError::InvalidArgument)?;
        let gns_name =
            c_string(gns_name).ok_or(SessionError::InvalidArgument("GNS name contains a NUL"))?;
        let password =
            c_string(password).ok_or(SessionError::InvalidArgument("password contains a NUL"))?;
        let start = GuestEnterByName {
            ego_pub_key: ego,
            app_id: app.clone(),
            gns_name,
            password,
            join_msg: nested(join_message)?,
        }
        .try_to_message()?;
        Ok(Self::new(Role::Slave, start, app, ego, false))
    }

    /// Enters again, as guest with `ego`, the place `place` this application entered before:
    /// no origin, relays or entry request (the service still has them), with
    /// [`psyc::msg::slave_join_flags`] `flags` (LOCAL: read history only, never transmit).
    /// Not connected.
    pub fn guest_reconnect(
        app_id: &str,
        ego: ecdsa::PublicKey,
        place: eddsa::PublicKey,
        flags: u32,
    ) -> Result<Self, SessionError> {
        let app = check_app_id(app_id).map_err(SessionError::InvalidArgument)?;
        let local = flags & psyc::msg::slave_join_flags::LOCAL != 0;
        let start = GuestEnter {
            ego_pub_key: ego,
            place_pub_key: place,
            origin: PeerIdentity::default(),
            flags,
            app_id: app.clone(),
            relays: Vec::new(),
            join_msg: None,
        }
        .try_to_message()?;
        let mut s = Self::new(Role::Slave, start, app, ego, local);
        s.place_pub_key = Some(place);
        Ok(s)
    }

    /// The same session with other bounds for its channel session (set before use).
    pub fn with_limits(mut self, limits: psyc::client::Limits) -> Self {
        self.inner = self.inner.with_limits(limits);
        self
    }

    // ------------------------------------------------------------ what it is

    /// Whether this is a host's connection.
    pub fn is_host(&self) -> bool {
        self.inner.role() == Role::Master
    }

    /// The place's key: known from the start for a reconnect or a guest entering by key,
    /// from HOST_ENTER_ACK for a new place, from the service's APP_PLACE for a guest entering
    /// by name.
    pub fn place_pub_key(&self) -> Option<eddsa::PublicKey> {
        self.place_pub_key
    }

    /// The ego this place was entered with.
    pub fn ego_pub_key(&self) -> ecdsa::PublicKey {
        self.ego_pub_key
    }

    /// The application id of the enter request.
    pub fn app_id(&self) -> &[u8] {
        &self.app_id
    }

    /// Whether leaving has begun ([`leave`](Self::leave)).
    pub fn is_leaving(&self) -> bool {
        self.leaving != Leaving::No
    }

    fn require(&self, role: Role) -> Result<(), SessionError> {
        if self.inner.role() == role {
            Ok(())
        } else {
            Err(SessionError::WrongRole(self.inner.role()))
        }
    }

    // ------------------------------------------------------------ messages

    /// Host: announces a message to the place (method, modifiers, body); the caller's
    /// [`Event::Transmitted`] follows. Stream a body with the channel session's
    /// `transmit_start` / `transmit_data` ([`ChannelSession::channel_mut`]). Announcement
    /// flags are not transmitted (C's CLEAR_OBJECTS never was).
    pub fn announce(
        &mut self,
        method: &str,
        env: Environment,
        data: Vec<u8>,
    ) -> Result<(), SessionError> {
        self.require(Role::Master)?;
        self.inner.transmit(method, 0, env, data)
    }

    /// Guest: sends a talk request to the host (as [`announce`](Self::announce)).
    pub fn talk(
        &mut self,
        method: &str,
        env: Environment,
        data: Vec<u8>,
    ) -> Result<(), SessionError> {
        self.require(Role::Slave)?;
        self.inner.transmit(method, 0, env, data)
    }

    /// Host: announces that `nym` is out — `_notice_place_leave` with `env` and `:_nym` = the
    /// nym's 32-byte key. As in C the membership does not change. The caller's
    /// [`Event::Transmitted`] follows.
    pub fn eject(&mut self, nym: ecdsa::PublicKey, env: Environment) -> Result<(), SessionError> {
        self.require(Role::Master)?;
        self.inner
            .transmit(METHOD_NOTICE_PLACE_LEAVE, 0, with_nym(env, nym), Vec::new())
    }

    /// Host: admits or refuses `nym`, whose [`Event::JoinRequest`] came, with an optional
    /// response message (one container, like C).
    pub fn entry_decision(
        &mut self,
        nym: ecdsa::PublicKey,
        admit: bool,
        response: Option<&PsycMessage>,
    ) -> Result<(), SessionError> {
        self.require(Role::Master)?;
        self.inner.join_decision(nym, admit, response, &[])
    }

    /// Leaves the place for good: the host announces `_notice_place_closing`, a guest talks
    /// `_notice_place_leave`, each with `env`; once that message is acknowledged (or lost),
    /// PLACE_LEAVE follows, and [`Event::Parted`] when the service confirms. When the session
    /// cannot transmit (a guest not admitted, a host whose place did not start) PLACE_LEAVE
    /// goes out at once. Messages the caller transmits afterwards are dropped.
    pub fn leave(&mut self, env: Environment) -> Result<(), SessionError> {
        if self.leaving != Leaving::No {
            return Err(SessionError::Parted);
        }
        if self.inner.is_ready() {
            let method = if self.is_host() {
                METHOD_NOTICE_PLACE_CLOSING
            } else {
                METHOD_NOTICE_PLACE_LEAVE
            };
            self.transmit_own(Own::LeaveNotice, method, env)?;
            self.leaving = Leaving::AfterNotice;
        } else {
            self.inner.part()?;
            self.leaving = Leaving::Parting;
            self.pump();
        }
        Ok(())
    }

    fn transmit_own(
        &mut self,
        own: Own,
        method: &str,
        env: Environment,
    ) -> Result<(), SessionError> {
        if self.own.len() >= MAX_OWN_MESSAGES {
            return Err(SessionError::QueueFull("the library's own messages"));
        }
        let place = self.inner.messages_handed_in();
        self.inner.transmit(method, 0, env, Vec::new())?;
        self.own.push_back((place, own));
        Ok(())
    }

    // ------------------------------------------------------------ operations

    /// Replays the place's stored messages `start..=end` whose method starts with
    /// `method_prefix` (local history). Returns the op id; [`Event::HistoryMessage`]s follow,
    /// then [`Event::OperationDone`].
    pub fn history_replay(
        &mut self,
        start: u64,
        end: u64,
        method_prefix: &str,
    ) -> Result<u64, SessionError> {
        self.inner
            .history_replay(start, end, method_prefix, history_replay_flags::LOCAL)
    }

    /// Replays the latest `limit` (≥ 1) stored messages, like
    /// [`history_replay`](Self::history_replay).
    pub fn history_latest(&mut self, limit: u64, method_prefix: &str) -> Result<u64, SessionError> {
        self.inner
            .history_latest(limit, method_prefix, history_replay_flags::LOCAL)
    }

    /// Reads the state variable `name`, or the nearest of its family. Returns the op id;
    /// [`Event::StateVar`] if found, then [`Event::OperationDone`].
    pub fn look_at(&mut self, name: &str) -> Result<u64, SessionError> {
        self.inner.state_get(name)
    }

    /// Reads every state variable whose name starts with `prefix`.
    pub fn look_for(&mut self, prefix: &str) -> Result<u64, SessionError> {
        self.inner.state_get_prefix(prefix)
    }

    /// Has the service process messages of the place whose method starts with
    /// `method_prefix` ([`msg_proc_flags`]: RELAY guest requests to the place, SAVE their
    /// data). Written on the current connection only: the service does not keep it for the
    /// client.
    pub fn msg_proc_set(&mut self, method_prefix: &str, flags: u32) -> Result<(), SessionError> {
        if flags & !(msg_proc_flags::RELAY | msg_proc_flags::SAVE) != 0 {
            return Err(SessionError::InvalidArgument(
                "unknown message processing flags",
            ));
        }
        let method_prefix = c_string(method_prefix).ok_or(SessionError::InvalidArgument(
            "method prefix contains a NUL",
        ))?;
        let request = MsgProcSet {
            flags,
            method_prefix,
        }
        .try_to_message()?;
        self.inner.send_request(request)
    }

    /// Clears every message processing of the place.
    pub fn msg_proc_clear(&mut self) -> Result<(), SessionError> {
        self.inner.send_request(MsgProcClear.to_message())
    }

    // ------------------------------------------------------------ receiving

    /// Takes the channel session's events: the library's own outcomes are kept back (and a
    /// leave notice's lets PLACE_LEAVE go), a guest's farewell makes the host announce it.
    fn pump(&mut self) {
        while let Some(event) = self.inner.poll_event() {
            match event {
                Event::Transmitted { .. } | Event::TransmitLost => {
                    let place = self.settled;
                    self.settled += 1;
                    match self.own.front() {
                        Some(&(p, own)) if p == place => {
                            self.own.pop_front();
                            self.own_settled(own, &event);
                        }
                        _ => self.events.push_back(event),
                    }
                }
                Event::Message(m) => {
                    if self.is_host() && self.leaving == Leaving::No {
                        if let Some(farewell) = Farewell::from_message(&m) {
                            self.announce_farewell(&farewell);
                        }
                    }
                    self.events.push_back(Event::Message(m));
                }
                Event::Parted => {
                    self.own.clear();
                    self.leaving = Leaving::Parting;
                    self.events.push_back(Event::Parted);
                }
                other => self.events.push_back(other),
            }
        }
    }

    fn own_settled(&mut self, own: Own, outcome: &Event) {
        tracing::debug!(?own, ?outcome, "own message settled");
        if own == Own::LeaveNotice && self.leaving == Leaving::AfterNotice {
            self.leaving = Leaving::Parting;
            if let Err(error) = self.inner.part() {
                tracing::debug!(%error, "PLACE_LEAVE after the notice");
            }
        }
    }

    /// Announces a guest's departure to the place, as the C library does.
    fn announce_farewell(&mut self, farewell: &Farewell) {
        let env = farewell.announcement_env();
        if let Err(error) = self.transmit_own(Own::Farewell, METHOD_NOTICE_PLACE_LEAVE, env) {
            tracing::warn!(%error, "cannot announce a guest's farewell");
        }
    }

    /// Learns the place's key from the service, unless it is known already.
    fn learn_place(&mut self, key: eddsa::PublicKey) {
        match self.place_pub_key {
            None if key.0 != [0; 32] => self.place_pub_key = Some(key),
            Some(known) if known != key => {
                tracing::warn!("the service names another place than this connection's");
            }
            _ => {}
        }
    }

    /// A new place's key is known: later connections re-enter it instead of making another.
    fn reenter_known_place(&mut self) {
        if let Some(place) = self.place_pub_key {
            match host_enter_request(&self.app_id, self.ego_pub_key, place, self.policy) {
                Ok(start) => self.inner.set_start_message(start),
                Err(error) => tracing::warn!(%error, "cannot build the re-entry request"),
            }
        }
    }

    fn handle(&mut self, reply: Reply) -> Result<(), SessionError> {
        let host = self.is_host();
        let unexpected = |got| SessionError::Unexpected {
            got,
            request: if host { "host place" } else { "guest place" },
        };
        let channel = match reply {
            Reply::HostEnterAck(ack) if host => {
                let new_place = self.place_pub_key.is_none();
                self.learn_place(ack.place_pub_key);
                if new_place {
                    self.reenter_known_place();
                }
                psyc::msg::Reply::MasterStartAck(MasterStartAck {
                    result_code: ack.result_code,
                    max_message_id: ack.max_message_id,
                })
            }
            Reply::GuestEnterAck(ack) if !host => psyc::msg::Reply::SlaveJoinAck(SlaveJoinAck {
                result_code: ack.result_code,
                max_message_id: ack.max_message_id,
            }),
            Reply::AppPlace(p) => {
                if p.ego_pub_key == self.ego_pub_key && (p.is_host != 0) == host {
                    let new_place = self.place_pub_key.is_none();
                    self.learn_place(p.place_pub_key);
                    if new_place && host {
                        self.reenter_known_place();
                    }
                }
                return Ok(());
            }
            Reply::PlaceLeaveAck(_) => psyc::msg::Reply::PartAck(PartAck),
            Reply::ResultCode(m) => psyc::msg::Reply::ResultCode(m),
            Reply::JoinRequest(m) => psyc::msg::Reply::JoinRequest(m),
            Reply::JoinDecision(m) => psyc::msg::Reply::JoinDecision(m),
            Reply::Message(m) => psyc::msg::Reply::Message(m),
            Reply::MessageAck(m) => psyc::msg::Reply::MessageAck(m),
            Reply::HistoryResult(m) => psyc::msg::Reply::HistoryResult(m),
            Reply::StateResult(m) => psyc::msg::Reply::StateResult(m),
            Reply::HostEnterAck(_) => return Err(unexpected("HOST_ENTER_ACK")),
            Reply::GuestEnterAck(_) => return Err(unexpected("GUEST_ENTER_ACK")),
            Reply::AppEgo(_) => return Err(unexpected("APP_EGO")),
            Reply::AppEgoEnd(_) => return Err(unexpected("APP_EGO_END")),
            Reply::AppPlaceEnd(_) => return Err(unexpected("APP_PLACE_END")),
        };
        self.inner.handle_reply(channel)
    }
}

impl ChannelSession for PlaceSession {
    fn channel(&self) -> &Session {
        &self.inner
    }

    fn channel_mut(&mut self) -> &mut Session {
        &mut self.inner
    }

    /// One complete message from the service. An error other than
    /// [`SessionError::EventQueueFull`] means the service broke the protocol (the message is
    /// ignored). Never panics, whatever the bytes.
    fn handle_message(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        if self.events.len() >= self.inner.limits().max_events {
            return Err(SessionError::EventQueueFull);
        }
        let handled = Reply::decode(bytes)
            .map_err(SessionError::Malformed)
            .and_then(|reply| self.handle(reply));
        self.pump();
        handled
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.pump();
        self.events.pop_front()
    }

    fn connected(&mut self) {
        self.inner.connected();
        self.pump();
    }

    fn disconnected(&mut self) {
        self.inner.disconnected();
        self.pump();
    }
}

/// HOST_ENTER for `place` (all zero: a new place).
fn host_enter_request(
    app_id: &[u8],
    ego: ecdsa::PublicKey,
    place: eddsa::PublicKey,
    policy: u32,
) -> Result<Vec<u8>, SessionError> {
    Ok(HostEnter {
        policy,
        ego_pub_key: ego,
        place_pub_key: place,
        place_key: eddsa::PrivateKey([0; 32]),
        app_id: app_id.to_vec(),
    }
    .try_to_message()?)
}

/// An entry request as the nested PSYC message the enter requests carry (one container).
fn nested(message: Option<&PsycMessage>) -> Result<Option<Vec<u8>>, SessionError> {
    Ok(message
        .map(|m| m.to_client_message().map(|c| c.to_message()))
        .transpose()?)
}
