//! The printed peer identity (52 characters of GNUnet base32) as bytes, through the runtime's
//! own base32 so the harness and the services agree by construction.

use gnunet_service::peer::PeerIdentity;

use crate::TestnetError;

/// Length of a printed 32-byte identity.
pub const PEER_ID_CHARS: usize = 52;

/// Decodes a 52-character peer identity into its 32 bytes.
pub fn decode_peer_id(text: &str) -> Result<[u8; 32], TestnetError> {
    text.parse::<PeerIdentity>()
        .map(|id| id.0)
        .map_err(|e| TestnetError::BadIdentity {
            text: text.to_owned(),
            reason: e.to_string(),
        })
}

/// Encodes 32 bytes the way GNUnet prints a peer identity.
pub fn encode_peer_id(bytes: &[u8; 32]) -> String {
    PeerIdentity(*bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37 + 5) as u8);
        let text = encode_peer_id(&bytes);
        assert_eq!(text.len(), PEER_ID_CHARS);
        assert_eq!(decode_peer_id(&text).unwrap(), bytes);
        assert_eq!(decode_peer_id(&text.to_lowercase()).unwrap(), bytes);
        assert!(decode_peer_id(&text[1..]).is_err());
        assert!(decode_peer_id(&format!("{}!", &text[1..])).is_err());
    }
}
