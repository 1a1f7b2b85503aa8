//! ECDSA as GNUnet 0.19 uses it for ECDSA egos: libgcrypt's ECDSA on the curve "Ed25519".
//!
//! - Private key: a 32-byte little-endian scalar d, clamped when created.
//! - Public key: d·B on edwards25519, compressed like an Ed25519 key (no hashing, no clamping).
//! - Signing: e = top 253 bits of SHA-512(signed block); nonce k from RFC 6979 with
//!   HMAC-SHA512; r = affine Edwards x-coordinate of k·B mod ℓ;
//!   s = k⁻¹(e + r·d) mod ℓ; the signature is r ‖ s, each 32 bytes big-endian.
//!
//! Signatures are byte-identical to `GNUNET_CRYPTO_ecdsa_sign_`, which matters wherever a
//! signature is stored or compared; verification accepts any valid nonce.

use std::sync::OnceLock;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::Scalar;
use num_bigint::BigUint;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha512};

use super::base32;
use super::error::VerifyError;
use super::purpose::{self, PurposeError};
use super::rfc6979::{bits2int, NonceStream};

/// `struct GNUNET_CRYPTO_EcdsaPrivateKey`: the scalar d, 32 bytes little-endian.
/// `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(pub [u8; 32]);

/// `struct GNUNET_CRYPTO_EcdsaPublicKey`: the compressed point d·B, not validated until used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

/// `struct GNUNET_CRYPTO_EcdsaSignature`: r ‖ s, each 32 bytes big-endian.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

fixed_bytes_codec!(PrivateKey, 32, "ECDSA private key");
fixed_bytes_codec!(PublicKey, 32, "ECDSA public key");
fixed_bytes_codec!(Signature, 64, "ECDSA signature");

/// Curve constants as big integers, computed once.
struct Constants {
    /// The group order ℓ = 2^252 + 27742317777372353535851937790883648493.
    order: BigUint,
    /// The field prime p = 2^255 − 19.
    p: BigUint,
    /// The curve constant d = −121665/121666 mod p.
    d: BigUint,
    /// A square root of −1 mod p: 2^((p−1)/4).
    sqrt_m1: BigUint,
}

fn constants() -> &'static Constants {
    static CONSTANTS: OnceLock<Constants> = OnceLock::new();
    CONSTANTS.get_or_init(|| {
        let one = BigUint::from(1u8);
        let order = (&one << 252usize)
            + "27742317777372353535851937790883648493"
                .parse::<BigUint>()
                .unwrap_or_default();
        let p = (&one << 255usize) - 19u8;
        let inv_121666 = BigUint::from(121666u32).modpow(&(&p - 2u8), &p);
        let d = (&p - BigUint::from(121665u32)) * inv_121666 % &p;
        let sqrt_m1 = BigUint::from(2u8).modpow(&((&p - 1u8) >> 2usize), &p);
        Constants {
            order,
            p,
            d,
            sqrt_m1,
        }
    })
}

/// Low 32 bytes of `n`, little-endian (callers pass values below 2^256).
fn le32(n: &BigUint) -> [u8; 32] {
    let bytes = n.to_bytes_le();
    let mut out = [0u8; 32];
    let len = bytes.len().min(32);
    out[..len].copy_from_slice(&bytes[..len]);
    out
}

/// `n` mod ℓ as a scalar (`n` below 2^256).
fn scalar_of(n: &BigUint) -> Scalar {
    Scalar::from_bytes_mod_order(le32(n))
}

/// A scalar as 32 big-endian bytes.
fn be_bytes(s: &Scalar) -> [u8; 32] {
    let mut b = s.to_bytes();
    b.reverse();
    b
}

/// The affine Edwards x-coordinate of a compressed point, recovered from y and the sign bit:
/// x² = u/v with u = y² − 1, v = d·y² + 1 (mod p), computed with one exponentiation as in
/// RFC 8032 §5.1.3: x = u·v³·(u·v⁷)^((p−5)/8), times √−1 if that squares to −u/v.
/// `None` if no such x exists.
fn affine_x(point: &CompressedEdwardsY) -> Option<BigUint> {
    let c = constants();
    let p = &c.p;
    let mut y_bytes = point.0;
    let sign = y_bytes[31] >> 7;
    y_bytes[31] &= 0x7f;
    let y = BigUint::from_bytes_le(&y_bytes) % p;
    let y2 = &y * &y % p;
    let u = (&y2 + p - 1u8) % p;
    let v = (&c.d * &y2 + 1u8) % p;
    let v3 = &v * &v % p * &v % p;
    let v7 = &v3 * &v3 % p * &v % p;
    let mut x = &u * &v3 % p * (&u * v7 % p).modpow(&((p - 5u8) >> 3usize), p) % p;
    let vx2 = &v * &x % p * &x % p;
    if vx2 != u {
        if vx2 != (p - &u) % p {
            return None;
        }
        x = x * &c.sqrt_m1 % p;
    }
    if x.bit(0) != (sign == 1) {
        if x == BigUint::ZERO {
            return None;
        }
        x = p - x;
    }
    Some(x)
}

/// e: the top 253 bits of SHA-512 of the signed bytes, and that hash.
fn message_hash(signed: &[u8]) -> ([u8; 64], BigUint) {
    let h: [u8; 64] = Sha512::digest(signed).into();
    let e = bits2int(&h);
    (h, e)
}

impl PrivateKey {
    /// A fresh key from `rng`: 32 random bytes, clamped (`GNUNET_CRYPTO_ecdsa_key_create`).
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self::clamped(bytes)
    }

    /// A new key from 32 random bytes, clamped the way GNUnet creates keys: byte 0 &= 248,
    /// byte 31 &= 127, byte 31 |= 64.
    pub fn clamped(mut bytes: [u8; 32]) -> Self {
        bytes[0] &= 248;
        bytes[31] &= 127;
        bytes[31] |= 64;
        Self(bytes)
    }

    /// A stored key, taken as it is (GNUnet does not clamp keys it reads).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The public key d·B (`GNUNET_CRYPTO_ecdsa_key_get_public`, libsodium's
    /// `crypto_scalarmult_ed25519_base_noclamp`, which ignores the top bit of d).
    pub fn public_key(&self) -> PublicKey {
        let mut d = self.0;
        d[31] &= 0x7f;
        PublicKey(
            EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(d))
                .compress()
                .0,
        )
    }

    /// Signs the first `size` bytes of `block`, which starts with its purpose header, exactly as
    /// `GNUNET_CRYPTO_ecdsa_sign_` does.
    pub fn sign(&self, block: &[u8]) -> Result<Signature, PurposeError> {
        let (_, signed) = purpose::signed_bytes(block)?;
        let c = constants();
        let (h, e) = message_hash(signed);
        // int2octets(d) of the *unreduced* key: its big-endian form.
        let mut x_octets = self.0;
        x_octets.reverse();
        let mut nonces = NonceStream::new(&x_octets, &h, &c.order);
        let d = Scalar::from_bytes_mod_order(self.0);
        let e = scalar_of(&e);
        loop {
            let k = scalar_of(&nonces.next_nonce());
            let Some(x) = affine_x(&EdwardsPoint::mul_base(&k).compress()) else {
                continue;
            };
            let r = scalar_of(&x);
            if r == Scalar::ZERO {
                continue;
            }
            let s = k.invert() * (e + r * d);
            if s == Scalar::ZERO {
                continue;
            }
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&be_bytes(&r));
            sig[32..].copy_from_slice(&be_bytes(&s));
            return Ok(Signature(sig));
        }
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ecdsa::PrivateKey(…)")
    }
}

impl Signature {
    /// r, 32 bytes big-endian.
    pub fn r(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0[..32]);
        out
    }

    /// s, 32 bytes big-endian.
    pub fn s(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0[32..]);
        out
    }
}

/// A big-endian value as a scalar if 0 < value < ℓ.
fn nonzero_scalar_be(be: [u8; 32]) -> Option<Scalar> {
    let mut le = be;
    le.reverse();
    Option::<Scalar>::from(Scalar::from_canonical_bytes(le)).filter(|s| *s != Scalar::ZERO)
}

impl PublicKey {
    /// Checks `signature` over `block` signed for `expected_purpose`
    /// (`GNUNET_CRYPTO_ecdsa_verify_`): the purpose first, then standard ECDSA with the same e
    /// and x-coordinate rule as signing.
    pub fn verify(
        &self,
        expected_purpose: u32,
        block: &[u8],
        signature: &Signature,
    ) -> Result<(), VerifyError> {
        let signed = purpose::check_purpose(expected_purpose, block)?;
        let point = CompressedEdwardsY(self.0)
            .decompress()
            .ok_or(VerifyError::InvalidPublicKey)?;
        let r = nonzero_scalar_be(signature.r()).ok_or(VerifyError::BadSignature)?;
        let s = nonzero_scalar_be(signature.s()).ok_or(VerifyError::BadSignature)?;
        let (_, e) = message_hash(signed);
        let w = s.invert();
        let u1 = scalar_of(&e) * w;
        let u2 = r * w;
        let q = EdwardsPoint::vartime_double_scalar_mul_basepoint(&u2, &point, &u1);
        let x = affine_x(&q.compress()).ok_or(VerifyError::BadSignature)?;
        if scalar_of(&x) == r {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

impl std::fmt::Display for PublicKey {
    /// GNUnet base32, 52 characters (`GNUNET_CRYPTO_ecdsa_public_key_to_string`).
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
        write!(f, "ecdsa::PublicKey({self})")
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ecdsa::Signature({})", base32::encode(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::purpose::signed_block;
    use crate::wire::Codec;
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use std::mem::size_of;

    #[test]
    fn layout_matches_c() {
        assert_eq!(size_of::<gnunet_sys::GNUNET_CRYPTO_EcdsaPrivateKey>(), 32);
        assert_eq!(size_of::<gnunet_sys::GNUNET_CRYPTO_EcdsaPublicKey>(), 32);
        assert_eq!(size_of::<gnunet_sys::GNUNET_CRYPTO_EcdsaSignature>(), 64);
        let key = PrivateKey::clamped([5; 32]);
        assert_eq!(key.to_vec().len(), 32);
        assert_eq!(key.public_key().to_vec().len(), 32);
        assert_eq!(
            key.sign(&signed_block(1, b"").unwrap())
                .unwrap()
                .to_vec()
                .len(),
            64
        );
    }

    #[test]
    fn codec_round_trip() {
        let key = PrivateKey::clamped([0xab; 32]);
        let public = key.public_key();
        let sig = key.sign(&signed_block(3, b"x").unwrap()).unwrap();
        assert_eq!(PrivateKey::decode_exact(&key.to_vec()), Ok(key));
        assert_eq!(PublicKey::decode_exact(&public.to_vec()), Ok(public));
        assert_eq!(Signature::decode_exact(&sig.to_vec()), Ok(sig));
    }

    #[test]
    fn clamping() {
        let k = PrivateKey::clamped([0xff; 32]);
        assert_eq!(k.0[0], 0xf8);
        assert_eq!(k.0[31], 0x7f);
        assert_eq!(PrivateKey::clamped([0; 32]).0[31], 0x40);
    }

    #[test]
    fn base_point_x_is_the_known_value() {
        // RFC 8032 §5.1: B = (x, 4/5) with the positive (even) x below.
        let x = affine_x(&ED25519_BASEPOINT_POINT.compress()).unwrap();
        assert_eq!(
            x.to_string(),
            "15112221349535400772501151409588531511454012693041857206046113283949847762202"
        );
        let neg = affine_x(&(-ED25519_BASEPOINT_POINT).compress()).unwrap();
        assert_eq!(neg, &constants().p - x);
    }

    #[test]
    fn order_is_the_ed25519_group_order() {
        let order = &constants().order;
        assert_eq!(order.bits(), 253);
        assert_eq!(scalar_of(order), Scalar::ZERO);
    }

    #[test]
    fn sign_verify_and_reject() {
        let key = PrivateKey::clamped([0x11; 32]);
        let public = key.public_key();
        let block = signed_block(9, b"message").unwrap();
        let sig = key.sign(&block).unwrap();
        assert_eq!(sig, key.sign(&block).unwrap(), "signing is deterministic");
        assert_eq!(public.verify(9, &block, &sig), Ok(()));
        assert!(matches!(
            public.verify(10, &block, &sig),
            Err(VerifyError::Purpose(_))
        ));
        let mut bad = sig;
        bad.0[63] ^= 1;
        assert_eq!(
            public.verify(9, &block, &bad),
            Err(VerifyError::BadSignature)
        );
        let other = PrivateKey::clamped([0x12; 32]).public_key();
        assert_eq!(
            other.verify(9, &block, &sig),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            public.verify(9, &block, &Signature([0; 64])),
            Err(VerifyError::BadSignature)
        );
    }
}
