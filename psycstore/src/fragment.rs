//! The multicast fragment PSYCstore stores: `struct GNUNET_MULTICAST_MessageHeader` plus payload.
//!
//! Defined here rather than taken from the `multicast` crate so that PSYCstore stays
//! independent of it; the layout is `multicast.md` §4.1 (116-byte fixed part, type 757):
//!
//! | offset | field | |
//! |---|---|---|
//! | 0 | size u16, type u16 | type is not checked on receipt, always 757 when rebuilt |
//! | 4 | hop_counter u32 BE | |
//! | 8 | signature, 64 raw bytes | |
//! | 72 | purpose (size u32, purpose u32), 8 raw bytes | kept verbatim |
//! | 80 | fragment_id u64 BE | |
//! | 88 | fragment_offset u64 BE | |
//! | 96 | message_id u64 BE | |
//! | 104 | group_generation u64 | read as BE; the C client writes host order, but PSYCstore only copies it |
//! | 112 | flags u32 BE | multicast message flags |
//! | 116 | payload | the PSYC parts |
//!
//! PSYCstore keeps only the fields, so a fragment read back is rebuilt with type 757 and is
//! byte-identical to the stored one whenever the stored one had type 757.

use gnunet_service::wire::{Codec, DecodeError, MessageHeader, Reader, MAX_MESSAGE_SIZE};

/// Message type of a multicast MESSAGE fragment.
pub const MULTICAST_MESSAGE_TYPE: u16 = 757;

/// Size of the fixed part of a fragment, header included.
pub const FRAGMENT_HEADER_SIZE: usize = 116;

/// Multicast flag: first fragment of a message.
pub const FLAG_FIRST_FRAGMENT: u32 = 1;
/// Multicast flag: last fragment of a message.
pub const FLAG_LAST_FRAGMENT: u32 = 2;
/// Multicast flag: fragment delivered from history.
pub const FLAG_HISTORIC: u32 = 1 << 30;

/// One multicast message fragment with its signature, as stored in the `messages` table.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fragment {
    /// Hop counter (never used by multicast, stored anyway).
    pub hop_counter: u32,
    /// The origin's EdDSA signature over bytes 72.. of the fragment.
    pub signature: [u8; 64],
    /// The signed purpose header (size and purpose number, both still big-endian).
    pub purpose: [u8; 8],
    /// Per-channel fragment counter.
    pub fragment_id: u64,
    /// Offset of this fragment within its message (counting whole fragments).
    pub fragment_offset: u64,
    /// Message this fragment belongs to.
    pub message_id: u64,
    /// Group generation, as the 8 bytes read big-endian.
    pub group_generation: u64,
    /// Multicast message flags.
    pub flags: u32,
    /// The payload after the fixed part.
    pub payload: Vec<u8>,
}

impl Fragment {
    /// Largest payload a fragment may carry and still fit into any PSYCstore message
    /// (a FRAGMENT_STORE request: 48 + 116 + payload ≤ 65535).
    pub const MAX_PAYLOAD: usize = MAX_MESSAGE_SIZE - 48 - FRAGMENT_HEADER_SIZE;
}

impl Codec for Fragment {
    fn encode(&self, out: &mut Vec<u8>) {
        // Sizes beyond u16 cannot be produced by decoding; constructors keep MAX_PAYLOAD.
        let size = (FRAGMENT_HEADER_SIZE + self.payload.len()).min(u16::MAX as usize) as u16;
        MessageHeader {
            size,
            msg_type: MULTICAST_MESSAGE_TYPE,
        }
        .encode(out);
        self.hop_counter.encode(out);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.purpose);
        self.fragment_id.encode(out);
        self.fragment_offset.encode(out);
        self.message_id.encode(out);
        self.group_generation.encode(out);
        self.flags.encode(out);
        out.extend_from_slice(&self.payload);
    }

    /// Reads one fragment whose own size field says how long it is; the type is not checked
    /// (the C service does not check it either).
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = MessageHeader::read(r)?;
        let size = header.size as usize;
        if size < FRAGMENT_HEADER_SIZE {
            return Err(DecodeError::Invalid {
                field: "fragment size",
                reason: "smaller than the 116-byte multicast header",
            });
        }
        let hop_counter = u32::read(r)?;
        let signature = r.array("fragment signature")?;
        let purpose = r.array("fragment purpose")?;
        let fragment_id = u64::read(r)?;
        let fragment_offset = u64::read(r)?;
        let message_id = u64::read(r)?;
        let group_generation = u64::read(r)?;
        let flags = u32::read(r)?;
        let payload = r
            .take(size - FRAGMENT_HEADER_SIZE, "fragment payload")?
            .to_vec();
        Ok(Self {
            hop_counter,
            signature,
            purpose,
            fragment_id,
            fragment_offset,
            message_id,
            group_generation,
            flags,
            payload,
        })
    }

    fn encoded_len(&self) -> usize {
        FRAGMENT_HEADER_SIZE + self.payload.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A fragment with distinct values in every field.
    pub(crate) fn sample(payload_len: usize) -> Fragment {
        Fragment {
            hop_counter: 9,
            signature: [0x5a; 64],
            purpose: [0, 0, 0, 60, 0, 0, 0, 234],
            fragment_id: 0x0102_0304_0506_0708,
            fragment_offset: 1024,
            message_id: 0x1112_1314_1516_1718,
            group_generation: 0x2122_2324_2526_2728,
            flags: FLAG_LAST_FRAGMENT,
            payload: (0..payload_len).map(|i| i as u8).collect(),
        }
    }

    #[test]
    fn round_trip() {
        let f = sample(32);
        let bytes = f.to_vec();
        assert_eq!(Fragment::decode_exact(&bytes).unwrap(), f);
    }

    #[test]
    fn layout_matches_multicast_message_header() {
        let f = sample(3);
        let b = f.to_vec();
        assert_eq!(b.len(), 116 + 3);
        assert_eq!(&b[0..4], &[0, 119, 0x02, 0xf5]);
        assert_eq!(&b[4..8], &[0, 0, 0, 9]);
        assert_eq!(&b[72..80], &f.purpose);
        assert_eq!(&b[80..88], &f.fragment_id.to_be_bytes());
        assert_eq!(&b[88..96], &1024u64.to_be_bytes());
        assert_eq!(&b[96..104], &f.message_id.to_be_bytes());
        assert_eq!(&b[104..112], &f.group_generation.to_be_bytes());
        assert_eq!(&b[112..116], &2u32.to_be_bytes());
        assert_eq!(&b[116..], &[0, 1, 2]);
    }

    #[test]
    fn short_size_field_is_rejected() {
        let mut b = sample(0).to_vec();
        b[1] = 100;
        assert!(Fragment::decode_exact(&b).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Fragment::decode_exact(&bytes);
        }
    }
}
