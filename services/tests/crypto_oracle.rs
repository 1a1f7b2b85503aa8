//! Our crypto against libgnunetutil 0.19.3 itself, called through `gnunet-sys`.
//!
//! Every check runs over a few hundred seeded random keys and messages and asks for
//! byte-identical output (hashes, base32, public keys, signatures) and for each side to accept
//! what the other signed, and to reject tampered signatures.

use std::ffi::{c_char, c_void, CString};
use std::ptr;

use gnunet_service::crypto::identity_key::{self, KeyType};
use gnunet_service::crypto::purpose::{self, signed_block};
use gnunet_service::crypto::{base32, ecdsa, eddsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Codec;
use gnunet_sys as sys;
use gnunet_sys::oracle;
use rand_core::{CryptoRng, RngCore};

const ROUNDS: usize = 200;
const GNUNET_OK: i32 = sys::GNUNET_GenericReturnValue_GNUNET_OK;

extern "C" {
    // In libgnunetidentity but outside the bindings' allowlist.
    fn GNUNET_IDENTITY_sign_(
        priv_: *const sys::GNUNET_IDENTITY_PrivateKey,
        purpose: *const sys::GNUNET_CRYPTO_EccSignaturePurpose,
        sig: *mut sys::GNUNET_IDENTITY_Signature,
    ) -> sys::GNUNET_GenericReturnValue;
}

/// A seeded, deterministic byte stream (SHA-512 in counter mode) so failures reproduce.
struct TestRng {
    seed: u64,
    counter: u64,
    buffer: Vec<u8>,
}

impl TestRng {
    fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: 0,
            buffer: Vec::new(),
        }
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        self.fill_bytes(&mut out);
        out
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill_bytes(&mut out);
        out
    }
}

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            if self.buffer.is_empty() {
                let mut input = self.seed.to_le_bytes().to_vec();
                input.extend_from_slice(&self.counter.to_le_bytes());
                self.counter += 1;
                self.buffer = HashCode::of(&input).0.to_vec();
            }
            *b = self.buffer.pop().unwrap_or_default();
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for TestRng {}

/// A purpose block with a random purpose number and 0–299 bytes of data.
fn random_block(rng: &mut TestRng) -> (u32, Vec<u8>) {
    let purpose = rng.next_u32();
    let len = rng.below(300);
    let data = rng.bytes(len);
    (purpose, signed_block(purpose, &data).unwrap())
}

fn c_purpose(block: &[u8]) -> *const sys::GNUNET_CRYPTO_EccSignaturePurpose {
    // The C struct is packed (alignment 1), so any byte pointer is a valid one.
    block.as_ptr().cast()
}

/// Copies raw bytes into a C struct of exactly that size.
fn c_struct<T: Default>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>());
    let mut value = T::default();
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), (&mut value as *mut T).cast(), bytes.len()) };
    value
}

fn c_base32(data: &[u8]) -> String {
    let len = base32::encoded_len(data.len());
    let mut out = vec![0u8; len + 1];
    let end = unsafe {
        sys::GNUNET_STRINGS_data_to_string(
            data.as_ptr().cast(),
            data.len(),
            out.as_mut_ptr().cast(),
            len,
        )
    };
    assert!(
        !end.is_null(),
        "GNUnet refused to encode {} bytes",
        data.len()
    );
    let written = unsafe { end.offset_from(out.as_ptr().cast::<c_char>()) } as usize;
    out.truncate(written);
    String::from_utf8(out).unwrap()
}

fn c_base32_decode(text: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; out_len];
    let rc = unsafe {
        sys::GNUNET_STRINGS_string_to_data(
            text.as_ptr().cast(),
            text.len(),
            out.as_mut_ptr().cast::<c_void>(),
            out_len,
        )
    };
    (rc == GNUNET_OK).then_some(out)
}

#[test]
fn hash_matches_gnunet_crypto_hash() {
    let mut rng = TestRng::new(1);
    for _ in 0..ROUNDS * 2 {
        let len = rng.below(1000);
        let data = rng.bytes(len);
        assert_eq!(
            HashCode::of(&data).0.to_vec(),
            oracle::hash(&data).to_vec(),
            "len {len}"
        );
    }
}

#[test]
fn base32_encode_matches_gnunet() {
    let mut rng = TestRng::new(2);
    for round in 0..ROUNDS * 2 {
        let len = if round < 80 { round } else { rng.below(120) };
        let data = rng.bytes(len);
        let ours = base32::encode(&data);
        assert_eq!(ours, c_base32(&data), "len {len}");
        assert_eq!(
            base32::decode(&ours).unwrap(),
            c_base32_decode(ours.as_bytes(), len).unwrap()
        );
    }
}

#[test]
fn base32_decode_accepts_and_rejects_what_gnunet_does() {
    // Canonical characters, look-alikes and lower case; then a few that are invalid.
    const VALID: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyzOoIiLlUu";
    const INVALID: &[u8] = b"!@ .\x00\xc3";
    let mut rng = TestRng::new(3);
    let mut accepted = 0;
    let mut rejected = 0;
    for _ in 0..ROUNDS * 3 {
        let len = rng.below(110);
        let clean = rng.below(4) != 0;
        let text: Vec<u8> = (0..len)
            .map(|_| {
                if clean || rng.below(20) != 0 {
                    VALID[rng.below(VALID.len())]
                } else {
                    INVALID[rng.below(INVALID.len())]
                }
            })
            .collect();
        let natural = len * 5 / 8;
        for out_len in [natural.saturating_sub(1), natural, natural + 1] {
            let mut ours = vec![0u8; out_len];
            let ours = base32::decode_into(&text, &mut ours).ok().map(|()| ours);
            let theirs = c_base32_decode(&text, out_len);
            assert_eq!(
                ours,
                theirs,
                "{:?} into {out_len}",
                String::from_utf8_lossy(&text)
            );
            if theirs.is_some() {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
    }
    assert!(accepted > 100 && rejected > 100, "{accepted} / {rejected}");
}

#[test]
fn eddsa_matches_libgnunetutil() {
    let mut rng = TestRng::new(4);
    for _ in 0..ROUNDS {
        let key = eddsa::PrivateKey::generate(&mut rng);
        let public = key.public_key();
        assert_eq!(public.0, oracle::eddsa_public(&key.0));

        let (purpose, block) = random_block(&mut rng);
        let ours = key.sign(&block).unwrap();
        let theirs = eddsa::Signature(oracle::eddsa_sign(&key.0, &block));
        assert_eq!(ours, theirs, "EdDSA signatures differ");

        assert!(oracle::eddsa_verify(purpose, &block, &ours.0, &public.0));
        assert_eq!(public.verify(purpose, &block, &theirs), Ok(()));

        // Tampering: a flipped signature bit, a flipped data bit, another purpose.
        let mut bad = ours;
        bad.0[rng.below(64)] ^= 1 << rng.below(8);
        assert!(!oracle::eddsa_verify(purpose, &block, &bad.0, &public.0));
        assert!(public.verify(purpose, &block, &bad).is_err());
        if block.len() > 8 {
            let mut bad_block = block.clone();
            bad_block[8 + rng.below(block.len() - 8)] ^= 0x80;
            assert!(!oracle::eddsa_verify(
                purpose, &bad_block, &ours.0, &public.0
            ));
            assert!(public.verify(purpose, &bad_block, &ours).is_err());
        }
        let other = purpose.wrapping_add(1);
        assert!(!oracle::eddsa_verify(other, &block, &ours.0, &public.0));
        assert!(public.verify(other, &block, &ours).is_err());
    }
}

/// Ed25519 signing by hand, so the tests can sign for public keys that are not `[a]B` (keys
/// with a torsion component) and build signatures a signer would never make.
fn sign_raw(seed: &[u8; 32], public: &[u8; 32], signed: &[u8]) -> [u8; 64] {
    use curve25519_dalek::{EdwardsPoint, Scalar};
    use sha2::{Digest, Sha512};
    let h: [u8; 64] = Sha512::digest(seed).into();
    let mut a_bytes = [0u8; 32];
    a_bytes.copy_from_slice(&h[..32]);
    a_bytes[0] &= 248;
    a_bytes[31] &= 127;
    a_bytes[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a_bytes);
    let r = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(&h[32..])
            .chain_update(signed)
            .finalize()
            .into(),
    );
    let big_r = EdwardsPoint::mul_base(&r).compress().0;
    let k = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(big_r)
            .chain_update(public)
            .chain_update(signed)
            .finalize()
            .into(),
    );
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&big_r);
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// The corners where implementations of Ed25519 verification differ: public keys with a
/// torsion component (libsodium accepts some signatures for them), small-order keys and R
/// values, non-canonical S, keys that are no point. Ours must accept exactly what
/// libgnunetutil accepts.
#[test]
fn eddsa_verify_edge_cases_match_libgnunetutil() {
    use curve25519_dalek::constants::EIGHT_TORSION;
    // ℓ = 2²⁵² + 27742317777372353535851937790883648493, little-endian.
    const ELL: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let mut rng = TestRng::new(11);
    let check = |purpose: u32, block: &[u8], sig: &[u8; 64], key: &[u8; 32]| -> bool {
        let sig = eddsa::Signature(*sig);
        let key = eddsa::PublicKey(*key);
        let theirs = oracle::eddsa_verify(purpose, block, &sig.0, &key.0);
        let ours = key.verify(purpose, block, &sig).is_ok();
        let prepared = key
            .prepare()
            .is_ok_and(|k| k.verify(purpose, block, &sig).is_ok());
        assert_eq!(ours, theirs, "key {key} sig {sig:?}");
        assert_eq!(prepared, theirs, "prepared: key {key} sig {sig:?}");
        theirs
    };
    let mut torsion_accepted = 0;
    for round in 0..ROUNDS {
        let seed: [u8; 32] = rng.array();
        let key = eddsa::PrivateKey(seed);
        let a = CompressedEdwardsY(key.public_key().0).decompress().unwrap();
        let (purpose, block) = random_block(&mut rng);
        let signed = &block[..];

        // A key with a torsion component: valid for about one message in eight.
        let mixed = (a + EIGHT_TORSION[1 + round % 7]).compress().0;
        let sig = sign_raw(&seed, &mixed, signed);
        if check(purpose, &block, &sig, &mixed) {
            torsion_accepted += 1;
        }

        // Non-canonical S (S + ℓ still fits in 32 bytes when S is small enough).
        let good = sign_raw(&seed, &key.public_key().0, signed);
        assert!(check(purpose, &block, &good, &key.public_key().0));
        let s = curve25519_dalek::Scalar::from_bytes_mod_order(good[32..].try_into().unwrap());
        let mut wide = [0u8; 33];
        let mut carry = 0u16;
        for (i, w) in wide.iter_mut().enumerate().take(32) {
            let v = u16::from(s.as_bytes()[i]) + u16::from(ELL[i]) + carry;
            *w = v as u8;
            carry = v >> 8;
        }
        wide[32] = carry as u8;
        if wide[32] == 0 {
            let mut bad = good;
            bad[32..].copy_from_slice(&wide[..32]);
            check(purpose, &block, &bad, &key.public_key().0);
        }

        // Small-order R values (each torsion point, both sign bits) and small-order keys.
        let t = EIGHT_TORSION[round % 8].compress().0;
        for flip in [0u8, 0x80] {
            let mut r = t;
            r[31] ^= flip;
            let mut bad = good;
            bad[..32].copy_from_slice(&r);
            check(purpose, &block, &bad, &key.public_key().0);
            check(purpose, &block, &good, &r);
            // Identity-like keys with a signature that meets the bare equation.
            let forged = sign_raw(&seed, &r, signed);
            check(purpose, &block, &forged, &r);
        }

        // Random bytes as key, often no point at all.
        let junk: [u8; 32] = rng.array();
        check(purpose, &block, &good, &junk);
    }
    assert!(
        torsion_accepted > ROUNDS / 20 && torsion_accepted < ROUNDS / 4,
        "{torsion_accepted} of {ROUNDS} torsion-key signatures accepted"
    );
}

#[test]
fn ecdsa_public_keys_match_libgnunetutil() {
    let mut rng = TestRng::new(5);
    for round in 0..ROUNDS {
        // Clamped keys as GNUnet makes them, and unclamped stored bytes.
        let key = if round % 2 == 0 {
            ecdsa::PrivateKey::generate(&mut rng)
        } else {
            ecdsa::PrivateKey::from_bytes(rng.array())
        };
        assert_eq!(
            key.public_key().0,
            oracle::ecdsa_public(&key.0),
            "round {round}"
        );
    }
}

#[test]
fn ecdsa_signatures_are_byte_identical_to_libgnunetutil() {
    let mut rng = TestRng::new(6);
    let mut mismatches = Vec::new();
    for round in 0..ROUNDS {
        let key = ecdsa::PrivateKey::generate(&mut rng);
        let public = key.public_key();
        let (purpose, block) = random_block(&mut rng);
        let ours = key.sign(&block).unwrap();
        let theirs = ecdsa::Signature(oracle::ecdsa_sign(&key.0, &block));
        if ours != theirs {
            mismatches.push(round);
        }
        assert!(
            oracle::ecdsa_verify(purpose, &block, &ours.0, &public.0),
            "C rejects ours, round {round}"
        );
        assert_eq!(
            public.verify(purpose, &block, &theirs),
            Ok(()),
            "round {round}"
        );

        let mut bad = ours;
        bad.0[rng.below(64)] ^= 1 << rng.below(8);
        assert!(!oracle::ecdsa_verify(purpose, &block, &bad.0, &public.0));
        assert!(public.verify(purpose, &block, &bad).is_err());
        assert!(!oracle::ecdsa_verify(
            purpose ^ 1,
            &block,
            &ours.0,
            &public.0
        ));
        assert!(public.verify(purpose ^ 1, &block, &ours).is_err());
        if block.len() > 8 {
            let mut bad_data = block.clone();
            let last = bad_data.len() - 1;
            bad_data[last] ^= 0x01;
            assert!(!oracle::ecdsa_verify(
                purpose, &bad_data, &ours.0, &public.0
            ));
            assert!(public.verify(purpose, &bad_data, &ours).is_err());
        }
    }
    assert!(
        mismatches.is_empty(),
        "signatures differ in rounds {mismatches:?}"
    );
}

fn c_identity_public(key: &identity_key::PublicKey) -> sys::GNUNET_IDENTITY_PublicKey {
    c_struct(&key.to_vec())
}

#[test]
fn identity_blobs_match_libgnunetidentity() {
    let mut rng = TestRng::new(7);
    for round in 0..ROUNDS {
        let key_type = if round % 2 == 0 {
            KeyType::Ecdsa
        } else {
            KeyType::Eddsa
        };
        let key = identity_key::PrivateKey::generate(key_type, &mut rng);
        let c_priv: sys::GNUNET_IDENTITY_PrivateKey = c_struct(&key.to_vec());
        let c_pub = c_identity_public(&key.public_key());
        unsafe {
            assert_eq!(sys::GNUNET_IDENTITY_private_key_get_length(&c_priv), 36);
            assert_eq!(sys::GNUNET_IDENTITY_public_key_get_length(&c_pub), 36);
        }

        // Public key derivation and the compact blob.
        let mut derived = sys::GNUNET_IDENTITY_PublicKey::default();
        assert_eq!(
            unsafe { sys::GNUNET_IDENTITY_key_get_public(&c_priv, &mut derived) },
            GNUNET_OK
        );
        let mut blob = [0u8; 36];
        let n = unsafe {
            sys::GNUNET_IDENTITY_write_public_key_to_buffer(&derived, blob.as_mut_ptr().cast(), 36)
        };
        assert_eq!(n, 36);
        assert_eq!(blob.to_vec(), key.public_key().to_vec());

        // The printed form.
        let text = unsafe { sys::GNUNET_IDENTITY_public_key_to_string(&c_pub) };
        assert!(!text.is_null());
        let c_text = unsafe { std::ffi::CStr::from_ptr(text) }
            .to_str()
            .unwrap()
            .to_owned();
        unsafe { libc::free(text.cast()) };
        assert_eq!(key.public_key().to_string(), c_text);

        // Signatures: same bytes, both sides accept them.
        let (purpose, block) = random_block(&mut rng);
        let ours = key.sign(&block).unwrap();
        let mut c_sig = sys::GNUNET_IDENTITY_Signature::default();
        assert_eq!(
            unsafe { GNUNET_IDENTITY_sign_(&c_priv, c_purpose(&block), &mut c_sig) },
            GNUNET_OK
        );
        assert_eq!(
            unsafe { sys::GNUNET_IDENTITY_signature_get_length(&c_sig) },
            68
        );
        let mut sig_blob = [0u8; 68];
        let n = unsafe {
            sys::GNUNET_IDENTITY_write_signature_to_buffer(&c_sig, sig_blob.as_mut_ptr().cast(), 68)
        };
        assert_eq!(n, 68);
        assert_eq!(
            sig_blob.to_vec(),
            ours.to_vec(),
            "{key_type:?} signature blobs differ"
        );
        let theirs = identity_key::Signature::decode_exact(&sig_blob).unwrap();
        assert_eq!(key.public_key().verify(purpose, &block, &theirs), Ok(()));

        let mut read_back = sys::GNUNET_IDENTITY_Signature::default();
        let ours_blob = ours.to_vec();
        let n = unsafe {
            sys::GNUNET_IDENTITY_read_signature_from_buffer(
                &mut read_back,
                ours_blob.as_ptr().cast(),
                68,
            )
        };
        assert_eq!(n, 68);
        let ok = unsafe {
            sys::GNUNET_IDENTITY_signature_verify_(purpose, c_purpose(&block), &read_back, &c_pub)
        };
        assert_eq!(ok, GNUNET_OK);
    }
}

#[test]
fn peer_identity_from_key_file_matches_libgnunetutil() {
    let mut rng = TestRng::new(8);
    let dir = tempfile::tempdir().unwrap();
    for round in 0..20 {
        let path = dir.path().join(format!("private_key_{round}.ecc"));
        let seed: [u8; 32] = rng.array();
        std::fs::write(&path, seed).unwrap();
        let ours = PeerIdentity::from_private_key_file(&path).unwrap();

        let c_path = CString::new(path.to_str().unwrap()).unwrap();
        let mut c_key = sys::GNUNET_CRYPTO_EddsaPrivateKey::default();
        let rc = unsafe { sys::GNUNET_CRYPTO_eddsa_key_from_file(c_path.as_ptr(), 0, &mut c_key) };
        assert_eq!(rc, GNUNET_OK);
        assert_eq!(c_key.d, seed);
        let mut c_pub = sys::GNUNET_CRYPTO_EddsaPublicKey::default();
        unsafe { sys::GNUNET_CRYPTO_eddsa_key_get_public(&c_key, &mut c_pub) };
        assert_eq!(ours.0, c_pub.q_y);

        let text = ours.to_string();
        assert_eq!(text.len(), 52);
        assert_eq!(text, c_base32(&c_pub.q_y));
        assert_eq!(text.parse::<PeerIdentity>(), Ok(ours));
    }
}

#[test]
fn purpose_header_layout_matches_c() {
    let block = signed_block(0x0102_0304, b"abc").unwrap();
    let header: sys::GNUNET_CRYPTO_EccSignaturePurpose = c_struct(&block[..8]);
    assert_eq!(u32::from_be(header.size), 11);
    assert_eq!(u32::from_be(header.purpose), 0x0102_0304);
    assert_eq!(purpose::check_purpose(0x0102_0304, &block), Ok(&block[..]));
}
