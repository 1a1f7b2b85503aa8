//! GNUnet-compatible cryptography, byte-identical to libgnunetutil 0.19.3.
//!
//! - [`HashCode`]: SHA-512 (`GNUNET_CRYPTO_hash`).
//! - [`base32`]: GNUnet's Crockford base32, the printed form of keys and identities.
//! - [`purpose`]: the 8-byte header every signed block starts with.
//! - [`eddsa`]: Ed25519 (peer identities, EdDSA egos).
//! - [`ecdsa`]: libgcrypt's ECDSA on edwards25519 with RFC 6979 nonces (ECDSA egos).
//! - [`identity_key`]: the type-tagged key and signature blobs of the IDENTITY service.

/// Implements [`Codec`](crate::wire::Codec) as the raw bytes for a `struct X(pub [u8; N])`.
macro_rules! fixed_bytes_codec {
    ($ty:ident, $n:literal, $what:literal) => {
        impl crate::wire::Codec for $ty {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
            fn read(r: &mut crate::wire::Reader<'_>) -> Result<Self, crate::wire::DecodeError> {
                Ok(Self(r.array($what)?))
            }
            fn encoded_len(&self) -> usize {
                $n
            }
        }
    };
}

pub mod base32;
pub mod ecdsa;
pub mod eddsa;
mod error;
mod hash;
pub mod identity_key;
pub mod purpose;
mod rfc6979;

pub use error::VerifyError;
pub use hash::HashCode;
