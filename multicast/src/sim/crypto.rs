//! A stand-in for the group signatures that costs next to nothing, for the simulator only.

use gnunet_service::crypto::{ecdsa, eddsa};

use crate::crypto::GroupCrypto;

/// **Insecure.** Public key = private key, signature = a keyed FNV-1a checksum of the block.
/// Anyone can forge it; it only lets the simulator run 10,000 members without spending its
/// time in elliptic-curve arithmetic, while still catching blocks altered in transit. Never use
/// it outside [`crate::sim`].
#[derive(Debug, Clone, Copy, Default)]
pub struct InsecureSimCrypto;

fn checksum(key: &[u8; 32], block: &[u8]) -> [u8; 64] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.iter().chain(block) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = [0u8; 64];
    for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&(h.rotate_left(i as u32 * 8)).to_le_bytes());
    }
    out
}

fn purpose_of(block: &[u8]) -> Option<u32> {
    let p = block.get(4..8)?;
    Some(u32::from_be_bytes([p[0], p[1], p[2], p[3]]))
}

impl GroupCrypto for InsecureSimCrypto {
    type GroupSigner = eddsa::PrivateKey;
    type GroupVerifier = eddsa::PublicKey;

    fn group_signer(&self, key: &eddsa::PrivateKey) -> eddsa::PrivateKey {
        key.clone()
    }
    fn group_verifier(&self, key: &eddsa::PublicKey) -> eddsa::PublicKey {
        *key
    }
    fn group_public(&self, key: &eddsa::PrivateKey) -> eddsa::PublicKey {
        eddsa::PublicKey(key.0)
    }
    fn member_public(&self, key: &ecdsa::PrivateKey) -> ecdsa::PublicKey {
        ecdsa::PublicKey(key.0)
    }
    fn sign_group(&self, key: &eddsa::PrivateKey, block: &[u8]) -> eddsa::Signature {
        eddsa::Signature(checksum(&key.0, block))
    }
    fn sign_member(&self, key: &ecdsa::PrivateKey, block: &[u8]) -> ecdsa::Signature {
        ecdsa::Signature(checksum(&key.0, block))
    }
    fn verify_group(
        &self,
        key: &eddsa::PublicKey,
        purpose: u32,
        block: &[u8],
        sig: &eddsa::Signature,
    ) -> bool {
        purpose_of(block) == Some(purpose) && checksum(&key.0, block) == sig.0
    }
    fn verify_member(
        &self,
        key: &ecdsa::PublicKey,
        purpose: u32,
        block: &[u8],
        sig: &ecdsa::Signature,
    ) -> bool {
        purpose_of(block) == Some(purpose) && checksum(&key.0, block) == sig.0
    }
}
