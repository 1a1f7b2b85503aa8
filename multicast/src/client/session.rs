//! The client side of one group role without I/O: what to send when a connection to the
//! service starts (and again after a reconnect), which fragment may go next, and which replay
//! requests still wait for their answer.
//!
//! A [`Session`] never touches a socket. Its owner reports the connection's state
//! ([`connected`](Session::connected), [`disconnected`](Session::disconnected)), hands it what
//! the service sends ([`handle_message`](Session::handle_message)), and pulls what to write
//! ([`poll_transmit`](Session::poll_transmit)) and what to tell the application
//! ([`poll_event`](Session::poll_event)). The blocking [`Client`](super::Client) drives one
//! over a blocking socket; an event loop drives one over its own connection.
//!
//! What the C library (`multicast_api.c`) does, and where this differs:
//! - On every (re)connect the start message (ORIGIN_START or MEMBER_JOIN) goes first. An
//!   origin's ORIGIN_START is re-sent with `max_fragment_id` raised to the newest fragment id
//!   it has seen, so a service that lost the group (it restarted, or this was its last origin
//!   client) continues the fragment count instead of reusing ids. A running service ignores
//!   the value, as C's does.
//! - One fragment is in flight until its FRAGMENT_ACK; the rest wait in a bounded queue. The C
//!   member library ignored ACKs (gap G12); here requests are paced like messages, and wait
//!   until the member is admitted: the service drops (and ACKs) requests of members it has not
//!   admitted. A fragment whose ACK had not come when the connection broke is sent again after
//!   the reconnect: the service may have got it, so receivers may see it twice (with a new
//!   fragment id), but never lose it.
//! - Replay requests are remembered until a fragment answers them (matched by fragment id, or
//!   by message id and offset), a REPLAY_RESPONSE reports a failure, or a REPLAY_RESPONSE_END
//!   closes them; the service forgets a client's replay requests when it disconnects, so they
//!   are sent again after a reconnect. The C library sent them and forgot them.
//! - Other messages (join decisions, replay answers) are sent only on a live connection: they
//!   answer something the service handed this connection and mean nothing on the next.

use std::collections::VecDeque;

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{DecodeError, Message, TooLarge, HEADER_SIZE};

use super::{Event, Fragmenter};
use crate::msg::{
    self, Any, Fragment, MemberJoin, OriginStart, PartRequest, ReplayError, ReplayIds,
    ReplayRequest, ADMITTED,
};

/// Bounds of a [`Session`]'s queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of fragments that may wait for flow-control credit.
    pub max_queued_bytes: usize,
    /// Replay requests that may wait for their answer.
    pub max_pending_replays: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_queued_bytes: 16 * 1024 * 1024,
            max_pending_replays: 256,
        }
    }
}

/// The group role of a session, fixed by its start message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Started with ORIGIN_START: sends message fragments, answers joins and replays.
    Origin,
    /// Started with MEMBER_JOIN: sends request fragments and replay requests.
    Member,
}

/// Why a [`Session`] refused something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The bytes are not one complete message of a multicast type a client sends.
    #[error("not a client message: {0}")]
    Malformed(DecodeError),
    /// Nothing but ORIGIN_START or MEMBER_JOIN may come first.
    #[error("no ORIGIN_START or MEMBER_JOIN yet")]
    NotStarted,
    /// A second ORIGIN_START or MEMBER_JOIN.
    #[error("the session already has its group role")]
    AlreadyStarted,
    /// The message is not one this role sends (a member's MESSAGE, an origin's REQUEST …).
    #[error("message type {0} is not sent by this role")]
    WrongRole(u16),
    /// The session parted (or is parting).
    #[error("the session has parted")]
    Parted,
    /// A message that only makes sense on the current connection, while there is none.
    #[error("not connected")]
    NotConnected,
    /// The fragment queue or the pending replays are full.
    #[error("queue full: {0}")]
    QueueFull(&'static str),
}

/// What a [`Session`] tells its application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum SessionEvent {
    /// Something from the service for the application: join requests and decisions, live
    /// message fragments, request fragments, replay requests to answer, and failed replays
    /// this session does not know of. Flow-control ACKs, PART_ACK and the answers to this
    /// session's own replay requests never appear here.
    Service(Event),
    /// A replay this session asked for is over: the fragment, or why not.
    ReplayDone {
        /// What was asked for.
        ids: ReplayIds,
        /// The replayed fragment, or the error code of the answer (`NotFound` when the answer
        /// ended without a fragment).
        result: Result<Fragment, ReplayError>,
    },
    /// Every fragment handed to the session has been acknowledged.
    AllAcknowledged,
    /// The part (or origin stop) is done, or the connection ended while parting: the session
    /// is over.
    Parted,
}

/// How far the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Active,
    Parting,
    Parted,
}

/// The start message, as it will be sent on the next connect.
#[derive(Debug, Clone)]
enum Start {
    Origin(OriginStart),
    Member(MemberJoin),
}

/// One client's session with the multicast service in one group role.
#[derive(Debug)]
pub struct Session {
    limits: Limits,
    fragmenter: Fragmenter,
    start: Option<Start>,
    phase: Phase,
    connected: bool,
    /// Member: the service's last decision on this connection admitted us.
    admitted: bool,
    /// Ready to be written, in order.
    outbox: VecDeque<Vec<u8>>,
    /// Fragments waiting for flow-control credit, and their total size.
    queue: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    /// The session's fragment written last and not acknowledged yet.
    in_flight: Option<Vec<u8>>,
    /// Fragments written on this connection (by the session or around it) and not acknowledged.
    unacknowledged: usize,
    /// Replay requests without an answer, oldest first.
    replays: Vec<ReplayIds>,
    events: VecDeque<SessionEvent>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session without a role yet: the first message given to [`send`](Self::send) must be
    /// ORIGIN_START or MEMBER_JOIN. Not connected.
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A session without a role yet, with these queue bounds.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            fragmenter: Fragmenter::default(),
            start: None,
            phase: Phase::Active,
            connected: false,
            admitted: false,
            outbox: VecDeque::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            in_flight: None,
            unacknowledged: 0,
            replays: Vec::new(),
            events: VecDeque::new(),
        }
    }

    /// The origin of the group of `group_key`, continuing after `max_fragment_id` (0 for a new
    /// group). Not connected.
    pub fn origin(group_key: eddsa::PrivateKey, max_fragment_id: u64) -> Self {
        let mut s = Self::new();
        s.start = Some(Start::Origin(OriginStart {
            group_key,
            max_fragment_id,
        }));
        s
    }

    /// A member of `group` with `member_key`, joining at `origin` (through `relays`), with an
    /// optional application join message. Not connected.
    ///
    /// [`TooLarge`] if the relays and the join message do not fit one MEMBER_JOIN.
    pub fn member(
        group: eddsa::PublicKey,
        member_key: ecdsa::PrivateKey,
        origin: PeerIdentity,
        relays: Vec<PeerIdentity>,
        join_msg: Option<Vec<u8>>,
    ) -> Result<Self, TooLarge> {
        let join = MemberJoin {
            group_pub_key: group,
            member_key,
            origin,
            relays,
            join_msg,
        };
        // Checked once here, so that `start_message` may encode it on every connect.
        join.try_to_message()?;
        let mut s = Self::new();
        s.start = Some(Start::Member(join));
        Ok(s)
    }

    /// Cuts messages and requests with `fragmenter` from now on.
    pub fn set_fragmenter(&mut self, fragmenter: Fragmenter) {
        self.fragmenter = fragmenter;
    }

    // ------------------------------------------------------------ connection

    /// A connection to the service is up: the start message, the unanswered replay requests
    /// and (origin, or admitted member) the next fragment are queued for writing.
    pub fn connected(&mut self) {
        self.connected = true;
        self.admitted = false;
        self.unacknowledged = 0;
        self.outbox.clear();
        if self.phase != Phase::Active {
            return;
        }
        if let Some(start) = self.start_message() {
            self.outbox.push_back(start);
        }
        for ids in &self.replays {
            self.outbox.push_back(replay_request(*ids));
        }
        self.release();
    }

    /// The connection is gone: what was not written is dropped, the fragment in flight goes
    /// back to the head of the queue, and a part in progress is complete.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.admitted = false;
        self.unacknowledged = 0;
        self.outbox.clear();
        if let Some(f) = self.in_flight.take() {
            self.queued_bytes += f.len();
            self.queue.push_front(f);
        }
        if self.phase == Phase::Parting {
            self.finish_part();
        }
    }

    /// The next message to write to the service, in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop_front()
    }

    /// The next thing to tell the application.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    // ------------------------------------------------------------ sending

    /// Sends any client message through the session (as built by this module's functions):
    /// a start message fixes the role; message and request fragments are paced by flow
    /// control; replay requests are remembered until answered; PART_REQUEST ends the session.
    pub fn send(&mut self, msg: Vec<u8>) -> Result<(), SessionError> {
        let msg_type = check_framing(&msg)?;
        if self.phase != Phase::Active {
            return Err(SessionError::Parted);
        }
        match msg_type {
            msg::TYPE_ORIGIN_START | msg::TYPE_MEMBER_JOIN => {
                if self.start.is_some() {
                    return Err(SessionError::AlreadyStarted);
                }
                self.start = Some(read_start(&msg)?);
                if self.connected {
                    self.outbox.push_back(msg);
                }
                Ok(())
            }
            msg::TYPE_MESSAGE => self.enqueue(Role::Origin, msg_type, vec![msg]),
            msg::TYPE_REQUEST => self.enqueue(Role::Member, msg_type, vec![msg]),
            msg::TYPE_REPLAY_REQUEST => {
                let r = ReplayRequest::from_message(&msg).map_err(SessionError::Malformed)?;
                self.replay(r.ids)
            }
            msg::TYPE_PART_REQUEST => self.part(),
            msg::TYPE_JOIN_DECISION => self.send_now(Some(Role::Origin), msg_type, msg),
            msg::TYPE_REPLAY_RESPONSE | msg::TYPE_REPLAY_RESPONSE_END => {
                self.send_now(None, msg_type, msg)
            }
            _ => Err(SessionError::Malformed(DecodeError::Invalid {
                field: "message type",
                reason: "not a message multicast clients send",
            })),
        }
    }

    /// Origin: queues one application message, cut into fragments.
    pub fn transmit(
        &mut self,
        message_id: u64,
        group_generation: u64,
        data: &[u8],
    ) -> Result<(), SessionError> {
        let fragments = self.fragmenter.message(message_id, group_generation, data);
        self.enqueue(Role::Origin, msg::TYPE_MESSAGE, fragments)
    }

    /// Member: queues one request to the origin, cut into fragments.
    pub fn request(&mut self, request_id: u64, data: &[u8]) -> Result<(), SessionError> {
        let fragments = self.fragmenter.request(request_id, data);
        self.enqueue(Role::Member, msg::TYPE_REQUEST, fragments)
    }

    /// Member: asks for a replay of `ids` (see [`replay_fragment`](super::replay_fragment) and
    /// [`replay_message`](super::replay_message) for the two kinds). Asking again for what is
    /// already pending sends nothing more; the answer comes as one
    /// [`SessionEvent::ReplayDone`].
    pub fn replay(&mut self, ids: ReplayIds) -> Result<(), SessionError> {
        self.check_role(Role::Member, msg::TYPE_REPLAY_REQUEST)?;
        if self.replays.contains(&ids) {
            return Ok(());
        }
        if self.replays.len() >= self.limits.max_pending_replays {
            return Err(SessionError::QueueFull("pending replays"));
        }
        self.replays.push(ids);
        if self.connected {
            self.outbox.push_back(replay_request(ids));
        }
        Ok(())
    }

    /// Parts (member) or stops (origin): fragments not sent yet are dropped and pending
    /// replays forgotten; [`SessionEvent::Parted`] follows once the service confirms (or at
    /// once, without a connection).
    pub fn part(&mut self) -> Result<(), SessionError> {
        if self.phase != Phase::Active {
            return Err(SessionError::Parted);
        }
        self.queue.clear();
        self.queued_bytes = 0;
        self.replays.clear();
        if self.connected && self.start.is_some() {
            self.phase = Phase::Parting;
            self.outbox.push_back(PartRequest.to_message());
        } else {
            self.finish_part();
        }
        Ok(())
    }

    /// Takes note of a message written to the service around the session (the blocking
    /// client's raw `send`): a start message fixes the role, a replay request is remembered,
    /// PART_REQUEST starts the part, a fragment counts as waiting for its ACK. Nothing is
    /// refused and nothing is queued.
    pub fn note_written(&mut self, msg: &[u8]) {
        match msg::message_type(msg) {
            Some(msg::TYPE_ORIGIN_START | msg::TYPE_MEMBER_JOIN) if self.start.is_none() => {
                self.start = read_start(msg).ok();
            }
            Some(msg::TYPE_REPLAY_REQUEST) => {
                if let Ok(r) = ReplayRequest::from_message(msg) {
                    if !self.replays.contains(&r.ids)
                        && self.replays.len() < self.limits.max_pending_replays
                    {
                        self.replays.push(r.ids);
                    }
                }
            }
            Some(msg::TYPE_PART_REQUEST) if self.phase == Phase::Active => {
                self.queue.clear();
                self.queued_bytes = 0;
                self.replays.clear();
                self.phase = Phase::Parting;
            }
            Some(msg::TYPE_MESSAGE | msg::TYPE_REQUEST) => self.unacknowledged += 1,
            _ => {}
        }
    }

    // ------------------------------------------------------------ receiving

    /// A complete message from the service. An error means the service sent something no
    /// client should get; the session is unchanged.
    pub fn handle_message(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        match Any::decode(bytes)? {
            Any::ReplayResponseEnd(end) => {
                // Never sent to clients by the C service nor by ours; taken as "no fragment".
                self.finish_replay(end.ids, Err(ReplayError::NotFound));
                Ok(())
            }
            any => {
                self.handle_event(Event::from_any(any)?);
                Ok(())
            }
        }
    }

    /// An event from the service, already decoded (see [`Event::decode`]).
    pub fn handle_event(&mut self, event: Event) {
        match event {
            Event::FragmentAck => self.acknowledged(),
            Event::PartAck => self.finish_part(),
            Event::Message(f) => self.fragment(f),
            Event::ReplayResponse(r) if self.replays.contains(&r.ids) => {
                let result = match (r.error_code, &r.fragment) {
                    (ReplayError::Ok, Some(bytes)) => {
                        Fragment::from_message(bytes).map_err(|_| ReplayError::InternalError)
                    }
                    (ReplayError::Ok, None) => Err(ReplayError::InternalError),
                    (e, _) => Err(e),
                };
                self.finish_replay(r.ids, result);
            }
            Event::JoinDecision(d) => {
                if self.role() == Some(Role::Member) {
                    self.admitted = d.decision.is_admitted == ADMITTED;
                    self.release();
                }
                self.events
                    .push_back(SessionEvent::Service(Event::JoinDecision(d)));
            }
            other => self.events.push_back(SessionEvent::Service(other)),
        }
    }

    // ------------------------------------------------------------ state

    /// The role, once the start message is known.
    pub fn role(&self) -> Option<Role> {
        self.start.as_ref().map(|s| match s {
            Start::Origin(_) => Role::Origin,
            Start::Member(_) => Role::Member,
        })
    }

    /// The ORIGIN_START or MEMBER_JOIN the next connection starts with.
    ///
    /// Never too large: ORIGIN_START has a fixed size, and a MEMBER_JOIN was either checked by
    /// [`member`](Self::member) or decoded from a message given to [`send`](Self::send).
    pub fn start_message(&self) -> Option<Vec<u8>> {
        self.start.as_ref().map(|start| match start {
            Start::Origin(m) => m.to_message(),
            Start::Member(m) => m.to_message(),
        })
    }

    /// Whether the session believes a connection is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Member: whether the service admitted it on the current connection.
    pub fn is_admitted(&self) -> bool {
        self.admitted
    }

    /// Whether the session is over.
    pub fn is_parted(&self) -> bool {
        self.phase == Phase::Parted
    }

    /// Fragments handed to the session and not acknowledged yet (queued or in flight).
    pub fn unacknowledged(&self) -> usize {
        self.queue.len() + usize::from(self.in_flight.is_some())
    }

    /// Whether fragments written on this connection, by the session or around it, still
    /// wait for their FRAGMENT_ACK.
    pub fn awaiting_ack(&self) -> bool {
        self.unacknowledged > 0
    }

    /// The replay requests still waiting for an answer, oldest first.
    pub fn pending_replays(&self) -> &[ReplayIds] {
        &self.replays
    }

    /// Origin: the `max_fragment_id` the next ORIGIN_START will carry.
    pub fn max_fragment_id(&self) -> Option<u64> {
        match &self.start {
            Some(Start::Origin(m)) => Some(m.max_fragment_id),
            _ => None,
        }
    }

    // ------------------------------------------------------------ inside

    fn check_role(&self, role: Role, msg_type: u16) -> Result<(), SessionError> {
        if self.phase != Phase::Active {
            return Err(SessionError::Parted);
        }
        match self.role() {
            None => Err(SessionError::NotStarted),
            Some(r) if r != role => Err(SessionError::WrongRole(msg_type)),
            Some(_) => Ok(()),
        }
    }

    /// Queues `msg`, an answer to something the service handed this connection, for writing
    /// now: it means nothing on another connection.
    fn send_now(
        &mut self,
        role: Option<Role>,
        msg_type: u16,
        msg: Vec<u8>,
    ) -> Result<(), SessionError> {
        match role {
            Some(role) => self.check_role(role, msg_type)?,
            None => {
                self.role().ok_or(SessionError::NotStarted)?;
            }
        }
        if !self.connected {
            return Err(SessionError::NotConnected);
        }
        self.outbox.push_back(msg);
        Ok(())
    }

    /// Queues `fragments` (all or none) behind flow control.
    fn enqueue(
        &mut self,
        role: Role,
        msg_type: u16,
        fragments: Vec<Vec<u8>>,
    ) -> Result<(), SessionError> {
        self.check_role(role, msg_type)?;
        let bytes: usize = fragments.iter().map(Vec::len).sum();
        if self.queued_bytes + bytes > self.limits.max_queued_bytes {
            return Err(SessionError::QueueFull("fragments"));
        }
        self.queued_bytes += bytes;
        self.queue.extend(fragments);
        self.release();
        Ok(())
    }

    /// Writes the next queued fragment if the connection, the role's admission and flow
    /// control allow.
    fn release(&mut self) {
        let may_send = match self.role() {
            Some(Role::Origin) => true,
            Some(Role::Member) => self.admitted,
            None => false,
        };
        if !self.connected || !may_send || self.unacknowledged > 0 {
            return;
        }
        if let Some(f) = self.queue.pop_front() {
            self.queued_bytes -= f.len();
            self.outbox.push_back(f.clone());
            self.in_flight = Some(f);
            self.unacknowledged += 1;
        }
    }

    fn acknowledged(&mut self) {
        if self.unacknowledged == 0 {
            // Extra ACKs: the C service sends several per fragment (gap G12).
            return;
        }
        self.unacknowledged -= 1;
        // The session writes only when nothing is unacknowledged, so its fragment in flight
        // is the oldest one written and this ACK is its own.
        if self.in_flight.take().is_some() && self.queue.is_empty() {
            self.events.push_back(SessionEvent::AllAcknowledged);
        }
        self.release();
    }

    fn fragment(&mut self, f: Fragment) {
        if let Some(Start::Origin(start)) = &mut self.start {
            start.max_fragment_id = start.max_fragment_id.max(f.fragment_id);
        }
        let answered: Vec<ReplayIds> = self
            .replays
            .iter()
            .filter(|ids| ids.answered_by(&f))
            .copied()
            .collect();
        if answered.is_empty() {
            self.events
                .push_back(SessionEvent::Service(Event::Message(f)));
            return;
        }
        for ids in answered {
            self.finish_replay(ids, Ok(f.clone()));
        }
    }

    fn finish_replay(&mut self, ids: ReplayIds, result: Result<Fragment, ReplayError>) {
        let before = self.replays.len();
        self.replays.retain(|r| *r != ids);
        if self.replays.len() < before {
            self.events
                .push_back(SessionEvent::ReplayDone { ids, result });
        }
    }

    fn finish_part(&mut self) {
        if self.phase == Phase::Parted {
            return;
        }
        self.phase = Phase::Parted;
        self.queue.clear();
        self.queued_bytes = 0;
        self.in_flight = None;
        self.replays.clear();
        self.events.push_back(SessionEvent::Parted);
    }
}

/// REPLAY_REQUEST as the C library sends it: zero member key, uid 0.
pub(super) fn replay_request(ids: ReplayIds) -> Vec<u8> {
    ReplayRequest {
        member_pub_key: ecdsa::PublicKey([0; 32]),
        ids,
        uid: 0,
    }
    .to_message()
}

/// The message type of `msg` if it is one complete message (header size = length).
fn check_framing(msg: &[u8]) -> Result<u16, SessionError> {
    let [s0, s1, t0, t1, ..] = *msg else {
        return Err(SessionError::Malformed(DecodeError::Truncated {
            what: "message header",
            needed: HEADER_SIZE,
            available: msg.len(),
        }));
    };
    let size = usize::from(u16::from_be_bytes([s0, s1]));
    if size != msg.len() {
        return Err(SessionError::Malformed(DecodeError::SizeMismatch {
            header: size,
            actual: msg.len(),
        }));
    }
    Ok(u16::from_be_bytes([t0, t1]))
}

/// The start message in `msg` (ORIGIN_START or MEMBER_JOIN).
fn read_start(msg: &[u8]) -> Result<Start, SessionError> {
    match Any::decode(msg).map_err(SessionError::Malformed)? {
        Any::OriginStart(m) => Ok(Start::Origin(m)),
        Any::MemberJoin(m) => Ok(Start::Member(m)),
        _ => Err(SessionError::NotStarted),
    }
}

#[cfg(test)]
mod tests;
