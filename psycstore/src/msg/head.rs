//! What PSYCstore's messages share beyond [`wire_layout!`]: the [`RequestHead`] ten requests
//! start with, and `operation!`, which implements [`Operation`](super::Operation) from where a
//! message keeps its operation id.

use gnunet_service::wire_layout;

use crate::keys::ChannelKey;

/// The first 44 body bytes of ten requests (the C `struct OperationRequest` without its name):
/// a reserved word, the operation id and the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RequestHead {
    /// Operation id (offset 8), echoed in every reply.
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
}

wire_layout! {
    impl Codec for RequestHead {
        padding(4),
        op_id,
        channel_key,
    }
}

impl RequestHead {
    /// The head of a request for operation `op_id` on `channel_key`.
    pub fn new(op_id: u64, channel_key: ChannelKey) -> Self {
        Self { op_id, channel_key }
    }
}

/// Implements [`Operation`](super::Operation) for each message type from the field path that
/// holds its operation id (`head.op_id` for requests that start with a [`RequestHead`]).
macro_rules! operation {
    ($($ty:ident: $($op:ident).+;)*) => {$(
        impl $crate::msg::Operation for $ty {
            fn op_id(&self) -> u64 {
                self.$($op).+
            }

            fn set_op_id(&mut self, op_id: u64) {
                self.$($op).+ = op_id;
            }
        }
    )*};
}

pub(crate) use operation;
