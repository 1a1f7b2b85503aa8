//! The containers that carry parts, and the structural part check.
//!
//! Type 691 has two layouts that depend on direction (the C original reuses the number):
//!
//! - [`ClientMessage`], client → service (`struct GNUNET_PSYC_Message`): the 4-byte header,
//!   then parts. Also the join request/response payload inside multicast join messages.
//! - [`Delivery`], service → client (`struct GNUNET_PSYC_MessageHeader`): a 56-byte header
//!   ([`DeliveryHeader`]) then parts.
//!
//! A multicast fragment's payload is the bare parts with no container header.

use gnunet_service::wire::{Codec, DecodeError, Message, Reader, HEADER_SIZE};

use super::parts::{PartError, PartKind, Parts, FRAGMENT_MAX_PAYLOAD};

/// Message type of both container layouts (`GNUNET_MESSAGE_TYPE_PSYC_MESSAGE`).
pub const TYPE_CONTAINER: u16 = 691;

/// Size of [`DeliveryHeader`] on the wire, the 4-byte GNUnet header included.
pub const DELIVERY_HEADER_SIZE: usize = 56;

/// Largest client → service container: header plus one fragment's payload.
pub const CLIENT_MESSAGE_MAX_SIZE: usize = HEADER_SIZE + FRAGMENT_MAX_PAYLOAD;

/// Delivery flag: the message comes from history, not live.
pub const DELIVERY_HISTORIC: u32 = 1;
/// Delivery flag: the message is a slave's request to the master.
pub const DELIVERY_REQUEST: u32 = 2;
/// Delivery flag: the message may be delivered out of order.
pub const DELIVERY_ORDER_ANY: u32 = 4;

/// A client → service container: parts only, behind the 4-byte header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientMessage {
    /// Concatenated parts; at most [`FRAGMENT_MAX_PAYLOAD`] bytes for the service to accept.
    pub parts: Vec<u8>,
}

impl Codec for ClientMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.parts);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            parts: r.rest().to_vec(),
        })
    }
    fn encoded_len(&self) -> usize {
        self.parts.len()
    }
}

impl Message for ClientMessage {
    const TYPE: u16 = TYPE_CONTAINER;
}

/// The fixed fields of a service → client container, after the 4-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryHeader {
    /// `DELIVERY_*` flags.
    pub flags: u32,
    /// Multicast message id (channel messages) or request id (requests).
    pub message_id: u64,
    /// Multicast fragment offset (counts whole fragments, their headers included).
    pub fragment_offset: u64,
    /// The requesting slave's ECDSA public key for requests; zero otherwise.
    pub slave_pub_key: [u8; 32],
}

impl Codec for DeliveryHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        self.flags.encode(out);
        self.message_id.encode(out);
        self.fragment_offset.encode(out);
        self.slave_pub_key.encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            flags: u32::read(r)?,
            message_id: u64::read(r)?,
            fragment_offset: u64::read(r)?,
            slave_pub_key: <[u8; 32]>::read(r)?,
        })
    }
    fn encoded_len(&self) -> usize {
        DELIVERY_HEADER_SIZE - HEADER_SIZE
    }
}

/// A service → client container: [`DeliveryHeader`] then parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivery {
    /// The fixed fields.
    pub header: DeliveryHeader,
    /// Concatenated parts (a multicast fragment's payload, verbatim).
    pub parts: Vec<u8>,
}

impl Codec for Delivery {
    fn encode(&self, out: &mut Vec<u8>) {
        self.header.encode(out);
        out.extend_from_slice(&self.parts);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            header: DeliveryHeader::read(r)?,
            parts: r.rest().to_vec(),
        })
    }
    fn encoded_len(&self) -> usize {
        DELIVERY_HEADER_SIZE - HEADER_SIZE + self.parts.len()
    }
}

impl Message for Delivery {
    const TYPE: u16 = TYPE_CONTAINER;
}

impl Delivery {
    /// The delivery form of a client container with every header field zero
    /// (`message_header_create_from_psyc`).
    pub fn from_client_message(m: ClientMessage) -> Self {
        Self {
            header: DeliveryHeader::default(),
            parts: m.parts,
        }
    }
}

/// A zero-copy view of a service → client container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryView<'a> {
    /// The fixed fields.
    pub header: DeliveryHeader,
    /// The parts, borrowed from the input.
    pub parts: &'a [u8],
}

impl<'a> DeliveryView<'a> {
    /// Checks the 4-byte header (size equals the input length, type 691) and splits off the
    /// fixed fields.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let size = u16::read(&mut r)? as usize;
        let msg_type = u16::read(&mut r)?;
        if size != bytes.len() {
            return Err(DecodeError::SizeMismatch {
                header: size,
                actual: bytes.len(),
            });
        }
        if msg_type != TYPE_CONTAINER {
            return Err(DecodeError::WrongType {
                expected: TYPE_CONTAINER,
                got: msg_type,
            });
        }
        let header = DeliveryHeader::read(&mut r)?;
        Ok(Self {
            header,
            parts: r.rest(),
        })
    }
}

/// What the structural check found in a run of parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartsSummary {
    /// Number of parts.
    pub count: usize,
    /// Kind of the first part, `None` when there are none.
    pub first: Option<PartKind>,
    /// Kind of the last part, where "last" stops moving once END or CANCEL was seen.
    pub last: Option<PartKind>,
}

/// The structural check the psyc service applies to client messages, multicast messages and
/// requests (`GNUNET_PSYC_receive_check_parts`): every part well-formed (size, type range and
/// the per-type size rules) and within the payload. Part order is not checked here; the
/// [`receive`](super::receive) module does that.
pub fn check_parts(payload: &[u8]) -> Result<PartsSummary, PartError> {
    let mut summary = PartsSummary {
        count: 0,
        first: None,
        last: None,
    };
    let mut ended = false;
    for part in Parts::new(payload) {
        let kind = part?.kind();
        summary.count += 1;
        summary.first.get_or_insert(kind);
        if !ended {
            summary.last = Some(kind);
            ended = matches!(kind, PartKind::End | PartKind::Cancel);
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parts::{MethodPart, Part};
    use std::borrow::Cow;

    fn some_parts() -> Vec<u8> {
        let mut p = Vec::new();
        Part::Method(MethodPart {
            flags: 0,
            state_delta: 0,
            name: Cow::Borrowed(b"_m"),
        })
        .emit(&mut p);
        Part::Data(Cow::Borrowed(b"hi")).emit(&mut p);
        Part::End.emit(&mut p);
        p
    }

    #[test]
    fn client_message_round_trip_and_layout() {
        let m = ClientMessage {
            parts: some_parts(),
        };
        let bytes = m.to_message();
        assert_eq!(&bytes[..4], &[0, (4 + m.parts.len()) as u8, 0x02, 0xb3]);
        assert_eq!(ClientMessage::from_message(&bytes).unwrap(), m);
        assert_eq!(
            TYPE_CONTAINER as u32,
            gnunet_sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE
        );
    }

    #[test]
    fn delivery_round_trip_and_layout() {
        let d = Delivery {
            header: DeliveryHeader {
                flags: DELIVERY_HISTORIC | DELIVERY_REQUEST,
                message_id: 0x0102_0304_0506_0708,
                fragment_offset: 0x1112_1314_1516_1718,
                slave_pub_key: [0xab; 32],
            },
            parts: some_parts(),
        };
        let bytes = d.to_message();
        assert_eq!(bytes.len(), DELIVERY_HEADER_SIZE + d.parts.len());
        assert_eq!(&bytes[4..8], &[0, 0, 0, 3]);
        assert_eq!(&bytes[8..16], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            &bytes[16..24],
            &[0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]
        );
        assert_eq!(&bytes[24..56], &[0xab; 32]);
        assert_eq!(&bytes[56..], &d.parts[..]);
        assert_eq!(Delivery::from_message(&bytes).unwrap(), d);
        let view = DeliveryView::parse(&bytes).unwrap();
        assert_eq!(view.header, d.header);
        assert_eq!(view.parts, &d.parts[..]);
        assert_eq!(d.header.encoded_len() + HEADER_SIZE, DELIVERY_HEADER_SIZE);
    }

    #[test]
    fn delivery_view_rejects_bad_headers() {
        let bytes = Delivery::default().to_message();
        let mut wrong = bytes.clone();
        wrong[3] = 0xb4;
        assert!(matches!(
            DeliveryView::parse(&wrong),
            Err(DecodeError::WrongType { .. })
        ));
        assert!(matches!(
            DeliveryView::parse(&bytes[..40]),
            Err(DecodeError::SizeMismatch { .. })
        ));
        let mut short = bytes[..40].to_vec();
        short[1] = 40;
        assert!(matches!(
            DeliveryView::parse(&short),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn check_parts_counts_and_freezes_last_after_end() {
        let mut p = some_parts();
        Part::Data(Cow::Borrowed(b"x")).emit(&mut p);
        let s = check_parts(&p).unwrap();
        assert_eq!(s.count, 4);
        assert_eq!(s.first, Some(PartKind::Method));
        assert_eq!(s.last, Some(PartKind::End));
        assert_eq!(
            check_parts(&[]).unwrap(),
            PartsSummary {
                count: 0,
                first: None,
                last: None
            }
        );
        p.extend_from_slice(&[0, 4, 0, 1]);
        assert_eq!(check_parts(&p), Err(PartError::UnknownType(1)));
    }
}
