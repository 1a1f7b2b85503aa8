//! The service's answers: RESULT_CODE (674), RESULT_FRAGMENT (675), RESULT_STATE (677).
//! (RESULT_COUNTERS (676) lives with COUNTERS_GET.)

use gnunet_service::wire::{
    CString, Codec, DecodeError, Message, NestedAnyType, OffsetBinary, Reader, MAX_MESSAGE_SIZE,
};
use gnunet_service::wire_layout;

use super::head::operation;
use super::{TYPE_RESULT_CODE, TYPE_RESULT_FRAGMENT, TYPE_RESULT_STATE};
use crate::fragment::Fragment;

/// RESULT_CODE (674), 24 bytes + optional error text: the end of every request's answer
/// (except COUNTERS_GET). The result is biased by 2^63 on the wire ([`super::bias`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultCode {
    /// Operation id of the request (offset 8).
    pub op_id: u64,
    /// Result: 1/0/−1/−2 or a fragment count (offset 16, biased).
    pub result_code: i64,
    /// Error text without its NUL (offset 24); the C service never sends one.
    pub error: Option<Vec<u8>>,
}

wire_layout! {
    impl Message(TYPE_RESULT_CODE) for ResultCode {
        padding(4),
        op_id,
        result_code as OffsetBinary,
        error as CString,
    }
}

impl ResultCode {
    /// A result without error text.
    pub fn new(op_id: u64, result_code: i64) -> Self {
        Self {
            op_id,
            result_code,
            error: None,
        }
    }
}

/// RESULT_FRAGMENT (675), 16 bytes + fragment: one stored fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentResult {
    /// Flags stored with the fragment (offset 4).
    pub psycstore_flags: u32,
    /// Operation id (offset 8).
    pub op_id: u64,
    /// The fragment, rebuilt with type 757 (offset 16).
    pub fragment: Fragment,
}

wire_layout! {
    impl Message(TYPE_RESULT_FRAGMENT) for FragmentResult {
        psycstore_flags,
        op_id,
        fragment as NestedAnyType,
    }
}

/// RESULT_STATE (677), 16 bytes + name + value: one state variable. Written by hand: its
/// `name_size` field is derived from the name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateResult {
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Variable name without its NUL (offset 16; `name_size` at offset 4 counts the NUL).
    pub name: Vec<u8>,
    /// Current value (after the name).
    pub value: Vec<u8>,
}

impl StateResult {
    /// Bytes before the name: header, `name_size`, reserved, `op_id`.
    const FIXED: usize = 4 + 2 + 2 + 8;

    /// Whether a variable fits into one RESULT_STATE message (values are never split).
    pub fn fits(name: &[u8], value: &[u8]) -> bool {
        Self::FIXED + name.len() + 1 + value.len() <= MAX_MESSAGE_SIZE
    }
}

impl Codec for StateResult {
    fn encode(&self, out: &mut Vec<u8>) {
        ((self.name.len() + 1).min(u16::MAX as usize) as u16).encode(out);
        0u16.encode(out);
        self.op_id.encode(out);
        out.extend_from_slice(&self.name);
        out.push(0);
        out.extend_from_slice(&self.value);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name_size = u16::read(r)? as usize;
        let _reserved = u16::read(r)?;
        let op_id = u64::read(r)?;
        let tail = r.rest();
        if name_size == 0 || name_size > tail.len() || tail[name_size - 1] != 0 {
            return Err(DecodeError::Invalid {
                field: "state name",
                reason: "empty, outside the message or not NUL-terminated",
            });
        }
        Ok(Self {
            op_id,
            name: tail[..name_size - 1].to_vec(),
            value: tail[name_size..].to_vec(),
        })
    }

    fn encoded_len(&self) -> usize {
        Self::FIXED - 4 + self.name.len() + 1 + self.value.len()
    }
}

impl Message for StateResult {
    const TYPE: u16 = TYPE_RESULT_STATE;
}

operation! {
    ResultCode: op_id;
    FragmentResult: op_id;
    StateResult: op_id;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment::tests::sample;
    use crate::msg::tests::{round_trip, with_size};

    #[test]
    fn layout_and_round_trip() {
        let b = round_trip(&ResultCode::new(0x11, 1));
        assert_eq!(b.len(), 24);
        assert_eq!(&b[0..4], &[0, 24, 0x02, 0xa2]);
        assert_eq!(&b[4..8], &[0; 4]);
        assert_eq!(&b[8..16], &0x11u64.to_be_bytes());
        assert_eq!(&b[16..24], &[0x80, 0, 0, 0, 0, 0, 0, 1]);
        round_trip(&ResultCode::new(1, -2));
        let b = round_trip(&ResultCode {
            op_id: 0,
            result_code: -1,
            error: Some(b"x".to_vec()),
        });
        assert_eq!(b.len(), 26);
        assert_eq!(
            &b[16..26],
            &[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, b'x', 0]
        );

        let b = round_trip(&FragmentResult {
            psycstore_flags: 3,
            op_id: 4,
            fragment: sample(5),
        });
        assert_eq!(b.len(), 16 + 116 + 5);
        assert_eq!(&b[4..8], &3u32.to_be_bytes());
        assert_eq!(&b[8..16], &4u64.to_be_bytes());
        assert_eq!(&b[16..], &sample(5).to_message()[..]);

        let b = round_trip(&StateResult {
            op_id: 5,
            name: b"_a".to_vec(),
            value: b"vv".to_vec(),
        });
        assert_eq!(b.len(), 16 + 3 + 2);
        assert_eq!(&b[4..6], &3u16.to_be_bytes());
        assert_eq!(&b[6..8], &[0, 0]);
        assert_eq!(&b[16..], b"_a\0vv");
        round_trip(&StateResult {
            op_id: 5,
            name: b"_sync_bar".to_vec(),
            value: b"ten eleven twelve".to_vec(),
        });
    }

    #[test]
    fn malformed_replies_are_rejected() {
        let mut b = ResultCode::new(1, 1).to_message();
        b.push(b'x');
        assert!(ResultCode::from_message(&with_size(b)).is_err());
        let mut b = StateResult {
            op_id: 5,
            name: b"_a".to_vec(),
            value: vec![],
        }
        .to_message();
        b[5] = 9; // name_size beyond the tail
        assert!(StateResult::from_message(&b).is_err());
    }
}
