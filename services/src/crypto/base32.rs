//! GNUnet's Crockford base32, as `GNUNET_STRINGS_data_to_string` / `_string_to_data` write and
//! read it: how peer identities, public keys and hashes are printed.
//!
//! Encoding reads the bytes most significant bit first in 5-bit groups over the alphabet
//! `0123456789ABCDEFGHJKMNPQRSTVWXYZ`; the last group is padded with zero bits on the right and
//! there is no `=` padding, so `n` bytes become `ceil(8n / 5)` characters.
//!
//! Decoding is case-insensitive and also reads `O` as `0`, `I` and `L` as `1`, `U` as `V`. Like
//! libgnunetutil it ignores the value of the padding bits in the last character.

/// The 32 output characters; a character's index is its 5-bit value.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Why a string is not GNUnet base32 of the expected length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base32Error {
    /// No byte count encodes to this many characters (1, 3 and 6 modulo 8 are impossible), or it
    /// is not the length the caller expects.
    #[error("{chars} base32 characters cannot encode {expected_bytes} bytes")]
    WrongLength {
        /// Characters given.
        chars: usize,
        /// Bytes wanted (for [`decode`], the nearest length to what was given).
        expected_bytes: usize,
    },
    /// A character outside the alphabet (and its accepted look-alikes).
    #[error("invalid base32 character {byte:#04x} at position {position}")]
    InvalidCharacter {
        /// Byte offset in the input.
        position: usize,
        /// The offending byte.
        byte: u8,
    },
}

/// Number of characters [`encode`] produces for `len` bytes.
pub const fn encoded_len(len: usize) -> usize {
    (len * 8).div_ceil(5)
}

/// `data` as GNUnet base32 (`GNUNET_STRINGS_data_to_string`): 32 bytes → 52 characters.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(data.len()));
    // `acc` holds `bits` not yet written, right-aligned; never more than 12 bits.
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &byte in data {
        acc = (acc << 8) | u32::from(byte);
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

/// The 5-bit value of one character, with GNUnet's look-alikes; `None` outside the alphabet.
fn value_of(c: u8) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        b'U' => b'V',
        other => other,
    };
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u8)
}

/// Decodes `text` into exactly `out.len()` bytes (`GNUNET_STRINGS_string_to_data`).
///
/// `text` must have exactly [`encoded_len`]`(out.len())` characters. On error `out` may hold
/// partial output.
pub fn decode_into<S: AsRef<[u8]> + ?Sized>(text: &S, out: &mut [u8]) -> Result<(), Base32Error> {
    let text = text.as_ref();
    if text.len() != encoded_len(out.len()) {
        return Err(Base32Error::WrongLength {
            chars: text.len(),
            expected_bytes: out.len(),
        });
    }
    let pad_bits = text.len() * 5 - out.len() * 8;
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut written = 0usize;
    for (position, &byte) in text.iter().enumerate() {
        let value = value_of(byte).ok_or(Base32Error::InvalidCharacter { position, byte })?;
        acc = (acc << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            // The length check above guarantees there is room for every full byte.
            if let Some(slot) = out.get_mut(written) {
                *slot = (acc >> bits) as u8;
            }
            written += 1;
            acc &= (1 << bits) - 1;
        }
    }
    // Whatever is left are the padding bits of the last character; GNUnet ignores their value.
    debug_assert_eq!(bits as usize, pad_bits);
    debug_assert_eq!(written, out.len());
    Ok(())
}

/// Decodes `text` into as many bytes as its length encodes.
///
/// Fails on lengths no byte count produces (1, 3 or 6 modulo 8) and on characters outside the
/// alphabet.
pub fn decode<S: AsRef<[u8]> + ?Sized>(text: &S) -> Result<Vec<u8>, Base32Error> {
    let text = text.as_ref();
    // Never allocates more than the input's own length.
    let mut out = vec![0u8; text.len() * 5 / 8];
    decode_into(text, &mut out)?;
    Ok(out)
}

/// Decodes `text` into a fixed-size array, e.g. a 32-byte key from 52 characters.
pub fn decode_array<const N: usize, S: AsRef<[u8]> + ?Sized>(
    text: &S,
) -> Result<[u8; N], Base32Error> {
    let mut out = [0u8; N];
    decode_into(text, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_match_the_spec() {
        assert_eq!(encode(&[0u8; 32]).len(), 52);
        assert_eq!(encode(&[0u8; 64]).len(), 103);
        assert_eq!(encode(&[0u8; 36]).len(), 58);
        assert_eq!(encode(&[]), "");
    }

    #[test]
    fn known_values() {
        assert_eq!(encode(&[0xff]), "ZW");
        assert_eq!(encode(&[0x00, 0x01, 0x00, 0x14]), "000G050");
        assert_eq!(encode(b"f"), "CR");
        assert_eq!(decode("CR").unwrap(), b"f");
    }

    #[test]
    fn look_alikes_and_lower_case_decode() {
        let canonical = decode("01VZ").unwrap();
        assert_eq!(decode("oiuz").unwrap(), canonical);
        assert_eq!(decode("OLUz").unwrap(), canonical);
    }

    #[test]
    fn padding_bits_are_ignored_like_gnunet() {
        // 'W' = 28 = 11100, 'Z' = 31 = 11111: the last 2 bits of one byte are padding.
        assert_eq!(decode("ZW").unwrap(), decode("ZZ").unwrap());
    }

    #[test]
    fn impossible_lengths_and_bad_characters_are_errors() {
        for n in [1usize, 3, 6, 9] {
            assert!(matches!(
                decode(&"0".repeat(n)),
                Err(Base32Error::WrongLength { .. })
            ));
        }
        assert_eq!(
            decode("0!"),
            Err(Base32Error::InvalidCharacter {
                position: 1,
                byte: b'!'
            })
        );
        let mut out = [0u8; 32];
        assert!(decode_into("00", &mut out).is_err());
        assert!(decode_array::<2, _>("ZZZZ").is_ok());
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text = encode(&data);
            prop_assert_eq!(text.len(), encoded_len(data.len()));
            prop_assert_eq!(decode(&text).unwrap(), data.clone());
            prop_assert_eq!(decode(&text.to_lowercase()).unwrap(), data);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
            let mut out = [0u8; 32];
            let _ = decode_into(&bytes, &mut out);
        }

        #[test]
        fn decode_never_panics_on_strings(text in ".{0,120}") {
            if let Ok(bytes) = decode(&text) {
                prop_assert_eq!(encoded_len(bytes.len()), text.len());
            }
        }
    }
}
