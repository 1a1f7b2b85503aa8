//! Signed data: message fragments from the origin (MESSAGE, 757) and request fragments from
//! members (REQUEST, 758).

use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::wire::{Codec, DecodeError, Message, Reader, HEADER_SIZE};

/// Fixed part of a MESSAGE, header included (`GNUNET_MULTICAST_MessageHeader`).
pub const FRAGMENT_HEADER_SIZE: usize = 116;
/// Fixed part of a REQUEST, header included (`GNUNET_MULTICAST_RequestHeader`).
pub const REQUEST_HEADER_SIZE: usize = 136;
/// Offset of the purpose field (start of the signed range) in a MESSAGE.
const FRAGMENT_SIGNED_OFFSET: usize = 72;

/// Where the hop counter sits in an encoded fragment message (right after the header).
const HOP_COUNTER_OFFSET: usize = 4;

/// Where the signature sits in an encoded fragment message (after the hop counter).
const SIGNATURE_OFFSET: usize = 8;
/// Offset of the purpose field (start of the signed range) in a REQUEST.
const REQUEST_SIGNED_OFFSET: usize = 100;

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
            purpose: SignaturePurpose {
                size: 0,
                purpose: 0,
            },
            fragment_id: 0,
            fragment_offset,
            message_id,
            group_generation,
            flags,
            payload,
        }
    }

    /// Total size on the wire, header included.
    pub fn wire_size(&self) -> usize {
        FRAGMENT_HEADER_SIZE + self.payload.len()
    }

    /// The purpose the signed range must carry: its size and purpose 19.
    pub fn expected_purpose(&self) -> SignaturePurpose {
        SignaturePurpose {
            size: (self.wire_size() - FRAGMENT_SIGNED_OFFSET) as u32,
            purpose: super::PURPOSE_MESSAGE,
        }
    }

    /// Fills in the purpose header for signing.
    pub fn set_purpose(&mut self) {
        self.purpose = self.expected_purpose();
    }

    /// Whether the purpose header is the one a correctly signed fragment carries.
    pub fn purpose_ok(&self) -> bool {
        self.purpose == self.expected_purpose()
    }

    /// The bytes the group key signs: purpose through payload.
    pub fn signed_block(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_size() - FRAGMENT_SIGNED_OFFSET);
        self.encode_signed(&mut out);
        out
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
        match message.get_mut(HOP_COUNTER_OFFSET..HOP_COUNTER_OFFSET + 4) {
            Some(field) => {
                field.copy_from_slice(&hop.to_be_bytes());
                true
            }
            None => false,
        }
    }

    fn encode_signed(&self, out: &mut Vec<u8>) {
        self.purpose.encode(out);
        self.fragment_id.encode(out);
        self.fragment_offset.encode(out);
        self.message_id.encode(out);
        out.extend_from_slice(&self.group_generation.to_le_bytes());
        self.flags.encode(out);
        out.extend_from_slice(&self.payload);
    }
}

impl Codec for Fragment {
    fn encode(&self, out: &mut Vec<u8>) {
        self.hop_counter.encode(out);
        self.signature.encode(out);
        self.encode_signed(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hop_counter: u32::read(r)?,
            signature: eddsa::Signature::read(r)?,
            purpose: SignaturePurpose::read(r)?,
            fragment_id: u64::read(r)?,
            fragment_offset: u64::read(r)?,
            message_id: u64::read(r)?,
            group_generation: u64::from_le_bytes(r.array("group_generation")?),
            flags: u32::read(r)?,
            payload: r.rest().to_vec(),
        })
    }
    fn encoded_len(&self) -> usize {
        self.wire_size() - HEADER_SIZE
    }
}

impl Message for Fragment {
    const TYPE: u16 = super::TYPE_MESSAGE;
}

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
            purpose: SignaturePurpose {
                size: 0,
                purpose: 0,
            },
            fragment_id: 0,
            fragment_offset,
            request_id,
            flags,
            payload,
        }
    }

    /// Total size on the wire, header included.
    pub fn wire_size(&self) -> usize {
        REQUEST_HEADER_SIZE + self.payload.len()
    }

    /// The purpose the signed range must carry: its size and purpose 24.
    pub fn expected_purpose(&self) -> SignaturePurpose {
        SignaturePurpose {
            size: (self.wire_size() - REQUEST_SIGNED_OFFSET) as u32,
            purpose: super::PURPOSE_REQUEST,
        }
    }

    /// Fills in the purpose header for signing.
    pub fn set_purpose(&mut self) {
        self.purpose = self.expected_purpose();
    }

    /// Whether the purpose header is the one a correctly signed request carries.
    pub fn purpose_ok(&self) -> bool {
        self.purpose == self.expected_purpose()
    }

    /// The bytes the member key signs: purpose through payload.
    pub fn signed_block(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_size() - REQUEST_SIGNED_OFFSET);
        self.encode_signed(&mut out);
        out
    }

    fn encode_signed(&self, out: &mut Vec<u8>) {
        self.purpose.encode(out);
        self.fragment_id.encode(out);
        self.fragment_offset.encode(out);
        self.request_id.encode(out);
        self.flags.encode(out);
        out.extend_from_slice(&self.payload);
    }
}

impl Codec for Request {
    fn encode(&self, out: &mut Vec<u8>) {
        self.member_pub_key.encode(out);
        self.signature.encode(out);
        self.encode_signed(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            member_pub_key: ecdsa::PublicKey::read(r)?,
            signature: ecdsa::Signature::read(r)?,
            purpose: SignaturePurpose::read(r)?,
            fragment_id: u64::read(r)?,
            fragment_offset: u64::read(r)?,
            request_id: u64::read(r)?,
            flags: u32::read(r)?,
            payload: r.rest().to_vec(),
        })
    }
    fn encoded_len(&self) -> usize {
        self.wire_size() - HEADER_SIZE
    }
}

impl Message for Request {
    const TYPE: u16 = super::TYPE_REQUEST;
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let b = f.to_message();
        assert_eq!(b.len(), FRAGMENT_HEADER_SIZE + 7);
        assert_eq!(&b[0..4], &[0, 123, 0x02, 0xf5]);
        assert_eq!(&b[4..8], &[0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(&b[8..72], &[0x55; 64]);
        assert_eq!(&b[72..76], &((123 - 72) as u32).to_be_bytes());
        assert_eq!(&b[76..80], &19u32.to_be_bytes());
        assert_eq!(&b[80..88], &0x1122u64.to_be_bytes());
        assert_eq!(&b[88..96], &0x0304u64.to_be_bytes());
        assert_eq!(&b[96..104], &0x0102u64.to_be_bytes());
        // group_generation in the C library's host order (little-endian).
        assert_eq!(&b[104..112], &0x0506u64.to_le_bytes());
        assert_eq!(&b[112..116], &0x0708u32.to_be_bytes());
        assert_eq!(&b[116..], b"payload");
        assert_eq!(&f.signed_block()[..], &b[72..]);
        assert_eq!(
            std::mem::size_of::<gnunet_sys::GNUNET_CRYPTO_EddsaSignature>()
                + std::mem::size_of::<gnunet_sys::GNUNET_CRYPTO_EccSignaturePurpose>()
                + 4
                + 4
                + 8 * 4
                + 4,
            FRAGMENT_HEADER_SIZE
        );
    }

    #[test]
    fn fragment_round_trip_and_short_input() {
        let f = fragment();
        let b = f.to_message();
        assert_eq!(Fragment::from_message(&b), Ok(f));
        let mut short = b[..115].to_vec();
        short[0..2].copy_from_slice(&115u16.to_be_bytes());
        assert!(Fragment::from_message(&short).is_err());
    }

    #[test]
    fn request_layout_matches_the_c_struct() {
        let mut q = Request::unsigned(0x0102, 0x0304, 0x0506, b"ask".to_vec());
        q.member_pub_key = ecdsa::PublicKey([0x11; 32]);
        q.signature = ecdsa::Signature([0x22; 64]);
        q.fragment_id = 0x0708;
        q.set_purpose();
        let b = q.to_message();
        assert_eq!(b.len(), REQUEST_HEADER_SIZE + 3);
        assert_eq!(&b[0..4], &[0, 139, 0x02, 0xf6]);
        assert_eq!(&b[4..36], &[0x11; 32]);
        assert_eq!(&b[36..100], &[0x22; 64]);
        assert_eq!(&b[100..104], &39u32.to_be_bytes());
        assert_eq!(&b[104..108], &24u32.to_be_bytes());
        assert_eq!(&b[108..116], &0x0708u64.to_be_bytes());
        assert_eq!(&b[116..124], &0x0304u64.to_be_bytes());
        assert_eq!(&b[124..132], &0x0102u64.to_be_bytes());
        assert_eq!(&b[132..136], &0x0506u32.to_be_bytes());
        assert_eq!(&b[136..], b"ask");
        assert_eq!(&q.signed_block()[..], &b[100..]);
        assert!(q.purpose_ok());
        assert_eq!(Request::from_message(&b), Ok(q));
        assert!(Request::from_message(&b[..100]).is_err());
    }
}
