//! EdDSA as GNUnet uses it for peer identities and EdDSA egos: plain Ed25519 (RFC 8032) over
//! the purpose block, with the 32-byte seed as private key (libsodium `crypto_sign_detached`,
//! which ed25519-dalek matches byte for byte).

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::Scalar;
use ed25519_dalek::Signer;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha512};

use super::base32;
use super::error::VerifyError;
use super::purpose::{self, PurposeError};

/// `struct GNUNET_CRYPTO_EddsaPrivateKey`: a 32-byte Ed25519 seed (what `[PEER] PRIVATE_KEY`
/// holds). `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(pub [u8; 32]);

/// `struct GNUNET_CRYPTO_EddsaPublicKey`: a compressed Ed25519 point, not validated until used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

/// `struct GNUNET_CRYPTO_EddsaSignature`: R ‖ S, 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

fixed_bytes_codec!(PrivateKey, 32, "EdDSA private key");
fixed_bytes_codec!(PublicKey, 32, "EdDSA public key");
fixed_bytes_codec!(Signature, 64, "EdDSA signature");

impl PrivateKey {
    /// A fresh key from `rng` (`GNUNET_CRYPTO_eddsa_key_create`: 32 random bytes).
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self(seed)
    }

    /// The key of a stored seed.
    pub fn from_bytes(seed: [u8; 32]) -> Self {
        Self(seed)
    }

    /// The public key (`GNUNET_CRYPTO_eddsa_key_get_public`).
    pub fn public_key(&self) -> PublicKey {
        PublicKey(
            ed25519_dalek::SigningKey::from_bytes(&self.0)
                .verifying_key()
                .to_bytes(),
        )
    }

    /// Signs the first `size` bytes of `block`, which starts with its purpose header
    /// (`GNUNET_CRYPTO_eddsa_sign_`).
    pub fn sign(&self, block: &[u8]) -> Result<Signature, PurposeError> {
        SigningKey::new(self).sign(block)
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("eddsa::PrivateKey(…)")
    }
}

impl PublicKey {
    /// Checks `signature` over `block` signed for `expected_purpose`
    /// (`GNUNET_CRYPTO_eddsa_verify_`): the purpose first, then the signature over the first
    /// `size` bytes, with libsodium's strictness (canonical S, R and key, no small-order points).
    pub fn verify(
        &self,
        expected_purpose: u32,
        block: &[u8],
        signature: &Signature,
    ) -> Result<(), VerifyError> {
        purpose::check_purpose(expected_purpose, block)?;
        self.prepare()?.verify(expected_purpose, block, signature)
    }

    /// The key decompressed once, for checking many signatures by it; fails where libsodium
    /// refuses the key: not a point, not canonically encoded, or of small order.
    pub fn prepare(&self) -> Result<VerifyingKey, VerifyError> {
        let point = CompressedEdwardsY(self.0)
            .decompress()
            .ok_or(VerifyError::InvalidPublicKey)?;
        // Canonical encoding, checked by compressing the point back (cheaper than a second
        // decompression).
        if point.compress().0 != self.0 || point.is_small_order() {
            return Err(VerifyError::InvalidPublicKey);
        }
        Ok(VerifyingKey {
            public: *self,
            minus_a: -point,
        })
    }
}

/// A private key with its expanded form and public key computed once: signing many blocks
/// with one key (a group origin) then costs one scalar multiplication per signature, not two.
#[derive(Clone)]
pub struct SigningKey {
    private: PrivateKey,
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// Expands `private`.
    pub fn new(private: &PrivateKey) -> Self {
        Self {
            private: private.clone(),
            key: ed25519_dalek::SigningKey::from_bytes(&private.0),
        }
    }

    /// The seed it was made from.
    pub fn private_key(&self) -> &PrivateKey {
        &self.private
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// Same as [`PrivateKey::sign`].
    pub fn sign(&self, block: &[u8]) -> Result<Signature, PurposeError> {
        let (_, signed) = purpose::signed_bytes(block)?;
        Ok(Signature(self.key.sign(signed).to_bytes()))
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "eddsa::SigningKey({})", self.public_key())
    }
}

/// A public key checked and decompressed once ([`PublicKey::prepare`]), for verifying many
/// signatures by the same key (a group's fragments) without decoding it each time.
#[derive(Clone, Copy)]
pub struct VerifyingKey {
    public: PublicKey,
    /// −A, as the verification equation uses it.
    minus_a: EdwardsPoint,
}

impl VerifyingKey {
    /// The key as it goes on the wire.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Same as [`PublicKey::verify`]: libsodium's `crypto_sign_verify_detached`, which
    /// GNUnet 0.19 calls. S must be canonical, R must not be one of the small-order
    /// encodings, and the encoding of `[S]B − [k]A` must equal R byte for byte, with
    /// k = SHA-512(R ‖ A ‖ M) mod ℓ. Comparing bytes also refuses any R that is no point or
    /// not canonical, so R is never decompressed.
    pub fn verify(
        &self,
        expected_purpose: u32,
        block: &[u8],
        signature: &Signature,
    ) -> Result<(), VerifyError> {
        let signed = purpose::check_purpose(expected_purpose, block)?;
        let (r, s) = signature.0.split_at(32);
        let r: [u8; 32] = r.try_into().map_err(|_| VerifyError::BadSignature)?;
        let s: [u8; 32] = s.try_into().map_err(|_| VerifyError::BadSignature)?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s))
            .ok_or(VerifyError::BadSignature)?;
        if has_small_order_encoding(&r) {
            return Err(VerifyError::BadSignature);
        }
        let mut h = Sha512::new();
        h.update(r);
        h.update(self.public.0);
        h.update(signed);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &self.minus_a, &s);
        if check.compress().0 == r {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

/// libsodium's `ge25519_has_small_order`: whether `p` (sign bit ignored) encodes a point of
/// small order, canonically or as y = p or y = p + 1.
fn has_small_order_encoding(p: &[u8; 32]) -> bool {
    const SMALL_ORDER: [[u8; 32]; 7] = [
        // 0 (order 4)
        [0; 32],
        // 1 (order 1)
        [
            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0,
        ],
        // order 8
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
            0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88,
            0x6d, 0x53, 0xfc, 0x05,
        ],
        // order 8
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ],
        // p − 1 (order 2)
        field_encoding(0xec),
        // p (= 0, order 4)
        field_encoding(0xed),
        // p + 1 (= 1, order 1)
        field_encoding(0xee),
    ];
    let mut y = *p;
    y[31] &= 0x7f;
    SMALL_ORDER.contains(&y)
}

/// p − 0xed + `low`: the little-endian encodings near p = 2²⁵⁵ − 19.
const fn field_encoding(low: u8) -> [u8; 32] {
    let mut out = [0xff; 32];
    out[0] = low;
    out[31] = 0x7f;
    out
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "eddsa::VerifyingKey({})", self.public)
    }
}

impl std::fmt::Display for PublicKey {
    /// GNUnet base32, 52 characters (`GNUNET_CRYPTO_eddsa_public_key_to_string`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&base32::encode(&self.0))
    }
}

impl std::str::FromStr for PublicKey {
    type Err = base32::Base32Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        base32::decode_array(s).map(Self)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "eddsa::PublicKey({self})")
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "eddsa::Signature({})", base32::encode(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::purpose::signed_block;
    use crate::wire::Codec;
    use std::mem::size_of;

    #[test]
    fn layout_matches_c() {
        assert_eq!(size_of::<gnunet_sys::GNUNET_CRYPTO_EddsaPrivateKey>(), 32);
        assert_eq!(size_of::<gnunet_sys::GNUNET_CRYPTO_EddsaPublicKey>(), 32);
        assert_eq!(size_of::<gnunet_sys::GNUNET_CRYPTO_EddsaSignature>(), 64);
        let key = PrivateKey([3; 32]);
        assert_eq!(key.to_vec().len(), 32);
        assert_eq!(key.public_key().to_vec().len(), 32);
        let sig = key.sign(&signed_block(1, b"x").unwrap()).unwrap();
        assert_eq!(sig.to_vec().len(), 64);
    }

    #[test]
    fn codec_round_trip() {
        let key = PrivateKey([9; 32]);
        let public = key.public_key();
        let sig = key.sign(&signed_block(5, b"data").unwrap()).unwrap();
        assert_eq!(PrivateKey::decode_exact(&key.to_vec()), Ok(key));
        assert_eq!(PublicKey::decode_exact(&public.to_vec()), Ok(public));
        assert_eq!(Signature::decode_exact(&sig.to_vec()), Ok(sig));
        assert!(PublicKey::decode_exact(&[0; 31]).is_err());
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1, TEST 1 (empty message); here we sign an empty purpose block instead
        // and only check the public key, since GNUnet always signs a purpose header.
        let seed = hex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        assert_eq!(
            PrivateKey(seed).public_key().0,
            hex32("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
    }

    #[test]
    fn non_canonical_key_encoding_is_refused() {
        let block = signed_block(7, b"data").unwrap();
        let sig = PrivateKey::from_bytes([3; 32]).sign(&block).unwrap();
        // y = p + 1 encodes the same point as y = 1, but not canonically.
        let mut p_plus_one = [0xffu8; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        assert_eq!(
            PublicKey(p_plus_one).verify(7, &block, &sig),
            Err(VerifyError::InvalidPublicKey)
        );
    }

    #[test]
    fn sign_verify_and_reject() {
        let key = PrivateKey([1; 32]);
        let public = key.public_key();
        let block = signed_block(42, b"hello").unwrap();
        let sig = key.sign(&block).unwrap();
        assert_eq!(public.verify(42, &block, &sig), Ok(()));
        assert!(matches!(
            public.verify(43, &block, &sig),
            Err(VerifyError::Purpose(PurposeError::WrongPurpose { .. }))
        ));
        let mut bad = sig;
        bad.0[40] ^= 1;
        assert_eq!(
            public.verify(42, &block, &bad),
            Err(VerifyError::BadSignature)
        );
        let mut other = block.clone();
        other[9] ^= 1;
        assert_eq!(
            public.verify(42, &other, &sig),
            Err(VerifyError::BadSignature)
        );
        let text = public.to_string();
        assert_eq!(text.len(), 52);
        assert_eq!(text.parse::<PublicKey>(), Ok(public));
    }

    #[test]
    fn prepared_keys_agree_with_plain_ones() {
        let key = PrivateKey([6; 32]);
        let signer = SigningKey::new(&key);
        assert_eq!(signer.public_key(), key.public_key());
        assert_eq!(signer.private_key(), &key);
        let block = signed_block(19, b"fragment").unwrap();
        let sig = signer.sign(&block).unwrap();
        assert_eq!(key.sign(&block).unwrap(), sig);
        let verifier = key.public_key().prepare().unwrap();
        assert_eq!(verifier.public_key(), &key.public_key());
        assert_eq!(verifier.verify(19, &block, &sig), Ok(()));
        assert!(verifier.verify(24, &block, &sig).is_err());
        let mut bad = sig;
        bad.0[3] ^= 1;
        assert_eq!(
            verifier.verify(19, &block, &bad),
            Err(VerifyError::BadSignature)
        );
        let mut p_plus_one = [0xffu8; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        assert!(PublicKey(p_plus_one).prepare().is_err());
    }

    #[test]
    fn small_order_table_holds_exactly_the_small_order_points() {
        use curve25519_dalek::edwards::CompressedEdwardsY;
        // Every entry that decodes is of small order, with either sign bit.
        for y in (0u8..=255).map(|b| [b; 32]) {
            let small = CompressedEdwardsY(y)
                .decompress()
                .is_some_and(|p| p.is_small_order());
            assert!(!small || has_small_order_encoding(&y));
        }
        // The eight small-order points themselves (the torsion subgroup).
        let t = curve25519_dalek::constants::EIGHT_TORSION;
        for p in t {
            let mut e = p.compress().0;
            assert!(has_small_order_encoding(&e), "{e:?}");
            e[31] ^= 0x80;
            assert!(has_small_order_encoding(&e));
        }
        let ordinary = PrivateKey([5; 32]).public_key();
        assert!(!has_small_order_encoding(&ordinary.0));
    }

    #[test]
    fn small_order_key_is_refused() {
        // The identity as public key: [s]B − [k]O = [s]B satisfies the bare equation for any
        // k; libsodium refuses the key, and so do we.
        let s = Scalar::from_bytes_mod_order([7; 32]);
        let r = EdwardsPoint::mul_base(&s).compress().0;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(s.as_bytes());
        let block = signed_block(3, b"x").unwrap();
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(
            PublicKey(one).verify(3, &block, &Signature(sig)),
            Err(VerifyError::InvalidPublicKey)
        );
    }

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}
