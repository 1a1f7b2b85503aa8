//! How PSYCstore's messages are laid out: the [`RequestHead`] ten requests start with, the
//! field layouts that are not plain [`Codec`] values, and `wire_message!`, which writes a
//! message type's struct, [`Codec`] and [`Message`](gnunet_service::wire::Message) impls from
//! its field list, so that a layout is stated once — as the order and types of its fields —
//! instead of in three hand-written functions and a size constant.

use gnunet_service::wire::{Codec, DecodeError, Reader};

use super::{bias, unbias};
use crate::fragment::{self, Fragment};
use crate::keys::ChannelKey;

/// The first 44 body bytes of ten requests (the C `struct OperationRequest` without its name):
/// a reserved word, the operation id and the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RequestHead {
    /// Operation id (offset 8), echoed in every reply.
    pub op_id: u64,
    /// Channel (offset 16).
    pub channel_key: ChannelKey,
}

impl RequestHead {
    /// The head of a request for operation `op_id` on `channel_key`.
    pub fn new(op_id: u64, channel_key: ChannelKey) -> Self {
        Self { op_id, channel_key }
    }
}

impl Codec for RequestHead {
    fn encode(&self, out: &mut Vec<u8>) {
        0u32.encode(out);
        self.op_id.encode(out);
        self.channel_key.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let _reserved = u32::read(r)?;
        Ok(Self {
            op_id: u64::read(r)?,
            channel_key: ChannelKey::read(r)?,
        })
    }

    fn encoded_len(&self) -> usize {
        4 + 8 + 32
    }
}

/// How a field of type `T` is written and read when `T` is not itself laid out by its
/// [`Codec`] (or has none).
pub(crate) trait Layout<T> {
    fn put(value: &T, out: &mut Vec<u8>);
    fn get(r: &mut Reader<'_>) -> Result<T, DecodeError>;
    fn len(value: &T) -> usize;
}

/// The field's own [`Codec`] (integers big-endian, keys and hashes as raw bytes).
pub(crate) struct Plain;

impl<T: Codec> Layout<T> for Plain {
    fn put(value: &T, out: &mut Vec<u8>) {
        value.encode(out);
    }
    fn get(r: &mut Reader<'_>) -> Result<T, DecodeError> {
        T::read(r)
    }
    fn len(value: &T) -> usize {
        value.encoded_len()
    }
}

/// One byte followed by a reserved (zero) byte.
pub(crate) struct PaddedByte;

impl Layout<u8> for PaddedByte {
    fn put(value: &u8, out: &mut Vec<u8>) {
        out.extend_from_slice(&[*value, 0]);
    }
    fn get(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
        let [value, _reserved] = r.array("byte and reserved byte")?;
        Ok(value)
    }
    fn len(_: &u8) -> usize {
        2
    }
}

/// Every byte up to the end of the message, as it is.
pub(crate) struct Rest;

impl Layout<Vec<u8>> for Rest {
    fn put(value: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(value);
    }
    fn get(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
        Ok(r.rest().to_vec())
    }
    fn len(value: &Vec<u8>) -> usize {
        value.len()
    }
}

/// A C string ending the message, kept without its NUL; the NUL must be the last byte.
pub(crate) struct CString;

impl Layout<Vec<u8>> for CString {
    fn put(value: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(value);
        out.push(0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
        match r.rest().split_last() {
            Some((0, text)) => Ok(text.to_vec()),
            _ => Err(DecodeError::Invalid {
                field: "string",
                reason: "missing or not NUL-terminated",
            }),
        }
    }
    fn len(value: &Vec<u8>) -> usize {
        value.len() + 1
    }
}

/// An optional C string ending the message: absent when nothing follows.
pub(crate) struct OptionalCString;

impl Layout<Option<Vec<u8>>> for OptionalCString {
    fn put(value: &Option<Vec<u8>>, out: &mut Vec<u8>) {
        if let Some(text) = value {
            CString::put(text, out);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Option<Vec<u8>>, DecodeError> {
        match r.left() {
            0 => Ok(None),
            _ => CString::get(r).map(Some),
        }
    }
    fn len(value: &Option<Vec<u8>>) -> usize {
        value.as_ref().map_or(0, CString::len)
    }
}

/// A result biased by 2^63 on the wire ([`bias`]).
pub(crate) struct Biased;

impl Layout<i64> for Biased {
    fn put(value: &i64, out: &mut Vec<u8>) {
        bias(*value).encode(out);
    }
    fn get(r: &mut Reader<'_>) -> Result<i64, DecodeError> {
        u64::read(r).map(unbias)
    }
    fn len(_: &i64) -> usize {
        8
    }
}

/// A multicast fragment ending the message, with its own header ([`crate::fragment`]).
pub(crate) struct Nested;

impl Layout<Fragment> for Nested {
    fn put(value: &Fragment, out: &mut Vec<u8>) {
        fragment::encode_nested(value, out);
    }
    fn get(r: &mut Reader<'_>) -> Result<Fragment, DecodeError> {
        fragment::read_nested(r)
    }
    fn len(value: &Fragment) -> usize {
        value.wire_size()
    }
}

/// A message type from its field list: the struct (fields in wire order), its [`Codec`]
/// (each field through its layout — [`Plain`] unless `=> Layout` follows the type), its
/// [`Message`](gnunet_service::wire::Message) type number, and
/// [`Operation::op_id`](super::Operation::op_id) from the field path given. An optional
/// `reserved N;` before the fields stands for N zero bytes right after the header.
macro_rules! wire_message {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $type:expr, op_id: $($op:ident).+ {
            $(reserved $reserved:literal;)?
            $(
                $(#[$fmeta:meta])*
                pub $field:ident: $fty:ty $(=> $layout:ty)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $fty,)*
        }

        impl gnunet_service::wire::Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                $(out.extend_from_slice(&[0u8; $reserved]);)?
                $(<wire_message!(@layout $($layout)?) as $crate::msg::layout::Layout<$fty>>::put(
                    &self.$field, out,
                );)*
            }

            fn read(
                r: &mut gnunet_service::wire::Reader<'_>,
            ) -> Result<Self, gnunet_service::wire::DecodeError> {
                $(r.take($reserved, "reserved")?;)?
                Ok(Self {
                    $($field: <wire_message!(@layout $($layout)?)
                        as $crate::msg::layout::Layout<$fty>>::get(r)?,)*
                })
            }

            fn encoded_len(&self) -> usize {
                0 $(+ $reserved)?
                    $(+ <wire_message!(@layout $($layout)?)
                        as $crate::msg::layout::Layout<$fty>>::len(&self.$field))*
            }
        }

        impl gnunet_service::wire::Message for $name {
            const TYPE: u16 = $type;
        }

        impl $crate::msg::Operation for $name {
            fn op_id(&self) -> u64 {
                self.$($op).+
            }

            fn set_op_id(&mut self, op_id: u64) {
                self.$($op).+ = op_id;
            }
        }
    };
    (@layout) => { $crate::msg::layout::Plain };
    (@layout $layout:ty) => { $layout };
}

pub(crate) use wire_message;
