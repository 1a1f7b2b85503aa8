//! `struct GNUNET_PeerIdentity`: who a peer is.

use crate::wire::{Codec, DecodeError, Reader};

/// A peer's identity: the 32-byte Ed25519 public key of its host key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PeerIdentity(pub [u8; 32]);

impl std::fmt::Debug for PeerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PeerIdentity(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl Codec for PeerIdentity {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.array("peer identity")?))
    }
    fn encoded_len(&self) -> usize {
        32
    }
}
