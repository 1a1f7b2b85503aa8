//! Blocking connections to the social service for tools, the CLI and tests: [`App`] (the
//! application's connection) and [`Place`] (one place connection, psyc's blocking
//! [`Client`] driving a [`PlaceSession`]).
//!
//! Every call that waits reads the service's messages while it waits and keeps the events
//! that are not its own, in order, for `next_event` / `wait_event`; it gives up after the
//! handle's timeout ([`DEFAULT_TIMEOUT`] unless `set_timeout` says otherwise).

use std::collections::VecDeque;
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use gnunet_service::client::{service_socket, BlockingClient, ClientError};
use gnunet_service::config::Config;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use psyc::client::{
    ChannelSession, Client, Event, History, SessionError, StateVars, DEFAULT_TIMEOUT,
};
use psyc::format::env::Environment;
use psyc::format::message::PsycMessage;

use super::app::{AppError, AppEvent, AppSession, Ego, PlaceInfo};
use super::notice::with_nym;
use super::place::PlaceSession;

/// The service section (and socket) of the social service.
const SERVICE: &str = "social";

/// Events an [`App`] keeps for its caller at most.
const MAX_QUEUED_EVENTS: usize = 4096;

/// Why a blocking call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Talking to the service failed (no socket configured, connect, I/O, closed, timeout).
    #[error(transparent)]
    Service(#[from] ClientError),
    /// The application session refused the call, or the service broke the protocol.
    #[error(transparent)]
    App(#[from] AppError),
    /// A place connection failed (see [`psyc::client::Error`]).
    #[error(transparent)]
    Place(#[from] psyc::client::Error),
    /// The place session refused the call.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The connection broke while the operation was open.
    #[error("operation {0} was lost with the connection")]
    OperationLost(u64),
    /// `next_event` was not called for too long: the queue of events is full.
    #[error("{MAX_QUEUED_EVENTS} events are waiting to be read")]
    EventQueueFull,
}

impl Error {
    /// Whether the call gave up waiting (the handle's timeout).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::Service(ClientError::Timeout(_))
                | Error::Place(psyc::client::Error::Service(ClientError::Timeout(_)))
        )
    }
}

/// The result of an operation of the application connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpResult {
    /// The RESULT_CODE: 1 done, −1 failed.
    pub result: i64,
    /// Error text the service sent along.
    pub error: Option<String>,
}

/// What entering a place got back: HOST_ENTER_ACK or GUEST_ENTER_ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entered {
    /// Host: 1 the place has history, 0 a new place, −1 error. Guest: 1, or −1 if the
    /// service could not join the channel.
    pub result: i32,
    /// Last message id of the place's channel.
    pub max_message_id: u64,
    /// The place's key, if known by now (see [`PlaceSession::place_pub_key`]).
    pub place_pub_key: Option<eddsa::PublicKey>,
}

/// A guest's entry decision from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDecision {
    /// 1 admitted, 0 refused, −1 the host could not answer.
    pub is_admitted: i32,
    /// The host's response message, if it sent a valid one.
    pub response: Option<PsycMessage>,
}

impl EntryDecision {
    /// Whether the guest was admitted.
    pub fn admitted(&self) -> bool {
        self.is_admitted == 1
    }
}

/// A blocking application connection to the social service.
pub struct App {
    conn: BlockingClient,
    socket: PathBuf,
    session: AppSession,
    events: VecDeque<AppEvent>,
    timeout: Duration,
}

impl App {
    /// Connects application `app_id` to the social service the config names and waits for
    /// the lists of egos and places; their events stay queued for
    /// [`next_event`](Self::next_event), in order, ending with [`AppEvent::Connected`].
    pub fn connect(config: &Config, app_id: &str) -> Result<Self, Error> {
        Self::connect_path(&service_socket(config, SERVICE)?, app_id, DEFAULT_TIMEOUT)
    }

    /// As [`connect`](Self::connect), to the socket `socket`, waiting at most `timeout` for
    /// the socket and for each answer.
    pub fn connect_path(socket: &Path, app_id: &str, timeout: Duration) -> Result<Self, Error> {
        let session = AppSession::new(app_id)?;
        let conn = BlockingClient::connect_path(socket, timeout)?;
        let mut app = Self {
            conn,
            socket: socket.to_path_buf(),
            session,
            events: VecDeque::new(),
            timeout,
        };
        app.session.connected();
        app.wait_listed()?;
        Ok(app)
    }

    fn wait_listed(&mut self) -> Result<(), Error> {
        self.write_out()?;
        let deadline = Instant::now() + self.timeout;
        while !self.session.is_listed() {
            self.read_one(deadline)?;
        }
        Ok(())
    }

    /// How long each call waits from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The service's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The session this handle drives.
    pub fn session(&self) -> &AppSession {
        &self.session
    }

    /// The egos listed on the current connection.
    pub fn egos(&self) -> &[Ego] {
        self.session.egos()
    }

    /// The places listed on the current connection.
    pub fn places(&self) -> &[PlaceInfo] {
        self.session.places()
    }

    /// Closes the connection, as a lost connection would end (tests).
    pub fn disconnect(&mut self) {
        // Already closed by the other side, maybe: nothing more to do then.
        let _ = self.conn.stream().shutdown(Shutdown::Both);
        self.session.disconnected();
        self.drain_session();
    }

    /// Connects again (closing the current connection first): APP_CONNECT goes again and the
    /// lists come anew (as events, as after [`connect`](Self::connect)).
    pub fn reconnect(&mut self) -> Result<(), Error> {
        if self.session.is_connected() {
            self.disconnect();
        }
        self.conn = BlockingClient::connect_path(&self.socket, self.timeout)?;
        self.session.connected();
        self.wait_listed()
    }

    // ------------------------------------------------------------ events

    /// The next event, queued or read within `timeout` (`None`: the handle's timeout).
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<AppEvent, Error> {
        let deadline = Instant::now() + timeout.unwrap_or(self.timeout);
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            self.read_one(deadline)?;
        }
    }

    /// The first event for which `wanted` holds, queued or read within the timeout; the
    /// others stay queued in order.
    pub fn wait_event(&mut self, wanted: impl Fn(&AppEvent) -> bool) -> Result<AppEvent, Error> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(i) = self.events.iter().position(&wanted) {
                if let Some(event) = self.events.remove(i) {
                    return Ok(event);
                }
            }
            self.read_one(deadline)?;
        }
    }

    fn read_one(&mut self, deadline: Instant) -> Result<(), Error> {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            return Err(Error::EventQueueFull);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::Timeout(self.timeout).into());
        }
        let raw = match self.conn.recv(Some(left)) {
            Ok(raw) => raw,
            Err(e @ ClientError::Timeout(_)) => return Err(e.into()),
            Err(e) => {
                self.session.disconnected();
                self.drain_session();
                return Err(e.into());
            }
        };
        let handled = self.session.handle_message(raw.bytes());
        self.drain_session();
        handled?;
        self.write_out()
    }

    fn drain_session(&mut self) {
        while let Some(event) = self.session.poll_event() {
            self.events.push_back(event);
        }
    }

    fn write_out(&mut self) -> Result<(), Error> {
        while let Some(msg) = self.session.poll_transmit() {
            self.conn.send_raw(&msg)?;
        }
        Ok(())
    }

    // ------------------------------------------------------------ operations

    /// Publishes a place in an ego's zone (see [`AppSession::zone_add_place`]).
    #[allow(clippy::too_many_arguments)]
    pub fn zone_add_place(
        &mut self,
        ego: ecdsa::PublicKey,
        name: &str,
        password: &str,
        place: eddsa::PublicKey,
        origin: PeerIdentity,
        relays: &[PeerIdentity],
        expiration: SystemTime,
    ) -> Result<OpResult, Error> {
        let op_id = self
            .session
            .zone_add_place(ego, name, password, place, origin, relays, expiration)?;
        self.wait_op(op_id)
    }

    /// Names a nym in an ego's zone (see [`AppSession::zone_add_nym`]).
    pub fn zone_add_nym(
        &mut self,
        ego: ecdsa::PublicKey,
        name: &str,
        nym: ecdsa::PublicKey,
        expiration: SystemTime,
    ) -> Result<OpResult, Error> {
        let op_id = self.session.zone_add_nym(ego, name, nym, expiration)?;
        self.wait_op(op_id)
    }

    /// Detaches a place from the application (see [`AppSession::detach`]).
    pub fn detach(
        &mut self,
        ego: ecdsa::PublicKey,
        place: eddsa::PublicKey,
    ) -> Result<OpResult, Error> {
        let op_id = self.session.detach(ego, place)?;
        self.wait_op(op_id)
    }

    fn wait_op(&mut self, op_id: u64) -> Result<OpResult, Error> {
        self.write_out()?;
        let matches = |e: &AppEvent| match e {
            AppEvent::OperationDone { op_id: id, .. } | AppEvent::OperationLost { op_id: id } => {
                *id == op_id
            }
            _ => false,
        };
        match self.wait_event(matches)? {
            AppEvent::OperationDone { result, error, .. } => Ok(OpResult { result, error }),
            _ => Err(Error::OperationLost(op_id)),
        }
    }

    // ------------------------------------------------------------ places

    fn enter(&self, session: PlaceSession) -> Result<(Place, Entered), Error> {
        Place::enter(&self.socket, session, self.timeout)
    }

    /// Hosts a new place with `ego` (see [`PlaceSession::host_enter`]).
    pub fn host_enter(
        &self,
        ego: ecdsa::PublicKey,
        policy: u32,
    ) -> Result<(Place, Entered), Error> {
        self.enter(PlaceSession::host_enter(
            self.session.app_id(),
            ego,
            policy,
        )?)
    }

    /// Enters a hosted place of this application again.
    pub fn host_reconnect(&self, place: &PlaceInfo) -> Result<(Place, Entered), Error> {
        self.enter(PlaceSession::host_reconnect(
            self.session.app_id(),
            place.ego_pub_key,
            place.place_pub_key,
        )?)
    }

    /// Asks to enter a place by its key (see [`PlaceSession::guest_enter`]); the entry
    /// decision follows ([`Place::wait_entry_decision`]).
    pub fn guest_enter(
        &self,
        ego: ecdsa::PublicKey,
        place: eddsa::PublicKey,
        origin: PeerIdentity,
        relays: Vec<PeerIdentity>,
        join_message: Option<&PsycMessage>,
    ) -> Result<(Place, Entered), Error> {
        let app = self.session.app_id();
        self.enter(PlaceSession::guest_enter(
            app,
            ego,
            place,
            origin,
            relays,
            join_message,
        )?)
    }

    /// Asks to enter a place by GNS name (see [`PlaceSession::guest_enter_by_name`]). The
    /// service closes the connection if the name does not resolve to a place.
    pub fn guest_enter_by_name(
        &self,
        ego: ecdsa::PublicKey,
        gns_name: &str,
        password: &str,
        join_message: Option<&PsycMessage>,
    ) -> Result<(Place, Entered), Error> {
        let app = self.session.app_id();
        self.enter(PlaceSession::guest_enter_by_name(
            app,
            ego,
            gns_name,
            password,
            join_message,
        )?)
    }

    /// Enters a place of this application again as guest (see
    /// [`PlaceSession::guest_reconnect`]).
    pub fn guest_reconnect(
        &self,
        place: &PlaceInfo,
        flags: u32,
    ) -> Result<(Place, Entered), Error> {
        let app = self.session.app_id();
        self.enter(PlaceSession::guest_reconnect(
            app,
            place.ego_pub_key,
            place.place_pub_key,
            flags,
        )?)
    }
}

/// A blocking place connection to the social service.
pub struct Place {
    client: Client<PlaceSession>,
}

impl Place {
    /// Connects `session` to the service at `socket`, sends its enter request and waits for
    /// the HOST_ENTER_ACK or GUEST_ENTER_ACK; later calls wait at most `timeout` each.
    pub fn enter(
        socket: &Path,
        session: PlaceSession,
        timeout: Duration,
    ) -> Result<(Self, Entered), Error> {
        let (mut client, started) = Client::start(socket, session)?;
        client.set_timeout(timeout);
        let entered = Entered {
            result: started.result,
            max_message_id: started.max_message_id,
            place_pub_key: client.session().place_pub_key(),
        };
        Ok((Self { client }, entered))
    }

    /// How long each call waits from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.client.set_timeout(timeout);
    }

    /// The session this handle drives.
    pub fn session(&self) -> &PlaceSession {
        self.client.session()
    }

    /// The psyc client underneath, for what this handle has no method for (queued
    /// transmissions, reconnects).
    pub fn client_mut(&mut self) -> &mut Client<PlaceSession> {
        &mut self.client
    }

    /// The place's key, if known (see [`PlaceSession::place_pub_key`]).
    pub fn place_pub_key(&self) -> Option<eddsa::PublicKey> {
        self.session().place_pub_key()
    }

    /// Closes the connection; the service keeps the place (C's `*_disconnect`).
    pub fn disconnect(&mut self) {
        self.client.disconnect();
    }

    /// The next event, queued or read within `timeout` (`None`: the handle's timeout).
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Event, Error> {
        Ok(self.client.next_event(timeout)?)
    }

    /// The first event for which `wanted` holds; the others stay queued in order.
    pub fn wait_event(&mut self, wanted: impl Fn(&Event) -> bool) -> Result<Event, Error> {
        Ok(self.client.wait_event(wanted)?)
    }

    /// Guest: waits for the host's entry decision.
    pub fn wait_entry_decision(&mut self) -> Result<EntryDecision, Error> {
        match self.wait_event(|e| matches!(e, Event::JoinDecision { .. }))? {
            Event::JoinDecision {
                is_admitted,
                response,
            } => Ok(EntryDecision {
                is_admitted,
                response,
            }),
            _ => Err(ClientError::Closed.into()),
        }
    }

    fn require_host(&self, host: bool) -> Result<(), Error> {
        let role = self.client.session().channel().role();
        if self.session().is_host() == host {
            Ok(())
        } else {
            Err(SessionError::WrongRole(role).into())
        }
    }

    /// Host: announces a message and returns once it is acknowledged; whether it ended
    /// cancelled.
    pub fn announce(
        &mut self,
        method: &str,
        env: Environment,
        data: Vec<u8>,
    ) -> Result<bool, Error> {
        self.require_host(true)?;
        Ok(self.client.transmit(method, 0, env, data)?)
    }

    /// Guest: sends a talk request and returns once it is acknowledged (after admission).
    pub fn talk(&mut self, method: &str, env: Environment, data: Vec<u8>) -> Result<bool, Error> {
        self.require_host(false)?;
        Ok(self.client.transmit(method, 0, env, data)?)
    }

    /// Host: announces a message whose body comes in `chunks`, as the MESSAGE_ACK window
    /// lets them go.
    pub fn announce_chunks(
        &mut self,
        method: &str,
        env: Environment,
        chunks: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<bool, Error> {
        self.require_host(true)?;
        Ok(self.client.transmit_chunks(method, 0, env, chunks)?)
    }

    /// Guest: a talk request whose body comes in `chunks`.
    pub fn talk_chunks(
        &mut self,
        method: &str,
        env: Environment,
        chunks: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<bool, Error> {
        self.require_host(false)?;
        Ok(self.client.transmit_chunks(method, 0, env, chunks)?)
    }

    /// Host: announces that `nym` is out (see [`PlaceSession::eject`]).
    pub fn eject(&mut self, nym: ecdsa::PublicKey, env: Environment) -> Result<bool, Error> {
        self.require_host(true)?;
        let env = with_nym(env, nym);
        Ok(self
            .client
            .transmit(super::METHOD_NOTICE_PLACE_LEAVE, 0, env, Vec::new())?)
    }

    /// Host: admits or refuses `nym` (see [`PlaceSession::entry_decision`]).
    pub fn entry_decision(
        &mut self,
        nym: ecdsa::PublicKey,
        admit: bool,
        response: Option<&PsycMessage>,
    ) -> Result<(), Error> {
        self.client
            .session_mut()
            .entry_decision(nym, admit, response)?;
        Ok(self.client.flush()?)
    }

    /// Replays stored messages `start..=end` with a method prefix (local history).
    pub fn history_replay(
        &mut self,
        start: u64,
        end: u64,
        method_prefix: &str,
    ) -> Result<History, Error> {
        let local = psyc::msg::history_replay_flags::LOCAL;
        Ok(self
            .client
            .history_replay(start, end, method_prefix, local)?)
    }

    /// Replays the latest `limit` stored messages with a method prefix.
    pub fn history_latest(&mut self, limit: u64, method_prefix: &str) -> Result<History, Error> {
        let local = psyc::msg::history_replay_flags::LOCAL;
        Ok(self.client.history_latest(limit, method_prefix, local)?)
    }

    /// Reads a state variable, or the nearest of its family.
    pub fn look_at(&mut self, name: &str) -> Result<StateVars, Error> {
        Ok(self.client.state_get(name)?)
    }

    /// Reads the state variables whose names start with `prefix`.
    pub fn look_for(&mut self, prefix: &str) -> Result<StateVars, Error> {
        Ok(self.client.state_get_prefix(prefix)?)
    }

    /// Sets message processing for a method prefix (see [`PlaceSession::msg_proc_set`]).
    pub fn msg_proc_set(&mut self, method_prefix: &str, flags: u32) -> Result<(), Error> {
        self.client
            .session_mut()
            .msg_proc_set(method_prefix, flags)?;
        Ok(self.client.flush()?)
    }

    /// Clears message processing.
    pub fn msg_proc_clear(&mut self) -> Result<(), Error> {
        self.client.session_mut().msg_proc_clear()?;
        Ok(self.client.flush()?)
    }

    /// Leaves the place for good (see [`PlaceSession::leave`]) and waits for the service's
    /// PLACE_LEAVE_ACK.
    pub fn leave(&mut self, env: Environment) -> Result<(), Error> {
        self.client.session_mut().leave(env)?;
        self.client.flush()?;
        self.wait_event(|e| matches!(e, Event::Parted))?;
        Ok(())
    }
}
