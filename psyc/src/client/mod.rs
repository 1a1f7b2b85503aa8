//! The client API of the psyc service (`psyc_api.c`), in two layers:
//!
//! - [`Session`]: the client side of one connection in one role — the master of a channel,
//!   or a slave of (channel, slave key) — without I/O. It builds the requests, segments
//!   outgoing messages, queues them and paces them by MESSAGE_ACK, matches operation answers by op id,
//!   validates incoming messages and says what to send again after a reconnect.
//! - [`Client`]: a blocking connection over the service's UNIX socket driving a [`Session`],
//!   for tools and tests.
//!
//! # How it maps to `psyc_api.c`
//!
//! | C | here |
//! | --- | --- |
//! | `GNUNET_PSYC_master_start` + start callback | [`Session::master`] / [`Client::master_start`], [`Event::MasterStarted`] |
//! | join request callback, `GNUNET_PSYC_join_decision` | [`Event::JoinRequest`], [`Session::join_decision`] |
//! | `GNUNET_PSYC_slave_join` + connect / decision callbacks | [`Session::slave`] / [`Client::slave_join`], [`Event::SlaveConnected`], [`Event::JoinDecision`] |
//! | `GNUNET_PSYC_master_transmit` / `slave_transmit` (+ notify callbacks, resume, cancel) | [`Session::transmit`], or [`Session::transmit_start`] + [`Session::transmit_data`], [`Session::transmit_cancel`]; [`Event::Transmitted`] |
//! | message / message-part callbacks (receive handle) | [`Event::Message`] per whole message, [`Event::MessageCancelled`], [`Event::MessageDropped`] |
//! | `GNUNET_PSYC_channel_slave_add` / `_remove` | [`Session::membership_store`] |
//! | `GNUNET_PSYC_channel_history_replay` / `_replay_latest` | [`Session::history_replay`], [`Session::history_latest`]; [`Event::HistoryMessage`] |
//! | `GNUNET_PSYC_channel_state_get` / `_get_prefix` | [`Session::state_get`], [`Session::state_get_prefix`]; [`Event::StateVar`] |
//! | result callbacks of the operations | [`Event::OperationDone`] |
//! | `GNUNET_PSYC_master_stop` / `slave_part` + stop callback | [`Session::part`], [`Event::Parted`] |
//!
//! Every message is byte-compatible with the C library: the MASTER_START policy in host
//! (little-endian) order, op ids per session counting from 1, membership removal with
//! `effective_since` 0, join decisions with the zeroed relay slots C reserves (gap P6), the
//! segmentation of `psycutil`'s transmitter.
//!
//! # Where it differs
//!
//! - **A window of containers in flight.** The session writes PSYC_MESSAGE containers while
//!   fewer than [`Limits::max_containers_in_flight`] (8) wait for their MESSAGE_ACK; each ACK
//!   lets one more go, and the rest wait inside the session (modifiers already segmented,
//!   body data in bounded queues). The service acknowledges a container once it is with
//!   multicast within a small window of fragments multicast has not acknowledged yet
//!   ([`crate::channel::transmit`]), so this is the backpressure from the channel to the
//!   application; the window keeps the service's queue from running dry between round trips,
//!   and stays far below the service's own bound (`TRANSMIT_QUEUE`, 256 containers), beyond
//!   which it drops the client. A window of 1 is the C library's pacing of data (C let
//!   modifier containers pile up unacknowledged).
//! - **Messages are pipelined.** [`Session::transmit`] while other messages are going out
//!   queues the whole message ([`Limits::max_queued_messages`]); its containers follow the
//!   last container of the message before it, never interleaved (the service drops a client
//!   that starts a message inside an open one), and each message gets its own
//!   [`Event::Transmitted`], in order. C refused a new message until the previous one was
//!   segmented to its END. A streamed message ([`Session::transmit_start`]) starts
//!   only when every message before it is completely written.
//! - **Transmission waits for the channel**: a master's containers go out after a
//!   MASTER_START_ACK with result 1 or 0, a slave's after an admitting join decision (never
//!   for a LOCAL slave): the service drops a client that transmits earlier.
//! - **Whole messages, validated per stream.** Incoming containers are checked by the format
//!   library's validating receiver; channel messages and each slave's requests are assembled
//!   separately (C had one receive handle for all, which interleaved requests break); every
//!   history operation has a receiver of its own, as in C.
//! - **State results are decoded right** (gap P10): the value is the bytes after the name,
//!   its full size the 32-bit `value_size`; the broken operator byte is ignored.
//! - **Join responses reach the slave** (gap P9: C passed them on only when absent).
//! - **After a reconnect** the start message goes first (as in C), then every history or
//!   state operation that had no answer yet is sent again under its op id; a membership store
//!   that may have been carried out, and operations half answered, are reported
//!   [`Event::OperationLost`] (C left them pending forever). Every message with a container
//!   written on the lost connection and not complete is reported [`Event::TransmitLost`], in
//!   order (C dropped it silently); those that had not started wait for the new connection.

mod blocking;
mod error;
mod ops;
mod pipeline;
mod session;
mod source;

pub use blocking::{
    ChannelSession, Client, Error, History, Started, StateVars, TransmitReport, DEFAULT_TIMEOUT,
};
pub use error::SessionError;
pub use session::{Limits, Role, Session};

use gnunet_service::crypto::ecdsa;
use gnunet_service::wire::Message;

use crate::format::container::ClientMessage;
use crate::format::message::PsycMessage;
use crate::format::receive::{Assembler, Completed, MessageMeta, ReceiveError};

/// A whole PSYC message as the service delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Message id (channel messages, history) or request id (requests at the master).
    pub message_id: u64,
    /// Delivery flags: `DELIVERY_REQUEST` for a slave's request, `DELIVERY_HISTORIC` (with the
    /// stored flags) for history, 0 for channel messages
    /// ([`format::container`](crate::format::container)).
    pub flags: u32,
    /// The requesting slave, for requests; zero otherwise.
    pub slave_pub_key: ecdsa::PublicKey,
    /// Method, modifiers and body.
    pub message: PsycMessage,
}

impl ReceivedMessage {
    fn new(meta: MessageMeta, message: PsycMessage) -> Self {
        Self {
            message_id: meta.message_id,
            flags: meta.flags,
            slave_pub_key: ecdsa::PublicKey(meta.slave_pub_key),
            message,
        }
    }
}

/// Why an incoming message was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// A container broke the message grammar or the size limits.
    Invalid(ReceiveError),
    /// More messages were arriving at once (one per requesting slave) than
    /// [`Limits::max_receive_streams`].
    TooManyStreams,
}

/// What a [`Session`] tells its application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Master: MASTER_START_ACK. `result` 1 (stored history) or 0 (none) means started, −1
    /// failed; `max_message_id` is the last message id of the channel.
    MasterStarted {
        /// PSYCstore's counters result.
        result: i32,
        /// Last message id known for the channel.
        max_message_id: u64,
    },
    /// Slave: SLAVE_JOIN_ACK; the join decision follows separately.
    SlaveConnected {
        /// PSYCstore's counters result.
        result: i32,
        /// Last message id known for the channel.
        max_message_id: u64,
    },
    /// Master: a slave asks to join; answer with [`Session::join_decision`].
    JoinRequest {
        /// The joining slave.
        slave_pub_key: ecdsa::PublicKey,
        /// Its join message, if it sent a valid one.
        message: Option<PsycMessage>,
    },
    /// Slave: the master's decision.
    JoinDecision {
        /// 1 admitted, 0 refused, −1 the master could not answer.
        is_admitted: i32,
        /// The master's response, if it sent a valid one.
        response: Option<PsycMessage>,
    },
    /// A whole message from the channel, or (master) a request from a slave.
    Message(ReceivedMessage),
    /// The sender cancelled a message (CANCEL part).
    MessageCancelled {
        /// Its id.
        message_id: u64,
        /// Its delivery flags.
        flags: u32,
        /// The requesting slave, for requests.
        slave_pub_key: ecdsa::PublicKey,
    },
    /// An incoming message was dropped.
    MessageDropped {
        /// Id in the offending container.
        message_id: u64,
        /// Delivery flags in the offending container.
        flags: u32,
        /// Why.
        reason: DropReason,
    },
    /// A message is complete: its last container was acknowledged. One per message handed
    /// to the session, in the order they were handed in (together with
    /// [`TransmitLost`](Self::TransmitLost)).
    Transmitted {
        /// It ended with CANCEL ([`Session::transmit_cancel`], or a modifier that could not
        /// be sent) instead of END.
        cancelled: bool,
    },
    /// The connection broke after some of a message was written and before its last
    /// container was acknowledged: receivers may see it cancelled, whole (if only ACKs were
    /// missing) or not at all. The session does not send it again; transmit it again if
    /// needed. Takes the place of that message's [`Transmitted`](Self::Transmitted), in order
    /// (several messages may be lost at once).
    TransmitLost,
    /// A whole message replayed for history operation `op_id`.
    HistoryMessage {
        /// The operation.
        op_id: u64,
        /// The message (flags include `DELIVERY_HISTORIC`).
        message: ReceivedMessage,
    },
    /// A replayed fragment of history operation `op_id` broke the message grammar; the
    /// message it belonged to is skipped.
    HistoryInvalid {
        /// The operation.
        op_id: u64,
        /// Why.
        error: ReceiveError,
    },
    /// A state variable for state operation `op_id`.
    StateVar {
        /// The operation.
        op_id: u64,
        /// Variable name.
        name: String,
        /// Its full value.
        value: Vec<u8>,
    },
    /// The final RESULT_CODE of an operation. History: the number of fragments replayed (or
    /// negative); state get: 1 found, 0 not found, −1 error; membership store: 1 or −1.
    OperationDone {
        /// The operation.
        op_id: u64,
        /// The result.
        result: i64,
        /// Error text the service sent along, if any.
        error: Option<String>,
    },
    /// The connection broke while operation `op_id` was open and it cannot safely be sent
    /// again (see the module docs); it may or may not have been carried out.
    OperationLost {
        /// The operation.
        op_id: u64,
    },
    /// The part (master stop / slave part) is done, or the connection ended while parting.
    Parted,
}

impl Event {
    /// The operation an event belongs to, for operation events.
    pub fn op_id(&self) -> Option<u64> {
        match self {
            Event::HistoryMessage { op_id, .. }
            | Event::HistoryInvalid { op_id, .. }
            | Event::StateVar { op_id, .. }
            | Event::OperationDone { op_id, .. }
            | Event::OperationLost { op_id } => Some(*op_id),
            _ => None,
        }
    }
}

/// Parses a nested client → service PSYC message (a join message or join response, type 691
/// with a 4-byte header) into a whole message within `limits`. `None`, logged, if it is not
/// exactly one complete valid message.
fn parse_nested(bytes: &[u8], limits: crate::format::receive::Limits) -> Option<PsycMessage> {
    let parsed = ClientMessage::from_message(bytes)
        .map_err(ReceiveError::Container)
        .and_then(|m| Assembler::new(limits).push_parts(MessageMeta::default(), &m.parts));
    match parsed {
        Ok(Some(Completed::Message { message, .. })) => Some(message),
        Ok(other) => {
            tracing::warn!(?other, "nested PSYC message is incomplete or cancelled");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "invalid nested PSYC message");
            None
        }
    }
}
