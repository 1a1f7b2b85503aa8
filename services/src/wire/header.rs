//! The header in front of every GNUnet message.

use super::codec::{Codec, DecodeError, Reader};

/// Size of [`MessageHeader`] on the wire.
pub const HEADER_SIZE: usize = 4;

/// Largest legal message, header included (`GNUNET_MAX_MESSAGE_SIZE - 1`).
pub const MAX_MESSAGE_SIZE: usize = 65535;

/// `struct GNUNET_MessageHeader`: total size including these 4 bytes, then the type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageHeader {
    /// Total length of the message in bytes, header included.
    pub size: u16,
    /// Message type from `gnunet_protocols.h`.
    pub msg_type: u16,
}

impl Codec for MessageHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        self.size.encode(out);
        self.msg_type.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            size: u16::read(r)?,
            msg_type: u16::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        HEADER_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_big_endian() {
        let h = MessageHeader {
            size: 0x0102,
            msg_type: 0x0304,
        };
        let bytes = h.to_vec();
        assert_eq!(bytes, [1, 2, 3, 4]);
        assert_eq!(MessageHeader::decode_exact(&bytes).unwrap(), h);
    }
}
