//! Field forms for the C strings of social's layouts that do not end the message (app ids,
//! GNS names, passwords, record labels): each runs to its first NUL, and more fields follow.

use gnunet_service::wire::{CString, DecodeError, FieldCodec, Reader};

/// A NUL-terminated string followed by more fields, kept without its NUL. The string ends at
/// the first NUL, as `strnlen` / `GNUNET_STRINGS_buffer_tokenize` read it in the C service, so
/// a value with an inner NUL does not survive a round trip (the part after it would be read as
/// the next field); no missing NUL before the end of the message is an error.
#[derive(Debug)]
pub enum Terminated {}

impl FieldCodec<Vec<u8>> for Terminated {
    fn encode_field(value: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(value);
        out.push(0);
    }

    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let len = r
            .clone()
            .rest()
            .iter()
            .position(|&b| b == 0)
            .ok_or(DecodeError::Invalid {
                field: what,
                reason: "not NUL-terminated",
            })?;
        let bytes = r.take(len + 1, what)?;
        Ok(bytes.get(..len).unwrap_or_default().to_vec())
    }

    fn field_len(value: &Vec<u8>) -> usize {
        value.len() + 1
    }
}

/// A client's single string that fills the rest of the message: exactly one NUL, the last
/// byte (the string may be empty). The C service reads these with
/// `GNUNET_STRINGS_buffer_tokenize (…, 1, …)` and drops the client unless the token ends at the
/// end of the message, so an inner NUL is an error here too (unlike [`CString`], which keeps
/// one, as the PSYC requests allow).
#[derive(Debug)]
pub enum Token {}

impl FieldCodec<Vec<u8>> for Token {
    fn encode_field(value: &Vec<u8>, out: &mut Vec<u8>) {
        CString::encode_field(value, out);
    }

    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let text: Vec<u8> = CString::read_field(r, what)?;
        if text.contains(&0) {
            return Err(DecodeError::Invalid {
                field: what,
                reason: "a NUL before the end",
            });
        }
        Ok(text)
    }

    fn field_len(value: &Vec<u8>) -> usize {
        <CString as FieldCodec<Vec<u8>>>::field_len(value)
    }
}

/// HOST_ENTER's app id: a [`Token`] of at most 255 bytes with its NUL. The C service measures
/// it in a `uint8_t` (spec §5.3), so a longer tail is cut modulo 256 and the client dropped
/// unless the cut happens to end at the only NUL; only the lengths it reads whole are accepted
/// here.
#[derive(Debug)]
pub enum ShortToken {}

/// Largest HOST_ENTER app id on the wire, NUL included.
pub const HOST_APP_ID_MAX: usize = 255;

impl FieldCodec<Vec<u8>> for ShortToken {
    fn encode_field(value: &Vec<u8>, out: &mut Vec<u8>) {
        Token::encode_field(value, out);
    }

    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        if r.left() > HOST_APP_ID_MAX {
            return Err(DecodeError::Invalid {
                field: what,
                reason: "longer than the 255 bytes the C service reads",
            });
        }
        Token::read_field(r, what)
    }

    fn field_len(value: &Vec<u8>) -> usize {
        Token::field_len(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminated_stops_at_the_first_nul() {
        let mut r = Reader::new(b"ab\0cd\0");
        assert_eq!(Terminated::read_field(&mut r, "s"), Ok(b"ab".to_vec()));
        assert_eq!(Terminated::read_field(&mut r, "s"), Ok(b"cd".to_vec()));
        assert_eq!(r.left(), 0);
        assert_eq!(
            Terminated::read_field(&mut Reader::new(b"\0x"), "s"),
            Ok(vec![])
        );
        assert!(Terminated::read_field(&mut Reader::new(b"ab"), "s").is_err());
        assert!(Terminated::read_field(&mut Reader::new(b""), "s").is_err());
    }

    #[test]
    fn token_has_its_only_nul_at_the_end() {
        assert_eq!(
            Token::read_field(&mut Reader::new(b"ab\0"), "s"),
            Ok(b"ab".to_vec())
        );
        assert_eq!(Token::read_field(&mut Reader::new(b"\0"), "s"), Ok(vec![]));
        assert!(Token::read_field(&mut Reader::new(b"a\0b\0"), "s").is_err());
        assert!(Token::read_field(&mut Reader::new(b"\0\0"), "s").is_err());
        assert!(Token::read_field(&mut Reader::new(b"ab"), "s").is_err());
        assert!(Token::read_field(&mut Reader::new(b""), "s").is_err());
    }

    #[test]
    fn short_token_is_at_most_255_bytes() {
        let mut ok = vec![b'a'; 254];
        ok.push(0);
        assert_eq!(
            ShortToken::read_field(&mut Reader::new(&ok), "s").map(|v| v.len()),
            Ok(254)
        );
        let mut long = vec![b'a'; 255];
        long.push(0);
        assert!(ShortToken::read_field(&mut Reader::new(&long), "s").is_err());
        assert!(ShortToken::read_field(&mut Reader::new(b""), "s").is_err());
        assert!(ShortToken::read_field(&mut Reader::new(b"a"), "s").is_err());
    }
}
