//! [`Client`]: a blocking client of the running service, for tools and tests.
//!
//! Each call sends one request (built by [`crate::client`]) and reads replies until that
//! request's final message, checking every reply as the C library does. The codec in
//! [`crate::client`] is IO-free; an event-driven client uses it directly.
//!
//! For throughput, fragment stores can be pipelined: [`Client::send_fragment_store`] only
//! sends, [`Client::recv_outcome`] collects the RESULT_CODEs in request order. While any
//! pipelined store is unanswered, the other calls refuse to run ([`Error::Pipelined`]) so no
//! answer is mistaken for another.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use gnunet_service::client::BlockingClient;
use gnunet_service::config::Config;
use gnunet_service::crypto::HashCode;

use crate::client::{self as codec, parse_reply, OpIds};
use crate::fragment::Fragment;
use crate::keys::{ChannelKey, SlaveKey};
use crate::msg::{CountersResult, Reply, ResultCode};
use crate::service::SECTION;
use crate::store::{StateVar, StoredFragment};

/// How long a call waits for each reply unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, sending or receiving failed, or the service closed the connection.
    #[error(transparent)]
    Connection(#[from] gnunet_service::client::ClientError),
    /// The request could not be built, or a reply failed the C library's checks.
    #[error(transparent)]
    Codec(#[from] codec::ClientError),
    /// A reply carried another operation's id.
    #[error("reply for operation {got} while waiting for {expected}")]
    WrongOperation {
        /// The operation waited for.
        expected: u64,
        /// The id in the reply.
        got: u64,
    },
    /// A reply of a kind the request does not produce.
    #[error("unexpected {got} in answer to {request}")]
    Unexpected {
        /// The request.
        request: &'static str,
        /// What came.
        got: &'static str,
    },
    /// Pipelined fragment stores are still unanswered; collect them with
    /// [`Client::recv_outcome`] first.
    #[error("{0} pipelined requests are still unanswered")]
    Pipelined(usize),
    /// [`Client::recv_outcome`] without a pipelined request.
    #[error("no pipelined request is waiting for an answer")]
    NothingPending,
}

/// The final RESULT_CODE of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// 1/0/−1/−2 or a count (`psycstore.md` §5).
    pub result: i64,
    /// Error text the service sent with a failure.
    pub error: Option<String>,
}

impl Outcome {
    fn from_code(code: ResultCode) -> Self {
        Self {
            result: code.result_code,
            error: code
                .error
                .map(|text| String::from_utf8_lossy(&text).into_owned()),
        }
    }
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
    ops: OpIds,
    timeout: Duration,
    pipelined: VecDeque<u64>,
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
            ops: OpIds::new(),
            timeout: DEFAULT_TIMEOUT,
            pipelined: VecDeque::new(),
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

    fn idle(&self) -> Result<(), Error> {
        match self.pipelined.len() {
            0 => Ok(()),
            n => Err(Error::Pipelined(n)),
        }
    }

    fn next_reply(&mut self, op_id: u64) -> Result<Reply, Error> {
        let raw = self.conn.recv(Some(self.timeout))?;
        let reply = parse_reply(raw.bytes())?;
        if reply.op_id() != op_id {
            return Err(Error::WrongOperation {
                expected: op_id,
                got: reply.op_id(),
            });
        }
        Ok(reply)
    }

    /// Sends `msg` and reads its replies up to the RESULT_CODE, handing data to `on_data`.
    fn exchange(
        &mut self,
        request: &'static str,
        op_id: u64,
        msg: &[u8],
        mut on_data: impl FnMut(Reply) -> Result<(), Error>,
    ) -> Result<Outcome, Error> {
        self.idle()?;
        self.conn.send_raw(msg)?;
        loop {
            match self.next_reply(op_id)? {
                Reply::ResultCode(code) => return Ok(Outcome::from_code(code)),
                Reply::Counters(_) => {
                    return Err(Error::Unexpected {
                        request,
                        got: "RESULT_COUNTERS",
                    })
                }
                data => on_data(data)?,
            }
        }
    }

    fn simple(&mut self, request: &'static str, op_id: u64, msg: &[u8]) -> Result<Outcome, Error> {
        self.exchange(request, op_id, msg, |data| {
            Err(Error::Unexpected {
                request,
                got: reply_name(&data),
            })
        })
    }

    /// Runs a read request whose data replies `pick` turns into items; any other data reply is
    /// an error.
    fn collect<T>(
        &mut self,
        request: &'static str,
        op_id: u64,
        msg: &[u8],
        pick: fn(Reply) -> Option<T>,
    ) -> Result<Fetched<T>, Error> {
        let mut items = Vec::new();
        let outcome = self.exchange(request, op_id, msg, |data| {
            let got = reply_name(&data);
            items.push(pick(data).ok_or(Error::Unexpected { request, got })?);
            Ok(())
        })?;
        Ok(Fetched { items, outcome })
    }

    fn fragments(
        &mut self,
        request: &'static str,
        op_id: u64,
        msg: &[u8],
    ) -> Result<Fetched<StoredFragment>, Error> {
        self.collect(request, op_id, msg, |data| match data {
            Reply::Fragment(f) => Some(StoredFragment {
                fragment: f.fragment,
                psycstore_flags: f.psycstore_flags,
            }),
            _ => None,
        })
    }

    fn states(
        &mut self,
        request: &'static str,
        op_id: u64,
        msg: &[u8],
    ) -> Result<Fetched<StateVar>, Error> {
        self.collect(request, op_id, msg, |data| match data {
            Reply::State(s) => Some(StateVar {
                name: s.name,
                value: s.value,
            }),
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
        let op = self.ops.next();
        let msg = codec::membership_store(
            op,
            channel,
            slave,
            did_join,
            announced_at,
            effective_since,
            group_generation,
        );
        self.simple("MEMBERSHIP_STORE", op, &msg)
    }

    /// Whether `slave` may read `message_id`: result 1 = yes, 0 = no.
    pub fn membership_test(
        &mut self,
        channel: &ChannelKey,
        slave: &SlaveKey,
        message_id: u64,
        group_generation: u64,
    ) -> Result<Outcome, Error> {
        let op = self.ops.next();
        let msg = codec::membership_test(op, channel, slave, message_id, group_generation);
        self.simple("MEMBERSHIP_TEST", op, &msg)
    }

    /// Stores `fragment` with `psycstore_flags` and waits for the answer.
    pub fn fragment_store(
        &mut self,
        channel: &ChannelKey,
        fragment: &Fragment,
        psycstore_flags: u32,
    ) -> Result<Outcome, Error> {
        let op = self.ops.next();
        let msg = codec::fragment_store(op, channel, fragment, psycstore_flags)?;
        self.simple("FRAGMENT_STORE", op, &msg)
    }

    /// Sends a FRAGMENT_STORE without waiting; returns its operation id. Collect the answers
    /// with [`Client::recv_outcome`], in the order sent.
    pub fn send_fragment_store(
        &mut self,
        channel: &ChannelKey,
        fragment: &Fragment,
        psycstore_flags: u32,
    ) -> Result<u64, Error> {
        let op = self.ops.next();
        let msg = codec::fragment_store(op, channel, fragment, psycstore_flags)?;
        self.conn.send_raw(&msg)?;
        self.pipelined.push_back(op);
        Ok(op)
    }

    /// The answer to the oldest unanswered [`Client::send_fragment_store`]: its op id and
    /// outcome.
    pub fn recv_outcome(&mut self) -> Result<(u64, Outcome), Error> {
        let op = *self.pipelined.front().ok_or(Error::NothingPending)?;
        match self.next_reply(op)? {
            Reply::ResultCode(code) => {
                self.pipelined.pop_front();
                Ok((op, Outcome::from_code(code)))
            }
            other => Err(Error::Unexpected {
                request: "FRAGMENT_STORE",
                got: reply_name(&other),
            }),
        }
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
        let op = self.ops.next();
        let msg = codec::fragment_get(op, channel, slave, first, last);
        self.fragments("FRAGMENT_GET", op, &msg)
    }

    /// The `limit` newest fragments, ascending.
    pub fn fragment_get_latest(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        limit: u64,
    ) -> Result<Fetched<StoredFragment>, Error> {
        let op = self.ops.next();
        let msg = codec::fragment_get_latest(op, channel, slave, limit);
        self.fragments("FRAGMENT_GET", op, &msg)
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
        let op = self.ops.next();
        let msg = codec::message_get(
            op,
            channel,
            slave,
            first,
            last,
            fragment_limit,
            method_prefix,
        )?;
        self.fragments("MESSAGE_GET", op, &msg)
    }

    /// Every fragment of the `limit` newest messages.
    pub fn message_get_latest(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        limit: u64,
        method_prefix: &[u8],
    ) -> Result<Fetched<StoredFragment>, Error> {
        let op = self.ops.next();
        let msg = codec::message_get_latest(op, channel, slave, limit, method_prefix)?;
        self.fragments("MESSAGE_GET", op, &msg)
    }

    /// The fragment of `message_id` at `fragment_offset`.
    pub fn message_get_fragment(
        &mut self,
        channel: &ChannelKey,
        slave: Option<&SlaveKey>,
        message_id: u64,
        fragment_offset: u64,
    ) -> Result<Fetched<StoredFragment>, Error> {
        let op = self.ops.next();
        let msg = codec::message_get_fragment(op, channel, slave, message_id, fragment_offset);
        self.fragments("MESSAGE_GET_FRAGMENT", op, &msg)
    }

    /// The channel's counters (one RESULT_COUNTERS, no RESULT_CODE).
    pub fn counters_get(&mut self, channel: &ChannelKey) -> Result<CountersResult, Error> {
        self.idle()?;
        let op = self.ops.next();
        self.conn.send_raw(&codec::counters_get(op, channel))?;
        match self.next_reply(op)? {
            Reply::Counters(c) => Ok(c),
            other => Err(Error::Unexpected {
                request: "COUNTERS_GET",
                got: reply_name(&other),
            }),
        }
    }

    /// Applies the state modifiers of stored message `message_id`.
    pub fn state_modify(
        &mut self,
        channel: &ChannelKey,
        message_id: u64,
        state_delta: u64,
    ) -> Result<Outcome, Error> {
        let op = self.ops.next();
        let msg = codec::state_modify(op, channel, message_id, state_delta);
        self.simple("STATE_MODIFY", op, &msg)
    }

    /// Installs a complete state snapshot, one STATE_SYNC per variable. Returns the first
    /// failure, else the last message's outcome (the one that installed the snapshot).
    pub fn state_sync(
        &mut self,
        channel: &ChannelKey,
        max_state_message_id: u64,
        state_hash_message_id: u64,
        variables: &[(&[u8], &[u8])],
    ) -> Result<Outcome, Error> {
        self.idle()?;
        let messages = codec::state_sync(
            &mut self.ops,
            channel,
            max_state_message_id,
            state_hash_message_id,
            variables,
        )?;
        let mut result = None;
        for (op, msg) in messages {
            let outcome = self.simple("STATE_SYNC", op, &msg)?;
            if outcome.result != 1 {
                return Ok(outcome);
            }
            result = Some(outcome);
        }
        // `codec::state_sync` refuses an empty snapshot, so there was at least one message
        result.ok_or(Error::Codec(codec::ClientError::EmptySync))
    }

    /// Deletes the channel's state.
    pub fn state_reset(&mut self, channel: &ChannelKey) -> Result<Outcome, Error> {
        let op = self.ops.next();
        let msg = codec::state_reset(op, channel);
        self.simple("STATE_RESET", op, &msg)
    }

    /// Records the current state values as the signed ones (see the crate docs).
    pub fn state_hash_update(
        &mut self,
        channel: &ChannelKey,
        hash: &HashCode,
    ) -> Result<Outcome, Error> {
        let op = self.ops.next();
        let msg = codec::state_hash_update(op, channel, hash);
        self.simple("STATE_HASH_UPDATE", op, &msg)
    }

    /// The best match for `name` (itself, else its closest ancestor `_a_b` → `_a`).
    pub fn state_get(
        &mut self,
        channel: &ChannelKey,
        name: &[u8],
    ) -> Result<Fetched<StateVar>, Error> {
        let op = self.ops.next();
        let msg = codec::state_get(op, channel, name)?;
        self.states("STATE_GET", op, &msg)
    }

    /// Every variable whose name starts with `prefix`, by name.
    pub fn state_get_prefix(
        &mut self,
        channel: &ChannelKey,
        prefix: &[u8],
    ) -> Result<Fetched<StateVar>, Error> {
        let op = self.ops.next();
        let msg = codec::state_get_prefix(op, channel, prefix)?;
        self.states("STATE_GET_PREFIX", op, &msg)
    }
}

fn reply_name(reply: &Reply) -> &'static str {
    match reply {
        Reply::ResultCode(_) => "RESULT_CODE",
        Reply::Fragment(_) => "RESULT_FRAGMENT",
        Reply::Counters(_) => "RESULT_COUNTERS",
        Reply::State(_) => "RESULT_STATE",
    }
}
