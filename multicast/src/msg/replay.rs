//! Replay: REPLAY_REQUEST (760), REPLAY_RESPONSE (761) and REPLAY_RESPONSE_END (762).
//!
//! Both structs carry x86-64 ABI padding in the C original (4 bytes after the member key and
//! at the end of the request; 4 bytes after the header and after the error code of the
//! response). It is written as zeros and ignored when read.

use gnunet_service::crypto::ecdsa;
use gnunet_service::wire::{Codec, DecodeError, Reader, TrailingMessage};
use gnunet_service::wire_layout;

/// Size of REPLAY_REQUEST, header and padding included.
pub const REPLAY_REQUEST_SIZE: usize = 80;
/// Fixed part of REPLAY_RESPONSE / REPLAY_RESPONSE_END, header and padding included.
pub const REPLAY_RESPONSE_HEADER_SIZE: usize = 48;

/// What a replay asks for: a fragment by id, or (fragment id 0) a message by id and offset.
/// The four values are echoed verbatim in the response and identify the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ReplayIds {
    /// Requested fragment id, or 0.
    pub fragment_id: u64,
    /// Requested message id (used when `fragment_id` is 0).
    pub message_id: u64,
    /// Fragment offset within `message_id`.
    pub fragment_offset: u64,
    /// Application-defined replay flags.
    pub flags: u64,
}

wire_layout! {
    impl Codec for ReplayIds {
        fragment_id,
        message_id,
        fragment_offset,
        flags,
    }
}

impl ReplayIds {
    /// Whether `fragment` is what these ids ask for: the fragment of that id, or (fragment id
    /// 0) the fragment at that offset of that message.
    pub fn answered_by(&self, fragment: &super::Fragment) -> bool {
        if self.fragment_id != 0 {
            self.fragment_id == fragment.fragment_id
        } else {
            self.message_id == fragment.message_id
                && self.fragment_offset == fragment.fragment_offset
        }
    }
}

/// REPLAY_REQUEST (760), 80 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayRequest {
    /// Service→client: the member asking. Client→service and peer↔peer: ignored (zeros from
    /// the C library).
    pub member_pub_key: ecdsa::PublicKey,
    /// What is asked for.
    pub ids: ReplayIds,
    /// Unused by the C original (0).
    pub uid: u32,
}

wire_layout! {
    impl Message(super::TYPE_REPLAY_REQUEST) for ReplayRequest {
        member_pub_key,
        padding(4),
        ids,
        uid,
        padding(4),
    }
}

/// `enum GNUNET_MULTICAST_ReplayErrorCode` (i32 on the wire; other values pass through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// 0: the nested fragment follows.
    Ok,
    /// 1: not found.
    NotFound,
    /// 2: beyond the newest fragment.
    PastHead,
    /// 3: the member may not have it.
    AccessDenied,
    /// 4: the answering side failed.
    InternalError,
    /// Anything else (the C test suite sends −1).
    Other(i32),
}

impl ReplayError {
    /// The wire value.
    pub fn code(self) -> i32 {
        match self {
            ReplayError::Ok => 0,
            ReplayError::NotFound => 1,
            ReplayError::PastHead => 2,
            ReplayError::AccessDenied => 3,
            ReplayError::InternalError => 4,
            ReplayError::Other(c) => c,
        }
    }

    /// The value of a wire code.
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => ReplayError::Ok,
            1 => ReplayError::NotFound,
            2 => ReplayError::PastHead,
            3 => ReplayError::AccessDenied,
            4 => ReplayError::InternalError,
            c => ReplayError::Other(c),
        }
    }
}

impl Codec for ReplayError {
    fn encode(&self, out: &mut Vec<u8>) {
        self.code().encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self::from_code(i32::read(r)?))
    }
    fn encoded_len(&self) -> usize {
        self.code().encoded_len()
    }
}

/// REPLAY_RESPONSE (761): 48 bytes, then for a success the replayed MESSAGE (757).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayResponse {
    /// Echo of the request.
    pub ids: ReplayIds,
    /// The result.
    pub error_code: ReplayError,
    /// The replayed fragment, a complete message, present when the response carries one.
    pub fragment: Option<Vec<u8>>,
}

wire_layout! {
    impl Message(super::TYPE_REPLAY_RESPONSE) for ReplayResponse {
        padding(4),
        ids,
        error_code,
        padding(4),
        fragment as TrailingMessage,
    }
}

/// REPLAY_RESPONSE_END (762): exactly 48 bytes; the answering client is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayResponseEnd {
    /// Echo of the request.
    pub ids: ReplayIds,
    /// Carried but meaningless (the C library sends 0).
    pub error_code: i32,
}

wire_layout! {
    impl Message(super::TYPE_REPLAY_RESPONSE_END) for ReplayResponseEnd {
        padding(4),
        ids,
        error_code,
        padding(4),
    }
}

#[cfg(test)]
mod tests {
    use super::super::c_structs::{check_c_layout, ReplayRequestMessage, ReplayResponseMessage};
    use super::*;
    use gnunet_service::wire::Message;
    use std::mem::{offset_of, size_of};

    const IDS: ReplayIds = ReplayIds {
        fragment_id: 0x0102,
        message_id: 0x0304,
        fragment_offset: 0x0506,
        flags: 0x0708,
    };

    #[test]
    fn replay_request_is_80_bytes_with_padding() {
        assert_eq!(size_of::<ReplayRequestMessage>(), REPLAY_REQUEST_SIZE);
        let m = ReplayRequest {
            member_pub_key: ecdsa::PublicKey([0xaa; 32]),
            ids: IDS,
            uid: 0x0909,
        };
        let b = check_c_layout!(m, ReplayRequestMessage + 0, {
            header: [0, 80, 0x02, 0xf8],
            member_pub_key: [0xaa; 32],
            fragment_id: 0x0102u64.to_be_bytes(),
            message_id: 0x0304u64.to_be_bytes(),
            fragment_offset: 0x0506u64.to_be_bytes(),
            flags: 0x0708u64.to_be_bytes(),
            uid: 0x0909u32.to_be_bytes(),
        });
        // Both gaps of the C struct (after the key, after uid) are zeros.
        let key_end = offset_of!(ReplayRequestMessage, member_pub_key) + 32;
        let ids_start = offset_of!(ReplayRequestMessage, fragment_id);
        let uid_end = offset_of!(ReplayRequestMessage, uid) + 4;
        assert_eq!(
            (&b[key_end..ids_start], &b[uid_end..]),
            (&[0; 4][..], &[0; 4][..])
        );
        // Padding is ignored, sizes are exact.
        let mut dirty = b.clone();
        dirty[key_end] = 1;
        dirty[uid_end] = 1;
        assert_eq!(ReplayRequest::from_message(&dirty), Ok(m));
        let mut short = b[..72].to_vec();
        short[1] = 72;
        assert!(ReplayRequest::from_message(&short).is_err());
    }

    #[test]
    fn replay_response_is_48_bytes_plus_fragment() {
        assert_eq!(
            size_of::<ReplayResponseMessage>(),
            REPLAY_RESPONSE_HEADER_SIZE
        );
        let m = ReplayResponse {
            ids: IDS,
            error_code: ReplayError::NotFound,
            fragment: None,
        };
        let b = check_c_layout!(m, ReplayResponseMessage + 0, {
            header: [0, 48, 0x02, 0xf9],
            fragment_id: 0x0102u64.to_be_bytes(),
            flags: 0x0708u64.to_be_bytes(),
            error_code: 1i32.to_be_bytes(),
        });
        // Both gaps of the C struct (after the header, after error_code) are zeros.
        let ids_start = offset_of!(ReplayResponseMessage, fragment_id);
        let code_end = offset_of!(ReplayResponseMessage, error_code) + 4;
        assert_eq!(
            (&b[4..ids_start], &b[code_end..]),
            (&[0; 4][..], &[0; 4][..])
        );

        let ok = ReplayResponse {
            ids: IDS,
            error_code: ReplayError::Ok,
            fragment: Some(vec![0, 5, 0x02, 0xf5, 7]),
        };
        let b = check_c_layout!(ok, ReplayResponseMessage + 5, {
            error_code: [0; 4],
        });
        assert_eq!(&b[REPLAY_RESPONSE_HEADER_SIZE..], &[0, 5, 0x02, 0xf5, 7]);
        let mut bad = b.clone();
        bad[49] = 6;
        assert!(ReplayResponse::from_message(&bad).is_err());

        let end = ReplayResponseEnd {
            ids: IDS,
            error_code: 0,
        };
        check_c_layout!(end, ReplayResponseMessage + 0, {
            header: [0, 48, 0x02, 0xfa],
        });
        assert_eq!(ReplayError::from_code(-1), ReplayError::Other(-1));
        assert_eq!(ReplayError::from_code(3).code(), 3);
    }

    #[test]
    fn ids_are_answered_by_fragment_id_or_by_message_and_offset() {
        let mut f = super::super::Fragment::unsigned(0x0304, 0x0506, 0, 0, vec![]);
        f.fragment_id = 0x0102;
        assert!(IDS.answered_by(&f));
        let by_message = ReplayIds {
            fragment_id: 0,
            ..IDS
        };
        assert!(by_message.answered_by(&f));
        f.fragment_id = 9;
        assert!(!IDS.answered_by(&f));
        f.fragment_offset = 0;
        assert!(!by_message.answered_by(&f));
    }
}
