//! `struct GNUNET_HashCode`: a SHA-512 digest.

use sha2::{Digest, Sha512};

use crate::wire::{Codec, DecodeError, Reader};

/// A 64-byte SHA-512 hash, as `GNUNET_CRYPTO_hash` computes it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashCode(pub [u8; 64]);

impl HashCode {
    /// SHA-512 of `data` (`GNUNET_CRYPTO_hash`).
    pub fn of(data: &[u8]) -> Self {
        Self(Sha512::digest(data).into())
    }

    /// The all-zero hash.
    pub const ZERO: Self = Self([0; 64]);
}

impl std::fmt::Debug for HashCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashCode(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl Codec for HashCode {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.array("hash code")?))
    }
    fn encoded_len(&self) -> usize {
        64
    }
}
