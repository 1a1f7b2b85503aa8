//! [`Session`]: the client side of one connection to the psyc service in one role, without
//! I/O (see the [module docs](super) for the behaviour and how it maps to `psyc_api.c`).
//!
//! A session never touches a socket. Its owner reports the connection's state
//! ([`connected`](Session::connected), [`disconnected`](Session::disconnected)), hands it
//! every message the service sends ([`handle_message`](Session::handle_message)), and pulls
//! what to write ([`poll_transmit`](Session::poll_transmit)) and what to tell the application
//! ([`poll_event`](Session::poll_event)). The application's calls (transmit, operations, join
//! decisions, part) only queue; nothing is written until the owner polls.

use std::collections::{BTreeMap, VecDeque};

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{Message, TooLarge};

use super::ops::{Kind, Ops};
use super::pipeline::Pipeline;
use super::source::Outgoing;
use super::{parse_nested, DropReason, Event, ReceivedMessage, SessionError};
use crate::format::container::Delivery;
use crate::format::env::Environment;
use crate::format::message::PsycMessage;
use crate::format::parts::{FRAGMENT_MAX_PAYLOAD, METHOD_STATE_MODIFY};
use crate::format::receive::{self, Assembler, Completed, MessageMeta};
use crate::format::transmit::TransmitError;
use crate::msg::{
    history_replay_flags, slave_join_flags, status, HistoryReplay, JoinDecision, MasterStart,
    MembershipStore, PartRequest, Reply, SlaveJoin, StateGet, StateGetPrefix,
    JOIN_DECISION_HEADER_SIZE, TYPE_JOIN_DECISION,
};

/// Bounds of a [`Session`]'s queues and buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations (membership store, history, state) open at once.
    pub max_pending_ops: usize,
    /// Events waiting for [`Session::poll_event`]; beyond it
    /// [`handle_message`](Session::handle_message) refuses input.
    pub max_events: usize,
    /// Body bytes waiting inside the session: of whole messages not completely written, plus
    /// (checked on its own) of a streamed body not segmented yet.
    pub max_queued_data: usize,
    /// Containers written and not acknowledged by the service yet (the window; 0 counts as
    /// 1, which is the C library's pacing). The service drops a client more than its
    /// `TRANSMIT_QUEUE` (256) containers ahead, so keep this well below that.
    pub max_containers_in_flight: usize,
    /// Messages queued or being written, not completely written yet (0 counts as 1).
    pub max_queued_messages: usize,
    /// Messages being received at once: the channel's, plus one per slave whose request is
    /// arriving (master).
    pub max_receive_streams: usize,
    /// Join decisions and other writes waiting for [`Session::poll_transmit`].
    pub max_outbox: usize,
    /// Size bounds of one received message (live, history, join message, state value).
    pub receive: receive::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending_ops: 1024,
            max_events: 4096,
            max_queued_data: 16 << 20,
            max_containers_in_flight: 8,
            max_queued_messages: 64,
            max_receive_streams: 64,
            max_outbox: 1024,
            receive: receive::Limits::default(),
        }
    }
}

/// The role a session has in its channel, fixed when it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Started with MASTER_START.
    Master,
    /// Started with SLAVE_JOIN.
    Slave,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Active,
    Parting,
    Parted,
}

/// The client side of one connection to the psyc service in one role.
#[derive(Debug)]
pub struct Session {
    limits: Limits,
    role: Role,
    /// MASTER_START or SLAVE_JOIN, written first on every connection.
    start: Vec<u8>,
    /// PART_REQUEST, written by [`part`](Session::part).
    part: Vec<u8>,
    /// Messages handed to the pipeline since the session was made.
    handed_in: u64,
    /// Slave joined with the LOCAL flag.
    local: bool,
    phase: Phase,
    connected: bool,
    /// The service accepts messages from this client on the current connection.
    ready: bool,
    outbox: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    ops: Ops,
    /// Messages being received, by (delivery flags, slave key).
    streams: BTreeMap<(u32, [u8; 32]), Assembler>,
    /// The messages being transmitted, in order.
    pipeline: Pipeline,
}

impl Session {
    fn new(role: Role, start: Vec<u8>, local: bool) -> Self {
        Self::embedded(role, start, PartRequest.to_message(), local)
    }

    /// A session that speaks the channel protocol through another service's socket — the
    /// social service's place connections, whose enter, enter-ACK, leave and leave-ACK
    /// messages stand for psyc's start, start-ACK, part and part-ACK while everything else
    /// (messages, ACKs, admission, history, state) has psyc's types. `start` is written first
    /// on every connection, `part` by [`part`](Self::part); `local`: a slave that never
    /// transmits. The owner decodes that socket's messages and hands in the [`Reply`] each
    /// stands for with [`handle_reply`](Self::handle_reply). Not connected.
    pub fn embedded(role: Role, start: Vec<u8>, part: Vec<u8>, local: bool) -> Self {
        let limits = Limits::default();
        Self {
            limits,
            role,
            start,
            part,
            handed_in: 0,
            local,
            phase: Phase::Active,
            connected: false,
            ready: false,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            ops: Ops::new(limits.max_pending_ops, limits.receive),
            streams: BTreeMap::new(),
            pipeline: Pipeline::default(),
        }
    }

    /// The master of the channel of `channel_key` with channel `policy`
    /// ([`msg::policy`](crate::msg::policy); stored by the service, never used). Not
    /// connected.
    pub fn master(channel_key: eddsa::PrivateKey, policy: u32) -> Self {
        let start = MasterStart {
            policy,
            channel_key,
        }
        .to_message();
        Self::new(Role::Master, start, false)
    }

    /// A slave of channel `channel_pub_key` with `slave_key`, joining at the master's peer
    /// `origin` through `relays`, with [`slave_join_flags`] `flags` and an optional join
    /// message (sent as one container: method, modifiers and body must fit 64396 bytes). Not
    /// connected.
    pub fn slave(
        channel_pub_key: eddsa::PublicKey,
        slave_key: ecdsa::PrivateKey,
        origin: PeerIdentity,
        relays: Vec<PeerIdentity>,
        flags: u32,
        join_message: Option<&PsycMessage>,
    ) -> Result<Self, SessionError> {
        let join_msg = join_message
            .map(|m| m.to_client_message().map(|c| c.to_message()))
            .transpose()?;
        let start = SlaveJoin {
            channel_pub_key,
            slave_key,
            origin,
            flags,
            relays,
            join_msg,
        }
        .try_to_message()?;
        Ok(Self::new(
            Role::Slave,
            start,
            flags & slave_join_flags::LOCAL != 0,
        ))
    }

    /// The same session with other bounds (set before use: open operations keep theirs).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.ops = Ops::new(limits.max_pending_ops, limits.receive);
        self
    }

    // ------------------------------------------------------------ connection

    /// A connection to the service is up: the start message goes first, then the requests
    /// of the open operations (see the module docs for which survive a reconnect). Messages
    /// that had containers on a previous connection not reported
    /// [`disconnected`](Self::disconnected) are reported lost now.
    pub fn connected(&mut self) {
        self.connected = true;
        self.ready = false;
        self.transmissions_lost();
        self.outbox.clear();
        self.streams.clear();
        if self.phase != Phase::Active {
            return;
        }
        self.outbox.push_back(self.start.clone());
        self.outbox.extend(self.ops.connected());
    }

    /// The connection is gone: unwritten messages are dropped, operations that cannot be sent
    /// again are reported lost, every message with a container written on the connection and
    /// not complete is reported lost (in order), a part in progress is complete.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.ready = false;
        self.outbox.clear();
        self.streams.clear();
        for op_id in self.ops.disconnected() {
            self.events.push_back(Event::OperationLost { op_id });
        }
        self.transmissions_lost();
        if self.phase == Phase::Parting {
            self.finish_part();
        }
    }

    /// One [`Event::TransmitLost`] for every message with a container written on the
    /// connection that went away and not complete: the service cancels (or never forwards) a
    /// message whose sender went away, and its rest cannot continue on another connection.
    fn transmissions_lost(&mut self) {
        for _ in 0..self.pipeline.connection_lost() {
            self.events.push_back(Event::TransmitLost);
        }
    }

    /// The next message to write to the service, in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop_front()
    }

    /// The next thing to tell the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ------------------------------------------------------------ transmitting

    /// Transmits a whole message: `method`, modifiers `env` and body `data`, with master
    /// transmit `flags` (`parts::METHOD_*`; STATE_MODIFY is added when `env` has a persistent
    /// modifier, as in C; the service ignores a slave's flags). [`Event::Transmitted`] follows
    /// when its last container is acknowledged.
    ///
    /// While other messages are going out it is queued behind them and goes out after them,
    /// never interleaved; each gets its own [`Event::Transmitted`], in order. At most
    /// [`Limits::max_queued_messages`] messages not completely written and
    /// [`Limits::max_queued_data`] body bytes of them wait inside the session (see
    /// [`can_queue`](Self::can_queue)); more is refused with [`SessionError::QueueFull`].
    ///
    /// Containers go out while fewer than [`Limits::max_containers_in_flight`] wait for their
    /// MESSAGE_ACK, and only once the service accepts messages from this client (see the
    /// module docs).
    pub fn transmit(
        &mut self,
        method: &str,
        flags: u32,
        env: Environment,
        data: Vec<u8>,
    ) -> Result<(), SessionError> {
        self.check_transmit()?;
        if self.pipeline.unwritten() >= self.limits.max_queued_messages.max(1) {
            return Err(SessionError::QueueFull("messages"));
        }
        if self.pipeline.queued_data().saturating_add(data.len()) > self.limits.max_queued_data {
            return Err(SessionError::QueueFull("message body"));
        }
        let mut body = Outgoing::default();
        body.push(data, true);
        self.begin(method, flags, &env, body)
    }

    /// Starts a message whose body follows in chunks through
    /// [`transmit_data`](Self::transmit_data). Streamed messages are not queued: one starts
    /// only when every message before it is completely written (their ACKs may still be
    /// outstanding), else [`TransmitError::Busy`]. Whole messages
    /// ([`transmit`](Self::transmit)) may queue behind it.
    pub fn transmit_start(
        &mut self,
        method: &str,
        flags: u32,
        env: Environment,
    ) -> Result<(), SessionError> {
        self.check_transmit()?;
        if self.pipeline.unwritten() > 0 {
            return Err(TransmitError::Busy.into());
        }
        self.begin(method, flags, &env, Outgoing::default())
    }

    /// Adds a chunk to the body of the message being streamed; `last` ends the message. At
    /// most [`Limits::max_queued_data`] of its body bytes wait inside the session; more is
    /// refused with [`SessionError::QueueFull`] until MESSAGE_ACKs have let some go.
    pub fn transmit_data(&mut self, chunk: Vec<u8>, last: bool) -> Result<(), SessionError> {
        self.pipeline
            .push_data(chunk, last, self.limits.max_queued_data)?;
        self.release();
        Ok(())
    }

    /// Cancels the message being written (the first not completely written, if it is still
    /// being segmented): a CANCEL part goes out after what is already segmented and receivers
    /// drop the message. Its [`Event::Transmitted`] says `cancelled`. Messages queued behind
    /// it stay.
    pub fn transmit_cancel(&mut self) {
        self.pipeline.cancel();
        self.release();
    }

    /// Whether messages are being transmitted: queued, being written, or waiting for an ACK
    /// (until the last [`Event::Transmitted`]).
    pub fn is_transmitting(&self) -> bool {
        !self.pipeline.is_idle()
    }

    /// Body bytes waiting inside the session: of whole messages not completely written, and
    /// of a streamed body not segmented yet.
    pub fn queued_data(&self) -> usize {
        self.pipeline.queued_data()
    }

    /// Messages queued or being written, not completely written yet.
    pub fn queued_messages(&self) -> usize {
        self.pipeline.unwritten()
    }

    /// Containers written on the current connection whose MESSAGE_ACK has not come.
    pub fn containers_in_flight(&self) -> usize {
        self.pipeline.in_flight()
    }

    /// Whether [`transmit`](Self::transmit) of a message with `body_len` body bytes finds
    /// room in the session's queue now (it may still refuse it for other reasons).
    pub fn can_queue(&self, body_len: usize) -> bool {
        self.pipeline.unwritten() < self.limits.max_queued_messages.max(1)
            && self.pipeline.queued_data().saturating_add(body_len) <= self.limits.max_queued_data
    }

    /// Whether the service accepts messages from this client on the current connection.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    fn check_transmit(&self) -> Result<(), SessionError> {
        self.check_active()?;
        if self.local {
            return Err(SessionError::LocalSlave);
        }
        Ok(())
    }

    fn begin(
        &mut self,
        method: &str,
        flags: u32,
        env: &Environment,
        body: Outgoing,
    ) -> Result<(), SessionError> {
        // As C's environment path: STATE_MODIFY when a modifier changes channel state.
        let flags = if env.is_stateful() {
            flags | METHOD_STATE_MODIFY
        } else {
            flags
        };
        self.pipeline.push(method, flags, env, body)?;
        self.handed_in += 1;
        self.release();
        Ok(())
    }

    /// How many messages were handed to the session ([`transmit`](Self::transmit),
    /// [`transmit_start`](Self::transmit_start)) since it was made. Their outcomes
    /// ([`Event::Transmitted`] or [`Event::TransmitLost`]) come in this order, one each, until
    /// the session parts: so an owner that transmits messages of its own through the session
    /// can tell their outcomes from its caller's.
    pub fn messages_handed_in(&self) -> u64 {
        self.handed_in
    }

    /// Writes the containers the window has room for, if the connection and the service
    /// allow.
    fn release(&mut self) {
        if self.connected && self.ready {
            self.pipeline
                .release(self.limits.max_containers_in_flight, &mut self.outbox);
        }
    }

    fn message_ack(&mut self) {
        if let Some(cancelled) = self.pipeline.acknowledged() {
            self.events.push_back(Event::Transmitted { cancelled });
        }
        self.release();
    }

    // ------------------------------------------------------------ operations

    /// Records in PSYCstore that `slave_pub_key` joined (`did_join`, effective from message
    /// `effective_since`) or left the channel, as announced by message `announced_at`. A
    /// removal is sent with `effective_since` 0, as in C. Returns the op id; the answer is an
    /// [`Event::OperationDone`] with PSYCstore's result.
    pub fn membership_store(
        &mut self,
        slave_pub_key: ecdsa::PublicKey,
        did_join: bool,
        announced_at: u64,
        effective_since: u64,
    ) -> Result<u64, SessionError> {
        self.start_op(Kind::Membership, |op_id| MembershipStore {
            op_id,
            slave_pub_key,
            announced_at,
            effective_since: if did_join { effective_since } else { 0 },
            did_join: u8::from(did_join),
        })
    }

    /// Replays the stored messages `start..=end` whose method starts with `method_prefix`
    /// (PSYCstore does not filter, gap P11) with [`history_replay_flags`] `flags` (REMOTE is
    /// not implemented by the service). Returns the op id; [`Event::HistoryMessage`]s follow,
    /// then an [`Event::OperationDone`] with the number of fragments.
    pub fn history_replay(
        &mut self,
        start: u64,
        end: u64,
        method_prefix: &str,
        flags: u32,
    ) -> Result<u64, SessionError> {
        self.history(start, end, 0, method_prefix, flags)
    }

    /// Replays the latest `limit` (≥ 1) stored messages, like
    /// [`history_replay`](Self::history_replay).
    pub fn history_latest(
        &mut self,
        limit: u64,
        method_prefix: &str,
        flags: u32,
    ) -> Result<u64, SessionError> {
        if limit == 0 {
            return Err(SessionError::InvalidArgument("history limit 0"));
        }
        self.history(0, 0, limit, method_prefix, flags)
    }

    fn history(
        &mut self,
        start: u64,
        end: u64,
        limit: u64,
        method_prefix: &str,
        flags: u32,
    ) -> Result<u64, SessionError> {
        let prefix = c_string(method_prefix)?;
        if flags & !history_replay_flags::REMOTE != 0 {
            return Err(SessionError::InvalidArgument("unknown history flags"));
        }
        let kind = Kind::history(self.limits.receive);
        self.start_op(kind, |op_id| HistoryReplay {
            flags,
            op_id,
            start_message_id: start,
            end_message_id: end,
            message_limit: limit,
            method_prefix: prefix,
        })
    }

    /// Reads the state variable `name`, or the nearest one of its family (`_a_b` → `_a`).
    /// Returns the op id; an [`Event::StateVar`] follows if found, then an
    /// [`Event::OperationDone`] (1 found, 0 not, −1 error).
    pub fn state_get(&mut self, name: &str) -> Result<u64, SessionError> {
        let name = c_string(name)?;
        self.start_op(Kind::state(), |op_id| StateGet { op_id, name })
    }

    /// Reads every state variable whose name starts with `prefix`: [`Event::StateVar`]s,
    /// then an [`Event::OperationDone`].
    pub fn state_get_prefix(&mut self, prefix: &str) -> Result<u64, SessionError> {
        let name = c_string(prefix)?;
        self.start_op(Kind::state(), |op_id| StateGetPrefix { op_id, name })
    }

    /// How many operations are open.
    pub fn pending_operations(&self) -> usize {
        self.ops.len()
    }

    /// Whether operation `op_id` is open.
    pub fn is_open(&self, op_id: u64) -> bool {
        self.ops.is_open(op_id)
    }

    fn start_op<M: Message>(
        &mut self,
        kind: Kind,
        build: impl FnOnce(u64) -> M,
    ) -> Result<u64, SessionError> {
        self.check_active()?;
        let (op_id, request) = self.ops.start(kind, self.connected, build)?;
        if self.connected {
            self.outbox.push_back(request);
        }
        Ok(op_id)
    }

    // ------------------------------------------------------------ admission and part

    /// Master: answers the [`Event::JoinRequest`] of `slave_pub_key` — admit or refuse, with
    /// an optional response message (one container). `relays` only reserve zeroed slots at
    /// the end of the message, as the C library does; no service reads them (gap P6). Like
    /// C, refused when the decision would exceed 64396 bytes.
    pub fn join_decision(
        &mut self,
        slave_pub_key: ecdsa::PublicKey,
        admit: bool,
        response: Option<&PsycMessage>,
        relays: &[PeerIdentity],
    ) -> Result<(), SessionError> {
        self.check_active()?;
        if self.role != Role::Master {
            return Err(SessionError::WrongRole(self.role));
        }
        if !self.connected {
            return Err(SessionError::NotConnected);
        }
        if self.outbox.len() >= self.limits.max_outbox {
            return Err(SessionError::QueueFull("outbox"));
        }
        let response = response
            .map(|m| m.to_client_message().map(|c| c.to_message()))
            .transpose()?;
        let size =
            JOIN_DECISION_HEADER_SIZE + response.as_ref().map_or(0, Vec::len) + 32 * relays.len();
        let too_large = TooLarge {
            type_name: std::any::type_name::<JoinDecision>(),
            msg_type: TYPE_JOIN_DECISION,
            size,
        };
        let relay_slots = u16::try_from(relays.len()).map_err(|_| too_large)?;
        if size > FRAGMENT_MAX_PAYLOAD {
            return Err(too_large.into());
        }
        let decision = JoinDecision {
            is_admitted: if admit { status::OK } else { status::NO },
            slave_pub_key,
            response,
            relay_slots,
        };
        self.outbox.push_back(decision.try_to_message()?);
        Ok(())
    }

    /// Master: stop; slave: part. Messages being transmitted or queued are dropped (no
    /// event tells of them); [`Event::Parted`]
    /// follows once the service confirms (at once without a connection), and open operations
    /// are reported lost.
    pub fn part(&mut self) -> Result<(), SessionError> {
        self.check_active()?;
        self.pipeline.clear();
        if self.connected {
            self.phase = Phase::Parting;
            self.outbox.push_back(self.part.clone());
        } else {
            self.finish_part();
        }
        Ok(())
    }

    fn finish_part(&mut self) {
        if self.phase == Phase::Parted {
            return;
        }
        self.phase = Phase::Parted;
        self.ready = false;
        self.pipeline.clear();
        for op_id in self.ops.clear() {
            self.events.push_back(Event::OperationLost { op_id });
        }
        self.events.push_back(Event::Parted);
    }

    // ------------------------------------------------------------ receiving

    /// One complete message from the service. An error other than
    /// [`SessionError::EventQueueFull`] means the service broke the protocol (the message is
    /// ignored; the caller may drop the connection). Never panics, whatever the bytes.
    pub fn handle_message(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        if self.events.len() >= self.limits.max_events {
            return Err(SessionError::EventQueueFull);
        }
        self.handle_reply(Reply::decode(bytes)?)
    }

    /// One message from the service, already decoded: what
    /// [`handle_message`](Self::handle_message) does after decoding, for an owner that reads
    /// another socket's messages ([`embedded`](Self::embedded)). Errors as there.
    pub fn handle_reply(&mut self, reply: Reply) -> Result<(), SessionError> {
        if self.events.len() >= self.limits.max_events {
            return Err(SessionError::EventQueueFull);
        }
        let unexpected = |got| SessionError::Unexpected {
            got,
            request: match self.role {
                Role::Master => "master",
                Role::Slave => "slave",
            },
        };
        match (reply, self.role) {
            (Reply::MasterStartAck(ack), Role::Master) => {
                self.ready = ack.result_code == status::OK || ack.result_code == status::NO;
                self.events.push_back(Event::MasterStarted {
                    result: ack.result_code,
                    max_message_id: ack.max_message_id,
                });
                self.release();
            }
            (Reply::SlaveJoinAck(ack), Role::Slave) => {
                self.events.push_back(Event::SlaveConnected {
                    result: ack.result_code,
                    max_message_id: ack.max_message_id,
                });
            }
            (Reply::JoinRequest(r), Role::Master) => {
                let message = r
                    .join_msg
                    .and_then(|m| parse_nested(&m, self.limits.receive));
                self.events.push_back(Event::JoinRequest {
                    slave_pub_key: r.slave_pub_key,
                    message,
                });
            }
            (Reply::JoinDecision(d), Role::Slave) => {
                self.ready = d.is_admitted == status::OK && !self.local;
                let response = d
                    .response
                    .and_then(|m| parse_nested(&m, self.limits.receive));
                self.events.push_back(Event::JoinDecision {
                    is_admitted: d.is_admitted,
                    response,
                });
                self.release();
            }
            (Reply::Message(m), _) => self.delivery(m),
            (Reply::MessageAck(_), _) => self.message_ack(),
            (Reply::PartAck(_), _) => self.finish_part(),
            (Reply::ResultCode(c), _) => self.ops.result_code(c, &mut self.events),
            (Reply::HistoryResult(h), _) => self.ops.history_result(h, &mut self.events)?,
            (Reply::StateResult(s), _) => self.ops.state_result(s, &mut self.events)?,
            (Reply::MasterStartAck(_), _) => return Err(unexpected("MASTER_START_ACK")),
            (Reply::SlaveJoinAck(_), _) => return Err(unexpected("SLAVE_JOIN_ACK")),
            (Reply::JoinRequest(_), _) => return Err(unexpected("JOIN_REQUEST")),
            (Reply::JoinDecision(_), _) => return Err(unexpected("JOIN_DECISION")),
        }
        Ok(())
    }

    /// A live container: through the receiver of its stream (channel messages, or one
    /// slave's requests).
    fn delivery(&mut self, m: Delivery) {
        let meta = MessageMeta::from(&m.header);
        let key = (meta.flags, meta.slave_pub_key);
        let dropped = |reason| Event::MessageDropped {
            message_id: meta.message_id,
            flags: meta.flags,
            reason,
        };
        if !self.streams.contains_key(&key) && self.streams.len() >= self.limits.max_receive_streams
        {
            self.events.push_back(dropped(DropReason::TooManyStreams));
            return;
        }
        let assembler = self
            .streams
            .entry(key)
            .or_insert_with(|| Assembler::new(self.limits.receive));
        let result = assembler.push_parts(meta, &m.parts);
        let event = match result {
            Ok(None) => return,
            Ok(Some(Completed::Message { meta, message })) => {
                Event::Message(ReceivedMessage::new(meta, message))
            }
            Ok(Some(Completed::Cancelled { meta })) => Event::MessageCancelled {
                message_id: meta.message_id,
                flags: meta.flags,
                slave_pub_key: ecdsa::PublicKey(meta.slave_pub_key),
            },
            Err(error) => dropped(DropReason::Invalid(error)),
        };
        // The stream is back at its start: forget it until its next message.
        self.streams.remove(&key);
        self.events.push_back(event);
    }

    // ------------------------------------------------------------ state

    /// The session's bounds.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The session's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The MASTER_START or SLAVE_JOIN every connection starts with.
    pub fn start_message(&self) -> &[u8] {
        &self.start
    }

    /// Replaces the message every later connection starts with (an
    /// [`embedded`](Self::embedded) session's enter request, once it knows more: social's new
    /// place becomes a re-entry of that place when its key is known).
    pub fn set_start_message(&mut self, start: Vec<u8>) {
        self.start = start;
    }

    /// Writes a request of the embedding socket ([`embedded`](Self::embedded)) in order with
    /// the session's own, on the current connection: it is not sent again after a reconnect.
    /// Refused without a connection, after the session parted, or when the outbox is full.
    pub fn send_request(&mut self, request: Vec<u8>) -> Result<(), SessionError> {
        self.check_active()?;
        if !self.connected {
            return Err(SessionError::NotConnected);
        }
        if self.outbox.len() >= self.limits.max_outbox {
            return Err(SessionError::QueueFull("outbox"));
        }
        self.outbox.push_back(request);
        Ok(())
    }

    /// Whether the session believes a connection is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Whether the session is over.
    pub fn is_parted(&self) -> bool {
        self.phase == Phase::Parted
    }

    fn check_active(&self) -> Result<(), SessionError> {
        match self.phase {
            Phase::Active => Ok(()),
            Phase::Parting | Phase::Parted => Err(SessionError::Parted),
        }
    }
}

/// A name or prefix for a NUL-terminated wire string: it must not contain NUL itself (C would
/// cut it there).
fn c_string(s: &str) -> Result<Vec<u8>, SessionError> {
    if s.as_bytes().contains(&0) {
        return Err(SessionError::InvalidArgument("name contains a NUL byte"));
    }
    Ok(s.as_bytes().to_vec())
}
