//! **Stand-in** for the PLACE record data codec (`GNUNET_GNSRECORD_PlaceData`, spec §10:
//! place_pub_key 32 ‖ origin 32 ‖ relay_count u32 BE ‖ relays 32·k = 68 + 32k bytes), which
//! `crate::record` will define; swap these two functions for it once merged. Kept private so
//! nothing else comes to depend on it.

use gnunet_service::crypto::eddsa;
use gnunet_service::peer::PeerIdentity;

/// Bytes before the relays.
const HEADER_SIZE: usize = 68;

/// The contents of a PLACE record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlaceData {
    /// The place.
    pub place: eddsa::PublicKey,
    /// The host's peer.
    pub origin: PeerIdentity,
    /// Peers to join through.
    pub relays: Vec<PeerIdentity>,
}

impl PlaceData {
    /// The record data.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_SIZE + 32 * self.relays.len());
        out.extend_from_slice(&self.place.0);
        out.extend_from_slice(&self.origin.0);
        out.extend_from_slice(&(self.relays.len() as u32).to_be_bytes());
        for relay in &self.relays {
            out.extend_from_slice(&relay.0);
        }
        out
    }

    /// Record data whose size is exactly 68 + 32·relay_count, else `None` (C accepted a
    /// mismatch and then failed silently, gap G9).
    pub fn decode(data: &[u8]) -> Option<Self> {
        let place: [u8; 32] = data.get(..32)?.try_into().ok()?;
        let origin: [u8; 32] = data.get(32..64)?.try_into().ok()?;
        let count: [u8; 4] = data.get(64..HEADER_SIZE)?.try_into().ok()?;
        let count = u32::from_be_bytes(count) as usize;
        let relays = data.get(HEADER_SIZE..)?;
        if Some(relays.len()) != count.checked_mul(32) {
            return None;
        }
        Some(Self {
            place: eddsa::PublicKey(place),
            origin: PeerIdentity(origin),
            relays: relays
                .chunks_exact(32)
                .filter_map(|c| c.try_into().ok().map(PeerIdentity))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_data_is_68_plus_32_per_relay() {
        let d = PlaceData {
            place: eddsa::PublicKey([1; 32]),
            origin: PeerIdentity([2; 32]),
            relays: vec![PeerIdentity([3; 32]), PeerIdentity([4; 32])],
        };
        let bytes = d.encode();
        assert_eq!(bytes.len(), 68 + 64);
        assert_eq!(&bytes[64..68], &[0, 0, 0, 2]);
        assert_eq!(PlaceData::decode(&bytes), Some(d));
        assert_eq!(PlaceData::decode(&bytes[..67]), None);
        assert_eq!(PlaceData::decode(&bytes[..100]), None);
        let mut huge = bytes.clone();
        huge[64..68].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(PlaceData::decode(&huge), None);
        let mut longer = bytes;
        longer.push(0);
        assert_eq!(PlaceData::decode(&longer), None);
    }
}
