//! Group identifiers: the service-internal group id and the CADET port of a group.

use gnunet_service::crypto::{eddsa, HashCode};

/// `GNUNET_APPLICATION_TYPE_MULTICAST`, hashed into the port.
pub const APPLICATION_TYPE_MULTICAST: u32 = 26;

/// The CADET port of a group: SHA-512 of the group public key followed by the application
/// type 26 as a **little-endian** u32 (`1a 00 00 00`), the host order of every peer the C
/// original runs on (gap G3 — the C code hashes the integer without byte-order conversion).
pub fn port_of_group(group: &eddsa::PublicKey) -> HashCode {
    let mut input = [0u8; 36];
    input[..32].copy_from_slice(&group.0);
    input[32..].copy_from_slice(&APPLICATION_TYPE_MULTICAST.to_le_bytes());
    HashCode::of(&input)
}

/// The service-internal id of a group: SHA-512 of its public key.
pub fn group_id(group: &eddsa::PublicKey) -> HashCode {
    HashCode::of(&group.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha512};

    #[test]
    fn port_hashes_key_then_little_endian_26() {
        let key = eddsa::PublicKey([0x42; 32]);
        let mut h = Sha512::new();
        h.update([0x42; 32]);
        h.update([0x1a, 0, 0, 0]);
        let expected: [u8; 64] = h.finalize().into();
        assert_eq!(port_of_group(&key).0, expected);
        assert_ne!(port_of_group(&key), group_id(&key));
    }
}
