//! [`AppSession`]: the client side of an application's connection to the social service,
//! without I/O: APP_CONNECT and the lists of egos and places it brings, zone operations and
//! detach, answered by RESULT_CODE.
//!
//! Like a place session it never touches a socket: its owner reports the connection
//! ([`connected`](AppSession::connected), [`disconnected`](AppSession::disconnected)), hands
//! in the service's messages ([`handle_message`](AppSession::handle_message)) and pulls what
//! to write ([`poll_transmit`](AppSession::poll_transmit)) and what to tell the application
//! ([`poll_event`](AppSession::poll_event)).
//!
//! Every connection starts with APP_CONNECT (sent again after a reconnect, as in C); the
//! service answers with every ego, APP_EGO_END, every place of the application and
//! APP_PLACE_END, and may announce more egos and places later. Operations asked for without
//! a connection wait for the next one; operations written on a connection that broke before
//! their result are reported [`AppEvent::OperationLost`] (a zone add or detach may have been
//! carried out).

use std::collections::{BTreeMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{Message, TooLarge};

use super::{c_string, check_app_id};
use crate::msg::{
    app_place_state, AppConnect, AppDetach, MessageError, Reply, ZoneAddNym, ZoneAddPlace,
};

/// An ego of the user, as the service lists it (ECDSA egos only: the social protocol has no
/// room for other key types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ego {
    /// Its public key.
    pub pub_key: ecdsa::PublicKey,
    /// Its name (IDENTITY keeps names lower-case).
    pub name: String,
}

/// A place the application entered, as the service lists it (APP_PLACE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceInfo {
    /// The ego it was entered with.
    pub ego_pub_key: ecdsa::PublicKey,
    /// The place.
    pub place_pub_key: eddsa::PublicKey,
    /// Entered as host (else guest).
    pub is_host: bool,
    /// [`app_place_state`] (the service sends ENTERED).
    pub state: u8,
}

impl PlaceInfo {
    /// Whether the service reports the place as entered.
    pub fn is_entered(&self) -> bool {
        self.state == app_place_state::ENTERED
    }
}

/// What an [`AppSession`] tells its application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppEvent {
    /// An ego (APP_EGO): listed after APP_CONNECT, or announced later (new or renamed).
    Ego(Ego),
    /// The list of egos is complete (APP_EGO_END).
    EgosListed,
    /// A place of the application (APP_PLACE).
    Place(PlaceInfo),
    /// The lists are complete (APP_PLACE_END): C's "connected" callback.
    Connected,
    /// The RESULT_CODE of an operation: zone add (1 stored, −1 error), detach (1, or −1 if
    /// the place was not attached).
    OperationDone {
        /// The operation.
        op_id: u64,
        /// The result.
        result: i64,
        /// Error text the service sent along, if any.
        error: Option<String>,
    },
    /// The connection broke after the operation was written and before its result.
    OperationLost {
        /// The operation.
        op_id: u64,
    },
}

/// Why an [`AppSession`] refused a call or a message from the service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The service sent bytes that are not a social service → client message.
    #[error("undecodable message from the service: {0}")]
    Malformed(#[from] MessageError),
    /// The service sent a message an application connection never gets.
    #[error("unexpected {0} on an application connection")]
    Unexpected(&'static str),
    /// Too many events wait for [`AppSession::poll_event`]; the message was not taken.
    #[error("event queue full")]
    EventQueueFull,
    /// A bound of the session is reached (see [`AppLimits`]).
    #[error("queue full: {0}")]
    QueueFull(&'static str),
    /// An argument the service would reject.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// A request built from the caller's input would not fit one GNUnet message.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
}

/// Bounds of an [`AppSession`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLimits {
    /// Operations open at once.
    pub max_pending_ops: usize,
    /// Events waiting for [`AppSession::poll_event`].
    pub max_events: usize,
    /// Egos remembered.
    pub max_egos: usize,
    /// Places remembered.
    pub max_places: usize,
}

impl Default for AppLimits {
    fn default() -> Self {
        Self {
            max_pending_ops: 256,
            max_events: 4096,
            max_egos: 1024,
            max_places: 4096,
        }
    }
}

#[derive(Debug)]
struct Op {
    request: Vec<u8>,
    /// Written on the current connection.
    sent: bool,
}

/// The client side of an application's connection to the social service.
#[derive(Debug)]
pub struct AppSession {
    limits: AppLimits,
    app_id: String,
    connect: Vec<u8>,
    connected: bool,
    /// APP_PLACE_END came on the current connection.
    listed: bool,
    outbox: VecDeque<Vec<u8>>,
    events: VecDeque<AppEvent>,
    next_op_id: u64,
    ops: BTreeMap<u64, Op>,
    egos: Vec<Ego>,
    places: Vec<PlaceInfo>,
}

impl AppSession {
    /// The connection of application `app_id` (at most 254 bytes, no NUL). Not connected.
    pub fn new(app_id: &str) -> Result<Self, AppError> {
        let app = check_app_id(app_id).map_err(AppError::InvalidArgument)?;
        Ok(Self {
            limits: AppLimits::default(),
            app_id: app_id.to_owned(),
            connect: AppConnect { app_id: app }.try_to_message()?,
            connected: false,
            listed: false,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            next_op_id: 1,
            ops: BTreeMap::new(),
            egos: Vec::new(),
            places: Vec::new(),
        })
    }

    /// The same session with other bounds (set before use).
    pub fn with_limits(mut self, limits: AppLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The application id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The egos listed on the current connection, in the order they came (a renamed ego
    /// keeps its place).
    pub fn egos(&self) -> &[Ego] {
        &self.egos
    }

    /// The places listed on the current connection, in the order they came.
    pub fn places(&self) -> &[PlaceInfo] {
        &self.places
    }

    /// Whether the lists of the current connection are complete (APP_PLACE_END came).
    pub fn is_listed(&self) -> bool {
        self.listed
    }

    /// Whether the session believes a connection is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// How many operations are open.
    pub fn pending_operations(&self) -> usize {
        self.ops.len()
    }

    // ------------------------------------------------------------ connection

    /// A connection is up: APP_CONNECT goes first, then the operations not written yet. The
    /// lists start again (the service sends them anew).
    pub fn connected(&mut self) {
        self.connected = true;
        self.listed = false;
        self.egos.clear();
        self.places.clear();
        self.outbox.clear();
        self.outbox.push_back(self.connect.clone());
        for op in self.ops.values_mut() {
            op.sent = true;
            self.outbox.push_back(op.request.clone());
        }
    }

    /// The connection is gone: what was written and not answered is lost.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.listed = false;
        self.outbox.clear();
        let lost: Vec<u64> = self
            .ops
            .iter()
            .filter(|(_, op)| op.sent)
            .map(|(id, _)| *id)
            .collect();
        for op_id in lost {
            self.ops.remove(&op_id);
            self.events.push_back(AppEvent::OperationLost { op_id });
        }
    }

    /// The next message to write to the service, in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop_front()
    }

    /// The next thing to tell the application.
    pub fn poll_event(&mut self) -> Option<AppEvent> {
        self.events.pop_front()
    }

    // ------------------------------------------------------------ operations

    /// Publishes `place` in the zone of `ego` under the label `name`: a PLACE record naming
    /// `origin` (the service writes its own peer instead, gap G10) and `relays`, valid until
    /// `expiration`; `password` is not used by the service. Returns the op id; the result is
    /// an [`AppEvent::OperationDone`].
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
    ) -> Result<u64, AppError> {
        let name = c_string(name).ok_or(AppError::InvalidArgument("name contains a NUL"))?;
        let password =
            c_string(password).ok_or(AppError::InvalidArgument("password contains a NUL"))?;
        let expiration_time = micros(expiration);
        self.start_op(|op_id| ZoneAddPlace {
            op_id,
            expiration_time,
            ego_pub_key: ego,
            place_pub_key: place,
            origin,
            name,
            password,
            relays: relays.to_vec(),
        })
    }

    /// Names the nym `nym` in the zone of `ego` under the label `name` (a PKEY record), valid
    /// until `expiration`. Returns the op id.
    pub fn zone_add_nym(
        &mut self,
        ego: ecdsa::PublicKey,
        name: &str,
        nym: ecdsa::PublicKey,
        expiration: SystemTime,
    ) -> Result<u64, AppError> {
        let name = c_string(name).ok_or(AppError::InvalidArgument("name contains a NUL"))?;
        let expiration_time = micros(expiration);
        self.start_op(|op_id| ZoneAddNym {
            op_id,
            expiration_time,
            ego_pub_key: ego,
            nym_pub_key: nym,
            name,
        })
    }

    /// Detaches the place `place`, entered with `ego`, from this application: it is no longer
    /// listed (the place itself stays). Returns the op id.
    pub fn detach(
        &mut self,
        ego: ecdsa::PublicKey,
        place: eddsa::PublicKey,
    ) -> Result<u64, AppError> {
        self.start_op(|op_id| AppDetach {
            place_pub_key: place,
            ego_pub_key: ego,
            op_id,
        })
    }

    fn start_op<M: Message>(&mut self, build: impl FnOnce(u64) -> M) -> Result<u64, AppError> {
        if self.ops.len() >= self.limits.max_pending_ops {
            return Err(AppError::QueueFull("pending operations"));
        }
        let op_id = self.next_op_id;
        let request = build(op_id).try_to_message()?;
        self.next_op_id += 1;
        if self.connected {
            self.outbox.push_back(request.clone());
        }
        self.ops.insert(
            op_id,
            Op {
                request,
                sent: self.connected,
            },
        );
        Ok(op_id)
    }

    // ------------------------------------------------------------ receiving

    /// One complete message from the service. An error other than
    /// [`AppError::EventQueueFull`] means the service broke the protocol (the message is
    /// ignored; the caller may drop the connection). Never panics, whatever the bytes.
    pub fn handle_message(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        if self.events.len() >= self.limits.max_events {
            return Err(AppError::EventQueueFull);
        }
        match Reply::decode(bytes)? {
            Reply::AppEgo(m) => {
                let ego = Ego {
                    pub_key: m.ego_pub_key,
                    name: String::from_utf8_lossy(&m.name).into_owned(),
                };
                let full = self.egos.len() >= self.limits.max_egos;
                match self.egos.iter_mut().find(|e| e.pub_key == ego.pub_key) {
                    Some(known) => known.name = ego.name.clone(),
                    None if full => return Err(AppError::QueueFull("egos")),
                    None => self.egos.push(ego.clone()),
                }
                self.events.push_back(AppEvent::Ego(ego));
            }
            Reply::AppEgoEnd(_) => self.events.push_back(AppEvent::EgosListed),
            Reply::AppPlace(m) => {
                let place = PlaceInfo {
                    ego_pub_key: m.ego_pub_key,
                    place_pub_key: m.place_pub_key,
                    is_host: m.is_host != 0,
                    state: m.place_state,
                };
                let full = self.places.len() >= self.limits.max_places;
                match self.places.iter_mut().find(|p| {
                    (p.ego_pub_key, p.place_pub_key, p.is_host)
                        == (place.ego_pub_key, place.place_pub_key, place.is_host)
                }) {
                    Some(known) => known.state = place.state,
                    None if full => return Err(AppError::QueueFull("places")),
                    None => self.places.push(place),
                }
                self.events.push_back(AppEvent::Place(place));
            }
            Reply::AppPlaceEnd(_) => {
                self.listed = true;
                self.events.push_back(AppEvent::Connected);
            }
            Reply::ResultCode(code) => {
                if self.ops.remove(&code.op_id).is_none() {
                    tracing::debug!(op_id = code.op_id, "RESULT_CODE for no open operation");
                    return Ok(());
                }
                let text = code.data.strip_suffix(&[0]).unwrap_or(&code.data);
                self.events.push_back(AppEvent::OperationDone {
                    op_id: code.op_id,
                    result: code.result_code,
                    error: (!text.is_empty()).then(|| String::from_utf8_lossy(text).into_owned()),
                });
            }
            other => return Err(AppError::Unexpected(reply_name(&other))),
        }
        Ok(())
    }
}

/// An absolute time as GNUnet's microseconds since the epoch (0 before it, saturating).
fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The name of a place-connection message, for errors.
fn reply_name(r: &Reply) -> &'static str {
    match r {
        Reply::HostEnterAck(_) => "HOST_ENTER_ACK",
        Reply::GuestEnterAck(_) => "GUEST_ENTER_ACK",
        Reply::PlaceLeaveAck(_) => "PLACE_LEAVE_ACK",
        Reply::JoinRequest(_) => "JOIN_REQUEST",
        Reply::JoinDecision(_) => "JOIN_DECISION",
        Reply::Message(_) => "PSYC_MESSAGE",
        Reply::MessageAck(_) => "MESSAGE_ACK",
        Reply::HistoryResult(_) => "HISTORY_RESULT",
        Reply::StateResult(_) => "STATE_RESULT",
        Reply::AppEgo(_) => "APP_EGO",
        Reply::AppEgoEnd(_) => "APP_EGO_END",
        Reply::AppPlace(_) => "APP_PLACE",
        Reply::AppPlaceEnd(_) => "APP_PLACE_END",
        Reply::ResultCode(_) => "RESULT_CODE",
    }
}
