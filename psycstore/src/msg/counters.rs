//! COUNTERS_GET (666) and its answer RESULT_COUNTERS (676).

use gnunet_service::wire_layout;

use super::head::{operation, RequestHead};
use super::{TYPE_COUNTERS_GET, TYPE_RESULT_COUNTERS};

/// COUNTERS_GET (666), fixed 48 bytes (an `OperationRequest` without a name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountersGet {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
}

/// RESULT_COUNTERS (676), fixed 48 bytes. The only reply to COUNTERS_GET (no RESULT_CODE);
/// its result is plain two's complement, **not** biased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountersResult {
    /// 1 = found, 0 = no fragments (or no applied state), −1 = error (offset 4).
    pub result_code: i32,
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Id of the newest stored fragment (offset 16).
    pub max_fragment_id: u64,
    /// Message id of that fragment (offset 24).
    pub max_message_id: u64,
    /// Group generation of that fragment as the C service reports it: the fragment's 8
    /// generation bytes, in the order they came (offset 32; see [`crate::fragment`]).
    pub max_group_generation: u64,
    /// Last message whose state changes were applied (offset 40).
    pub max_state_message_id: u64,
}

wire_layout! {
    impl Message(TYPE_COUNTERS_GET) for CountersGet { head }
}

wire_layout! {
    impl Message(TYPE_RESULT_COUNTERS) for CountersResult {
        result_code,
        op_id,
        max_fragment_id,
        max_message_id,
        max_group_generation,
        max_state_message_id,
    }
}

operation! {
    CountersGet: head.op_id;
    CountersResult: op_id;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ChannelKey;
    use crate::msg::tests::round_trip;

    #[test]
    fn layout_and_round_trip() {
        let g = round_trip(&CountersGet {
            head: RequestHead::new(1, ChannelKey([7; 32])),
        });
        assert_eq!(g.len(), 48);
        assert_eq!(&g[0..4], &[0, 48, 0x02, 0x9a]);
        assert_eq!(&g[8..16], &1u64.to_be_bytes());
        assert_eq!(&g[16..48], &[7; 32]);

        let b = round_trip(&CountersResult {
            result_code: -1,
            op_id: 2,
            max_fragment_id: 3,
            max_message_id: 4,
            max_group_generation: 5,
            max_state_message_id: 6,
        });
        assert_eq!(b.len(), 48);
        // unbiased two's complement
        assert_eq!(&b[4..8], &[0xff; 4]);
        assert_eq!(&b[8..16], &2u64.to_be_bytes());
        assert_eq!(&b[16..24], &3u64.to_be_bytes());
        assert_eq!(&b[32..40], &5u64.to_be_bytes());
        assert_eq!(&b[40..48], &6u64.to_be_bytes());
    }
}
