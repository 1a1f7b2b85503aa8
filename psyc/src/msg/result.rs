//! The answers to operations, all `struct GNUNET_OperationResultMessage` (24 bytes) plus a
//! tail: RESULT_CODE (680), HISTORY_RESULT (702) and STATE_RESULT (705).
//!
//! `result_code` is a plain 64-bit two's complement, big-endian: the C service writes
//! `GNUNET_htonll (int64)` and the library reads `GNUNET_ntohll` into an `int64_t`. PSYCstore's
//! 2^63 bias does **not** apply here.

use gnunet_service::wire::{Nested, Rest, TrailingMessage};
use gnunet_service::wire_layout;

use super::{status, Delivery};

/// Fixed part of every operation result (`struct GNUNET_OperationResultMessage`), header
/// included.
pub const OPERATION_RESULT_HEADER_SIZE: usize = 24;

/// Declares an operation result type: the fixed fields, then a tail field `$tail` in the
/// form of the [`FieldCodec`](gnunet_service::wire::FieldCodec) adapter `$form`.
macro_rules! operation_result {
    (
        $(#[$doc:meta])* $name:ident = $type:expr;
        $(#[$tail_doc:meta])* $tail:ident: $tail_ty:ty as $form:ty
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            /// The request's operation id, echoed (offset 8).
            pub op_id: u64,
            /// Result (offset 16), 64-bit two's complement, not biased.
            pub result_code: i64,
            $(#[$tail_doc])*
            pub $tail: $tail_ty,
        }

        wire_layout! {
            impl Message($type) for $name {
                padding(4),
                op_id,
                result_code,
                $tail as $form,
            }
        }
    };
}

operation_result!(
    /// RESULT_CODE (680), 24 bytes + data: the end of an operation (history replay, state
    /// get, membership store). Result values: history → number of fragments replayed or a
    /// negative error; membership store → PSYCstore's result (1 or −1); state get → 1 found,
    /// 0 not found, −1 error.
    ResultCode = super::TYPE_RESULT_CODE;
    /// PSYCstore's error text, passed on as it came (not necessarily NUL-terminated); usually
    /// empty (offset 24).
    data: Vec<u8> as Rest
);

operation_result!(
    /// HISTORY_RESULT (702), 24 + 56 bytes + parts: one stored fragment of a history replay.
    /// The C service sets `result_code` to 1 ([`HistoryResult::new`]).
    HistoryResult = super::TYPE_HISTORY_RESULT;
    /// The fragment as a complete service → client PSYC_MESSAGE, flags including
    /// `DELIVERY_HISTORIC` (offset 24): type 691 and at least 56 bytes, filling the rest exactly.
    message: Delivery as Nested
);

operation_result!(
    /// STATE_RESULT (705), 24 bytes + one part: one channel state variable. The C service
    /// leaves `result_code` 0 ([`StateResult::new`]).
    StateResult = super::TYPE_STATE_RESULT;
    /// One complete part filling the rest (offset 24): a MODIFIER (name, full value; the C
    /// service wrote its `oper` byte as the low byte of `htons('=')`, 0 on little-endian hosts,
    /// gap P10) or a MOD_CONT. The type is not checked here; the C library ignores others.
    part: Vec<u8> as TrailingMessage
);

impl ResultCode {
    /// A result without data.
    pub fn new(op_id: u64, result_code: i64) -> Self {
        Self {
            op_id,
            result_code,
            data: Vec::new(),
        }
    }
}

impl HistoryResult {
    /// One replayed fragment, with the result code the C service always sends (1).
    pub fn new(op_id: u64, message: Delivery) -> Self {
        Self {
            op_id,
            result_code: status::OK.into(),
            message,
        }
    }
}

impl StateResult {
    /// One state variable part, with the result code the C service always sends (0).
    pub fn new(op_id: u64, part: Vec<u8>) -> Self {
        Self {
            op_id,
            result_code: status::NO.into(),
            part,
        }
    }

    /// The type in the part's header (694 MODIFIER or 695 MOD_CONT from a correct service).
    pub fn part_type(&self) -> Option<u16> {
        match self.part.as_slice() {
            [_, _, hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::container::{DeliveryHeader, DELIVERY_HISTORIC};
    use crate::msg::{resized, Reply, Request};
    use gnunet_service::wire::Message;

    /// `struct GNUNET_OperationResultMessage` (gnunet_common.h, unchanged in 0.19 but not in
    /// gnunet-sys's bindings), every field packed.
    #[repr(C, packed)]
    struct COperationResultMessage {
        _header: [u16; 2],
        _reserved: u32,
        op_id: u64,
        result_code: u64,
    }

    /// `struct GNUNET_PSYC_MessageHeader` (gnunet_psyc_service.h), every field packed: the
    /// 56-byte header of the service → client PSYC_MESSAGE inside a HISTORY_RESULT.
    #[repr(C, packed)]
    struct CPsycMessageHeader {
        _header: [u16; 2],
        flags: u32,
        message_id: u64,
        fragment_offset: u64,
        slave_pub_key: [u8; 32],
    }

    #[test]
    fn c_struct_sizes_and_offsets() {
        use std::mem::{offset_of, size_of};
        type R = COperationResultMessage;
        assert_eq!(size_of::<R>(), OPERATION_RESULT_HEADER_SIZE);
        assert_eq!(offset_of!(R, op_id), 8);
        assert_eq!(offset_of!(R, result_code), 16);
        type P = CPsycMessageHeader;
        assert_eq!(
            size_of::<P>(),
            crate::format::container::DELIVERY_HEADER_SIZE
        );
        assert_eq!(offset_of!(P, flags), 4);
        assert_eq!(offset_of!(P, message_id), 8);
        assert_eq!(offset_of!(P, fragment_offset), 16);
        assert_eq!(offset_of!(P, slave_pub_key), 24);
    }

    /// The 24-byte fixed part for `size`, `msg_type`, `op_id` and `result_code`.
    fn head(size: u16, msg_type: u16, op_id: u64, result_code: i64) -> Vec<u8> {
        let mut b = size.to_be_bytes().to_vec();
        b.extend_from_slice(&msg_type.to_be_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&op_id.to_be_bytes());
        b.extend_from_slice(&result_code.to_be_bytes());
        b
    }

    #[test]
    fn result_code_is_unbiased_twos_complement() {
        let m = ResultCode::new(7, -1);
        let fixture = [
            0, 24, 0x02, 0xa8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff,
        ];
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::ResultCode(m)));
        // A fragment count, and error text kept byte for byte (no NUL required).
        let m = ResultCode {
            data: b"oops".to_vec(),
            ..ResultCode::new(8, 9)
        };
        let mut fixture = head(28, 680, 8, 9);
        fixture.extend_from_slice(b"oops");
        assert_eq!(&fixture[16..24], &[0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::ResultCode(m)));
        assert_eq!(Reply::decode(&fixture).map(|r| r.op_id()), Ok(Some(8)));
        // Shorter than the fixed part; not a request.
        assert!(ResultCode::from_message(&resized(fixture[..23].to_vec())).is_err());
        assert!(Request::decode(&fixture).is_err());
    }

    fn delivery() -> Delivery {
        Delivery {
            header: DeliveryHeader {
                flags: DELIVERY_HISTORIC,
                message_id: 5,
                fragment_offset: 116,
                slave_pub_key: [0; 32],
            },
            parts: vec![0, 4, 0x02, 0xb9],
        }
    }

    #[test]
    fn history_result_nests_a_whole_delivery() {
        let m = HistoryResult::new(3, delivery());
        let mut fixture = head(84, 702, 3, 1);
        fixture.extend_from_slice(&[0, 60, 0x02, 0xb3, 0, 0, 0, 1]);
        fixture.extend_from_slice(&5u64.to_be_bytes());
        fixture.extend_from_slice(&116u64.to_be_bytes());
        fixture.extend_from_slice(&[0; 32]);
        fixture.extend_from_slice(&[0, 4, 0x02, 0xb9]);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::HistoryResult(m)));
        // The nested message must be a whole PSYC_MESSAGE of at least 56 bytes filling the
        // rest: no tail, a short one, a size that disagrees, another type.
        assert!(HistoryResult::from_message(&resized(fixture[..24].to_vec())).is_err());
        assert!(HistoryResult::from_message(&resized(fixture[..70].to_vec())).is_err());
        let mut bad = fixture.clone();
        bad[25] = 59;
        assert!(HistoryResult::from_message(&bad).is_err());
        let mut bad = fixture.clone();
        bad.push(0);
        assert!(HistoryResult::from_message(&resized(bad)).is_err());
        let mut bad = fixture;
        bad[27] = 0xb4;
        assert!(HistoryResult::from_message(&bad).is_err());
    }

    #[test]
    fn state_result_carries_one_part() {
        // A MODIFIER "_a" = "v" as the C service builds it: oper byte 0.
        // header, value_size 1, name_size 3, oper, "_a\0", "v"
        let part = vec![0, 15, 0x02, 0xb6, 0, 0, 0, 1, 0, 3, 0, b'_', b'a', 0, b'v'];
        let m = StateResult::new(4, part.clone());
        assert_eq!(m.part_type(), Some(694));
        let mut fixture = head(39, 705, 4, 0);
        fixture.extend_from_slice(&part);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::StateResult(m)));
        // Empty tail, a part that does not fill the rest, a part larger than the rest.
        assert!(StateResult::from_message(&resized(fixture[..24].to_vec())).is_err());
        let mut bad = fixture.clone();
        bad.push(0);
        assert!(StateResult::from_message(&resized(bad)).is_err());
        let mut bad = fixture;
        bad[25] = 16;
        assert!(StateResult::from_message(&bad).is_err());
    }
}
