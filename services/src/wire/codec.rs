//! The one encode/decode trait of every wire type, and the checked reader it decodes from.

use super::header::{MessageHeader, HEADER_SIZE, MAX_MESSAGE_SIZE};

/// Why bytes could not be decoded into a wire type. Never a panic: every decoder returns this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the field `what` was complete.
    #[error("truncated: {what} needs {needed} more bytes, {available} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// Bytes were left after a fixed-size value.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// The header's size field disagrees with the bytes given.
    #[error("header says {header} bytes, message has {actual}")]
    SizeMismatch {
        /// Size from the header.
        header: usize,
        /// Bytes actually present.
        actual: usize,
    },
    /// The header carries another message type than the one being decoded.
    #[error("expected message type {expected}, got {got}")]
    WrongType {
        /// Type the decoder handles.
        expected: u16,
        /// Type found in the header.
        got: u16,
    },
    /// A field holds a value the format does not allow.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A message that would be larger than [`MAX_MESSAGE_SIZE`] once encoded: the caller must
/// refuse whatever asked for it (its input was too large), since GNUnet cannot carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{type_name} (message type {msg_type}) would be {size} bytes, more than the {max} a GNUnet message may have", max = MAX_MESSAGE_SIZE)]
pub struct TooLarge {
    /// The Rust type of the message.
    pub type_name: &'static str,
    /// Its GNUnet message type.
    pub msg_type: u16,
    /// The size it would have had, header included.
    pub size: usize,
}

/// A cursor over bytes whose every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The next `n` bytes, or [`DecodeError::Truncated`] naming `what`.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let available = self.left();
        if n > available {
            return Err(DecodeError::Truncated {
                what,
                needed: n,
                available,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Bytes not read yet.
    pub fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything was read.
    pub fn expect_end(&self) -> Result<(), DecodeError> {
        match self.left() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

/// Encoding into and decoding from GNUnet's wire format.
///
/// Implemented by integers (big-endian), fixed-size byte blocks, and every message body.
pub trait Codec: Sized {
    /// Appends the wire form of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value from `r`, leaving what follows it unread.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Length of the wire form in bytes.
    fn encoded_len(&self) -> usize;

    /// The wire form as a new vector.
    fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    /// Decodes a value that must use all of `bytes`.
    fn decode_exact(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.expect_end()?;
        Ok(v)
    }
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_be_bytes(r.array(stringify!($t))?))
            }
            fn encoded_len(&self) -> usize {
                std::mem::size_of::<$t>()
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, i16, i32, i64);

impl<const N: usize> Codec for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array("byte block")
    }
    fn encoded_len(&self) -> usize {
        N
    }
}

/// A whole GNUnet message: a [`Codec`] body behind a [`MessageHeader`] of type [`Message::TYPE`].
///
/// The body's `encode`/`read` handle only the bytes after the header; the provided methods add
/// and check the header.
pub trait Message: Codec {
    /// The message type from `gnunet_protocols.h`.
    const TYPE: u16;

    /// The size of the complete message, header included, or [`TooLarge`] if it would exceed
    /// [`MAX_MESSAGE_SIZE`]: the check of [`try_to_message`](Self::try_to_message) without
    /// encoding, for callers that must refuse before they finish the message.
    fn checked_size(&self) -> Result<usize, TooLarge> {
        let size = HEADER_SIZE + self.encoded_len();
        if size > MAX_MESSAGE_SIZE {
            return Err(TooLarge {
                type_name: std::any::type_name::<Self>(),
                msg_type: Self::TYPE,
                size,
            });
        }
        Ok(size)
    }

    /// The complete message, header included, or [`TooLarge`] if it would exceed
    /// [`MAX_MESSAGE_SIZE`].
    ///
    /// Use this for every message whose size depends on input (payloads, names, relay lists,
    /// nested messages): a message we grew ourselves past the limit is refused, never a panic.
    fn try_to_message(&self) -> Result<Vec<u8>, TooLarge> {
        let size = self.checked_size()?;
        let mut out = Vec::with_capacity(size);
        MessageHeader {
            size: size as u16,
            msg_type: Self::TYPE,
        }
        .encode(&mut out);
        self.encode(&mut out);
        debug_assert_eq!(out.len(), size, "encoded_len disagrees with encode");
        Ok(out)
    }

    /// The complete message, header included, for messages whose size cannot exceed
    /// [`MAX_MESSAGE_SIZE`]: fixed-size ones, or ones whose contents were bounded (or already
    /// encoded once with [`try_to_message`](Self::try_to_message)) before.
    ///
    /// Panics if the message is too large anyway: that is a programming error, never a
    /// consequence of input. Messages sized by input use [`try_to_message`](Self::try_to_message).
    fn to_message(&self) -> Vec<u8> {
        match self.try_to_message() {
            Ok(bytes) => bytes,
            Err(e) => panic!(
                "{e} — to_message is only for messages bounded by construction, use try_to_message"
            ),
        }
    }

    /// Decodes a complete message: checks the header's size and type, then that the body is
    /// used up exactly.
    fn from_message(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body_reader(bytes, Self::TYPE)?;
        let body = Self::read(&mut r)?;
        r.expect_end()?;
        Ok(body)
    }
}

/// A reader over the body of the complete message `bytes`, after checking that its header
/// gives the right size and type `msg_type`: the start of every decoder, also of those that
/// borrow from the message instead of copying.
pub fn body_reader(bytes: &[u8], msg_type: u16) -> Result<Reader<'_>, DecodeError> {
    let mut r = Reader::new(bytes);
    let header = MessageHeader::read(&mut r)?;
    if header.size as usize != bytes.len() {
        return Err(DecodeError::SizeMismatch {
            header: header.size as usize,
            actual: bytes.len(),
        });
    }
    if header.msg_type != msg_type {
        return Err(DecodeError::WrongType {
            expected: msg_type,
            got: header.msg_type,
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Ping {
        n: u32,
    }
    impl Codec for Ping {
        fn encode(&self, out: &mut Vec<u8>) {
            self.n.encode(out);
        }
        fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Self { n: u32::read(r)? })
        }
        fn encoded_len(&self) -> usize {
            4
        }
    }
    impl Message for Ping {
        const TYPE: u16 = 4242;
    }

    #[test]
    fn message_round_trip() {
        let bytes = Ping { n: 7 }.to_message();
        assert_eq!(bytes, [0, 8, 0x10, 0x92, 0, 0, 0, 7]);
        assert_eq!(Ping::from_message(&bytes).unwrap(), Ping { n: 7 });
    }

    #[test]
    fn wrong_size_type_and_trailing_bytes_are_errors() {
        let mut bytes = Ping { n: 7 }.to_message();
        bytes[1] = 9;
        assert!(matches!(
            Ping::from_message(&bytes),
            Err(DecodeError::SizeMismatch { .. })
        ));
        let mut bytes = Ping { n: 7 }.to_message();
        bytes[3] = 0;
        assert!(matches!(
            Ping::from_message(&bytes),
            Err(DecodeError::WrongType { .. })
        ));
        let mut bytes = Ping { n: 7 }.to_message();
        bytes.push(0);
        bytes[1] = 9;
        assert_eq!(
            Ping::from_message(&bytes),
            Err(DecodeError::TrailingBytes(1))
        );
        assert!(matches!(
            Ping::from_message(&[0, 6, 0x10, 0x92, 0, 0]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    /// A message of `n` body bytes.
    #[derive(Debug, PartialEq)]
    struct Blob(Vec<u8>);
    impl Codec for Blob {
        fn encode(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.0);
        }
        fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Self(r.rest().to_vec()))
        }
        fn encoded_len(&self) -> usize {
            self.0.len()
        }
    }
    impl Message for Blob {
        const TYPE: u16 = 4243;
    }

    #[test]
    fn the_largest_message_encodes_and_one_byte_more_is_too_large() {
        let max = Blob(vec![1; MAX_MESSAGE_SIZE - HEADER_SIZE]);
        let bytes = max.try_to_message().unwrap();
        assert_eq!(bytes.len(), MAX_MESSAGE_SIZE);
        assert_eq!(bytes, max.to_message());
        assert_eq!(Blob::from_message(&bytes).unwrap(), max);

        let over = Blob(vec![1; MAX_MESSAGE_SIZE - HEADER_SIZE + 1]);
        let e = over.try_to_message().unwrap_err();
        assert_eq!(e.msg_type, 4243);
        assert_eq!(e.size, MAX_MESSAGE_SIZE + 1);
        assert!(e.type_name.ends_with("Blob"), "{}", e.type_name);
        let text = e.to_string();
        assert!(text.contains("Blob") && text.contains("65536"), "{text}");
    }

    #[test]
    fn a_size_that_does_not_fit_the_header_field_is_refused_not_truncated() {
        // 70000 would wrap to 4464 in the 16-bit size field.
        let e = Blob(vec![0; 70_000]).try_to_message().unwrap_err();
        assert_eq!(e.size, 70_000 + HEADER_SIZE);
    }

    #[test]
    #[should_panic(expected = "would be 65539 bytes")]
    fn to_message_on_an_oversized_message_is_a_programming_error() {
        let _ = Blob(vec![0; MAX_MESSAGE_SIZE]).to_message();
    }

    #[test]
    fn reader_never_reads_past_the_end() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert!(r.take(4, "x").is_err());
        assert_eq!(r.take(2, "x").unwrap(), &[1, 2]);
        assert_eq!(r.left(), 1);
        assert!(u16::read(&mut r).is_err());
        assert_eq!(r.rest(), &[3]);
        assert!(r.expect_end().is_ok());
    }
}
