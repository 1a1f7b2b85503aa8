//! The multicast fragment PSYCstore stores: multicast's own [`Fragment`] (type 757,
//! `multicast.md` §4.1), with what PSYCstore adds to it — carrying it nested inside its own
//! messages, and the group generation as the C plugin files it.
//!
//! Nested in FRAGMENT_STORE and RESULT_FRAGMENT, a fragment keeps its own 4-byte message
//! header ([`NestedAnyType`](gnunet_service::wire::NestedAnyType)): its type is not checked on
//! receipt (the C service does not check it either) and is always 757 when written, so a
//! fragment read back is byte-identical to the stored one whenever the stored one had type 757.
//!
//! **Group generation.** The C client library writes `group_generation` in host order
//! (little-endian on every platform GNUnet runs on), and [`Fragment::group_generation`] is that
//! value. The C sqlite plugin, however, files `GNUNET_ntohll` of the field and RESULT_COUNTERS
//! reports the filed value in network order. PSYCstore keeps both: the database column and the
//! counters hold the 8 bytes read big-endian ([`generation_column`]), exactly as a database
//! written by the C service does, and a fragment read back carries the same 8 bytes
//! ([`generation_from_column`]).

use gnunet_service::wire::MAX_MESSAGE_SIZE;

pub use multicast::msg::{Fragment, FRAGMENT_HEADER_SIZE};

/// Multicast flag: first fragment of a message.
pub const FLAG_FIRST_FRAGMENT: u32 = 1;
/// Multicast flag: last fragment of a message.
pub const FLAG_LAST_FRAGMENT: u32 = 2;
/// Multicast flag: fragment delivered from history.
pub const FLAG_HISTORIC: u32 = 1 << 30;

/// Largest payload a fragment may carry and still fit into any PSYCstore message
/// (a FRAGMENT_STORE request: 48 + 116 + payload ≤ 65535).
pub const MAX_PAYLOAD: usize = MAX_MESSAGE_SIZE - 48 - FRAGMENT_HEADER_SIZE;

/// The group generation as the C plugin stores it and RESULT_COUNTERS reports it: the
/// fragment's 8 generation bytes read big-endian (`GNUNET_ntohll`).
pub fn generation_column(fragment: &Fragment) -> u64 {
    u64::from_be_bytes(fragment.group_generation.to_le_bytes())
}

/// The [`Fragment::group_generation`] of a fragment whose generation column holds `column`:
/// the inverse of [`generation_column`].
pub fn generation_from_column(column: u64) -> u64 {
    u64::from_le_bytes(column.to_be_bytes())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gnunet_service::crypto::eddsa;
    use gnunet_service::crypto::purpose::SignaturePurpose;
    use gnunet_service::wire::{DecodeError, FieldCodec, Message, NestedAnyType, Reader};
    use proptest::prelude::*;

    /// A fragment with distinct values in every field.
    pub(crate) fn sample(payload_len: usize) -> Fragment {
        Fragment {
            hop_counter: 9,
            signature: eddsa::Signature([0x5a; 64]),
            purpose: SignaturePurpose {
                size: 60,
                purpose: 234,
            },
            fragment_id: 0x0102_0304_0506_0708,
            fragment_offset: 1024,
            message_id: 0x1112_1314_1516_1718,
            group_generation: 0x2122_2324_2526_2728,
            flags: FLAG_LAST_FRAGMENT,
            payload: (0..payload_len).map(|i| i as u8).collect(),
        }
    }

    /// `f` as nested in a PSYCstore message.
    fn nested(f: &Fragment) -> Vec<u8> {
        let mut out = Vec::new();
        NestedAnyType::encode_field(f, &mut out);
        out
    }

    /// One nested fragment read from `r`.
    fn read_nested(r: &mut Reader<'_>) -> Result<Fragment, DecodeError> {
        NestedAnyType::read_field(r, "fragment")
    }

    #[test]
    fn round_trip() {
        let f = sample(32);
        let bytes = nested(&f);
        let mut r = Reader::new(&bytes);
        assert_eq!(read_nested(&mut r).unwrap(), f);
        assert_eq!(r.left(), 0);
        // the nested form is the multicast message itself
        assert_eq!(bytes, f.to_message());
    }

    #[test]
    fn layout_matches_multicast_message_header() {
        let f = sample(3);
        let b = nested(&f);
        assert_eq!(b.len(), 116 + 3);
        assert_eq!(&b[0..4], &[0, 119, 0x02, 0xf5]);
        assert_eq!(&b[4..8], &[0, 0, 0, 9]);
        assert_eq!(&b[72..80], &[0, 0, 0, 60, 0, 0, 0, 234]);
        assert_eq!(&b[80..88], &f.fragment_id.to_be_bytes());
        assert_eq!(&b[88..96], &1024u64.to_be_bytes());
        assert_eq!(&b[96..104], &f.message_id.to_be_bytes());
        // host order of the C client library
        assert_eq!(&b[104..112], &f.group_generation.to_le_bytes());
        assert_eq!(&b[112..116], &2u32.to_be_bytes());
        assert_eq!(&b[116..], &[0, 1, 2]);
    }

    #[test]
    fn the_generation_column_holds_the_bytes_read_big_endian() {
        let f = sample(0);
        let bytes = nested(&f);
        let column = generation_column(&f);
        assert_eq!(column.to_be_bytes()[..], bytes[104..112]);
        assert_eq!(column, 0x2827_2625_2423_2221);
        assert_eq!(generation_from_column(column), f.group_generation);
    }

    #[test]
    fn short_size_field_is_rejected_and_the_type_is_not_checked() {
        let mut b = nested(&sample(0));
        b[1] = 100;
        assert!(read_nested(&mut Reader::new(&b)).is_err());
        let mut b = nested(&sample(4));
        b[2..4].copy_from_slice(&1234u16.to_be_bytes());
        assert_eq!(read_nested(&mut Reader::new(&b)).unwrap(), sample(4));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = read_nested(&mut Reader::new(&bytes));
        }
    }
}
