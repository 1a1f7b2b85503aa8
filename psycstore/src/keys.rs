//! The two public keys PSYCstore files everything under.
//!
//! Both are 32 raw bytes on the wire and in the database (`channels.pub_key`,
//! `slaves.pub_key`). PSYCstore never verifies them, so they are plain byte newtypes here;
//! when `gnunet_service::crypto` grows EdDSA/ECDSA key types these can become aliases.

use gnunet_service::wire::{Codec, DecodeError, Reader};

/// A channel's EdDSA public key (`struct GNUNET_CRYPTO_EddsaPublicKey`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ChannelKey(pub [u8; 32]);

/// A slave's (member's) ECDSA public key (`struct GNUNET_CRYPTO_EcdsaPublicKey`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SlaveKey(pub [u8; 32]);

macro_rules! key_impls {
    ($t:ident, $what:literal) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($t), "("))?;
                for b in &self.0[..4] {
                    write!(f, "{b:02x}")?;
                }
                write!(f, "…)")
            }
        }

        impl Codec for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self(r.array($what)?))
            }
            fn encoded_len(&self) -> usize {
                32
            }
        }
    };
}

key_impls!(ChannelKey, "channel key");
key_impls!(SlaveKey, "slave key");
