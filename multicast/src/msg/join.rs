//! Starting a group role and joining: ORIGIN_START (750), MEMBER_JOIN (751),
//! JOIN_REQUEST (752) and JOIN_DECISION (753).

use std::mem::size_of;

use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{
    Codec, DecodeError, FieldCodec, LittleEndian, Message, Nested, Reader, TrailingMessage,
    HEADER_SIZE, MAX_MESSAGE_SIZE,
};
use gnunet_service::wire_layout;

use super::NO_PURPOSE;

/// Fixed part of MEMBER_JOIN, header included (`sizeof (struct MulticastMemberJoinMessage)`).
pub const MEMBER_JOIN_HEADER_SIZE: usize = 104;
/// Fixed part of JOIN_REQUEST, header included (`sizeof (struct MulticastJoinRequestMessage)`).
pub const JOIN_REQUEST_HEADER_SIZE: usize = 176;
/// Outer header of JOIN_DECISION plus the inner decision's fixed part (68 + 12).
pub const JOIN_DECISION_HEADER_SIZE: usize = 80;
/// Where the purpose field (start of the signed range) sits in a JOIN_REQUEST: after the
/// reserved word and the signature.
const JOIN_SIGNED_OFFSET: usize = HEADER_SIZE + size_of::<u32>() + size_of::<ecdsa::Signature>();

/// Value of [`JoinRequest::reserved`] with which this implementation marks a joiner that
/// follows redirects and can act as a relay ("tree" in ASCII). The field is outside the signed
/// range and C peers neither set nor read it.
pub const TREE_CAPABLE: u32 = 0x7472_6565;

/// Peer identities on the wire, back to back.
fn encode_peers(peers: &[PeerIdentity], out: &mut Vec<u8>) {
    for p in peers {
        p.encode(out);
    }
}

/// Reads `count` peer identities, refusing counts the remaining bytes cannot hold before
/// allocating anything.
fn read_peers(r: &mut Reader<'_>, count: u32) -> Result<Vec<PeerIdentity>, DecodeError> {
    let fits = (count as usize)
        .checked_mul(size_of::<PeerIdentity>())
        .is_some_and(|n| n <= r.left());
    if !fits {
        return Err(DecodeError::Invalid {
            field: "relay_count",
            reason: "more relays than the message holds",
        });
    }
    (0..count).map(|_| PeerIdentity::read(r)).collect()
}

/// The relays of a decision: their count (u32), then the peer identities.
enum CountedRelays {}

impl FieldCodec<Vec<PeerIdentity>> for CountedRelays {
    fn encode_field(relays: &Vec<PeerIdentity>, out: &mut Vec<u8>) {
        (relays.len() as u32).encode(out);
        encode_peers(relays, out);
    }
    fn read_field(
        r: &mut Reader<'_>,
        _what: &'static str,
    ) -> Result<Vec<PeerIdentity>, DecodeError> {
        let count = u32::read(r)?;
        read_peers(r, count)
    }
    fn field_len(relays: &Vec<PeerIdentity>) -> usize {
        size_of::<u32>() + relays.len() * size_of::<PeerIdentity>()
    }
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

wire_layout! {
    impl Message(super::TYPE_ORIGIN_START) for OriginStart {
        padding(4),
        group_key,
        max_fragment_id as LittleEndian,
    }
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

/// Hand-written: the relay count sits at the front, apart from the relays.
impl Codec for MemberJoin {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.relays.len() as u32).encode(out);
        self.group_pub_key.encode(out);
        self.member_key.encode(out);
        self.origin.encode(out);
        encode_peers(&self.relays, out);
        TrailingMessage::encode_field(&self.join_msg, out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = u32::read(r)?;
        let group_pub_key = eddsa::PublicKey::read(r)?;
        let member_key = ecdsa::PrivateKey::read(r)?;
        let origin = PeerIdentity::read(r)?;
        let relays = read_peers(r, count)?;
        let join_msg = TrailingMessage::read_field(r, "join message")?;
        // The service must still fit it into a JOIN_REQUEST.
        if TrailingMessage::field_len(&join_msg) + JOIN_REQUEST_HEADER_SIZE > MAX_MESSAGE_SIZE {
            return Err(DecodeError::Invalid {
                field: "join message",
                reason: "too large for a join request",
            });
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
            + self.relays.len() * size_of::<PeerIdentity>()
            + TrailingMessage::field_len(&self.join_msg)
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
            purpose: NO_PURPOSE,
            group_pub_key,
            member_pub_key,
            peer,
            join_msg,
        }
    }

    /// Whether the joiner marked itself as following redirects ([`TREE_CAPABLE`]).
    pub fn tree_capable(&self) -> bool {
        self.reserved == TREE_CAPABLE
    }
}

wire_layout! {
    impl Message(super::TYPE_JOIN_REQUEST) for JoinRequest {
        reserved,
        signature,
        purpose,
        group_pub_key,
        member_pub_key,
        peer,
        join_msg as TrailingMessage,
    }
}
signed_range!(JoinRequest, signed_from: JOIN_SIGNED_OFFSET, purpose: PURPOSE_REQUEST);

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

wire_layout! {
    // Nested inside a JOIN_DECISION with a header of its own (of the same type).
    impl Message(super::TYPE_JOIN_DECISION) for Decision {
        is_admitted,
        relays as CountedRelays,
        response as TrailingMessage,
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

/// [`JoinDecision::admitted_after`]: absent, or 8 bytes (big-endian) after the inner decision.
enum AdmissionMark {}

impl FieldCodec<Option<u64>> for AdmissionMark {
    fn encode_field(mark: &Option<u64>, out: &mut Vec<u8>) {
        if let Some(mark) = mark {
            mark.encode(out);
        }
    }
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Option<u64>, DecodeError> {
        match r.left() {
            0 => Ok(None),
            n if n == size_of::<u64>() => u64::read(r).map(Some),
            _ => Err(DecodeError::Invalid {
                field: what,
                reason: "inner decision size does not match the outer message",
            }),
        }
    }
    fn field_len(mark: &Option<u64>) -> usize {
        mark.map_or(0, |m| m.encoded_len())
    }
}

wire_layout! {
    impl Message(super::TYPE_JOIN_DECISION) for JoinDecision {
        peer,
        member_pub_key,
        decision as Nested,
        admitted_after as AdmissionMark,
    }
}

#[cfg(test)]
mod tests {
    use super::super::c_structs::{self, assert_c_layout, check_c_layout};
    use super::*;
    use std::mem::offset_of;

    fn peer(b: u8) -> PeerIdentity {
        PeerIdentity([b; 32])
    }

    #[test]
    fn origin_start_layout_is_48_bytes_with_host_order_counter() {
        let m = OriginStart {
            group_key: eddsa::PrivateKey([7; 32]),
            max_fragment_id: 0x0102_0304_0506_0708,
        };
        let b = check_c_layout!(m, OriginStartMessage + 0, {
            header: [0, 48, 0x02, 0xee],
            reserved: [0; 4],
            group_key: [7; 32],
            max_fragment_id: [8, 7, 6, 5, 4, 3, 2, 1],
        });
        assert!(OriginStart::from_message(&b[..47]).is_err());
    }

    #[test]
    fn member_join_layout_and_round_trip() {
        assert_eq!(
            size_of::<c_structs::MemberJoinMessage>(),
            MEMBER_JOIN_HEADER_SIZE
        );
        let m = MemberJoin {
            group_pub_key: eddsa::PublicKey([1; 32]),
            member_key: ecdsa::PrivateKey([2; 32]),
            origin: peer(3),
            relays: vec![peer(4), peer(5)],
            join_msg: Some(vec![0, 6, 0, 123, b'h', b'i']),
        };
        let b = check_c_layout!(m, MemberJoinMessage + 2 * 32 + 6, {
            relay_count: 2u32.to_be_bytes(),
            group_pub_key: [1; 32],
            member_key: [2; 32],
            origin: [3; 32],
        });
        let (relays, join_msg) = b[MEMBER_JOIN_HEADER_SIZE..].split_at(2 * 32);
        assert_eq!(relays, [[4; 32], [5; 32]].concat());
        assert_eq!(join_msg, &[0, 6, 0, 123, b'h', b'i']);

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
        assert_eq!(
            size_of::<c_structs::JoinRequestMessage>(),
            JOIN_REQUEST_HEADER_SIZE
        );
        let mut m = JoinRequest::unsigned(
            eddsa::PublicKey([1; 32]),
            ecdsa::PublicKey([2; 32]),
            peer(3),
            Some(vec![0, 5, 0, 123, b'!']),
        );
        m.reserved = TREE_CAPABLE;
        m.signature = ecdsa::Signature([9; 64]);
        m.set_purpose();
        let b = check_c_layout!(m, JoinRequestMessage + 5, {
            header: [0, 181, 0x02, 0xf0],
            reserved: TREE_CAPABLE.to_be_bytes(),
            signature: [9; 64],
            purpose: [(181u32 - 72).to_be_bytes(), 24u32.to_be_bytes()].concat(),
            group_pub_key: [1; 32],
            member_pub_key: [2; 32],
            peer: [3; 32],
        });
        assert_eq!(&b[JOIN_REQUEST_HEADER_SIZE..], &[0, 5, 0, 123, b'!']);
        c_structs::assert_signed_from(
            &b,
            offset_of!(c_structs::JoinRequestMessage, purpose),
            JOIN_SIGNED_OFFSET,
            &m.signed_block(),
        );
        assert!(m.tree_capable() && m.purpose_ok());
        assert!(JoinRequest::from_message(&b[..175]).is_err());
    }

    #[test]
    fn join_decision_is_outer_header_then_inner_decision() {
        let outer = size_of::<c_structs::JoinDecisionMessageHeader>();
        assert_eq!(
            outer + size_of::<c_structs::JoinDecisionMessage>(),
            JOIN_DECISION_HEADER_SIZE
        );
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
        let b = check_c_layout!(m, JoinDecisionMessageHeader + 12 + 32 + 4, {
            header: [0, 116, 0x02, 0xf1],
            peer: [1; 32],
            member_pub_key: [2; 32],
        });
        assert_c_layout!(
            &b[outer..],
            JoinDecisionMessage {
                header: [0, 48, 0x02, 0xf1],
                is_admitted: 1i32.to_be_bytes(),
                relay_count: 1u32.to_be_bytes(),
            }
        );
        let (relays, response) = b[JOIN_DECISION_HEADER_SIZE..].split_at(32);
        assert_eq!((relays, response), (&[3; 32][..], &[0, 4, 1, 200][..]));

        let mut bad = b.clone();
        bad[outer + 1] = 47; // inner size disagrees
        assert!(JoinDecision::from_message(&bad).is_err());
        let mut bad = b.clone();
        bad[outer + 3] = 0xf0; // inner type
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
        let b = refused.to_message();
        assert_eq!(b.len(), JOIN_DECISION_HEADER_SIZE);
        assert_c_layout!(
            &b[outer..],
            JoinDecisionMessage {
                is_admitted: [0xff; 4],
            }
        );
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
        let plain_len = JOIN_DECISION_HEADER_SIZE + 8;
        assert_eq!(b.len(), plain_len + 8);
        assert_eq!(&b[0..2], &96u16.to_be_bytes());
        assert_eq!(
            &b[68..70],
            &20u16.to_be_bytes(),
            "inner size leaves the mark out"
        );
        assert_eq!(&b[plain_len..], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(JoinDecision::from_message(&b), Ok(m.clone()));

        let plain = m.without_mark().to_message();
        let mut expect = b[..plain_len].to_vec();
        expect[0..2].copy_from_slice(&(plain_len as u16).to_be_bytes());
        assert_eq!(plain, expect);

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
