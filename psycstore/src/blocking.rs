//! [`Client`]: a blocking client of the running service, for tools and tests.
//!
//! Each call sends one request (built by [`crate::client`]) and reads replies until that
//! request's final message. Which reply belongs to which request, and whether the request may
//! get it, is decided by the sans-IO [`Session`] of [`crate::client`], which an event-driven
//! client drives the same way; this type only moves the bytes.
//!
//! For throughput, fragment stores can be pipelined: [`Client::send_fragment_store`] only
//! sends, [`Client::recv_outcome`] collects the RESULT_CODEs in request order. Other calls may
//! run in between; answers to pipelined stores that arrive meanwhile are kept for
//! [`Client::recv_outcome`].

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use gnunet_service::client::BlockingClient;
use gnunet_service::config::Config;
use gnunet_service::crypto::HashCode;

use crate::client::{self as codec, ClientError, Event, Session, SessionError};
use crate::fragment::Fragment;
use crate::keys::{ChannelKey, SlaveKey};
use crate::msg::CountersResult;
use crate::service::SECTION;
use crate::store::{StateVar, StoredFragment};

pub use crate::client::Outcome;

/// How long a call waits for each reply unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, sending or receiving failed, or the service closed the connection.
    #[error(transparent)]
    Connection(#[from] gnunet_service::client::ClientError),
    /// The request could not be built.
    #[error(transparent)]
    Codec(#[from] ClientError),
    /// The service sent a reply the session could not accept.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// [`Client::recv_outcome`] without a pipelined request.
    #[error("no pipelined request is waiting for an answer")]
    NothingPending,
}

/// The data of a read request and its final result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched<T> {
    /// Data messages, in the order received.
    pub items: Vec<T>,
    /// The final RESULT_CODE.
    pub outcome: Outcome,
}

/// A blocking connection to the PSYCstore service.
#[derive(Debug)]
pub struct Client {
    conn: BlockingClient,
    session: Session,
    timeout: Duration,
    /// Pipelined stores in the order sent.
    pipelined: VecDeque<u64>,
    /// Answers to pipelined stores that arrived while another call waited.
    answered: HashMap<u64, Outcome>,
}

impl Client {
    /// Connects to `[psycstore] UNIXPATH` of `config`, retrying for up to `patience` (ARM
    /// starts the service on demand).
    pub fn connect(config: &Config, patience: Duration) -> Result<Self, Error> {
        Ok(Self::from_connection(BlockingClient::connect(
            config, SECTION, patience,
        )?))
    }

    /// Connects to the service's socket at `path`.
    pub fn connect_path(path: &Path, patience: Duration) -> Result<Self, Error> {
        Ok(Self::from_connection(BlockingClient::connect_path(
            path, patience,
        )?))
    }

    /// Wraps an open connection.
    pub fn from_connection(conn: BlockingClient) -> Self {
        Self {
            conn,
            session: Session::new(),
            timeout: DEFAULT_TIMEOUT,
            pipelined: VecDeque::new(),
            answered: HashMap::new(),
        }
    }

    /// How long each call waits for each reply.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The connection, e.g. to send raw bytes in a test.
    pub fn connection(&mut self) -> &mut BlockingClient {
        &mut self.conn
    }

    /// Opens an operation in the session and sends its request.
    fn send(
        &mut self,
        build: impl FnOnce(u64) -> Result<Vec<u8>, ClientError>,
    ) -> Result<u64, Error> {
        let (op_id, message) = self.session.start(build)?;
        if let Err(e) = self.conn.send_raw(&message) {
            self.session.forget(op_id);
            return Err(e.into());
        }
        Ok(op_id)
    }

    /// Reads replies until operation `op_id` is finished; returns its data events and its final
    /// event. Answers of pipelined stores met on the way are kept.
    fn finish(&mut self, op_id: u64) -> Result<(Vec<Event>, Event), Error> {
        let mut data = Vec::new();
        loop {
            let raw = self.conn.recv(Some(self.timeout))?;
            let event = self.session.handle(raw.bytes())?;
            if event.op_id() != op_id {
                // Only pipelined stores are open beside a call, and the session lets nothing
                // but their RESULT_CODE through.
                if let Event::Done { op_id, outcome } = event {
                    self.answered.insert(op_id, outcome);
                }
                continue;
            }
            if event.is_final() {
                return Ok((data, event));
            }
            data.push(event);
        }
    }

    /// Sends a request and waits for its RESULT_CODE, keeping the data `pick` accepts (the
    /// session lets only the data the request can get through).
    fn fetch<T>(
        &mut self,
        build: impl FnOnce(u64) -> Result<Vec<u8>, ClientError>,
        pick: fn(Event) -> Option<T>,
    ) -> Result<Fetched<T>, Error> {
        let op_id = self.send(build)?;
        let (data, last) = self.finish(op_id)?;
        let items = data.into_iter().filter_map(pick).collect();
        match last {
            Event::Done { outcome, .. } => Ok(Fetched { items, outcome }),
            _ => Err(unexpected(op_id, "RESULT_COUNTERS")),
        }
    }

    /// Sends a request answered by a RESULT_CODE alone.
    fn simple(
        &mut self,
        build: impl FnOnce(u64) -> Result<Vec<u8>, ClientError>,
    ) -> Result<Outcome, Error> {
        Ok(self.fetch(build, |_| None::<()>)?.outcome)
    }

    fn fragments(
        &mut self,
        build: impl FnOnce(u64) -> Result<Vec<u8>, ClientError>,
    ) -> Result<Fetched<StoredFragment>, Error> {
        self.fetch(build, |event| match event {
            Event::Fragment { fragment, .. } => Some(fragment),
            _ => None,
        })
    }

    fn states(
        &mut self,
        build: impl FnOnce(u64) -> Result<Vec<u8>, ClientError>,
    ) -> Result<Fetched<StateVar>, Error> {
        self.fetch(build, |event| match event {
            Event::State { var, .. } => Some(var),
            _ => None,
        })
    }

    /// Records that `slave` joined (`did_join`) or left the channel at `announced_at`.
    pub fn membership_store(
        &mut self,
        channel: &ChannelKey,
        slave: &SlaveKey,
        did_join: bool,
        announced_at: u64,
        effective_since: u64,
        group_generation: u64,
    ) -> Result<Outcome, Error> {
        self.simple(|op| {
            Ok(codec::membership_store(
                op,
                channel,
                slave,
                did_join,
                announced_at,
                effective_since,
                group_generation,
            ))
        })
    }

    /// Whether `slave` may read `message_id`: result 1 = yes, 0 = no.
    pub fn membership_test(
        &mut self,
        channel: &ChannelKey,
        slave: &SlaveKey,
        message_id: u64,
        group_generation: u64,
    ) -> Result<Outcome, Error> {
        self.simple(|op| {
            Ok(codec::membership_test(
                op,
                channel,
                slave,
                message_id,
                group_generation,
            ))
        })
    }

    /// Stores `fragment` with `psycstore_flags` and waits for the answer.
    pub fn fragment_store(
        &mut self,
        channel: &ChannelKey,
        fragment: &Fragment,
        psycstore_flags: u32,
    ) -> Result<Outcome, Error> {
        self.simple(|op| codec::fragment_store(op, channel, fragment, psycstore_flags))
    }

    /// Sends a FRAGMENT_STORE without waiting; returns its operation id. Collect the answers
    /// with [`Client::recv_outcome`], in the order sent.
    pub fn send_fragment_store(
        &mut self,
        channel: &ChannelKey,
        fragment: &Fragment,
        psycstore_flags: u32,
    ) -> Result<u64, Error> {
        let op = self.send(|op| codec::fragment_store(op, channel, fragment, psycstore_flags))?;
        self.pipelined.push_back(op);
        Ok(op)
    }

    /// The answer to the oldest unanswered [`Client::send_fragment_store`]: its op id and
    /// outcome.
    pub fn recv_outcome(&mut self) -> Result<(u64, Outcome), Error> {
        let op = *self.pipelined.front().ok_or(Error::NothingPending)?;
        let outcome = match self.answered.remove(&op) {
            Some(outcome) => outcome,
            None => match self.finish(op)? {
                (_, Event::Done { outcome, .. }) => outcome,
                _ => return Err(unexpected(op, "RESULT_COUNTERS")),
            },
        };
        self.pipelined.pop_front();
        Ok((op, outcome))
    }

    /// How many pipelined stores are unanswered.
    pub fn pipelined(&self) -> usize {
        self.pipelined.len()
    }

    /// Fragments `first..=last`; with `slave`, only if it passes the membership test
    /// (result −2 if not).
    pub fn fragment_get(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        first: u64,
        last: u64,
    ) -> Result<Fetched<StoredFragment>, Error> {
        self.fragments(|op| Ok(codec::fragment_get(op, channel, slave, first, last)))
    }

    /// The `limit` newest fragments, ascending.
    pub fn fragment_get_latest(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        limit: u64,
    ) -> Result<Fetched<StoredFragment>, Error> {
        self.fragments(|op| Ok(codec::fragment_get_latest(op, channel, slave, limit)))
    }

    /// Fragments of messages `first..=last`, at most `fragment_limit` (0 = all).
    pub fn message_get(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        first: u64,
        last: u64,
        fragment_limit: u64,
        method_prefix: &[u8],
    ) -> Result<Fetched<StoredFragment>, Error> {
        self.fragments(|op| {
            codec::message_get(
                op,
                channel,
                slave,
                first,
                last,
                fragment_limit,
                method_prefix,
            )
        })
    }

    /// Every fragment of the `limit` newest messages.
    pub fn message_get_latest(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        limit: u64,
        method_prefix: &[u8],
    ) -> Result<Fetched<StoredFragment>, Error> {
        self.fragments(|op| codec::message_get_latest(op, channel, slave, limit, method_prefix))
    }

    /// The fragment of `message_id` at `fragment_offset`.
    pub fn message_get_fragment(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        message_id: u64,
        fragment_offset: u64,
    ) -> Result<Fetched<StoredFragment>, Error> {
        self.fragments(|op| {
            Ok(codec::message_get_fragment(
                op,
                channel,
                slave,
                message_id,
                fragment_offset,
            ))
        })
    }

    /// The channel's counters (one RESULT_COUNTERS, no RESULT_CODE).
    pub fn counters_get(&mut self, channel: &ChannelKey) -> Result<CountersResult, Error> {
        let op = self.send(|op| Ok(codec::counters_get(op, channel)))?;
        match self.finish(op)? {
            (_, Event::Counters { counters, .. }) => Ok(counters),
            _ => Err(unexpected(op, "RESULT_CODE")),
        }
    }

    /// Applies the state modifiers of stored message `message_id`.
    pub fn state_modify(
        &mut self,
        channel: &ChannelKey,
        message_id: u64,
        state_delta: u64,
    ) -> Result<Outcome, Error> {
        self.simple(|op| Ok(codec::state_modify(op, channel, message_id, state_delta)))
    }

    /// Installs a complete state snapshot, one STATE_SYNC per variable, sent one after the
    /// other. Returns the first failure (the rest is not sent), else the last message's outcome
    /// (the one that installed the snapshot).
    pub fn state_sync(
        &mut self,
        channel: &ChannelKey,
        max_state_message_id: u64,
        state_hash_message_id: u64,
        variables: &[(&[u8], &[u8])],
    ) -> Result<Outcome, Error> {
        let messages = self.session.start_all(|ids| {
            codec::state_sync(
                ids,
                channel,
                max_state_message_id,
                state_hash_message_id,
                variables,
            )
        })?;
        let mut result = Err(Error::Codec(ClientError::EmptySync));
        let mut unsent = messages.iter().map(|(op, _)| *op).collect::<VecDeque<_>>();
        for (op, message) in &messages {
            unsent.pop_front();
            let outcome =
                self.conn
                    .send_raw(message)
                    .map_err(Error::from)
                    .and_then(|()| match self.finish(*op)? {
                        (_, Event::Done { outcome, .. }) => Ok(outcome),
                        _ => Err(unexpected(*op, "RESULT_COUNTERS")),
                    });
            let stop = !matches!(&outcome, Ok(o) if o.result == 1);
            result = outcome;
            if stop {
                break;
            }
        }
        for op in unsent {
            self.session.forget(op);
        }
        result
    }

    /// Deletes the channel's state.
    pub fn state_reset(&mut self, channel: &ChannelKey) -> Result<Outcome, Error> {
        self.simple(|op| Ok(codec::state_reset(op, channel)))
    }

    /// Records the current state values as the signed ones (see the crate docs).
    pub fn state_hash_update(
        &mut self,
        channel: &ChannelKey,
        hash: &HashCode,
    ) -> Result<Outcome, Error> {
        self.simple(|op| Ok(codec::state_hash_update(op, channel, hash)))
    }

    /// The best match for `name` (itself, else its closest ancestor `_a_b` → `_a`).
    pub fn state_get(
        &mut self,
        channel: &ChannelKey,
        name: &[u8],
    ) -> Result<Fetched<StateVar>, Error> {
        self.states(|op| codec::state_get(op, channel, name))
    }

    /// Every variable whose name starts with `prefix`, by name.
    pub fn state_get_prefix(
        &mut self,
        channel: &ChannelKey,
        prefix: &[u8],
    ) -> Result<Fetched<StateVar>, Error> {
        self.states(|op| codec::state_get_prefix(op, channel, prefix))
    }
}

/// A final event of a kind the session does not let through for this request; kept as an
/// error rather than a panic.
fn unexpected(op_id: u64, got: &'static str) -> Error {
    Error::Session(SessionError::Unexpected {
        op_id,
        request: "this request",
        got,
    })
}
