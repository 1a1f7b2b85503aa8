//! The six PSYC message parts (types 693–698) and the size constants they obey.
//!
//! Every part is itself a GNUnet message: a 4-byte header (size, type, big-endian) followed by
//! a packed body. [`Part`] is a view that borrows from the input when parsed with
//! [`Part::parse`] (zero copy) and owns its bytes when decoded through [`Codec`].

use std::borrow::Cow;

use gnunet_service::wire::{Codec, DecodeError, Reader};

/// Part type METHOD (`GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_METHOD`).
pub const TYPE_METHOD: u16 = 693;
/// Part type MODIFIER.
pub const TYPE_MODIFIER: u16 = 694;
/// Part type MOD_CONT: a continuation of the preceding modifier's value.
pub const TYPE_MOD_CONT: u16 = 695;
/// Part type DATA: a chunk of the message body.
pub const TYPE_DATA: u16 = 696;
/// Part type END: the message is complete.
pub const TYPE_END: u16 = 697;
/// Part type CANCEL: the sender aborted the message.
pub const TYPE_CANCEL: u16 = 698;

/// Size of the GNUnet header in front of every part.
pub const PART_HEADER_SIZE: usize = 4;
/// Fixed size of a METHOD part before its name (`struct GNUNET_PSYC_MessageMethod`).
pub const METHOD_HEADER_SIZE: usize = 16;
/// Fixed size of a MODIFIER part before its name (`struct GNUNET_PSYC_MessageModifier`).
pub const MODIFIER_HEADER_SIZE: usize = 11;

/// Payload of one multicast fragment (`GNUNET_MULTICAST_FRAGMENT_MAX_PAYLOAD`, 64512 − 116):
/// the most part bytes one container carries.
pub const FRAGMENT_MAX_PAYLOAD: usize = 64396;
/// Most bytes of name (with its NUL) plus first value chunk in one MODIFIER part.
pub const MODIFIER_MAX_PAYLOAD: usize = FRAGMENT_MAX_PAYLOAD - MODIFIER_HEADER_SIZE;
/// Most value bytes in one MOD_CONT part.
pub const MOD_CONT_MAX_PAYLOAD: usize = FRAGMENT_MAX_PAYLOAD - PART_HEADER_SIZE;
/// Most body bytes in one DATA part.
pub const DATA_MAX_PAYLOAD: usize = FRAGMENT_MAX_PAYLOAD - PART_HEADER_SIZE;

/// Master transmit flag in the METHOD part: reset the channel state.
pub const METHOD_STATE_RESET: u32 = 1;
/// Master transmit flag: the message modifies channel state.
pub const METHOD_STATE_MODIFY: u32 = 2;
/// Master transmit flag: the message carries a state hash.
pub const METHOD_STATE_HASH: u32 = 4;
/// Master transmit flag: increment the group generation.
pub const METHOD_INC_GROUP_GEN: u32 = 8;

/// `state_delta` value meaning "this message did not modify state".
pub const STATE_DELTA_NOT_MODIFIED: u64 = u64::MAX;

/// Why bytes are not a well-formed part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartError {
    /// Fewer than 4 bytes are left, so not even a part header fits.
    #[error("part header truncated: {available} bytes left")]
    TruncatedHeader {
        /// Bytes left in the input.
        available: usize,
    },
    /// The size field is below the 4-byte header.
    #[error("part of type {part_type} declares size {size} < 4")]
    SizeBelowHeader {
        /// The part's type field.
        part_type: u16,
        /// The part's size field.
        size: u16,
    },
    /// The part extends past the bytes given.
    #[error("part of type {part_type} and size {size} overruns the {available} bytes left")]
    Overrun {
        /// The part's type field.
        part_type: u16,
        /// The part's size field.
        size: u16,
        /// Bytes left in the input.
        available: usize,
    },
    /// The type is not one of 693–698.
    #[error("unknown part type {0}")]
    UnknownType(u16),
    /// The size breaks the rule of the part's type (minimum, or exactly 4 for END/CANCEL).
    #[error("{kind} part has invalid size {size}")]
    BadSize {
        /// The part kind.
        kind: PartKind,
        /// The part's size field.
        size: u16,
    },
    /// The METHOD name does not end in NUL.
    #[error("method name is not NUL-terminated")]
    MethodNameUnterminated,
    /// A MODIFIER's `name_size` is 0 (the C receiver then checked the operator byte as NUL).
    #[error("modifier name_size is 0")]
    ModifierNameEmpty,
    /// A MODIFIER's `name_size` reaches past the part.
    #[error("modifier name_size {name_size} does not fit in a part of size {size}")]
    ModifierNameOverrun {
        /// The `name_size` field.
        name_size: u16,
        /// The part's size field.
        size: u16,
    },
    /// A MODIFIER name does not end in NUL at `name_size − 1`.
    #[error("modifier name is not NUL-terminated")]
    ModifierNameUnterminated,
    /// A MODIFIER carries more value bytes than its `value_size`.
    #[error("modifier carries {chunk} value bytes, more than value_size {value_size}")]
    ModifierChunkTooLarge {
        /// Value bytes in this part.
        chunk: usize,
        /// The `value_size` field.
        value_size: u32,
    },
}

impl From<PartError> for DecodeError {
    fn from(e: PartError) -> Self {
        let reason = match e {
            PartError::TruncatedHeader { .. } => "truncated part header",
            PartError::SizeBelowHeader { .. } => "part size below 4",
            PartError::Overrun { .. } => "part overruns its container",
            PartError::UnknownType(_) => "unknown part type",
            PartError::BadSize { .. } => "size not allowed for the part type",
            PartError::MethodNameUnterminated => "method name not NUL-terminated",
            PartError::ModifierNameEmpty => "modifier name_size 0",
            PartError::ModifierNameOverrun { .. } => "modifier name overruns the part",
            PartError::ModifierNameUnterminated => "modifier name not NUL-terminated",
            PartError::ModifierChunkTooLarge { .. } => "modifier chunk exceeds value_size",
        };
        DecodeError::Invalid {
            field: "psyc part",
            reason,
        }
    }
}

/// The kind of a part, without its contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartKind {
    /// METHOD (693).
    Method,
    /// MODIFIER (694).
    Modifier,
    /// MOD_CONT (695).
    ModCont,
    /// DATA (696).
    Data,
    /// END (697).
    End,
    /// CANCEL (698).
    Cancel,
}

impl PartKind {
    /// The part type for a wire type number, if it is one of 693–698.
    pub fn from_type(t: u16) -> Option<Self> {
        Some(match t {
            TYPE_METHOD => Self::Method,
            TYPE_MODIFIER => Self::Modifier,
            TYPE_MOD_CONT => Self::ModCont,
            TYPE_DATA => Self::Data,
            TYPE_END => Self::End,
            TYPE_CANCEL => Self::Cancel,
            _ => return None,
        })
    }

    /// The wire type number.
    pub fn type_number(self) -> u16 {
        match self {
            Self::Method => TYPE_METHOD,
            Self::Modifier => TYPE_MODIFIER,
            Self::ModCont => TYPE_MOD_CONT,
            Self::Data => TYPE_DATA,
            Self::End => TYPE_END,
            Self::Cancel => TYPE_CANCEL,
        }
    }
}

impl std::fmt::Display for PartKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Method => "METHOD",
            Self::Modifier => "MODIFIER",
            Self::ModCont => "MOD_CONT",
            Self::Data => "DATA",
            Self::End => "END",
            Self::Cancel => "CANCEL",
        })
    }
}

/// METHOD part body (`struct GNUNET_PSYC_MessageMethod`, 16 bytes + name + NUL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodPart<'a> {
    /// Master transmit flags (`METHOD_*`), big-endian on the wire.
    pub flags: u32,
    /// Distance to the previous stateful message; 0 reset, `u64::MAX` not modified.
    pub state_delta: u64,
    /// Method name without its terminating NUL.
    pub name: Cow<'a, [u8]>,
}

/// MODIFIER part body (`struct GNUNET_PSYC_MessageModifier`, 11 bytes + name + NUL + chunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifierPart<'a> {
    /// Full value length, including bytes sent later in MOD_CONT parts.
    pub value_size: u32,
    /// Operator byte as sent; see [`crate::env::Operator`] for the known ones. Kept
    /// raw because the C psyc service sends 0 here in state results.
    pub oper: u8,
    /// Variable name without its terminating NUL.
    pub name: Cow<'a, [u8]>,
    /// The first chunk of the value (all of it when it fits).
    pub value: Cow<'a, [u8]>,
}

/// One PSYC message part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    /// Starts a message: flags, state delta, method name.
    Method(MethodPart<'a>),
    /// A modifier: operator, name, full value size and the first value chunk.
    Modifier(ModifierPart<'a>),
    /// The next chunk of the preceding modifier's value.
    ModCont(Cow<'a, [u8]>),
    /// A chunk of the body.
    Data(Cow<'a, [u8]>),
    /// End of the message.
    End,
    /// The sender cancelled the message.
    Cancel,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

impl<'a> Part<'a> {
    /// The part's kind.
    pub fn kind(&self) -> PartKind {
        match self {
            Part::Method(_) => PartKind::Method,
            Part::Modifier(_) => PartKind::Modifier,
            Part::ModCont(_) => PartKind::ModCont,
            Part::Data(_) => PartKind::Data,
            Part::End => PartKind::End,
            Part::Cancel => PartKind::Cancel,
        }
    }

    /// Parses the part at the start of `bytes`, borrowing from it. Returns the part and its
    /// size; the bytes after it are left for the next call.
    pub fn parse(bytes: &'a [u8]) -> Result<(Part<'a>, usize), PartError> {
        if bytes.len() < PART_HEADER_SIZE {
            return Err(PartError::TruncatedHeader {
                available: bytes.len(),
            });
        }
        let size = be16(bytes, 0);
        let part_type = be16(bytes, 2);
        let len = size as usize;
        if len < PART_HEADER_SIZE {
            return Err(PartError::SizeBelowHeader { part_type, size });
        }
        if len > bytes.len() {
            return Err(PartError::Overrun {
                part_type,
                size,
                available: bytes.len(),
            });
        }
        let kind = PartKind::from_type(part_type).ok_or(PartError::UnknownType(part_type))?;
        let part = &bytes[..len];
        let body = &part[PART_HEADER_SIZE..];
        let parsed = match kind {
            PartKind::Method => {
                if len < METHOD_HEADER_SIZE + 1 {
                    return Err(PartError::BadSize { kind, size });
                }
                let flags = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let mut delta = [0u8; 8];
                delta.copy_from_slice(&body[4..12]);
                let name_nul = &part[METHOD_HEADER_SIZE..];
                let (last, name) = match name_nul.split_last() {
                    Some(x) => x,
                    None => return Err(PartError::BadSize { kind, size }),
                };
                if *last != 0 {
                    return Err(PartError::MethodNameUnterminated);
                }
                Part::Method(MethodPart {
                    flags,
                    state_delta: u64::from_be_bytes(delta),
                    name: Cow::Borrowed(name),
                })
            }
            PartKind::Modifier => {
                if len < MODIFIER_HEADER_SIZE {
                    return Err(PartError::BadSize { kind, size });
                }
                let value_size = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let name_size = be16(body, 4);
                let oper = body[6];
                if name_size == 0 {
                    return Err(PartError::ModifierNameEmpty);
                }
                let rest = &part[MODIFIER_HEADER_SIZE..];
                let ns = name_size as usize;
                if ns > rest.len() {
                    return Err(PartError::ModifierNameOverrun { name_size, size });
                }
                let (name_nul, value) = rest.split_at(ns);
                let (last, name) = match name_nul.split_last() {
                    Some(x) => x,
                    None => return Err(PartError::ModifierNameEmpty),
                };
                if *last != 0 {
                    return Err(PartError::ModifierNameUnterminated);
                }
                if value.len() as u64 > value_size as u64 {
                    return Err(PartError::ModifierChunkTooLarge {
                        chunk: value.len(),
                        value_size,
                    });
                }
                Part::Modifier(ModifierPart {
                    value_size,
                    oper,
                    name: Cow::Borrowed(name),
                    value: Cow::Borrowed(value),
                })
            }
            PartKind::ModCont => Part::ModCont(Cow::Borrowed(body)),
            PartKind::Data => Part::Data(Cow::Borrowed(body)),
            PartKind::End | PartKind::Cancel => {
                if len != PART_HEADER_SIZE {
                    return Err(PartError::BadSize { kind, size });
                }
                if kind == PartKind::End {
                    Part::End
                } else {
                    Part::Cancel
                }
            }
        };
        Ok((parsed, len))
    }

    /// Size of the part on the wire, header included.
    pub fn wire_len(&self) -> usize {
        PART_HEADER_SIZE
            + match self {
                Part::Method(m) => METHOD_HEADER_SIZE - PART_HEADER_SIZE + m.name.len() + 1,
                Part::Modifier(m) => {
                    MODIFIER_HEADER_SIZE - PART_HEADER_SIZE + m.name.len() + 1 + m.value.len()
                }
                Part::ModCont(b) | Part::Data(b) => b.len(),
                Part::End | Part::Cancel => 0,
            }
    }

    /// Appends the wire form (header included) to `out`.
    ///
    /// Panics if [`Part::wire_len`] exceeds 65535: builders of parts keep them within
    /// [`FRAGMENT_MAX_PAYLOAD`], and [`Part::parse`] never yields a larger one.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let len = self.wire_len();
        let size = u16::try_from(len).unwrap_or_else(|_| panic!("PSYC part too large: {len}"));
        out.reserve(len);
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&self.kind().type_number().to_be_bytes());
        match self {
            Part::Method(m) => {
                out.extend_from_slice(&m.flags.to_be_bytes());
                out.extend_from_slice(&m.state_delta.to_be_bytes());
                out.extend_from_slice(&m.name);
                out.push(0);
            }
            Part::Modifier(m) => {
                out.extend_from_slice(&m.value_size.to_be_bytes());
                // name_size fits: the whole part fits in u16.
                out.extend_from_slice(&((m.name.len() + 1) as u16).to_be_bytes());
                out.push(m.oper);
                out.extend_from_slice(&m.name);
                out.push(0);
                out.extend_from_slice(&m.value);
            }
            Part::ModCont(b) | Part::Data(b) => out.extend_from_slice(b),
            Part::End | Part::Cancel => {}
        }
    }

    /// A copy that owns all its bytes.
    pub fn into_owned(self) -> Part<'static> {
        let own = |c: Cow<'a, [u8]>| Cow::Owned(c.into_owned());
        match self {
            Part::Method(m) => Part::Method(MethodPart {
                flags: m.flags,
                state_delta: m.state_delta,
                name: own(m.name),
            }),
            Part::Modifier(m) => Part::Modifier(ModifierPart {
                value_size: m.value_size,
                oper: m.oper,
                name: own(m.name),
                value: own(m.value),
            }),
            Part::ModCont(b) => Part::ModCont(own(b)),
            Part::Data(b) => Part::Data(own(b)),
            Part::End => Part::End,
            Part::Cancel => Part::Cancel,
        }
    }
}

/// The owned form is a [`Codec`]: `read` decodes one whole part (header included).
impl Codec for Part<'static> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.emit(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut peek = r.clone();
        let rest = peek.rest();
        let (part, len) = Part::parse(rest)?;
        let part = part.into_owned();
        r.take(len, "psyc part")?;
        Ok(part)
    }

    fn encoded_len(&self) -> usize {
        self.wire_len()
    }
}

/// Iterator over concatenated parts (a container's payload), borrowing from it. Yields an
/// error once and then stops.
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Parts<'a> {
    /// Parts of `payload`, which holds nothing but concatenated parts.
    pub fn new(payload: &'a [u8]) -> Self {
        Self {
            rest: payload,
            offset: 0,
            failed: false,
        }
    }

    /// Byte offset of the next part within the payload.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = Result<Part<'a>, PartError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        match Part::parse(self.rest) {
            Ok((part, len)) => {
                self.rest = &self.rest[len..];
                self.offset += len;
                Some(Ok(part))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(name: &str) -> Part<'static> {
        Part::Method(MethodPart {
            flags: METHOD_STATE_MODIFY,
            state_delta: 7,
            name: Cow::Owned(name.as_bytes().to_vec()),
        })
    }

    fn modifier(oper: u8, name: &str, value: &[u8], value_size: u32) -> Part<'static> {
        Part::Modifier(ModifierPart {
            value_size,
            oper,
            name: Cow::Owned(name.as_bytes().to_vec()),
            value: Cow::Owned(value.to_vec()),
        })
    }

    fn round_trip(p: &Part<'static>) {
        let bytes = p.to_vec();
        assert_eq!(bytes.len(), p.wire_len());
        assert_eq!(&Part::decode_exact(&bytes).unwrap(), p);
        let (borrowed, len) = Part::parse(&bytes).unwrap();
        assert_eq!(len, bytes.len());
        assert_eq!(&borrowed, p);
    }

    #[test]
    fn every_part_round_trips() {
        round_trip(&method("_notice_place"));
        round_trip(&modifier(b'=', "_foo", b"bar", 3));
        round_trip(&modifier(b':', "_big", b"chunk", 100_000));
        round_trip(&modifier(b'=', "_empty", b"", 0));
        round_trip(&Part::ModCont(Cow::Owned(b"more".to_vec())));
        round_trip(&Part::Data(Cow::Owned(b"body".to_vec())));
        round_trip(&Part::Data(Cow::Owned(Vec::new())));
        round_trip(&Part::End);
        round_trip(&Part::Cancel);
    }

    /// Byte layout of each part, field by field, as the packed C structs put it.
    #[test]
    fn layouts_match_the_c_structs() {
        let m = method("_m").to_vec();
        assert_eq!(
            m,
            [
                0, 19, 0x02, 0xb5, // size 16 + 3, type 693
                0, 0, 0, 2, // flags BE
                0, 0, 0, 0, 0, 0, 0, 7, // state_delta BE
                b'_', b'm', 0
            ]
        );
        assert_eq!(m.len(), METHOD_HEADER_SIZE + 3);
        let md = modifier(b'=', "_a", b"xy", 5).to_vec();
        assert_eq!(
            md,
            [
                0, 16, 0x02, 0xb6, // size 11 + 3 + 2, type 694
                0, 0, 0, 5, // value_size BE (full size)
                0, 3,    // name_size incl. NUL
                b'=', // oper
                b'_', b'a', 0, b'x', b'y'
            ]
        );
        assert_eq!(
            Part::ModCont(Cow::Borrowed(b"z")).to_vec(),
            [0, 5, 0x02, 0xb7, b'z']
        );
        assert_eq!(
            Part::Data(Cow::Borrowed(b"z")).to_vec(),
            [0, 5, 0x02, 0xb8, b'z']
        );
        assert_eq!(Part::End.to_vec(), [0, 4, 0x02, 0xb9]);
        assert_eq!(Part::Cancel.to_vec(), [0, 4, 0x02, 0xba]);
    }

    #[test]
    fn type_numbers_match_gnunet_protocols_h() {
        use gnunet_sys as sys;
        assert_eq!(
            TYPE_METHOD as u32,
            sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_METHOD
        );
        assert_eq!(
            TYPE_MODIFIER as u32,
            sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_MODIFIER
        );
        assert_eq!(
            TYPE_MOD_CONT as u32,
            sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_MOD_CONT
        );
        assert_eq!(TYPE_DATA as u32, sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_DATA);
        assert_eq!(TYPE_END as u32, sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_END);
        assert_eq!(
            TYPE_CANCEL as u32,
            sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_CANCEL
        );
        assert_eq!(MODIFIER_MAX_PAYLOAD, 64385);
        assert_eq!(MOD_CONT_MAX_PAYLOAD, 64392);
        assert_eq!(DATA_MAX_PAYLOAD, 64392);
        assert_eq!(
            std::mem::size_of::<sys::GNUNET_MessageHeader>(),
            PART_HEADER_SIZE
        );
    }

    #[test]
    fn malformed_parts_are_precise_errors() {
        assert_eq!(
            Part::parse(&[0, 4, 2]),
            Err(PartError::TruncatedHeader { available: 3 })
        );
        assert!(matches!(
            Part::parse(&[0, 3, 0x02, 0xb9]),
            Err(PartError::SizeBelowHeader { .. })
        ));
        assert!(matches!(
            Part::parse(&[0, 8, 0x02, 0xb9, 0]),
            Err(PartError::Overrun { .. })
        ));
        assert_eq!(
            Part::parse(&[0, 4, 0x02, 0xb4]),
            Err(PartError::UnknownType(692))
        );
        assert!(matches!(
            Part::parse(&[0, 5, 0x02, 0xb9, 0]),
            Err(PartError::BadSize {
                kind: PartKind::End,
                ..
            })
        ));
        let mut m = method("_x").to_vec();
        *m.last_mut().unwrap() = b'y';
        assert_eq!(Part::parse(&m), Err(PartError::MethodNameUnterminated));
        // METHOD with no name byte at all.
        let mut m = method("").to_vec();
        m.pop();
        m[1] = 16;
        assert!(matches!(Part::parse(&m), Err(PartError::BadSize { .. })));
        let mut md = modifier(b'=', "_a", b"xy", 2).to_vec();
        md[8] = 0;
        md[9] = 0;
        assert_eq!(Part::parse(&md), Err(PartError::ModifierNameEmpty));
        md[9] = 9;
        assert!(matches!(
            Part::parse(&md),
            Err(PartError::ModifierNameOverrun { .. })
        ));
        md[9] = 2;
        assert_eq!(Part::parse(&md), Err(PartError::ModifierNameUnterminated));
        let md = modifier(b'=', "_a", b"xyz", 2).to_vec();
        assert!(matches!(
            Part::parse(&md),
            Err(PartError::ModifierChunkTooLarge { .. })
        ));
    }

    #[test]
    fn parts_iterator_walks_and_stops_at_the_first_error() {
        let mut payload = method("_m").to_vec();
        Part::End.emit(&mut payload);
        payload.extend_from_slice(&[0, 4, 0, 0]);
        let items: Vec<_> = Parts::new(&payload).collect();
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[1].is_ok());
        assert_eq!(items[2], Err(PartError::UnknownType(0)));
    }
}
