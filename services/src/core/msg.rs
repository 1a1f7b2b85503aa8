//! CORE client messages (`src/core/core.h` of GNUnet 0.19.3) that we use.

use crate::peer::PeerIdentity;
use crate::wire::{Codec, DecodeError, Message, Reader};

/// `GNUNET_MESSAGE_TYPE_CORE_INIT`.
pub const TYPE_INIT: u16 = 64;
/// `GNUNET_MESSAGE_TYPE_CORE_INIT_REPLY`.
pub const TYPE_INIT_REPLY: u16 = 65;
/// `GNUNET_MESSAGE_TYPE_CORE_NOTIFY_CONNECT`.
pub const TYPE_NOTIFY_CONNECT: u16 = 67;
/// `GNUNET_MESSAGE_TYPE_CORE_NOTIFY_DISCONNECT`.
pub const TYPE_NOTIFY_DISCONNECT: u16 = 68;

/// `InitMessage`: start a CORE session, naming the message types we want delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
    /// Option flags; 0 asks for nothing extra.
    pub options: u32,
    /// Message types to be delivered to us.
    pub types: Vec<u16>,
}

impl Codec for Init {
    fn encode(&self, out: &mut Vec<u8>) {
        self.options.encode(out);
        for t in &self.types {
            t.encode(out);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let options = u32::read(r)?;
        if !r.left().is_multiple_of(2) {
            return Err(DecodeError::Invalid {
                field: "types",
                reason: "odd length",
            });
        }
        let mut types = Vec::with_capacity(r.left() / 2);
        while r.left() > 0 {
            types.push(u16::read(r)?);
        }
        Ok(Self { options, types })
    }
    fn encoded_len(&self) -> usize {
        4 + 2 * self.types.len()
    }
}

impl Message for Init {
    const TYPE: u16 = TYPE_INIT;
}

/// `InitReplyMessage`: CORE's answer, carrying our identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitReply {
    /// Always 0.
    pub reserved: u32,
    /// This peer's identity.
    pub my_identity: PeerIdentity,
}

impl Codec for InitReply {
    fn encode(&self, out: &mut Vec<u8>) {
        self.reserved.encode(out);
        self.my_identity.encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            reserved: u32::read(r)?,
            my_identity: PeerIdentity::read(r)?,
        })
    }
    fn encoded_len(&self) -> usize {
        36
    }
}

impl Message for InitReply {
    const TYPE: u16 = TYPE_INIT_REPLY;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_round_trips() {
        let init = Init {
            options: 0,
            types: vec![],
        };
        assert_eq!(init.to_message().len(), 8);
        let init2 = Init {
            options: 1,
            types: vec![5, 6],
        };
        assert_eq!(Init::from_message(&init2.to_message()).unwrap(), init2);
        let reply = InitReply {
            reserved: 0,
            my_identity: PeerIdentity([3; 32]),
        };
        let bytes = reply.to_message();
        assert_eq!(bytes.len(), 40);
        assert_eq!(InitReply::from_message(&bytes).unwrap(), reply);
        assert!(Init::from_message(&[0, 9, 0, 64, 0, 0, 0, 0, 1]).is_err());
    }
}
