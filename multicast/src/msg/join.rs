//! Starting a group role and joining: ORIGIN_START (750), MEMBER_JOIN (751),
//! JOIN_REQUEST (752) and JOIN_DECISION (753).

use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{Codec, DecodeError, Message, Reader, HEADER_SIZE};

use super::read_trailing_message;

/// Fixed part of MEMBER_JOIN, header included.
pub const MEMBER_JOIN_HEADER_SIZE: usize = 104;
/// Fixed part of JOIN_REQUEST, header included.
pub const JOIN_REQUEST_HEADER_SIZE: usize = 176;
/// Outer header of JOIN_DECISION plus the inner decision's fixed part (68 + 12).
pub const JOIN_DECISION_HEADER_SIZE: usize = 80;
/// Offset of the purpose field (start of the signed range) in a JOIN_REQUEST.
const JOIN_SIGNED_OFFSET: usize = 72;

/// Value of [`JoinRequest::reserved`] with which this implementation marks a joiner that
/// follows redirects and can act as a relay ("tree" in ASCII). The field is outside the signed
/// range and C peers neither set nor read it.
pub const TREE_CAPABLE: u32 = 0x7472_6565;

/// Reads `count` peer identities, refusing counts the remaining bytes cannot hold before
/// allocating anything.
fn read_relays(r: &mut Reader<'_>, count: u32) -> Result<Vec<PeerIdentity>, DecodeError> {
    let bytes = (count as usize)
        .checked_mul(32)
        .filter(|&n| n <= r.left())
        .ok_or(DecodeError::Invalid {
            field: "relay_count",
            reason: "more relays than the message holds",
        })?;
    let raw = r.take(bytes, "relays")?;
    Ok(raw
        .chunks_exact(32)
        .map(|c| {
            let mut id = [0u8; 32];
            id.copy_from_slice(c);
            PeerIdentity(id)
        })
        .collect())
}

/// ORIGIN_START (750): a client becomes the origin of the group of `group_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginStart {
    /// The group's private key.
    pub group_key: eddsa::PrivateKey,
    /// Last fragment id already used (0 for a new group). **Little-endian**: the C client
    /// library writes it in host order. (The C service read it as big-endian, gap G3; this
    /// implementation reads what the client meant.)
    pub max_fragment_id: u64,
}

impl Codec for OriginStart {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.group_key.encode(out);
        out.extend_from_slice(&self.max_fragment_id.to_le_bytes());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        Ok(Self {
            group_key: eddsa::PrivateKey::read(r)?,
            max_fragment_id: u64::from_le_bytes(r.array("max_fragment_id")?),
        })
    }
    fn encoded_len(&self) -> usize {
        44
    }
}

impl Message for OriginStart {
    const TYPE: u16 = super::TYPE_ORIGIN_START;
}

/// MEMBER_JOIN (751): a client joins a group as the member of `member_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberJoin {
    /// The group to join.
    pub group_pub_key: eddsa::PublicKey,
    /// The member's private key; the service signs join requests and requests with it.
    pub member_key: ecdsa::PrivateKey,
    /// The origin's peer.
    pub origin: PeerIdentity,
    /// Peers the application suggests joining through.
    pub relays: Vec<PeerIdentity>,
    /// Optional application join message (a complete GNUnet message).
    pub join_msg: Option<Vec<u8>>,
}

impl Codec for MemberJoin {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.relays.len() as u32).encode(out);
        self.group_pub_key.encode(out);
        self.member_key.encode(out);
        self.origin.encode(out);
        for relay in &self.relays {
            relay.encode(out);
        }
        if let Some(m) = &self.join_msg {
            out.extend_from_slice(m);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = u32::read(r)?;
        let group_pub_key = eddsa::PublicKey::read(r)?;
        let member_key = ecdsa::PrivateKey::read(r)?;
        let origin = PeerIdentity::read(r)?;
        let relays = read_relays(r, count)?;
        let join_msg = read_trailing_message(r, "join message")?;
        if let Some(m) = &join_msg {
            // The service must still fit it into a JOIN_REQUEST.
            if m.len() + JOIN_REQUEST_HEADER_SIZE > gnunet_service::wire::MAX_MESSAGE_SIZE {
                return Err(DecodeError::Invalid {
                    field: "join message",
                    reason: "too large for a join request",
                });
            }
        }
        Ok(Self {
            group_pub_key,
            member_key,
            origin,
            relays,
            join_msg,
        })
    }
    fn encoded_len(&self) -> usize {
        MEMBER_JOIN_HEADER_SIZE - HEADER_SIZE
            + 32 * self.relays.len()
            + self.join_msg.as_ref().map_or(0, Vec::len)
    }
}

impl Message for MemberJoin {
    const TYPE: u16 = super::TYPE_MEMBER_JOIN;
}

/// JOIN_REQUEST (752): a member asks to join, signed with its member key (purpose 24 — the
/// C original reuses the request purpose) over everything from `purpose` to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// Unsigned. 0 from C peers; [`TREE_CAPABLE`] from this implementation.
    pub reserved: u32,
    /// Member-key signature over the signed range.
    pub signature: ecdsa::Signature,
    /// Signed-range header: size − 72 bytes, purpose 24.
    pub purpose: SignaturePurpose,
    /// The group being joined.
    pub group_pub_key: eddsa::PublicKey,
    /// The joining member's key.
    pub member_pub_key: ecdsa::PublicKey,
    /// The joining member's peer.
    pub peer: PeerIdentity,
    /// Optional application join message (a complete GNUnet message).
    pub join_msg: Option<Vec<u8>>,
}

impl JoinRequest {
    /// A join request before signing, as a C peer builds it: no tree flag, signature and
    /// purpose zero.
    pub fn unsigned(
        group_pub_key: eddsa::PublicKey,
        member_pub_key: ecdsa::PublicKey,
        peer: PeerIdentity,
        join_msg: Option<Vec<u8>>,
    ) -> Self {
        Self {
            reserved: 0,
            signature: ecdsa::Signature([0; 64]),
            purpose: SignaturePurpose {
                size: 0,
                purpose: 0,
            },
            group_pub_key,
            member_pub_key,
            peer,
            join_msg,
        }
    }

    /// Total size on the wire, header included.
    pub fn wire_size(&self) -> usize {
        JOIN_REQUEST_HEADER_SIZE + self.join_msg.as_ref().map_or(0, Vec::len)
    }

    /// The purpose the signed range must carry.
    pub fn expected_purpose(&self) -> SignaturePurpose {
        SignaturePurpose {
            size: (self.wire_size() - JOIN_SIGNED_OFFSET) as u32,
            purpose: super::PURPOSE_REQUEST,
        }
    }

    /// Fills in the purpose header for signing.
    pub fn set_purpose(&mut self) {
        self.purpose = self.expected_purpose();
    }

    /// Whether the purpose header is the one a correctly signed join request carries.
    pub fn purpose_ok(&self) -> bool {
        self.purpose == self.expected_purpose()
    }

    /// Whether the joiner marked itself as following redirects ([`TREE_CAPABLE`]).
    pub fn tree_capable(&self) -> bool {
        self.reserved == TREE_CAPABLE
    }

    /// The bytes the member key signs: purpose through the join message.
    pub fn signed_block(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_size() - JOIN_SIGNED_OFFSET);
        self.encode_signed(&mut out);
        out
    }

    fn encode_signed(&self, out: &mut Vec<u8>) {
        self.purpose.encode(out);
        self.group_pub_key.encode(out);
        self.member_pub_key.encode(out);
        self.peer.encode(out);
        if let Some(m) = &self.join_msg {
            out.extend_from_slice(m);
        }
    }
}

impl Codec for JoinRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.reserved.encode(out);
        self.signature.encode(out);
        self.encode_signed(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            reserved: u32::read(r)?,
            signature: ecdsa::Signature::read(r)?,
            purpose: SignaturePurpose::read(r)?,
            group_pub_key: eddsa::PublicKey::read(r)?,
            member_pub_key: ecdsa::PublicKey::read(r)?,
            peer: PeerIdentity::read(r)?,
            join_msg: read_trailing_message(r, "join message")?,
        })
    }
    fn encoded_len(&self) -> usize {
        self.wire_size() - HEADER_SIZE
    }
}

impl Message for JoinRequest {
    const TYPE: u16 = super::TYPE_JOIN_REQUEST;
}

/// The inner `MulticastJoinDecisionMessage` of a JOIN_DECISION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// [`ADMITTED`](super::ADMITTED), [`REFUSED`](super::REFUSED),
    /// [`UNDECIDED`](super::UNDECIDED), or (between peers of this implementation only)
    /// [`REDIRECT`](super::REDIRECT).
    pub is_admitted: i32,
    /// Suggested relays (for a redirect: the peers to join through instead).
    pub relays: Vec<PeerIdentity>,
    /// Optional application join response (a complete GNUnet message).
    pub response: Option<Vec<u8>>,
}

impl Decision {
    fn encoded_len(&self) -> usize {
        12 + 32 * self.relays.len() + self.response.as_ref().map_or(0, Vec::len)
    }
}

/// JOIN_DECISION (753): the 68-byte outer header naming the joiner, then the inner decision
/// (own header, also type 753). Not signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinDecision {
    /// The joining member's peer (from its JOIN_REQUEST).
    pub peer: PeerIdentity,
    /// The joining member's key.
    pub member_pub_key: ecdsa::PublicKey,
    /// The decision.
    pub decision: Decision,
    /// Between peers of this implementation only (sent to [`TREE_CAPABLE`] joiners, never to
    /// C peers or clients): the newest fragment id the origin had sent when it first admitted
    /// this member. Relays serve the member from their caches only what came after it. On the
    /// wire: 8 bytes, big-endian, after the inner decision.
    pub admitted_after: Option<u64>,
}

impl JoinDecision {
    /// The same decision without the [`admitted_after`](Self::admitted_after) trailer: what
    /// clients and C peers get.
    pub fn without_mark(&self) -> Self {
        Self {
            admitted_after: None,
            ..self.clone()
        }
    }
}

/// Size of the [`JoinDecision::admitted_after`] trailer.
const MARK_SIZE: usize = 8;

impl Codec for JoinDecision {
    fn encode(&self, out: &mut Vec<u8>) {
        self.peer.encode(out);
        self.member_pub_key.encode(out);
        (self.decision.encoded_len() as u16).encode(out);
        super::TYPE_JOIN_DECISION.encode(out);
        self.decision.is_admitted.encode(out);
        (self.decision.relays.len() as u32).encode(out);
        for relay in &self.decision.relays {
            relay.encode(out);
        }
        if let Some(m) = &self.decision.response {
            out.extend_from_slice(m);
        }
        if let Some(mark) = self.admitted_after {
            mark.encode(out);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let peer = PeerIdentity::read(r)?;
        let member_pub_key = ecdsa::PublicKey::read(r)?;
        let inner_size = u16::read(r)? as usize;
        let inner_type = u16::read(r)?;
        if inner_type != super::TYPE_JOIN_DECISION {
            return Err(DecodeError::Invalid {
                field: "inner decision type",
                reason: "not 753",
            });
        }
        let inner_body = inner_size
            .checked_sub(HEADER_SIZE)
            .ok_or(DecodeError::Invalid {
                field: "inner decision size",
                reason: "smaller than a message header",
            })?;
        let trailer = r.left().checked_sub(inner_body);
        if !matches!(trailer, Some(0 | MARK_SIZE)) {
            return Err(DecodeError::Invalid {
                field: "inner decision size",
                reason: "does not match the outer message",
            });
        }
        let mut inner = Reader::new(r.take(inner_body, "inner decision")?);
        let is_admitted = i32::read(&mut inner)?;
        let count = u32::read(&mut inner)?;
        let relays = read_relays(&mut inner, count)?;
        let response = read_trailing_message(&mut inner, "join response")?;
        let admitted_after = match r.left() {
            0 => None,
            _ => Some(u64::read(r)?),
        };
        Ok(Self {
            peer,
            member_pub_key,
            decision: Decision {
                is_admitted,
                relays,
                response,
            },
            admitted_after,
        })
    }
    fn encoded_len(&self) -> usize {
        64 + self.decision.encoded_len() + self.admitted_after.map_or(0, |_| MARK_SIZE)
    }
}

impl Message for JoinDecision {
    const TYPE: u16 = super::TYPE_JOIN_DECISION;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(b: u8) -> PeerIdentity {
        PeerIdentity([b; 32])
    }

    #[test]
    fn origin_start_layout_is_48_bytes_with_host_order_counter() {
        let m = OriginStart {
            group_key: eddsa::PrivateKey([7; 32]),
            max_fragment_id: 0x0102_0304_0506_0708,
        };
        let b = m.to_message();
        assert_eq!(b.len(), 48);
        assert_eq!(&b[0..4], &[0, 48, 0x02, 0xee]);
        assert_eq!(&b[4..8], &[0; 4]);
        assert_eq!(&b[8..40], &[7; 32]);
        assert_eq!(&b[40..48], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(OriginStart::from_message(&b), Ok(m));
        assert!(OriginStart::from_message(&b[..47]).is_err());
    }

    #[test]
    fn member_join_layout_and_round_trip() {
        let m = MemberJoin {
            group_pub_key: eddsa::PublicKey([1; 32]),
            member_key: ecdsa::PrivateKey([2; 32]),
            origin: peer(3),
            relays: vec![peer(4), peer(5)],
            join_msg: Some(vec![0, 6, 0, 123, b'h', b'i']),
        };
        let b = m.to_message();
        assert_eq!(b.len(), 104 + 64 + 6);
        assert_eq!(&b[4..8], &2u32.to_be_bytes());
        assert_eq!(&b[8..40], &[1; 32]);
        assert_eq!(&b[40..72], &[2; 32]);
        assert_eq!(&b[72..104], &[3; 32]);
        assert_eq!(&b[104..136], &[4; 32]);
        assert_eq!(&b[136..168], &[5; 32]);
        assert_eq!(&b[168..], &[0, 6, 0, 123, b'h', b'i']);
        assert_eq!(MemberJoin::from_message(&b), Ok(m.clone()));

        // A relay count beyond the message and a join message that does not fill the rest.
        let mut bad = b.clone();
        bad[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(MemberJoin::from_message(&bad).is_err());
        let mut bad = b.clone();
        bad.push(0);
        bad[0..2].copy_from_slice(&((b.len() + 1) as u16).to_be_bytes());
        assert!(MemberJoin::from_message(&bad).is_err());
        let empty = MemberJoin {
            relays: vec![],
            join_msg: None,
            ..m
        };
        assert_eq!(empty.to_message().len(), MEMBER_JOIN_HEADER_SIZE);
    }

    #[test]
    fn join_request_layout_and_round_trip() {
        let mut m = JoinRequest {
            reserved: TREE_CAPABLE,
            signature: ecdsa::Signature([9; 64]),
            purpose: SignaturePurpose {
                size: 0,
                purpose: 0,
            },
            group_pub_key: eddsa::PublicKey([1; 32]),
            member_pub_key: ecdsa::PublicKey([2; 32]),
            peer: peer(3),
            join_msg: Some(vec![0, 5, 0, 123, b'!']),
        };
        m.set_purpose();
        let b = m.to_message();
        assert_eq!(b.len(), 181);
        assert_eq!(&b[0..4], &[0, 181, 0x02, 0xf0]);
        assert_eq!(&b[4..8], &TREE_CAPABLE.to_be_bytes());
        assert_eq!(&b[8..72], &[9; 64]);
        assert_eq!(&b[72..76], &(181u32 - 72).to_be_bytes());
        assert_eq!(&b[76..80], &24u32.to_be_bytes());
        assert_eq!(&b[80..112], &[1; 32]);
        assert_eq!(&b[112..144], &[2; 32]);
        assert_eq!(&b[144..176], &[3; 32]);
        assert_eq!(&b[176..], &[0, 5, 0, 123, b'!']);
        assert_eq!(&m.signed_block()[..], &b[72..]);
        assert!(m.tree_capable() && m.purpose_ok());
        assert_eq!(JoinRequest::from_message(&b), Ok(m));
        assert!(JoinRequest::from_message(&b[..175]).is_err());
    }

    #[test]
    fn join_decision_is_outer_header_then_inner_decision() {
        let m = JoinDecision {
            peer: peer(1),
            member_pub_key: ecdsa::PublicKey([2; 32]),
            decision: Decision {
                is_admitted: 1,
                relays: vec![peer(3)],
                response: Some(vec![0, 4, 1, 200]),
            },
            admitted_after: None,
        };
        let b = m.to_message();
        assert_eq!(b.len(), 68 + 12 + 32 + 4);
        assert_eq!(&b[0..4], &[0, 116, 0x02, 0xf1]);
        assert_eq!(&b[4..36], &[1; 32]);
        assert_eq!(&b[36..68], &[2; 32]);
        assert_eq!(&b[68..72], &[0, 48, 0x02, 0xf1]);
        assert_eq!(&b[72..76], &1i32.to_be_bytes());
        assert_eq!(&b[76..80], &1u32.to_be_bytes());
        assert_eq!(&b[80..112], &[3; 32]);
        assert_eq!(&b[112..], &[0, 4, 1, 200]);
        assert_eq!(JoinDecision::from_message(&b), Ok(m.clone()));

        let mut bad = b.clone();
        bad[69] = 47; // inner size disagrees
        assert!(JoinDecision::from_message(&bad).is_err());
        let mut bad = b.clone();
        bad[71] = 0xf0; // inner type
        assert!(JoinDecision::from_message(&bad).is_err());
        assert!(JoinDecision::from_message(&b[..79]).is_err());
        let refused = JoinDecision {
            decision: Decision {
                is_admitted: -1,
                relays: vec![],
                response: None,
            },
            ..m
        };
        assert_eq!(refused.to_message().len(), JOIN_DECISION_HEADER_SIZE);
        assert_eq!(&refused.to_message()[72..76], &[0xff; 4]);
    }

    #[test]
    fn admission_mark_trails_the_inner_decision_and_is_stripped_for_c_peers() {
        let m = JoinDecision {
            peer: peer(1),
            member_pub_key: ecdsa::PublicKey([2; 32]),
            decision: Decision {
                is_admitted: 1,
                relays: vec![],
                response: Some(vec![0, 8, 1, 200, 1, 2, 3, 4]),
            },
            admitted_after: Some(0x0102_0304_0506_0708),
        };
        let b = m.to_message();
        assert_eq!(b.len(), 68 + 12 + 8 + 8);
        assert_eq!(&b[0..2], &96u16.to_be_bytes());
        assert_eq!(
            &b[68..70],
            &20u16.to_be_bytes(),
            "inner size leaves the mark out"
        );
        assert_eq!(&b[80..88], &[0, 8, 1, 200, 1, 2, 3, 4]);
        assert_eq!(&b[88..], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(JoinDecision::from_message(&b), Ok(m.clone()));

        let plain = m.without_mark().to_message();
        assert_eq!(plain.len(), 88);
        assert_eq!(
            &plain[..],
            &{
                let mut c = b[..88].to_vec();
                c[0..2].copy_from_slice(&88u16.to_be_bytes());
                c
            }[..]
        );

        // Anything but 0 or 8 bytes after the inner decision is refused.
        for extra in [1usize, 7, 9, 16] {
            let mut bad = plain.clone();
            bad.extend(std::iter::repeat_n(0, extra));
            let size = bad.len() as u16;
            bad[0..2].copy_from_slice(&size.to_be_bytes());
            assert!(
                JoinDecision::from_message(&bad).is_err(),
                "{extra} extra bytes"
            );
        }
        // An inner size below its own header is refused, not wrapped.
        let mut bad = plain;
        bad[68..70].copy_from_slice(&3u16.to_be_bytes());
        assert!(JoinDecision::from_message(&bad).is_err());
    }
}
