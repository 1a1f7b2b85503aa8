//! COUNTERS_GET (666) and its answer RESULT_COUNTERS (676).

use gnunet_service::wire::{Codec, DecodeError, Message, Reader};

use crate::keys::ChannelKey;

/// COUNTERS_GET (666), fixed 48 bytes (an `OperationRequest` without a name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountersGet {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
}

impl Codec for CountersGet {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.op_id.encode(out);
        self.channel_key.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        Ok(Self {
            op_id: u64::read(r)?,
            channel_key: ChannelKey::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        48 - 4
    }
}

impl Message for CountersGet {
    const TYPE: u16 = 666;
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
    /// Group generation of that fragment (offset 32).
    pub max_group_generation: u64,
    /// Last message whose state changes were applied (offset 40).
    pub max_state_message_id: u64,
}

impl Codec for CountersResult {
    fn encode(&self, out: &mut Vec<u8>) {
        self.result_code.encode(out);
        self.op_id.encode(out);
        self.max_fragment_id.encode(out);
        self.max_message_id.encode(out);
        self.max_group_generation.encode(out);
        self.max_state_message_id.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            result_code: i32::read(r)?,
            op_id: u64::read(r)?,
            max_fragment_id: u64::read(r)?,
            max_message_id: u64::read(r)?,
            max_group_generation: u64::read(r)?,
            max_state_message_id: u64::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        48 - 4
    }
}

impl Message for CountersResult {
    const TYPE: u16 = 676;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn result() -> CountersResult {
        CountersResult {
            result_code: -1,
            op_id: 2,
            max_fragment_id: 3,
            max_message_id: 4,
            max_group_generation: 5,
            max_state_message_id: 6,
        }
    }

    #[test]
    fn round_trip() {
        let g = CountersGet {
            op_id: 1,
            channel_key: ChannelKey([7; 32]),
        };
        assert_eq!(CountersGet::from_message(&g.to_message()).unwrap(), g);
        assert_eq!(
            CountersResult::from_message(&result().to_message()).unwrap(),
            result()
        );
    }

    #[test]
    fn layout() {
        let g = CountersGet {
            op_id: 1,
            channel_key: ChannelKey([7; 32]),
        }
        .to_message();
        assert_eq!(g.len(), 48);
        assert_eq!(&g[0..4], &[0, 48, 0x02, 0x9a]);
        assert_eq!(&g[8..16], &1u64.to_be_bytes());
        assert_eq!(&g[16..48], &[7; 32]);

        let b = result().to_message();
        assert_eq!(b.len(), 48);
        // unbiased two's complement
        assert_eq!(&b[4..8], &[0xff; 4]);
        assert_eq!(&b[8..16], &2u64.to_be_bytes());
        assert_eq!(&b[16..24], &3u64.to_be_bytes());
        assert_eq!(&b[40..48], &6u64.to_be_bytes());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = CountersGet::from_message(&bytes);
            let _ = CountersResult::from_message(&bytes);
        }
    }
}
