//! Deterministic ECDSA nonces (RFC 6979 §3.2) with HMAC-SHA512, the way libgcrypt 1.10 derives
//! them for GNUnet's ECDSA on edwards25519.
//!
//! The group order ℓ has `qlen` = 253 bits, so `int2octets` and `bits2octets` give 32 bytes and
//! every HMAC output (512 bits) is one whole candidate `T`, of which `bits2int` keeps the top 253
//! bits. libgcrypt feeds the private key to `int2octets` as it is stored, *without* reducing it
//! mod ℓ first; GNUnet's clamped keys are always ≥ 2^254 > ℓ, so this changes every nonce
//! compared with a textbook implementation.

use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

/// Length of an HMAC-SHA512 output (`hlen`).
const HLEN: usize = 64;

/// Bits of the group order (`qlen`).
pub(crate) const QBITS: usize = 253;

/// The stream of candidate nonces for one (key, message hash) pair.
///
/// libgcrypt asks for "the n-th acceptable nonce" when a signature came out with r = 0 or
/// s = 0; because it re-derives the same stream each time and skips the first n, this type
/// simply hands out the acceptable candidates in order.
pub(crate) struct NonceStream {
    key: [u8; HLEN],
    value: [u8; HLEN],
    order: BigUint,
    started: bool,
}

fn hmac(key: &[u8; HLEN], parts: &[&[u8]]) -> [u8; HLEN] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha512::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `bits2int` for a bit string longer than `qlen`: its top [`QBITS`] bits as an integer.
pub(crate) fn bits2int(bits: &[u8]) -> BigUint {
    let n = BigUint::from_bytes_be(bits);
    let len = bits.len() * 8;
    if len > QBITS {
        n >> (len - QBITS)
    } else {
        n
    }
}

/// `int2octets`: `value` as 32 big-endian bytes (`value` must be below 2^256).
pub(crate) fn int2octets(value: &BigUint) -> [u8; 32] {
    let bytes = value.to_bytes_be();
    let mut out = [0u8; 32];
    let n = bytes.len().min(32);
    out[32 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    out
}

impl NonceStream {
    /// Steps a–g of RFC 6979 §3.2 for the private key octets `x` (already big-endian,
    /// unreduced) and the message hash `h1`, over a group of order `order` (253 bits).
    pub(crate) fn new(x: &[u8; 32], h1: &[u8], order: &BigUint) -> Self {
        // bits2octets(h1): bits2int, then one conditional subtraction of q.
        let mut z = bits2int(h1);
        if &z >= order {
            z -= order;
        }
        let h1_octets = int2octets(&z);
        let mut value = [1u8; HLEN];
        let mut key = [0u8; HLEN];
        key = hmac(&key, &[&value, &[0x00], x, &h1_octets]);
        value = hmac(&key, &[&value]);
        key = hmac(&key, &[&value, &[0x01], x, &h1_octets]);
        value = hmac(&key, &[&value]);
        Self {
            key,
            value,
            order: order.clone(),
            started: false,
        }
    }

    /// The update between two candidates: K = HMAC_K(V ‖ 0x00), V = HMAC_K(V).
    fn reseed(&mut self) {
        self.key = hmac(&self.key, &[&self.value, &[0x00]]);
        self.value = hmac(&self.key, &[&self.value]);
    }

    /// The next nonce k with 0 < k < q (step h).
    pub(crate) fn next_nonce(&mut self) -> BigUint {
        if self.started {
            self.reseed();
        }
        self.started = true;
        loop {
            self.value = hmac(&self.key, &[&self.value]);
            let k = bits2int(&self.value);
            if k > BigUint::ZERO && k < self.order {
                return k;
            }
            self.reseed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int2octets_pads_on_the_left() {
        assert_eq!(int2octets(&BigUint::from(0x0102u32))[30..], [1, 2]);
        assert_eq!(int2octets(&BigUint::ZERO), [0; 32]);
    }

    #[test]
    fn bits2int_keeps_the_top_253_bits() {
        let all_ones = [0xffu8; 64];
        assert_eq!(bits2int(&all_ones).bits(), 253);
    }

    #[test]
    fn stream_is_deterministic_and_advances() {
        let order = (BigUint::from(1u8) << 252usize) + 12345u32;
        let mut a = NonceStream::new(&[7; 32], &[9; 64], &order);
        let mut b = NonceStream::new(&[7; 32], &[9; 64], &order);
        let first = a.next_nonce();
        assert_eq!(first, b.next_nonce());
        assert!(first < order);
        assert_ne!(first, a.next_nonce());
        let mut c = NonceStream::new(&[8; 32], &[9; 64], &order);
        assert_ne!(first, c.next_nonce());
    }
}
