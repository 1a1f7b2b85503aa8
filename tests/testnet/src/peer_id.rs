//! Decoding of the printed peer identity (GNUnet's Crockford-style base32).
//!
//! GNUnet prints a 32-byte identity as 52 characters: the bytes read MSB first in 5-bit
//! groups, the last group padded with zero bits on the right, no `=` padding. Decoding is
//! case-insensitive and accepts O for 0, I and L for 1, U for V.

use crate::TestnetError;

/// Length of a printed 32-byte identity.
pub const PEER_ID_CHARS: usize = 52;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn symbol_value(c: u8) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        b'U' => b'V',
        other => other,
    };
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Decodes a 52-character peer identity into its 32 bytes.
pub fn decode_peer_id(text: &str) -> Result<[u8; 32], TestnetError> {
    let bad = |reason| TestnetError::BadIdentity {
        text: text.to_owned(),
        reason,
    };
    if text.len() != PEER_ID_CHARS {
        return Err(bad("length is not 52"));
    }
    let mut out = [0u8; 32];
    let mut filled = 0;
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in text.as_bytes() {
        acc = (acc << 5) | symbol_value(c).ok_or_else(|| bad("not a base32 character"))?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            // 52 × 5 = 260 bits: exactly 32 whole bytes, then 4 padding bits.
            if let Some(slot) = out.get_mut(filled) {
                *slot = (acc >> bits) as u8;
                filled += 1;
            }
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return Err(bad("padding bits are not zero"));
    }
    Ok(out)
}

/// Encodes 32 bytes the way GNUnet prints a peer identity (used to check the decoder).
pub fn encode_peer_id(bytes: &[u8; 32]) -> String {
    let mut out = String::with_capacity(PEER_ID_CHARS);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Printed by gnunet-peerinfo in the spec (§4.2).
    const SPEC_ID: &str = "8X2BJQKRQ95CK0BA6KA85W6FNPWXCSFEQH7QP6Q455A353ETY9WG";

    #[test]
    fn round_trip_of_a_printed_identity() {
        let bytes = decode_peer_id(SPEC_ID).expect("valid id");
        assert_eq!(encode_peer_id(&bytes), SPEC_ID);
        // 0x8X.. : '8' = 01000, 'X' = 11101 → first byte 0100_0111 = 0x47
        assert_eq!(bytes[0], 0x47);
    }

    #[test]
    fn decoding_is_case_insensitive_and_maps_lookalikes() {
        let lower = SPEC_ID.to_ascii_lowercase();
        assert_eq!(decode_peer_id(&lower).ok(), decode_peer_id(SPEC_ID).ok());
        let zeros = "O".repeat(52);
        assert_eq!(decode_peer_id(&zeros).ok(), Some([0u8; 32]));
    }

    #[test]
    fn rejects_wrong_length_bad_chars_and_nonzero_padding() {
        assert!(decode_peer_id(&SPEC_ID[..51]).is_err());
        assert!(decode_peer_id(&format!("{}!", &SPEC_ID[..51])).is_err());
        // The last character holds 1 data bit and 4 padding bits: '1' = 00001 sets padding.
        let mut padded = SPEC_ID[..51].to_owned();
        padded.push('1');
        assert!(decode_peer_id(&padded).is_err());
    }

    #[test]
    fn all_ones_round_trip() {
        let bytes = [0xffu8; 32];
        let text = encode_peer_id(&bytes);
        assert_eq!(text.len(), 52);
        assert!(text.ends_with('G'));
        assert_eq!(decode_peer_id(&text).ok(), Some(bytes));
    }
}
