//! The key and signature blobs of GNUnet 0.19's IDENTITY service (`GNUNET_IDENTITY_PublicKey`,
//! `…PrivateKey`, `…Signature`): a key type (u32 BE) followed by the ECDSA or EdDSA key (32
//! bytes) or signature (64 bytes). Egos are stored and sent in this form, and social/psyc
//! identify members by the 36-byte public blob.

use rand_core::CryptoRngCore;

use super::error::VerifyError;
use super::purpose::PurposeError;
use super::{base32, ecdsa, eddsa};
use crate::wire::{Codec, DecodeError, Reader};

/// `GNUNET_IDENTITY_TYPE_ECDSA`.
pub const TYPE_ECDSA: u32 = 65536;
/// `GNUNET_IDENTITY_TYPE_EDDSA`.
pub const TYPE_EDDSA: u32 = 65556;
/// Bytes of a private or public key blob: type + key.
pub const KEY_BLOB_SIZE: usize = 36;
/// Bytes of a signature blob: type + signature.
pub const SIGNATURE_BLOB_SIZE: usize = 68;

/// Which algorithm a key or signature blob holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// libgcrypt ECDSA on edwards25519 ([`ecdsa`]).
    Ecdsa,
    /// Ed25519 ([`eddsa`]).
    Eddsa,
}

impl KeyType {
    /// The number on the wire.
    pub const fn to_u32(self) -> u32 {
        match self {
            KeyType::Ecdsa => TYPE_ECDSA,
            KeyType::Eddsa => TYPE_EDDSA,
        }
    }

    /// The type with wire number `n`, if GNUnet 0.19 knows it.
    pub const fn from_u32(n: u32) -> Option<Self> {
        match n {
            TYPE_ECDSA => Some(KeyType::Ecdsa),
            TYPE_EDDSA => Some(KeyType::Eddsa),
            _ => None,
        }
    }
}

impl Codec for KeyType {
    fn encode(&self, out: &mut Vec<u8>) {
        self.to_u32().encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        KeyType::from_u32(u32::read(r)?).ok_or(DecodeError::Invalid {
            field: "identity key type",
            reason: "neither ECDSA (65536) nor EdDSA (65556)",
        })
    }
    fn encoded_len(&self) -> usize {
        4
    }
}

/// An ego's private key blob (`GNUNET_IDENTITY_PrivateKey`, 36 bytes; the ego file's content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateKey {
    /// An ECDSA key.
    Ecdsa(ecdsa::PrivateKey),
    /// An EdDSA key.
    Eddsa(eddsa::PrivateKey),
}

/// An ego's public key blob (`GNUNET_IDENTITY_PublicKey`, 36 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicKey {
    /// An ECDSA key.
    Ecdsa(ecdsa::PublicKey),
    /// An EdDSA key.
    Eddsa(eddsa::PublicKey),
}

/// A signature blob (`GNUNET_IDENTITY_Signature`, 68 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signature {
    /// An ECDSA signature.
    Ecdsa(ecdsa::Signature),
    /// An EdDSA signature.
    Eddsa(eddsa::Signature),
}

impl PrivateKey {
    /// A fresh key of type `key_type` (what `GNUNET_IDENTITY_create` makes when given no key).
    pub fn generate<R: CryptoRngCore + ?Sized>(key_type: KeyType, rng: &mut R) -> Self {
        match key_type {
            KeyType::Ecdsa => PrivateKey::Ecdsa(ecdsa::PrivateKey::generate(rng)),
            KeyType::Eddsa => PrivateKey::Eddsa(eddsa::PrivateKey::generate(rng)),
        }
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match self {
            PrivateKey::Ecdsa(_) => KeyType::Ecdsa,
            PrivateKey::Eddsa(_) => KeyType::Eddsa,
        }
    }

    /// The matching public key (`GNUNET_IDENTITY_key_get_public`).
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Ecdsa(k) => PublicKey::Ecdsa(k.public_key()),
            PrivateKey::Eddsa(k) => PublicKey::Eddsa(k.public_key()),
        }
    }

    /// Signs the first `size` bytes of `block` with the key's algorithm
    /// (`GNUNET_IDENTITY_sign_`).
    pub fn sign(&self, block: &[u8]) -> Result<Signature, PurposeError> {
        Ok(match self {
            PrivateKey::Ecdsa(k) => Signature::Ecdsa(k.sign(block)?),
            PrivateKey::Eddsa(k) => Signature::Eddsa(k.sign(block)?),
        })
    }
}

impl PublicKey {
    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match self {
            PublicKey::Ecdsa(_) => KeyType::Ecdsa,
            PublicKey::Eddsa(_) => KeyType::Eddsa,
        }
    }

    /// Checks `signature` over `block` signed for `expected_purpose`
    /// (`GNUNET_IDENTITY_signature_verify_`); key and signature must be of the same type.
    pub fn verify(
        &self,
        expected_purpose: u32,
        block: &[u8],
        signature: &Signature,
    ) -> Result<(), VerifyError> {
        match (self, signature) {
            (PublicKey::Ecdsa(k), Signature::Ecdsa(s)) => k.verify(expected_purpose, block, s),
            (PublicKey::Eddsa(k), Signature::Eddsa(s)) => k.verify(expected_purpose, block, s),
            _ => Err(VerifyError::KeyTypeMismatch {
                key: self.key_type().to_u32(),
                signature: signature.key_type().to_u32(),
            }),
        }
    }
}

impl Signature {
    /// The signature's type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Signature::Ecdsa(_) => KeyType::Ecdsa,
            Signature::Eddsa(_) => KeyType::Eddsa,
        }
    }
}

impl Codec for PrivateKey {
    fn encode(&self, out: &mut Vec<u8>) {
        self.key_type().encode(out);
        match self {
            PrivateKey::Ecdsa(k) => k.encode(out),
            PrivateKey::Eddsa(k) => k.encode(out),
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match KeyType::read(r)? {
            KeyType::Ecdsa => PrivateKey::Ecdsa(ecdsa::PrivateKey::read(r)?),
            KeyType::Eddsa => PrivateKey::Eddsa(eddsa::PrivateKey::read(r)?),
        })
    }
    fn encoded_len(&self) -> usize {
        KEY_BLOB_SIZE
    }
}

impl Codec for PublicKey {
    fn encode(&self, out: &mut Vec<u8>) {
        self.key_type().encode(out);
        match self {
            PublicKey::Ecdsa(k) => k.encode(out),
            PublicKey::Eddsa(k) => k.encode(out),
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match KeyType::read(r)? {
            KeyType::Ecdsa => PublicKey::Ecdsa(ecdsa::PublicKey::read(r)?),
            KeyType::Eddsa => PublicKey::Eddsa(eddsa::PublicKey::read(r)?),
        })
    }
    fn encoded_len(&self) -> usize {
        KEY_BLOB_SIZE
    }
}

impl Codec for Signature {
    fn encode(&self, out: &mut Vec<u8>) {
        self.key_type().encode(out);
        match self {
            Signature::Ecdsa(s) => s.encode(out),
            Signature::Eddsa(s) => s.encode(out),
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match KeyType::read(r)? {
            KeyType::Ecdsa => Signature::Ecdsa(ecdsa::Signature::read(r)?),
            KeyType::Eddsa => Signature::Eddsa(eddsa::Signature::read(r)?),
        })
    }
    fn encoded_len(&self) -> usize {
        SIGNATURE_BLOB_SIZE
    }
}

/// Why a string is not a printed identity public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStringError {
    /// Not base32 of a 36-byte blob.
    #[error(transparent)]
    Base32(#[from] base32::Base32Error),
    /// The blob's type is unknown.
    #[error(transparent)]
    Blob(#[from] DecodeError),
}

impl std::fmt::Display for PublicKey {
    /// Base32 of the 36-byte blob, 58 characters, as `gnunet-identity -d` prints it
    /// (`GNUNET_IDENTITY_public_key_to_string`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&base32::encode(&self.to_vec()))
    }
}

impl std::str::FromStr for PublicKey {
    type Err = KeyStringError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let blob: [u8; KEY_BLOB_SIZE] = base32::decode_array(s)?;
        Ok(PublicKey::decode_exact(&blob)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::purpose::signed_block;
    use std::mem::size_of;

    #[test]
    fn layout_matches_c() {
        assert_eq!(
            size_of::<gnunet_sys::GNUNET_IDENTITY_PublicKey>(),
            KEY_BLOB_SIZE
        );
        assert_eq!(
            size_of::<gnunet_sys::GNUNET_IDENTITY_PrivateKey>(),
            KEY_BLOB_SIZE
        );
        assert_eq!(
            size_of::<gnunet_sys::GNUNET_IDENTITY_Signature>(),
            SIGNATURE_BLOB_SIZE
        );
        assert_eq!(
            gnunet_sys::GNUNET_IDENTITY_KeyType_GNUNET_IDENTITY_TYPE_ECDSA,
            TYPE_ECDSA
        );
        assert_eq!(
            gnunet_sys::GNUNET_IDENTITY_KeyType_GNUNET_IDENTITY_TYPE_EDDSA,
            TYPE_EDDSA
        );
    }

    fn keys() -> [PrivateKey; 2] {
        [
            PrivateKey::Ecdsa(ecdsa::PrivateKey::clamped([4; 32])),
            PrivateKey::Eddsa(eddsa::PrivateKey([4; 32])),
        ]
    }

    #[test]
    fn blobs_round_trip() {
        for key in keys() {
            let blob = key.to_vec();
            assert_eq!(blob.len(), KEY_BLOB_SIZE);
            assert_eq!(blob[..4], key.key_type().to_u32().to_be_bytes());
            assert_eq!(PrivateKey::decode_exact(&blob), Ok(key.clone()));
            let public = key.public_key();
            assert_eq!(PublicKey::decode_exact(&public.to_vec()), Ok(public));
            let sig = key.sign(&signed_block(1, b"m").unwrap()).unwrap();
            assert_eq!(sig.to_vec().len(), SIGNATURE_BLOB_SIZE);
            assert_eq!(Signature::decode_exact(&sig.to_vec()), Ok(sig));
            let text = public.to_string();
            assert_eq!(text.len(), 58);
            assert_eq!(text.parse::<PublicKey>(), Ok(public));
        }
        assert!(keys()[0].public_key().to_string().starts_with("000G00"));
        assert!(keys()[1].public_key().to_string().starts_with("000G05"));
    }

    #[test]
    fn unknown_type_is_an_error() {
        let mut blob = keys()[1].public_key().to_vec();
        blob[3] = 0x15;
        assert!(matches!(
            PublicKey::decode_exact(&blob),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn sign_and_verify_dispatch_on_type() {
        let [ecdsa_key, eddsa_key] = keys();
        let block = signed_block(77, b"payload").unwrap();
        let e_sig = ecdsa_key.sign(&block).unwrap();
        let d_sig = eddsa_key.sign(&block).unwrap();
        assert_eq!(ecdsa_key.public_key().verify(77, &block, &e_sig), Ok(()));
        assert_eq!(eddsa_key.public_key().verify(77, &block, &d_sig), Ok(()));
        assert!(matches!(
            ecdsa_key.public_key().verify(77, &block, &d_sig),
            Err(VerifyError::KeyTypeMismatch { .. })
        ));
        assert!(eddsa_key.public_key().verify(78, &block, &d_sig).is_err());
    }
}
