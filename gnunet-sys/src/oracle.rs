//! libgnunetutil's own answers behind safe calls on plain bytes, for the oracle tests of every
//! crate: hash, public keys, signing and checking (EdDSA and ECDSA, GNUnet's purpose blocks).
//!
//! A signed block starts with GNUnet's purpose header (size, purpose; big-endian u32 each)
//! whose size covers the whole block. Blocks whose header claims more bytes than they hold
//! are refused with a panic: libgnunetutil would read past them.

use crate as sys;

const GNUNET_OK: i32 = sys::GNUNET_GenericReturnValue_GNUNET_OK;

/// The purpose header at the start of `block`, checked against its length.
fn purpose(block: &[u8]) -> *const sys::GNUNET_CRYPTO_EccSignaturePurpose {
    assert!(
        block.len() >= 8,
        "a signed block starts with an 8-byte purpose header"
    );
    let size = u32::from_be_bytes([block[0], block[1], block[2], block[3]]) as usize;
    assert!(
        (8..=block.len()).contains(&size),
        "purpose size {size} does not fit the {}-byte block",
        block.len()
    );
    // The C struct is packed (alignment 1): any byte pointer is a valid one.
    block.as_ptr().cast()
}

fn split(sig: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut r = [0; 32];
    let mut s = [0; 32];
    r.copy_from_slice(&sig[..32]);
    s.copy_from_slice(&sig[32..]);
    (r, s)
}

fn join(r: &[u8; 32], s: &[u8; 32]) -> [u8; 64] {
    let mut out = [0; 64];
    out[..32].copy_from_slice(r);
    out[32..].copy_from_slice(s);
    out
}

/// `GNUNET_CRYPTO_hash`: SHA-512 of `data`.
pub fn hash(data: &[u8]) -> [u8; 64] {
    let mut out = sys::GNUNET_HashCode { bits: [0; 16] };
    // SAFETY: data is valid for its length; out is a valid HashCode.
    unsafe { sys::GNUNET_CRYPTO_hash(data.as_ptr().cast(), data.len(), &mut out) };
    let mut bytes = [0u8; 64];
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(out.bits) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    bytes
}

/// `GNUNET_CRYPTO_eddsa_key_get_public`.
pub fn eddsa_public(private: &[u8; 32]) -> [u8; 32] {
    let key = sys::GNUNET_CRYPTO_EddsaPrivateKey { d: *private };
    let mut out = sys::GNUNET_CRYPTO_EddsaPublicKey { q_y: [0; 32] };
    // SAFETY: both are valid key structs.
    unsafe { sys::GNUNET_CRYPTO_eddsa_key_get_public(&key, &mut out) };
    out.q_y
}

/// `GNUNET_CRYPTO_eddsa_sign_` over `block`.
pub fn eddsa_sign(private: &[u8; 32], block: &[u8]) -> [u8; 64] {
    let key = sys::GNUNET_CRYPTO_EddsaPrivateKey { d: *private };
    let mut sig = sys::GNUNET_CRYPTO_EddsaSignature {
        r: [0; 32],
        s: [0; 32],
    };
    // SAFETY: `purpose` checked that the block holds the size its header claims.
    let rc = unsafe { sys::GNUNET_CRYPTO_eddsa_sign_(&key, purpose(block), &mut sig) };
    assert_eq!(rc, GNUNET_OK, "GNUNET_CRYPTO_eddsa_sign_ failed");
    join(&sig.r, &sig.s)
}

/// `GNUNET_CRYPTO_eddsa_verify_`: whether `sig` by `public` signs `block` for `purpose_id`.
pub fn eddsa_verify(purpose_id: u32, block: &[u8], sig: &[u8; 64], public: &[u8; 32]) -> bool {
    let (r, s) = split(sig);
    let sig = sys::GNUNET_CRYPTO_EddsaSignature { r, s };
    let key = sys::GNUNET_CRYPTO_EddsaPublicKey { q_y: *public };
    // SAFETY: as in `eddsa_sign`.
    unsafe { sys::GNUNET_CRYPTO_eddsa_verify_(purpose_id, purpose(block), &sig, &key) == GNUNET_OK }
}

/// `GNUNET_CRYPTO_ecdsa_key_get_public`.
pub fn ecdsa_public(private: &[u8; 32]) -> [u8; 32] {
    let key = sys::GNUNET_CRYPTO_EcdsaPrivateKey { d: *private };
    let mut out = sys::GNUNET_CRYPTO_EcdsaPublicKey { q_y: [0; 32] };
    // SAFETY: both are valid key structs.
    unsafe { sys::GNUNET_CRYPTO_ecdsa_key_get_public(&key, &mut out) };
    out.q_y
}

/// `GNUNET_CRYPTO_ecdsa_sign_` over `block`.
pub fn ecdsa_sign(private: &[u8; 32], block: &[u8]) -> [u8; 64] {
    let key = sys::GNUNET_CRYPTO_EcdsaPrivateKey { d: *private };
    let mut sig = sys::GNUNET_CRYPTO_EcdsaSignature {
        r: [0; 32],
        s: [0; 32],
    };
    // SAFETY: as in `eddsa_sign`.
    let rc = unsafe { sys::GNUNET_CRYPTO_ecdsa_sign_(&key, purpose(block), &mut sig) };
    assert_eq!(rc, GNUNET_OK, "GNUNET_CRYPTO_ecdsa_sign_ failed");
    join(&sig.r, &sig.s)
}

/// `GNUNET_CRYPTO_ecdsa_verify_`: whether `sig` by `public` signs `block` for `purpose_id`.
pub fn ecdsa_verify(purpose_id: u32, block: &[u8], sig: &[u8; 64], public: &[u8; 32]) -> bool {
    let (r, s) = split(sig);
    let sig = sys::GNUNET_CRYPTO_EcdsaSignature { r, s };
    let key = sys::GNUNET_CRYPTO_EcdsaPublicKey { q_y: *public };
    // SAFETY: as in `eddsa_sign`.
    unsafe { sys::GNUNET_CRYPTO_ecdsa_verify_(purpose_id, purpose(block), &sig, &key) == GNUNET_OK }
}
