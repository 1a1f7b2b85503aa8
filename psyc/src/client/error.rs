//! [`SessionError`]: why a [`Session`](super::Session) refused a call or a message from the
//! service.

use gnunet_service::wire::TooLarge;

use super::session::Role;
use crate::format::message::BuildError;
use crate::format::transmit::TransmitError;
use crate::msg::MessageError;

/// Why a [`Session`](super::Session) refused a call or a message from the service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The service sent bytes that are not a psyc service → client message.
    #[error("undecodable message from the service: {0}")]
    Malformed(#[from] MessageError),
    /// The service sent a message this role or operation never gets.
    #[error("unexpected {got} for a {request}")]
    Unexpected {
        /// What arrived.
        got: &'static str,
        /// The role or request it arrived for.
        request: &'static str,
    },
    /// A STATE_RESULT that is not a variable or the continuation of one.
    #[error("bad STATE_RESULT for operation {op_id}: {reason}")]
    BadStateResult {
        /// The operation.
        op_id: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// Too many events wait for [`Session::poll_event`](super::Session::poll_event); the message was not taken. Drain the
    /// events and hand it in again.
    #[error("event queue full")]
    EventQueueFull,
    /// A queue of the session is full (see [`Limits`](super::Limits)).
    #[error("queue full: {0}")]
    QueueFull(&'static str),
    /// A message built from the caller's input would not fit one GNUnet message.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// A join message or join response cannot be built (bad method name, too large).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A transmission cannot start (the method name is invalid, or a streamed one was asked
    /// for while other messages are not completely written).
    #[error(transparent)]
    Transmit(#[from] TransmitError),
    /// No transmission is going on to add body data to (or its body is already complete).
    #[error("no message body is being transmitted")]
    NoTransmission,
    /// An argument the service would reject (a name with a NUL byte, a zero limit).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The call belongs to the other role.
    #[error("not available to a {0:?}")]
    WrongRole(Role),
    /// A LOCAL slave only reads the local history; it cannot transmit.
    #[error("a LOCAL slave cannot transmit")]
    LocalSlave,
    /// The call answers something of the current connection, and there is none.
    #[error("not connected")]
    NotConnected,
    /// The session parted (or is parting).
    #[error("the session has parted")]
    Parted,
}
