//! The C original's message structs (`multicast.h`, `gnunet_multicast_service.h` of 2019) as
//! the C compiler lays them out, built from GNUnet 0.19's own types in `gnunet-sys`: the
//! layout tests compare our sizes and field positions with theirs, so no offset in them is a
//! number typed by hand.
//!
//! A field marked `GNUNET_PACKED` in C has alignment 1; here it is a byte array (or the
//! struct is `packed` when every field is). Fields without it keep their natural alignment,
//! which is where the padding of the replay structs comes from.

use gnunet_sys as sys;

/// `struct GNUNET_MULTICAST_MessageHeader`: every field packed.
#[repr(C, packed)]
pub struct MessageHeader {
    pub header: sys::GNUNET_MessageHeader,
    pub hop_counter: u32,
    pub signature: sys::GNUNET_CRYPTO_EddsaSignature,
    pub purpose: sys::GNUNET_CRYPTO_EccSignaturePurpose,
    pub fragment_id: u64,
    pub fragment_offset: u64,
    pub message_id: u64,
    pub group_generation: u64,
    pub flags: u32,
}

/// `struct GNUNET_MULTICAST_RequestHeader`: every field packed.
#[repr(C, packed)]
pub struct RequestHeader {
    pub header: sys::GNUNET_MessageHeader,
    pub member_pub_key: sys::GNUNET_CRYPTO_EcdsaPublicKey,
    pub signature: sys::GNUNET_CRYPTO_EcdsaSignature,
    pub purpose: sys::GNUNET_CRYPTO_EccSignaturePurpose,
    pub fragment_id: u64,
    pub fragment_offset: u64,
    pub request_id: u64,
    pub flags: u32,
}

/// `struct MulticastOriginStartMessage`.
#[repr(C)]
pub struct OriginStartMessage {
    pub header: sys::GNUNET_MessageHeader,
    pub reserved: u32,
    pub group_key: sys::GNUNET_CRYPTO_EddsaPrivateKey,
    pub max_fragment_id: u64,
}

/// `struct MulticastMemberJoinMessage` (`relay_count` is `GNUNET_PACKED`).
#[repr(C)]
pub struct MemberJoinMessage {
    pub header: sys::GNUNET_MessageHeader,
    pub relay_count: [u8; 4],
    pub group_pub_key: sys::GNUNET_CRYPTO_EddsaPublicKey,
    pub member_key: sys::GNUNET_CRYPTO_EcdsaPrivateKey,
    pub origin: sys::GNUNET_PeerIdentity,
}

/// `struct MulticastJoinRequestMessage`.
#[repr(C)]
pub struct JoinRequestMessage {
    pub header: sys::GNUNET_MessageHeader,
    pub reserved: u32,
    pub signature: sys::GNUNET_CRYPTO_EcdsaSignature,
    pub purpose: sys::GNUNET_CRYPTO_EccSignaturePurpose,
    pub group_pub_key: sys::GNUNET_CRYPTO_EddsaPublicKey,
    pub member_pub_key: sys::GNUNET_CRYPTO_EcdsaPublicKey,
    pub peer: sys::GNUNET_PeerIdentity,
}

/// `struct MulticastJoinDecisionMessageHeader`: the outer part of a JOIN_DECISION.
#[repr(C)]
pub struct JoinDecisionMessageHeader {
    pub header: sys::GNUNET_MessageHeader,
    pub peer: sys::GNUNET_PeerIdentity,
    pub member_pub_key: sys::GNUNET_CRYPTO_EcdsaPublicKey,
}

/// `struct MulticastJoinDecisionMessage`: the inner decision.
#[repr(C)]
pub struct JoinDecisionMessage {
    pub header: sys::GNUNET_MessageHeader,
    pub is_admitted: i32,
    pub relay_count: u32,
}

/// `struct MulticastReplayRequestMessage`: the u64 fields are not packed (80 bytes on x86-64).
#[repr(C)]
pub struct ReplayRequestMessage {
    pub header: sys::GNUNET_MessageHeader,
    pub member_pub_key: sys::GNUNET_CRYPTO_EcdsaPublicKey,
    pub fragment_id: u64,
    pub message_id: u64,
    pub fragment_offset: u64,
    pub flags: u64,
    pub uid: u32,
}

/// `struct MulticastReplayResponseMessage`: the u64 fields are not packed (48 bytes on x86-64).
#[repr(C)]
pub struct ReplayResponseMessage {
    pub header: sys::GNUNET_MessageHeader,
    pub fragment_id: u64,
    pub message_id: u64,
    pub fragment_offset: u64,
    pub flags: u64,
    pub error_code: i32,
}

/// The `len` bytes at `offset` of an encoded message (a test failure, not a panic in the
/// code under test, when out of range).
pub fn at(bytes: &[u8], offset: usize, len: usize) -> &[u8] {
    bytes.get(offset..offset + len).unwrap_or_else(|| {
        panic!(
            "{len} bytes at {offset} beyond a {}-byte message",
            bytes.len()
        )
    })
}

/// Asserts that a message's signed range starts where the C struct has its purpose field
/// (`c_offset`), as our constant `offset` says, and that `signed_block` is the message from
/// there on.
pub fn assert_signed_from(message: &[u8], c_offset: usize, offset: usize, signed_block: &[u8]) {
    assert_eq!(offset, c_offset, "signed range starts at the purpose field");
    assert_eq!(signed_block, at(message, offset, message.len() - offset));
}

/// Asserts that in the encoded message `$bytes` each listed field of the C struct `$c` holds
/// the bytes given, at the offset the C compiler gives that field.
macro_rules! assert_c_layout {
    ($bytes:expr, $c:ident { $($field:ident: $want:expr),* $(,)? }) => {{
        let bytes: &[u8] = $bytes;
        $({
            let want: &[u8] = &$want;
            let offset = ::std::mem::offset_of!($crate::msg::c_structs::$c, $field);
            assert_eq!(
                $crate::msg::c_structs::at(bytes, offset, want.len()),
                want,
                concat!(stringify!($c), ".", stringify!($field))
            );
        })*
    }};
}
pub(crate) use assert_c_layout;

/// Encodes the message `$value` and checks it against the C struct `$c`: the size (the C
/// struct plus `$tail` bytes after it), each listed field's bytes at the C offset, and that the
/// bytes decode back to `$value`. Returns the bytes.
macro_rules! check_c_layout {
    ($value:expr, $c:ident + $tail:expr, { $($fields:tt)* }) => {{
        let value = &$value;
        let bytes = gnunet_service::wire::Message::to_message(value);
        assert_eq!(
            bytes.len(),
            ::std::mem::size_of::<$crate::msg::c_structs::$c>() + $tail,
            concat!("size of ", stringify!($c), " and the tail")
        );
        $crate::msg::c_structs::assert_c_layout!(&bytes, $c { $($fields)* });
        assert_eq!(
            gnunet_service::wire::Message::from_message(&bytes).as_ref(),
            Ok(value)
        );
        bytes
    }};
}
pub(crate) use check_c_layout;
