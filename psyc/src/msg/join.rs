//! Admission: JOIN_REQUEST (687, service → master client) and JOIN_DECISION (688, master
//! client → service and service → slave client).

use gnunet_service::crypto::ecdsa;
use gnunet_service::wire::HEADER_SIZE;
use gnunet_service::wire::{check_nested, Codec, DecodeError, Message, Reader, TrailingMessage};
use gnunet_service::wire_layout;

/// Fixed part of JOIN_REQUEST (`struct GNUNET_PSYC_JoinRequestMessage`), header included.
pub const JOIN_REQUEST_HEADER_SIZE: usize = 36;
/// Fixed part of JOIN_DECISION (`struct GNUNET_PSYC_JoinDecisionMessage`), header included.
pub const JOIN_DECISION_HEADER_SIZE: usize = 40;
/// Size of one relay slot the C library reserves at the end of a JOIN_DECISION.
const RELAY_SLOT_SIZE: usize = 32;

/// JOIN_REQUEST (687), 36 bytes + join message: a slave asks a master client for admission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    /// The joining slave (offset 4).
    pub slave_pub_key: ecdsa::PublicKey,
    /// The slave's join message as multicast delivered it, a complete nested message filling
    /// the rest (offset 36). The C service includes it only when its type is 691 and drops it
    /// otherwise.
    pub join_msg: Option<Vec<u8>>,
}

wire_layout! {
    impl Message(super::TYPE_JOIN_REQUEST) for JoinRequest {
        slave_pub_key,
        join_msg as TrailingMessage,
    }
}

/// JOIN_DECISION (688), 40 bytes + response (+ relay slots): the master client's answer to a
/// JOIN_REQUEST, and the service's report of that answer to the slave's clients. One layout
/// serves both directions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinDecision {
    /// [`status::OK`](super::status::OK) admit, [`status::NO`](super::status::NO) refuse,
    /// [`status::SYSERR`](super::status::SYSERR) cannot answer; 32-bit big-endian (offset 4).
    pub is_admitted: i32,
    /// Client → service: the slave the decision is for. Service → client: zero (offset 8).
    pub slave_pub_key: ecdsa::PublicKey,
    /// Optional join response, a complete nested message (a client PSYC_MESSAGE from the C
    /// library; the type is not checked) at offset 40.
    pub response: Option<Vec<u8>>,
    /// Number of 32-byte zero blocks after the response. The C library reserves room for the
    /// relays it is given but never writes them (gap P6); a decision from this implementation
    /// has none. The service ignores them, as the C service did.
    pub relay_slots: u16,
}

impl JoinDecision {
    /// A decision with neither response nor relay slots.
    pub fn new(is_admitted: i32, slave_pub_key: ecdsa::PublicKey) -> Self {
        Self {
            is_admitted,
            slave_pub_key,
            response: None,
            relay_slots: 0,
        }
    }
}

/// Splits the bytes after the fixed part into the response and the number of relay slots.
///
/// A response is present when the tail starts with a non-zero size field (a real message has
/// size ≥ 4); its own size governs, as in the C service. Everything after it must be zero and
/// a whole number of relay slots, which is what the C library sends.
fn split_tail(tail: &[u8]) -> Result<(Option<Vec<u8>>, u16), DecodeError> {
    let response_len = match tail {
        [0, 0, ..] | [] => 0,
        [hi, lo, ..] => u16::from_be_bytes([*hi, *lo]) as usize,
        [_] => tail.len(),
    };
    let (response, padding) = tail.split_at(response_len.min(tail.len()));
    if response_len > 0 {
        check_nested(response, "join response")?;
    }
    let slots = padding.len() / RELAY_SLOT_SIZE;
    if padding.len() % RELAY_SLOT_SIZE != 0 || padding.iter().any(|&b| b != 0) {
        return Err(DecodeError::Invalid {
            field: "relay slots",
            reason: "not whole 32-byte blocks of zeros after the response",
        });
    }
    let slots = u16::try_from(slots).map_err(|_| DecodeError::Invalid {
        field: "relay slots",
        reason: "too many",
    })?;
    Ok(((response_len > 0).then(|| response.to_vec()), slots))
}

impl Codec for JoinDecision {
    fn encode(&self, out: &mut Vec<u8>) {
        self.is_admitted.encode(out);
        self.slave_pub_key.encode(out);
        if let Some(m) = &self.response {
            out.extend_from_slice(m);
        }
        out.resize(out.len() + RELAY_SLOT_SIZE * self.relay_slots as usize, 0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let is_admitted = i32::read(r)?;
        let slave_pub_key = ecdsa::PublicKey::read(r)?;
        let (response, relay_slots) = split_tail(r.rest())?;
        Ok(Self {
            is_admitted,
            slave_pub_key,
            response,
            relay_slots,
        })
    }

    fn encoded_len(&self) -> usize {
        JOIN_DECISION_HEADER_SIZE - HEADER_SIZE
            + self.response.as_ref().map_or(0, Vec::len)
            + RELAY_SLOT_SIZE * self.relay_slots as usize
    }
}

impl Message for JoinDecision {
    const TYPE: u16 = super::TYPE_JOIN_DECISION;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{resized, status, Reply, Request};

    /// `struct GNUNET_PSYC_JoinRequestMessage` (gnunet_psyc_service.h).
    #[repr(C, packed)]
    struct CJoinRequestMessage {
        _header: [u16; 2],
        slave_pub_key: [u8; 32],
    }

    /// `struct GNUNET_PSYC_JoinDecisionMessage`: `is_admitted` is the one field without
    /// `GNUNET_PACKED`, naturally aligned at offset 4, so the struct has no padding either way.
    #[repr(C)]
    struct CJoinDecisionMessage {
        _header: [u16; 2],
        is_admitted: i32,
        slave_pub_key: [u8; 32],
    }

    #[test]
    fn c_struct_sizes_and_offsets() {
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<CJoinRequestMessage>(), JOIN_REQUEST_HEADER_SIZE);
        assert_eq!(offset_of!(CJoinRequestMessage, slave_pub_key), 4);
        assert_eq!(size_of::<CJoinDecisionMessage>(), JOIN_DECISION_HEADER_SIZE);
        assert_eq!(offset_of!(CJoinDecisionMessage, is_admitted), 4);
        assert_eq!(offset_of!(CJoinDecisionMessage, slave_pub_key), 8);
    }

    const JOIN_MSG: [u8; 6] = [0, 6, 0x02, 0xb3, b'h', b'i'];

    #[test]
    fn join_request_layout_and_round_trip() {
        let m = JoinRequest {
            slave_pub_key: ecdsa::PublicKey([0xab; 32]),
            join_msg: Some(JOIN_MSG.to_vec()),
        };
        let mut fixture = vec![0, 42, 0x02, 0xaf];
        fixture.extend_from_slice(&[0xab; 32]);
        fixture.extend_from_slice(&JOIN_MSG);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::JoinRequest(m.clone())));
        let bare = JoinRequest {
            join_msg: None,
            ..m
        };
        assert_eq!(bare.to_message().len(), JOIN_REQUEST_HEADER_SIZE);
        assert_eq!(JoinRequest::from_message(&bare.to_message()), Ok(bare));
        // The join message must fill the rest exactly; the fixed part must be complete.
        let mut bad = fixture.clone();
        bad.push(0);
        assert!(JoinRequest::from_message(&resized(bad)).is_err());
        assert!(JoinRequest::from_message(&resized(fixture[..38].to_vec())).is_err());
        assert!(JoinRequest::from_message(&resized(fixture[..20].to_vec())).is_err());
        // Not a request.
        assert!(Request::decode(&fixture).is_err());
    }

    #[test]
    fn join_decision_from_the_c_library_with_relay_slots() {
        // GNUNET_PSYC_join_decision with 2 relays and a response: response first, then 64
        // zero bytes where the relays were meant to go.
        let mut fixture = vec![0, 110, 0x02, 0xb0, 0, 0, 0, 1];
        fixture.extend_from_slice(&[0xcd; 32]);
        fixture.extend_from_slice(&JOIN_MSG);
        fixture.extend_from_slice(&[0; 64]);
        let m = JoinDecision {
            is_admitted: status::OK,
            slave_pub_key: ecdsa::PublicKey([0xcd; 32]),
            response: Some(JOIN_MSG.to_vec()),
            relay_slots: 2,
        };
        assert_eq!(JoinDecision::from_message(&fixture), Ok(m.clone()));
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Request::decode(&fixture), Ok(Request::JoinDecision(m)));
        // Relays but no response: the zeros are not a response of size 0.
        let mut fixture = vec![0, 72, 0x02, 0xb0, 0xff, 0xff, 0xff, 0xff];
        fixture.extend_from_slice(&[0xcd; 32]);
        fixture.extend_from_slice(&[0; 32]);
        let m = JoinDecision {
            relay_slots: 1,
            ..JoinDecision::new(status::SYSERR, ecdsa::PublicKey([0xcd; 32]))
        };
        assert_eq!(JoinDecision::from_message(&fixture), Ok(m.clone()));
        assert_eq!(m.to_message(), fixture);
    }

    #[test]
    fn join_decision_to_a_slave_is_40_bytes_plus_response() {
        let m = JoinDecision {
            response: Some(JOIN_MSG.to_vec()),
            ..JoinDecision::new(status::NO, ecdsa::PublicKey([0; 32]))
        };
        let mut fixture = vec![0, 46, 0x02, 0xb0, 0, 0, 0, 0];
        fixture.extend_from_slice(&[0; 32]);
        fixture.extend_from_slice(&JOIN_MSG);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::JoinDecision(m)));
        let bare = JoinDecision::new(status::OK, ecdsa::PublicKey([0; 32]));
        assert_eq!(bare.to_message().len(), JOIN_DECISION_HEADER_SIZE);
        assert_eq!(JoinDecision::from_message(&bare.to_message()), Ok(bare));
    }

    #[test]
    fn join_decision_rejects_bad_tails() {
        let base = JoinDecision::new(status::OK, ecdsa::PublicKey([1; 32])).to_message();
        let with_tail = |tail: &[u8]| {
            let mut b = base.clone();
            b.extend_from_slice(tail);
            JoinDecision::from_message(&resized(b))
        };
        // A response larger than what is left, or below a header.
        assert!(with_tail(&[0, 9, 0x02, 0xb3, 1]).is_err());
        assert!(with_tail(&[0, 2, 0x02, 0xb3]).is_err());
        // 1–3 stray bytes, padding that is not zero or not whole slots.
        assert!(with_tail(&[0]).is_err());
        assert!(with_tail(&[7, 7]).is_err());
        assert!(with_tail(&[0; 31]).is_err());
        let mut tail = JOIN_MSG.to_vec();
        tail.extend_from_slice(&[0; 33]);
        assert!(with_tail(&tail).is_err());
        let mut tail = JOIN_MSG.to_vec();
        tail.extend_from_slice(&[0; 32]);
        tail[20] = 1;
        assert!(with_tail(&tail).is_err());
        // Truncated fixed part.
        assert!(JoinDecision::from_message(&resized(base[..39].to_vec())).is_err());
    }
}
