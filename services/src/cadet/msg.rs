//! CADET client↔service messages (`src/cadet/cadet.h` of GNUnet 0.19.3).

use crate::crypto::HashCode;
use crate::peer::PeerIdentity;
use crate::wire::{Codec, DecodeError, Message, Reader, HEADER_SIZE, MAX_MESSAGE_SIZE};

/// `GNUNET_MESSAGE_TYPE_CADET_LOCAL_DATA`.
pub const TYPE_LOCAL_DATA: u16 = 1020;
/// `GNUNET_MESSAGE_TYPE_CADET_LOCAL_ACK`.
pub const TYPE_LOCAL_ACK: u16 = 1021;
/// `GNUNET_MESSAGE_TYPE_CADET_LOCAL_PORT_OPEN`.
pub const TYPE_LOCAL_PORT_OPEN: u16 = 1022;
/// `GNUNET_MESSAGE_TYPE_CADET_LOCAL_PORT_CLOSE`.
pub const TYPE_LOCAL_PORT_CLOSE: u16 = 1023;
/// `GNUNET_MESSAGE_TYPE_CADET_LOCAL_CHANNEL_CREATE`.
pub const TYPE_LOCAL_CHANNEL_CREATE: u16 = 1024;
/// `GNUNET_MESSAGE_TYPE_CADET_LOCAL_CHANNEL_DESTROY`.
pub const TYPE_LOCAL_CHANNEL_DESTROY: u16 = 1025;
/// `GNUNET_MESSAGE_TYPE_CADET_CLI`: the payload type the `gnunet-cadet` tool sends and expects.
pub const TYPE_CADET_CLI: u16 = 1059;

macro_rules! port_message {
    ($name:ident, $ty:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            /// The port (an application-chosen hash).
            pub port: HashCode,
        }
        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                self.port.encode(out);
            }
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self {
                    port: HashCode::read(r)?,
                })
            }
            fn encoded_len(&self) -> usize {
                64
            }
        }
        impl Message for $name {
            const TYPE: u16 = $ty;
        }
    };
}

macro_rules! ccn_message {
    ($name:ident, $ty:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            /// Channel number, per client connection.
            pub ccn: u32,
        }
        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                self.ccn.encode(out);
            }
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self { ccn: u32::read(r)? })
            }
            fn encoded_len(&self) -> usize {
                4
            }
        }
        impl Message for $name {
            const TYPE: u16 = $ty;
        }
    };
}

port_message!(
    PortOpen,
    TYPE_LOCAL_PORT_OPEN,
    "Start listening on a port (`GNUNET_CADET_PortMessage`)."
);
port_message!(
    PortClose,
    TYPE_LOCAL_PORT_CLOSE,
    "Stop listening on a port."
);
ccn_message!(
    ChannelDestroy,
    TYPE_LOCAL_CHANNEL_DESTROY,
    "Close a channel, in either direction."
);
ccn_message!(
    LocalAck,
    TYPE_LOCAL_ACK,
    "Permission to send (or receive) one more message on a channel."
);

/// `GNUNET_CADET_LocalChannelCreateMessage`: a client opens a channel, or the service announces
/// an incoming one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelCreate {
    /// Channel number (≥ 0x80000000 when the client creates it).
    pub ccn: u32,
    /// Destination peer (client→service) or initiator (service→client).
    pub peer: PeerIdentity,
    /// The port.
    pub port: HashCode,
    /// Channel options; ignored by the 0.19.3 service, sent as 0.
    pub opt: u32,
}

impl Codec for ChannelCreate {
    fn encode(&self, out: &mut Vec<u8>) {
        self.ccn.encode(out);
        self.peer.encode(out);
        self.port.encode(out);
        self.opt.encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ccn: u32::read(r)?,
            peer: PeerIdentity::read(r)?,
            port: HashCode::read(r)?,
            opt: u32::read(r)?,
        })
    }
    fn encoded_len(&self) -> usize {
        104
    }
}

impl Message for ChannelCreate {
    const TYPE: u16 = TYPE_LOCAL_CHANNEL_CREATE;
}

/// `GNUNET_CADET_LocalData`: payload for a channel, one complete GNUnet message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalData {
    /// Channel number.
    pub ccn: u32,
    /// Priority and preference bits; ignored by the 0.19.3 service.
    pub pp: u32,
    /// The carried message(s), each with its own header.
    pub payload: Vec<u8>,
}

/// Bytes of `LOCAL_DATA` in front of the payload.
pub const LOCAL_DATA_OVERHEAD: usize = HEADER_SIZE + 8;

impl LocalData {
    /// The bytes in front of a `payload_len`-byte payload: sent as a buffer of its own right
    /// before the payload, a large payload goes out without being copied into a new message.
    /// `None` if the payload does not fit one message.
    pub fn prefix(ccn: u32, pp: u32, payload_len: usize) -> Option<[u8; LOCAL_DATA_OVERHEAD]> {
        if payload_len > MAX_LOCAL_DATA_PAYLOAD {
            return None;
        }
        let size = (LOCAL_DATA_OVERHEAD + payload_len) as u16;
        let mut out = [0u8; LOCAL_DATA_OVERHEAD];
        out[..2].copy_from_slice(&size.to_be_bytes());
        out[2..4].copy_from_slice(&TYPE_LOCAL_DATA.to_be_bytes());
        out[4..8].copy_from_slice(&ccn.to_be_bytes());
        out[8..].copy_from_slice(&pp.to_be_bytes());
        Some(out)
    }

    /// Checks that the payload is a sequence of complete messages, as the service demands.
    pub fn check_payload(payload: &[u8]) -> Result<(), DecodeError> {
        let mut r = Reader::new(payload);
        if payload.is_empty() {
            return Err(DecodeError::Invalid {
                field: "payload",
                reason: "empty",
            });
        }
        while r.left() > 0 {
            let size = u16::read(&mut r)? as usize;
            if size < HEADER_SIZE {
                return Err(DecodeError::Invalid {
                    field: "payload",
                    reason: "inner message below header size",
                });
            }
            r.take(size - 2, "inner message")?;
        }
        Ok(())
    }
}

impl Codec for LocalData {
    fn encode(&self, out: &mut Vec<u8>) {
        self.ccn.encode(out);
        self.pp.encode(out);
        out.extend_from_slice(&self.payload);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let d = LocalDataRef::read(r)?;
        Ok(Self {
            ccn: d.ccn,
            pp: d.pp,
            payload: d.payload.to_vec(),
        })
    }
    fn encoded_len(&self) -> usize {
        8 + self.payload.len()
    }
}

impl Message for LocalData {
    const TYPE: u16 = TYPE_LOCAL_DATA;
}

/// A received [`LocalData`] whose payload stays in the buffer it arrived in (no copy of up
/// to 64 KiB per channel message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDataRef<'a> {
    /// Channel number.
    pub ccn: u32,
    /// Priority and preference bits.
    pub pp: u32,
    /// The carried message(s), each with its own header.
    pub payload: &'a [u8],
}

impl<'a> LocalDataRef<'a> {
    /// Decodes a complete `LOCAL_DATA` message with the checks of [`LocalData`]'s decoder.
    pub fn from_message(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = crate::wire::body_reader(bytes, TYPE_LOCAL_DATA)?;
        let d = Self::read(&mut r)?;
        r.expect_end()?;
        Ok(d)
    }

    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let ccn = u32::read(r)?;
        let pp = u32::read(r)?;
        let payload = r.rest();
        LocalData::check_payload(payload)?;
        Ok(Self { ccn, pp, payload })
    }
}

/// Largest payload that fits one `LOCAL_DATA` on the IPC socket.
pub const MAX_LOCAL_DATA_PAYLOAD: usize = MAX_MESSAGE_SIZE - LOCAL_DATA_OVERHEAD;

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> PeerIdentity {
        PeerIdentity([7; 32])
    }

    #[test]
    fn sizes_match_the_spec_table() {
        assert_eq!(
            PortOpen {
                port: HashCode::ZERO
            }
            .to_message()
            .len(),
            68
        );
        assert_eq!(
            PortClose {
                port: HashCode::ZERO
            }
            .to_message()
            .len(),
            68
        );
        let create = ChannelCreate {
            ccn: 0x8000_0000,
            peer: peer(),
            port: HashCode::of(b"x"),
            opt: 0,
        };
        assert_eq!(create.to_message().len(), 108);
        assert_eq!(ChannelDestroy { ccn: 1 }.to_message().len(), 8);
        assert_eq!(LocalAck { ccn: 1 }.to_message().len(), 8);
        let data = LocalData {
            ccn: 1,
            pp: 0,
            payload: vec![0, 5, 4, 35, 9],
        };
        assert_eq!(data.to_message().len(), 12 + 5);
    }

    #[test]
    fn round_trips() {
        let create = ChannelCreate {
            ccn: 0x8000_0001,
            peer: peer(),
            port: HashCode::of(b"port"),
            opt: 0,
        };
        let bytes = create.to_message();
        assert_eq!(&bytes[..8], &[0, 108, 4, 0, 0x80, 0, 0, 1]);
        assert_eq!(ChannelCreate::from_message(&bytes).unwrap(), create);
        let p = PortOpen {
            port: HashCode::of(b"p"),
        };
        assert_eq!(PortOpen::from_message(&p.to_message()).unwrap(), p);
        let d = ChannelDestroy { ccn: 9 };
        assert_eq!(ChannelDestroy::from_message(&d.to_message()).unwrap(), d);
        let a = LocalAck { ccn: 3 };
        assert_eq!(LocalAck::from_message(&a.to_message()).unwrap(), a);
        let data = LocalData {
            ccn: 3,
            pp: 2,
            payload: vec![0, 4, 0, 1, 0, 6, 0, 2, 1, 2],
        };
        let bytes = data.to_message();
        assert_eq!(LocalData::from_message(&bytes).unwrap(), data);
        let view = LocalDataRef::from_message(&bytes).unwrap();
        assert_eq!((view.ccn, view.pp, view.payload), (3, 2, &data.payload[..]));
        assert!(LocalDataRef::from_message(&bytes[..bytes.len() - 1]).is_err());
        assert!(LocalDataRef::from_message(&a.to_message()).is_err());
        let prefix = LocalData::prefix(3, 2, data.payload.len()).unwrap();
        assert_eq!([&prefix[..], &data.payload].concat(), bytes);
        assert!(LocalData::prefix(3, 2, MAX_LOCAL_DATA_PAYLOAD).is_some());
        assert!(LocalData::prefix(3, 2, MAX_LOCAL_DATA_PAYLOAD + 1).is_none());
    }

    #[test]
    fn payload_must_be_whole_messages() {
        assert!(LocalData::check_payload(&[0, 4, 0, 1]).is_ok());
        assert!(LocalData::check_payload(&[]).is_err());
        assert!(LocalData::check_payload(&[0, 3, 0, 1]).is_err());
        assert!(LocalData::check_payload(&[0, 8, 0, 1]).is_err());
        assert!(LocalData::check_payload(&[0, 4, 0, 1, 0]).is_err());
    }
}
