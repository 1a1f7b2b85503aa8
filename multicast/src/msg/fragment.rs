//! Signed data: message fragments from the origin (MESSAGE, 757) and request fragments from
//! members (REQUEST, 758).

use std::mem::size_of;

use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::wire::{LittleEndian, Rest, HEADER_SIZE};
use gnunet_service::wire_layout;

use super::NO_PURPOSE;

/// Fixed part of a MESSAGE, header included (`sizeof (struct GNUNET_MULTICAST_MessageHeader)`).
pub const FRAGMENT_HEADER_SIZE: usize = 116;
/// Fixed part of a REQUEST, header included (`sizeof (struct GNUNET_MULTICAST_RequestHeader)`).
pub const REQUEST_HEADER_SIZE: usize = 136;

/// Where the hop counter sits in an encoded fragment message (right after the header).
const HOP_COUNTER_OFFSET: usize = HEADER_SIZE;
/// Where the signature sits in an encoded fragment message (after the hop counter).
const SIGNATURE_OFFSET: usize = HOP_COUNTER_OFFSET + size_of::<u32>();
/// Where the purpose field (start of the signed range) sits in a MESSAGE.
const FRAGMENT_SIGNED_OFFSET: usize = SIGNATURE_OFFSET + size_of::<eddsa::Signature>();
/// Where the purpose field (start of the signed range) sits in a REQUEST: after the member key
/// and its signature.
const REQUEST_SIGNED_OFFSET: usize =
    HEADER_SIZE + size_of::<ecdsa::PublicKey>() + size_of::<ecdsa::Signature>();

/// MESSAGE (757): one fragment of a group message, signed with the group key (purpose 19)
/// over everything from `purpose` to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Hops from the origin. Not signed. Always 0 from C peers; this implementation sets it to
    /// the receiver's depth (1 for the origin's children) when it sends to a child.
    pub hop_counter: u32,
    /// Group-key signature over the signed range.
    pub signature: eddsa::Signature,
    /// Signed-range header: size − 72 bytes, purpose 19 (zero in what a client sends).
    pub purpose: SignaturePurpose,
    /// Per-group fragment counter assigned by the origin's service, from 1.
    pub fragment_id: u64,
    /// Offset of this fragment within its message, counting whole fragments with headers.
    pub fragment_offset: u64,
    /// Application message id.
    pub message_id: u64,
    /// Application group generation, **little-endian** (host order of the C client library).
    pub group_generation: u64,
    /// `GNUNET_MULTICAST_MessageFlags`.
    pub flags: u32,
    /// The fragment body.
    pub payload: Vec<u8>,
}

impl Fragment {
    /// A fragment as a client hands it to the service: signature, purpose and id left zero.
    pub fn unsigned(
        message_id: u64,
        fragment_offset: u64,
        group_generation: u64,
        flags: u32,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            hop_counter: 0,
            signature: eddsa::Signature([0; 64]),
            purpose: NO_PURPOSE,
            fragment_id: 0,
            fragment_offset,
            message_id,
            group_generation,
            flags,
            payload,
        }
    }

    /// The signed range (purpose through payload) inside an encoded fragment message, so a
    /// received fragment is checked without encoding it again.
    pub fn signed_part(message: &[u8]) -> Option<&[u8]> {
        message.get(FRAGMENT_SIGNED_OFFSET..)
    }

    /// Writes `signature` into an encoded fragment message, so the origin signs the bytes it
    /// sends instead of a separate copy of the signed range. False if `message` is too short.
    pub fn set_signature(message: &mut [u8], signature: &eddsa::Signature) -> bool {
        match message.get_mut(SIGNATURE_OFFSET..FRAGMENT_SIGNED_OFFSET) {
            Some(field) => {
                field.copy_from_slice(&signature.0);
                true
            }
            None => false,
        }
    }

    /// Rewrites the hop counter of an encoded fragment message (it is outside the signed
    /// range), so a fragment is passed on without decoding it again. False if `message` is
    /// too short to be a fragment.
    pub fn set_hop_counter(message: &mut [u8], hop: u32) -> bool {
        match message.get_mut(HOP_COUNTER_OFFSET..SIGNATURE_OFFSET) {
            Some(field) => {
                field.copy_from_slice(&hop.to_be_bytes());
                true
            }
            None => false,
        }
    }
}

wire_layout! {
    impl Message(super::TYPE_MESSAGE) for Fragment {
        hop_counter,
        signature,
        purpose,
        fragment_id,
        fragment_offset,
        message_id,
        group_generation as LittleEndian,
        flags,
        payload as Rest,
    }
}
signed_range!(Fragment, signed_from: FRAGMENT_SIGNED_OFFSET, purpose: PURPOSE_MESSAGE);

/// REQUEST (758): one fragment of a member's request to the origin, signed with the member key
/// (purpose 24) over everything from `purpose` to the end; the key itself is outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The sender's member key (filled in by the member's service).
    pub member_pub_key: ecdsa::PublicKey,
    /// Member-key signature over the signed range.
    pub signature: ecdsa::Signature,
    /// Signed-range header: size − 100 bytes, purpose 24.
    pub purpose: SignaturePurpose,
    /// Per-member request fragment counter, from 1.
    pub fragment_id: u64,
    /// Offset of this fragment within its request, counting whole fragments with headers.
    pub fragment_offset: u64,
    /// Application request id.
    pub request_id: u64,
    /// `GNUNET_MULTICAST_MessageFlags`.
    pub flags: u32,
    /// The request body.
    pub payload: Vec<u8>,
}

impl Request {
    /// A request fragment as a client hands it to the service: key, signature, purpose and id
    /// left zero.
    pub fn unsigned(request_id: u64, fragment_offset: u64, flags: u32, payload: Vec<u8>) -> Self {
        Self {
            member_pub_key: ecdsa::PublicKey([0; 32]),
            signature: ecdsa::Signature([0; 64]),
            purpose: NO_PURPOSE,
            fragment_id: 0,
            fragment_offset,
            request_id,
            flags,
            payload,
        }
    }
}

wire_layout! {
    impl Message(super::TYPE_REQUEST) for Request {
        member_pub_key,
        signature,
        purpose,
        fragment_id,
        fragment_offset,
        request_id,
        flags,
        payload as Rest,
    }
}
signed_range!(Request, signed_from: REQUEST_SIGNED_OFFSET, purpose: PURPOSE_REQUEST);

#[cfg(test)]
mod tests {
    use super::super::c_structs::{self, check_c_layout};
    use super::*;
    use gnunet_service::wire::Message;
    use std::mem::offset_of;

    fn fragment() -> Fragment {
        let mut f = Fragment::unsigned(0x0102, 0x0304, 0x0506, 0x0708, b"payload".to_vec());
        f.hop_counter = 0x0a0b_0c0d;
        f.signature = eddsa::Signature([0x55; 64]);
        f.fragment_id = 0x1122;
        f.set_purpose();
        f
    }

    #[test]
    fn hop_counter_patch_and_signed_part_work_on_encoded_messages() {
        let mut patched = Fragment::unsigned(1, 2, 3, 4, b"abc".to_vec()).to_message();
        assert!(Fragment::set_hop_counter(&mut patched, 0x0a0b_0c0d));
        let mut expect = Fragment::unsigned(1, 2, 3, 4, b"abc".to_vec());
        expect.hop_counter = 0x0a0b_0c0d;
        assert_eq!(patched, expect.to_message());
        assert_eq!(
            Fragment::signed_part(&patched),
            Some(&expect.signed_block()[..])
        );
        assert!(!Fragment::set_hop_counter(&mut [0u8; 6], 1));
        let sig = eddsa::Signature([7; 64]);
        assert!(Fragment::set_signature(&mut patched, &sig));
        expect.signature = sig;
        assert_eq!(patched, expect.to_message());
        assert!(!Fragment::set_signature(&mut [0u8; 71], &sig));
    }

    #[test]
    fn fragment_layout_matches_the_c_struct() {
        let f = fragment();
        let signed_size = (FRAGMENT_HEADER_SIZE + 7 - FRAGMENT_SIGNED_OFFSET) as u32;
        let b = check_c_layout!(f, MessageHeader + 7, {
            header: [0, 123, 0x02, 0xf5],
            hop_counter: [0x0a, 0x0b, 0x0c, 0x0d],
            signature: [0x55; 64],
            purpose: [signed_size.to_be_bytes(), 19u32.to_be_bytes()].concat(),
            fragment_id: 0x1122u64.to_be_bytes(),
            fragment_offset: 0x0304u64.to_be_bytes(),
            message_id: 0x0102u64.to_be_bytes(),
            // In the C library's host order (little-endian).
            group_generation: 0x0506u64.to_le_bytes(),
            flags: 0x0708u32.to_be_bytes(),
        });
        assert_eq!(size_of::<c_structs::MessageHeader>(), FRAGMENT_HEADER_SIZE);
        assert_eq!(&b[FRAGMENT_HEADER_SIZE..], b"payload");
        c_structs::assert_signed_from(
            &b,
            offset_of!(c_structs::MessageHeader, purpose),
            FRAGMENT_SIGNED_OFFSET,
            &f.signed_block(),
        );
        let mut short = b[..FRAGMENT_HEADER_SIZE - 1].to_vec();
        let size = (FRAGMENT_HEADER_SIZE - 1) as u16;
        short[0..2].copy_from_slice(&size.to_be_bytes());
        assert!(Fragment::from_message(&short).is_err());
    }

    #[test]
    fn request_layout_matches_the_c_struct() {
        let mut q = Request::unsigned(0x0102, 0x0304, 0x0506, b"ask".to_vec());
        q.member_pub_key = ecdsa::PublicKey([0x11; 32]);
        q.signature = ecdsa::Signature([0x22; 64]);
        q.fragment_id = 0x0708;
        q.set_purpose();
        assert!(q.purpose_ok());
        let b = check_c_layout!(q, RequestHeader + 3, {
            header: [0, 139, 0x02, 0xf6],
            member_pub_key: [0x11; 32],
            signature: [0x22; 64],
            purpose: [39u32.to_be_bytes(), 24u32.to_be_bytes()].concat(),
            fragment_id: 0x0708u64.to_be_bytes(),
            fragment_offset: 0x0304u64.to_be_bytes(),
            request_id: 0x0102u64.to_be_bytes(),
            flags: 0x0506u32.to_be_bytes(),
        });
        assert_eq!(size_of::<c_structs::RequestHeader>(), REQUEST_HEADER_SIZE);
        assert_eq!(&b[REQUEST_HEADER_SIZE..], b"ask");
        c_structs::assert_signed_from(
            &b,
            offset_of!(c_structs::RequestHeader, purpose),
            REQUEST_SIGNED_OFFSET,
            &q.signed_block(),
        );
        assert!(Request::from_message(&b[..REQUEST_SIGNED_OFFSET]).is_err());
    }
}
