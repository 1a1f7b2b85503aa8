//! [`Client`]: a blocking connection to the psyc service in one role, driving a
//! [`Session`]: for tools, the CLI and tests.
//!
//! Every call that waits reads the service's messages while it waits and keeps the events
//! that are not its own in a queue, in order, for [`Client::next_event`] and
//! [`Client::wait_event`]. Each waiting call gives up after the client's timeout
//! ([`DEFAULT_TIMEOUT`] unless [`Client::set_timeout`] says otherwise).
//!
//! The client takes the session's [`Event::Transmitted`] and [`Event::TransmitLost`] itself:
//! the session reports one of them per message, in the order the messages were handed in, so
//! the client matches them to its calls by counting. A blocking [`Client::transmit`] returns
//! its own; those of messages queued with [`Client::transmit_queued`] are summed up in the
//! [`TransmitReport`] of [`Client::wait_transmitted`].

use std::collections::VecDeque;
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::RawMessage;

use super::{Event, ReceivedMessage, Session, SessionError};
use crate::format::env::Environment;
use crate::format::message::PsycMessage;
use crate::format::receive::ReceiveError;
use crate::msg::TYPE_MESSAGE_ACK;

/// How long a call waits for the service unless told otherwise: the C tests' 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Events a [`Client`] keeps for its caller at most.
const MAX_QUEUED_EVENTS: usize = 4096;

/// Why a [`Client`] call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Talking to the service failed (connect, I/O, closed, timeout).
    #[error(transparent)]
    Service(#[from] ClientError),
    /// The session refused the call, or the service broke the protocol.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// [`Client::next_event`] was not called for too long: the queue of events is full.
    #[error("{MAX_QUEUED_EVENTS} events are waiting to be read")]
    EventQueueFull,
    /// The connection broke while the operation was open (see
    /// [`Event::OperationLost`]).
    #[error("operation {0} was lost with the connection")]
    OperationLost(u64),
    /// The connection broke while the message was going out (see [`Event::TransmitLost`]).
    #[error("the message was lost with the connection")]
    TransmitLost,
}

/// What [`Client::master_start`] and [`Client::slave_join`] got back: MASTER_START_ACK or
/// SLAVE_JOIN_ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// PSYCstore's counters result: 1 stored history, 0 none, −1 error.
    pub result: i32,
    /// Last message id known for the channel.
    pub max_message_id: u64,
}

/// The answer to a history replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The whole messages replayed, in order.
    pub messages: Vec<ReceivedMessage>,
    /// Replayed fragments that broke the message grammar (their message is skipped).
    pub invalid: Vec<ReceiveError>,
    /// The RESULT_CODE: the number of fragments replayed, or negative.
    pub result: i64,
}

/// The answer to a state query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateVars {
    /// The variables found, as (name, value).
    pub vars: Vec<(String, Vec<u8>)>,
    /// The RESULT_CODE: 1 found, 0 not found, −1 error.
    pub result: i64,
}

/// What became of the messages queued with [`Client::transmit_queued`] (and of blocking
/// transmissions that gave up before their end), since the last
/// [`Client::wait_transmitted`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransmitReport {
    /// Messages whose last container was acknowledged, ended with END.
    pub transmitted: u64,
    /// Messages whose last container was acknowledged, ended with CANCEL.
    pub cancelled: u64,
    /// Messages lost with a connection ([`Event::TransmitLost`]).
    pub lost: u64,
}

/// How one message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Transmitted { cancelled: bool },
    Lost,
}

/// The session's transmission outcomes matched to the messages handed to it: one per
/// message, in order.
#[derive(Debug, Default)]
struct Outcomes {
    /// Messages handed to the session.
    handed_in: u64,
    /// Outcomes seen.
    settled: u64,
    /// The message (by its place in the order) a blocking call waits for.
    awaited: Option<u64>,
    /// Its outcome, once seen.
    awaited_outcome: Option<Outcome>,
    /// The outcomes of the others.
    report: TransmitReport,
}

impl Outcomes {
    /// A message was handed to the session; `awaited` if the caller waits for it.
    fn hand_in(&mut self, awaited: bool) {
        if awaited {
            self.awaited = Some(self.handed_in);
            self.awaited_outcome = None;
        }
        self.handed_in += 1;
    }

    fn settle(&mut self, outcome: Outcome) {
        let place = self.settled;
        self.settled += 1;
        if self.awaited == Some(place) {
            self.awaited_outcome = Some(outcome);
            return;
        }
        match outcome {
            Outcome::Transmitted { cancelled: false } => self.report.transmitted += 1,
            Outcome::Transmitted { cancelled: true } => self.report.cancelled += 1,
            Outcome::Lost => self.report.lost += 1,
        }
    }

    /// The caller waits no more; returns the outcome if it came and was not taken.
    fn stop_waiting(&mut self) -> Option<Outcome> {
        self.awaited = None;
        self.awaited_outcome.take()
    }

    fn all_settled(&self) -> bool {
        self.settled >= self.handed_in
    }

    /// The session dropped its messages (it parted): no outcome will come for them.
    fn abandon(&mut self) {
        self.settled = self.handed_in;
    }
}

/// What a [`Client`] drives: psyc's own [`Session`], or a session that speaks the channel
/// protocol through another service's socket around one ([`Session::embedded`]: the social
/// service's place connections). The client calls the channel operations on
/// [`channel_mut`](Self::channel_mut) and leaves reading the socket's messages and reporting
/// events to the implementation.
pub trait ChannelSession {
    /// The channel session inside.
    fn channel(&self) -> &Session;
    /// The channel session inside, to call its operations.
    fn channel_mut(&mut self) -> &mut Session;
    /// One complete message from the service ([`Session::handle_message`]).
    fn handle_message(&mut self, bytes: &[u8]) -> Result<(), SessionError>;
    /// The next event for the application ([`Session::poll_event`]). Every message handed in
    /// through the client gets exactly one [`Event::Transmitted`] or [`Event::TransmitLost`],
    /// in order (messages an implementation transmits itself must not show).
    fn poll_event(&mut self) -> Option<Event>;
    /// The next message to write ([`Session::poll_transmit`]).
    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.channel_mut().poll_transmit()
    }
    /// A connection is up ([`Session::connected`]).
    fn connected(&mut self) {
        self.channel_mut().connected();
    }
    /// The connection is gone ([`Session::disconnected`]).
    fn disconnected(&mut self) {
        self.channel_mut().disconnected();
    }
}

impl ChannelSession for Session {
    fn channel(&self) -> &Session {
        self
    }
    fn channel_mut(&mut self) -> &mut Session {
        self
    }
    fn handle_message(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        Session::handle_message(self, bytes)
    }
    fn poll_event(&mut self) -> Option<Event> {
        Session::poll_event(self)
    }
}

/// A blocking connection to the psyc service in one role (or, with another
/// [`ChannelSession`], to a service that embeds the channel protocol).
pub struct Client<S = Session> {
    conn: BlockingClient,
    socket: PathBuf,
    session: S,
    events: VecDeque<Event>,
    outcomes: Outcomes,
    timeout: Duration,
}

impl Client<Session> {
    /// Connects to the service at `socket` as the master of the channel of `channel_key`
    /// (with [`msg::policy`](crate::msg::policy) `policy`) and waits for MASTER_START_ACK.
    pub fn master_start(
        socket: &Path,
        channel_key: eddsa::PrivateKey,
        policy: u32,
    ) -> Result<(Self, Started), Error> {
        Self::start(socket, Session::master(channel_key, policy))
    }

    /// Connects to the service at `socket` as a slave (see [`Session::slave`]) and waits for
    /// SLAVE_JOIN_ACK. The join decision comes later as an [`Event::JoinDecision`].
    pub fn slave_join(
        socket: &Path,
        channel_pub_key: eddsa::PublicKey,
        slave_key: ecdsa::PrivateKey,
        origin: PeerIdentity,
        relays: Vec<PeerIdentity>,
        flags: u32,
        join_message: Option<&PsycMessage>,
    ) -> Result<(Self, Started), Error> {
        let session = Session::slave(
            channel_pub_key,
            slave_key,
            origin,
            relays,
            flags,
            join_message,
        )?;
        Self::start(socket, session)
    }
}

impl<S: ChannelSession> Client<S> {
    /// Connects `session` to the service at `socket`, sends its start message and waits for
    /// the START or JOIN ACK.
    pub fn start(socket: &Path, session: S) -> Result<(Self, Started), Error> {
        let conn = BlockingClient::connect_path(socket, DEFAULT_TIMEOUT)?;
        let mut client = Self {
            conn,
            socket: socket.to_path_buf(),
            session,
            events: VecDeque::new(),
            outcomes: Outcomes::default(),
            timeout: DEFAULT_TIMEOUT,
        };
        client.session.connected();
        client.write_out()?;
        let started = client.wait_started()?;
        Ok((client, started))
    }

    /// Waits for the MASTER_START_ACK or SLAVE_JOIN_ACK of the current connection.
    fn wait_started(&mut self) -> Result<Started, Error> {
        match self.wait_event(|e| {
            matches!(
                e,
                Event::MasterStarted { .. } | Event::SlaveConnected { .. }
            )
        })? {
            Event::MasterStarted {
                result,
                max_message_id,
            }
            | Event::SlaveConnected {
                result,
                max_message_id,
            } => Ok(Started {
                result,
                max_message_id,
            }),
            _ => Err(ClientError::Closed.into()),
        }
    }

    /// How long each call waits for the service from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The session this client drives.
    pub fn session(&self) -> &S {
        &self.session
    }

    /// The session this client drives, for calls the client has no method for (an embedding
    /// session's own requests); [`flush`](Self::flush) writes what they queue. Messages must
    /// be transmitted through the client, which matches their outcomes by counting.
    pub fn session_mut(&mut self) -> &mut S {
        &mut self.session
    }

    /// Writes everything the session has queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.write_out()
    }

    /// Closes the connection, as a lost connection would end (tests).
    pub fn disconnect(&mut self) {
        // Already closed by the other side, maybe: nothing more to do then.
        let _ = self.conn.stream().shutdown(Shutdown::Both);
        self.session.disconnected();
        self.drain_session();
    }

    /// Connects again (closing the current connection first): the session sends its start
    /// message and its open read operations again. Waits for the new START or JOIN ACK.
    pub fn reconnect(&mut self) -> Result<Started, Error> {
        if self.session.channel().is_connected() {
            self.disconnect();
        }
        self.conn = BlockingClient::connect_path(&self.socket, self.timeout)?;
        self.session.connected();
        self.write_out()?;
        self.wait_started()
    }

    // ------------------------------------------------------------ events

    /// The next event, queued or read within the timeout (`None`: the client's timeout).
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Event, Error> {
        let saved = self.timeout;
        self.timeout = timeout.unwrap_or(saved);
        let event = self.wait_event(|_| true);
        self.timeout = saved;
        event
    }

    /// The first event, queued or read within the timeout, for which `wanted` holds; the
    /// others stay queued in order.
    pub fn wait_event(&mut self, wanted: impl Fn(&Event) -> bool) -> Result<Event, Error> {
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

    /// Reads one message from the service into the session; returns its type.
    fn read_one(&mut self, deadline: Instant) -> Result<u16, Error> {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            return Err(Error::EventQueueFull);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::Timeout(self.timeout).into());
        }
        let raw = self.recv(left)?;
        self.take_in(raw)
    }

    /// Reads what the service has sent already, without waiting for more: so that the ACKs
    /// that came meanwhile let the session write more (stops early, without an error, when
    /// the caller has too many events to read).
    fn read_ready(&mut self) -> Result<(), Error> {
        while self.events.len() < MAX_QUEUED_EVENTS {
            match self.conn.try_recv() {
                Ok(Some(raw)) => self.take_in(raw)?,
                Ok(None) => break,
                Err(e) => return Err(self.connection_failed(e)),
            };
        }
        Ok(())
    }

    fn recv(&mut self, wait: Duration) -> Result<RawMessage, Error> {
        match self.conn.recv(Some(wait)) {
            Ok(raw) => Ok(raw),
            Err(e @ ClientError::Timeout(_)) => Err(e.into()),
            Err(e) => Err(self.connection_failed(e)),
        }
    }

    /// The connection is unusable: the session learns what is lost.
    fn connection_failed(&mut self, e: ClientError) -> Error {
        self.session.disconnected();
        self.drain_session();
        e.into()
    }

    /// Hands one message from the service to the session; returns its type.
    fn take_in(&mut self, raw: RawMessage) -> Result<u16, Error> {
        let handled = self.session.handle_message(raw.bytes());
        self.drain_session();
        handled?;
        self.write_out()?;
        Ok(raw.msg_type())
    }

    fn drain_session(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Transmitted { cancelled } => {
                    self.outcomes.settle(Outcome::Transmitted { cancelled })
                }
                Event::TransmitLost => self.outcomes.settle(Outcome::Lost),
                Event::Parted => {
                    self.outcomes.abandon();
                    self.events.push_back(event);
                }
                other => self.events.push_back(other),
            }
        }
    }

    /// Writes everything the session has queued.
    fn write_out(&mut self) -> Result<(), Error> {
        while let Some(msg) = self.session.poll_transmit() {
            self.conn.send_raw(&msg)?;
        }
        Ok(())
    }

    // ------------------------------------------------------------ transmitting

    /// Transmits a whole message and returns once its last container is acknowledged, after
    /// the messages queued before it (waiting first for room in the session's queue). The
    /// containers go out as the session's window of MESSAGE_ACKs allows, and only once the
    /// service accepts messages from this client. Events arriving meanwhile are queued. The
    /// timeout applies between ACKs. Returns whether the message ended cancelled.
    pub fn transmit(
        &mut self,
        method: &str,
        flags: u32,
        env: Environment,
        data: Vec<u8>,
    ) -> Result<bool, Error> {
        let outcome = self
            .queue_message(method, flags, env, data, true)
            .and_then(|()| self.until_settled());
        self.outcomes.stop_waiting();
        outcome
    }

    /// Hands a whole message to the session and returns once it is queued there, without
    /// waiting for it to go out: only while the session's queue is full
    /// ([`Session::can_queue`]) does it wait, reading the service's messages. Messages queued
    /// one after the other are pipelined (see [`Session::transmit`]); what became of them is
    /// in the [`TransmitReport`] of [`wait_transmitted`](Self::wait_transmitted).
    pub fn transmit_queued(
        &mut self,
        method: &str,
        flags: u32,
        env: Environment,
        data: Vec<u8>,
    ) -> Result<(), Error> {
        self.queue_message(method, flags, env, data, false)
    }

    /// Waits until every message handed to the session is acknowledged or lost, and returns
    /// what became of those no call waited for, since the last call. The timeout applies
    /// between ACKs.
    pub fn wait_transmitted(&mut self) -> Result<TransmitReport, Error> {
        self.write_out()?;
        let mut deadline = Instant::now() + self.timeout;
        while !self.outcomes.all_settled() {
            deadline = self.read_for_transmit(deadline)?;
        }
        Ok(std::mem::take(&mut self.outcomes.report))
    }

    fn queue_message(
        &mut self,
        method: &str,
        flags: u32,
        env: Environment,
        data: Vec<u8>,
        awaited: bool,
    ) -> Result<(), Error> {
        self.read_ready()?;
        // A body beyond the bound never fits: let the session refuse it at once.
        if data.len() <= self.session.channel().limits().max_queued_data {
            let mut deadline = Instant::now() + self.timeout;
            while !self.session.channel().can_queue(data.len()) {
                deadline = self.read_for_transmit(deadline)?;
            }
        }
        self.session
            .channel_mut()
            .transmit(method, flags, env, data)?;
        self.outcomes.hand_in(awaited);
        self.write_out()
    }

    /// Transmits a message whose body comes in `chunks`, handing each chunk to the session
    /// when it has room for it (so no more than the session's queue bound is held at once).
    /// Waits first until the messages queued before are written (streams are not queued).
    pub fn transmit_chunks(
        &mut self,
        method: &str,
        flags: u32,
        env: Environment,
        chunks: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<bool, Error> {
        let mut deadline = Instant::now() + self.timeout;
        while self.session.channel().queued_messages() > 0 {
            deadline = self.read_for_transmit(deadline)?;
        }
        self.session
            .channel_mut()
            .transmit_start(method, flags, env)?;
        self.outcomes.hand_in(true);
        let outcome = self
            .stream_chunks(chunks)
            .and_then(|()| self.until_settled());
        let lost = self.outcomes.stop_waiting() == Some(Outcome::Lost);
        match outcome {
            Err(_) if lost => Err(Error::TransmitLost),
            other => other,
        }
    }

    fn stream_chunks(&mut self, chunks: impl IntoIterator<Item = Vec<u8>>) -> Result<(), Error> {
        self.write_out()?;
        let mut deadline = Instant::now() + self.timeout;
        for chunk in chunks {
            let mut chunk = Some(chunk);
            while let Some(c) = chunk.take() {
                let room = self.session.channel().queued_data() == 0
                    || self.session.channel().queued_data() + c.len()
                        <= self.session.channel().limits().max_queued_data;
                if room {
                    self.session.channel_mut().transmit_data(c, false)?;
                    self.write_out()?;
                } else {
                    chunk = Some(c);
                    deadline = self.read_for_transmit(deadline)?;
                }
            }
        }
        self.session.channel_mut().transmit_data(Vec::new(), true)?;
        Ok(())
    }

    /// Reads one message while transmitting; a MESSAGE_ACK renews the deadline. Fails once
    /// the message a call waits for is lost.
    fn read_for_transmit(&mut self, deadline: Instant) -> Result<Instant, Error> {
        if self.outcomes.awaited_outcome == Some(Outcome::Lost) {
            return Err(Error::TransmitLost);
        }
        let msg_type = self.read_one(deadline)?;
        Ok(if msg_type == TYPE_MESSAGE_ACK {
            Instant::now() + self.timeout
        } else {
            deadline
        })
    }

    /// Waits for the outcome of the awaited message.
    fn until_settled(&mut self) -> Result<bool, Error> {
        self.write_out()?;
        let mut deadline = Instant::now() + self.timeout;
        loop {
            match self.outcomes.awaited_outcome {
                Some(Outcome::Transmitted { cancelled }) => return Ok(cancelled),
                Some(Outcome::Lost) => return Err(Error::TransmitLost),
                None => deadline = self.read_for_transmit(deadline)?,
            }
        }
    }

    /// Cancels the message being written (after a failed [`transmit`](Self::transmit); see
    /// [`Session::transmit_cancel`]).
    pub fn transmit_cancel(&mut self) -> Result<(), Error> {
        self.session.channel_mut().transmit_cancel();
        self.write_out()
    }

    // ------------------------------------------------------------ operations

    /// Records a slave's membership change (see [`Session::membership_store`]); returns
    /// PSYCstore's result.
    pub fn membership_store(
        &mut self,
        slave_pub_key: ecdsa::PublicKey,
        did_join: bool,
        announced_at: u64,
        effective_since: u64,
    ) -> Result<i64, Error> {
        let op_id = self.session.channel_mut().membership_store(
            slave_pub_key,
            did_join,
            announced_at,
            effective_since,
        )?;
        let (_, result) = self.wait_op(op_id)?;
        Ok(result)
    }

    /// Replays the stored messages `start..=end` (see [`Session::history_replay`]).
    pub fn history_replay(
        &mut self,
        start: u64,
        end: u64,
        method_prefix: &str,
        flags: u32,
    ) -> Result<History, Error> {
        let op_id = self
            .session
            .channel_mut()
            .history_replay(start, end, method_prefix, flags)?;
        self.history(op_id)
    }

    /// Replays the latest `limit` stored messages (see [`Session::history_latest`]).
    pub fn history_latest(
        &mut self,
        limit: u64,
        method_prefix: &str,
        flags: u32,
    ) -> Result<History, Error> {
        let op_id = self
            .session
            .channel_mut()
            .history_latest(limit, method_prefix, flags)?;
        self.history(op_id)
    }

    fn history(&mut self, op_id: u64) -> Result<History, Error> {
        let (events, result) = self.wait_op(op_id)?;
        let mut history = History {
            messages: Vec::new(),
            invalid: Vec::new(),
            result,
        };
        for event in events {
            match event {
                Event::HistoryMessage { message, .. } => history.messages.push(message),
                Event::HistoryInvalid { error, .. } => history.invalid.push(error),
                _ => {}
            }
        }
        Ok(history)
    }

    /// Reads a state variable or its nearest family member (see [`Session::state_get`]).
    pub fn state_get(&mut self, name: &str) -> Result<StateVars, Error> {
        let op_id = self.session.channel_mut().state_get(name)?;
        self.state(op_id)
    }

    /// Reads every state variable with a name starting with `prefix`.
    pub fn state_get_prefix(&mut self, prefix: &str) -> Result<StateVars, Error> {
        let op_id = self.session.channel_mut().state_get_prefix(prefix)?;
        self.state(op_id)
    }

    fn state(&mut self, op_id: u64) -> Result<StateVars, Error> {
        let (events, result) = self.wait_op(op_id)?;
        let vars = events
            .into_iter()
            .filter_map(|e| match e {
                Event::StateVar { name, value, .. } => Some((name, value)),
                _ => None,
            })
            .collect();
        Ok(StateVars { vars, result })
    }

    /// Writes the request of operation `op_id` and collects its events up to its result.
    fn wait_op(&mut self, op_id: u64) -> Result<(Vec<Event>, i64), Error> {
        self.write_out()?;
        let mut events = Vec::new();
        loop {
            match self.wait_event(|e| e.op_id() == Some(op_id))? {
                Event::OperationDone { result, .. } => return Ok((events, result)),
                Event::OperationLost { .. } => return Err(Error::OperationLost(op_id)),
                other => events.push(other),
            }
        }
    }

    // ------------------------------------------------------------ admission and part

    /// Master: answers a join request (see [`Session::join_decision`]).
    pub fn join_decision(
        &mut self,
        slave_pub_key: ecdsa::PublicKey,
        admit: bool,
        response: Option<&PsycMessage>,
        relays: &[PeerIdentity],
    ) -> Result<(), Error> {
        self.session
            .channel_mut()
            .join_decision(slave_pub_key, admit, response, relays)?;
        self.write_out()
    }

    /// Master: stop; slave: part. Waits for the service's PART_ACK.
    pub fn part(&mut self) -> Result<(), Error> {
        self.session.channel_mut().part()?;
        self.write_out()?;
        self.wait_event(|e| matches!(e, Event::Parted))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
