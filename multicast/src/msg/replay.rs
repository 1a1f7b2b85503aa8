//! Replay: REPLAY_REQUEST (760), REPLAY_RESPONSE (761) and REPLAY_RESPONSE_END (762).
//!
//! Both structs carry x86-64 ABI padding in the C original (4 bytes after the member key and
//! at the end of the request; 4 bytes after the header and after the error code of the
//! response). It is written as zeros and ignored when read.

use gnunet_service::crypto::ecdsa;
use gnunet_service::wire::{Codec, DecodeError, Message, Reader, HEADER_SIZE};

use super::check_nested;

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

impl Codec for ReplayIds {
    fn encode(&self, out: &mut Vec<u8>) {
        self.fragment_id.encode(out);
        self.message_id.encode(out);
        self.fragment_offset.encode(out);
        self.flags.encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            fragment_id: u64::read(r)?,
            message_id: u64::read(r)?,
            fragment_offset: u64::read(r)?,
            flags: u64::read(r)?,
        })
    }
    fn encoded_len(&self) -> usize {
        32
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

impl Codec for ReplayRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.member_pub_key.encode(out);
        out.extend_from_slice(&[0; 4]);
        self.ids.encode(out);
        self.uid.encode(out);
        out.extend_from_slice(&[0; 4]);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let member_pub_key = ecdsa::PublicKey::read(r)?;
        r.take(4, "padding")?;
        let ids = ReplayIds::read(r)?;
        let uid = u32::read(r)?;
        r.take(4, "tail padding")?;
        Ok(Self {
            member_pub_key,
            ids,
            uid,
        })
    }
    fn encoded_len(&self) -> usize {
        REPLAY_REQUEST_SIZE - HEADER_SIZE
    }
}

impl Message for ReplayRequest {
    const TYPE: u16 = super::TYPE_REPLAY_REQUEST;
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

fn encode_response_head(ids: &ReplayIds, error_code: i32, out: &mut Vec<u8>) {
    out.extend_from_slice(&[0; 4]);
    ids.encode(out);
    error_code.encode(out);
    out.extend_from_slice(&[0; 4]);
}

fn read_response_head(r: &mut Reader<'_>) -> Result<(ReplayIds, i32), DecodeError> {
    r.take(4, "padding")?;
    let ids = ReplayIds::read(r)?;
    let code = i32::read(r)?;
    r.take(4, "padding")?;
    Ok((ids, code))
}

impl Codec for ReplayResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_response_head(&self.ids, self.error_code.code(), out);
        if let Some(f) = &self.fragment {
            out.extend_from_slice(f);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (ids, code) = read_response_head(r)?;
        let fragment = if r.left() == 0 {
            None
        } else {
            let rest = r.rest();
            check_nested(rest, "replayed fragment")?;
            Some(rest.to_vec())
        };
        Ok(Self {
            ids,
            error_code: ReplayError::from_code(code),
            fragment,
        })
    }
    fn encoded_len(&self) -> usize {
        REPLAY_RESPONSE_HEADER_SIZE - HEADER_SIZE + self.fragment.as_ref().map_or(0, Vec::len)
    }
}

impl Message for ReplayResponse {
    const TYPE: u16 = super::TYPE_REPLAY_RESPONSE;
}

/// REPLAY_RESPONSE_END (762): exactly 48 bytes; the answering client is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayResponseEnd {
    /// Echo of the request.
    pub ids: ReplayIds,
    /// Carried but meaningless (the C library sends 0).
    pub error_code: i32,
}

impl Codec for ReplayResponseEnd {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_response_head(&self.ids, self.error_code, out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (ids, error_code) = read_response_head(r)?;
        Ok(Self { ids, error_code })
    }
    fn encoded_len(&self) -> usize {
        REPLAY_RESPONSE_HEADER_SIZE - HEADER_SIZE
    }
}

impl Message for ReplayResponseEnd {
    const TYPE: u16 = super::TYPE_REPLAY_RESPONSE_END;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C structs as the compiler lays them out (no `GNUNET_PACKED` on the u64 fields).
    #[repr(C)]
    struct CReplayRequest {
        header: [u16; 2],
        member_pub_key: [u8; 32],
        fragment_id: u64,
        message_id: u64,
        fragment_offset: u64,
        flags: u64,
        uid: u32,
    }
    #[repr(C)]
    struct CReplayResponse {
        header: [u16; 2],
        fragment_id: u64,
        message_id: u64,
        fragment_offset: u64,
        flags: u64,
        error_code: i32,
    }

    const IDS: ReplayIds = ReplayIds {
        fragment_id: 0x0102,
        message_id: 0x0304,
        fragment_offset: 0x0506,
        flags: 0x0708,
    };

    #[test]
    fn replay_request_is_80_bytes_with_padding() {
        assert_eq!(std::mem::size_of::<CReplayRequest>(), REPLAY_REQUEST_SIZE);
        let m = ReplayRequest {
            member_pub_key: ecdsa::PublicKey([0xaa; 32]),
            ids: IDS,
            uid: 0x0909,
        };
        let b = m.to_message();
        assert_eq!(b.len(), 80);
        assert_eq!(&b[0..4], &[0, 80, 0x02, 0xf8]);
        assert_eq!(&b[4..36], &[0xaa; 32]);
        assert_eq!(&b[36..40], &[0; 4]);
        assert_eq!(&b[40..48], &0x0102u64.to_be_bytes());
        assert_eq!(&b[48..56], &0x0304u64.to_be_bytes());
        assert_eq!(&b[56..64], &0x0506u64.to_be_bytes());
        assert_eq!(&b[64..72], &0x0708u64.to_be_bytes());
        assert_eq!(&b[72..76], &0x0909u32.to_be_bytes());
        assert_eq!(&b[76..80], &[0; 4]);
        assert_eq!(ReplayRequest::from_message(&b), Ok(m));
        // Padding is ignored, sizes are exact.
        let mut dirty = b.clone();
        dirty[37] = 1;
        dirty[79] = 1;
        assert_eq!(ReplayRequest::from_message(&dirty), Ok(m));
        let mut short = b[..72].to_vec();
        short[1] = 72;
        assert!(ReplayRequest::from_message(&short).is_err());
    }

    #[test]
    fn replay_response_is_48_bytes_plus_fragment() {
        assert_eq!(
            std::mem::size_of::<CReplayResponse>(),
            REPLAY_RESPONSE_HEADER_SIZE
        );
        let m = ReplayResponse {
            ids: IDS,
            error_code: ReplayError::NotFound,
            fragment: None,
        };
        let b = m.to_message();
        assert_eq!(b.len(), 48);
        assert_eq!(&b[0..4], &[0, 48, 0x02, 0xf9]);
        assert_eq!(&b[4..8], &[0; 4]);
        assert_eq!(&b[8..16], &0x0102u64.to_be_bytes());
        assert_eq!(&b[40..44], &1i32.to_be_bytes());
        assert_eq!(&b[44..48], &[0; 4]);
        assert_eq!(ReplayResponse::from_message(&b), Ok(m));

        let ok = ReplayResponse {
            ids: IDS,
            error_code: ReplayError::Ok,
            fragment: Some(vec![0, 5, 0x02, 0xf5, 7]),
        };
        let b = ok.to_message();
        assert_eq!(b.len(), 53);
        assert_eq!(&b[48..], &[0, 5, 0x02, 0xf5, 7]);
        assert_eq!(ReplayResponse::from_message(&b), Ok(ok));
        let mut bad = b.clone();
        bad[49] = 6;
        assert!(ReplayResponse::from_message(&bad).is_err());

        let end = ReplayResponseEnd {
            ids: IDS,
            error_code: 0,
        };
        let b = end.to_message();
        assert_eq!(b.len(), 48);
        assert_eq!(&b[2..4], &[0x02, 0xfa]);
        assert_eq!(ReplayResponseEnd::from_message(&b), Ok(end));
        assert_eq!(ReplayError::from_code(-1), ReplayError::Other(-1));
        assert_eq!(ReplayError::from_code(3).code(), 3);
    }
}
