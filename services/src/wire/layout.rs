//! A message layout written down once: [`wire_layout!`](crate::wire_layout) derives a
//! [`Codec`] from the order of a struct's fields on the wire, and [`FieldCodec`] adapters carry
//! the fields whose wire form is not their type's own (host byte order, a payload running to
//! the end, a nested message).
//!
//! Hand-written codecs state every layout three times (`encode`, `read`, `encoded_len`) and
//! tend to restate sizes as numbers; a layout list states it once, and the length follows from
//! the fields.

use super::codec::{Codec, DecodeError, Message, Reader};
use super::header::{MessageHeader, HEADER_SIZE};

/// A field's wire form when it is not its type's own [`Codec`]: the quirks of a layout. Used
/// through `field as Adapter` in [`wire_layout!`](crate::wire_layout).
pub trait FieldCodec<T> {
    /// Appends the wire form of `value`.
    fn encode_field(value: &T, out: &mut Vec<u8>);

    /// Reads the field `what` (its name, for errors).
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<T, DecodeError>;

    /// Length of the wire form of `value`.
    fn field_len(value: &T) -> usize;
}

/// An integer in little-endian order: a field that C code wrote in host order where GNUnet
/// means network order (host order is little-endian on every platform GNUnet runs on).
#[derive(Debug)]
pub enum LittleEndian {}

macro_rules! little_endian {
    ($($t:ty),*) => {$(
        impl FieldCodec<$t> for LittleEndian {
            fn encode_field(value: &$t, out: &mut Vec<u8>) {
                out.extend_from_slice(&value.to_le_bytes());
            }
            fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<$t, DecodeError> {
                Ok(<$t>::from_le_bytes(r.array(what)?))
            }
            fn field_len(_: &$t) -> usize {
                std::mem::size_of::<$t>()
            }
        }
    )*};
}
little_endian!(u16, u32, u64);

/// Raw bytes to the end of the message: a payload whose length is the message's.
#[derive(Debug)]
pub enum Rest {}

impl FieldCodec<Vec<u8>> for Rest {
    fn encode_field(value: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(value);
    }
    fn read_field(r: &mut Reader<'_>, _what: &'static str) -> Result<Vec<u8>, DecodeError> {
        Ok(r.rest().to_vec())
    }
    fn field_len(value: &Vec<u8>) -> usize {
        value.len()
    }
}

/// An optional complete GNUnet message (its own header included) that fills the rest of the
/// input exactly; absent when nothing is left. Kept as bytes: the outer message does not
/// interpret it (join messages, replayed fragments).
#[derive(Debug)]
pub enum TrailingMessage {}

impl FieldCodec<Option<Vec<u8>>> for TrailingMessage {
    fn encode_field(value: &Option<Vec<u8>>, out: &mut Vec<u8>) {
        if let Some(m) = value {
            out.extend_from_slice(m);
        }
    }
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Option<Vec<u8>>, DecodeError> {
        if r.left() == 0 {
            return Ok(None);
        }
        let rest = r.rest();
        check_nested(rest, what)?;
        Ok(Some(rest.to_vec()))
    }
    fn field_len(value: &Option<Vec<u8>>) -> usize {
        value.as_ref().map_or(0, Vec::len)
    }
}

/// A [`Message`] nested inside another, header included, decoded as its own type: the
/// header's size bounds it, its type must be `M::TYPE`.
#[derive(Debug)]
pub enum Nested {}

impl<M: Message> FieldCodec<M> for Nested {
    fn encode_field(value: &M, out: &mut Vec<u8>) {
        // The outer message is larger, so its own size check (`to_message`) covers this one.
        MessageHeader {
            size: Self::field_len(value).min(u16::MAX as usize) as u16,
            msg_type: M::TYPE,
        }
        .encode(out);
        value.encode(out);
    }
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<M, DecodeError> {
        let header = MessageHeader::read(r)?;
        if header.msg_type != M::TYPE {
            return Err(DecodeError::Invalid {
                field: what,
                reason: "nested message of another type",
            });
        }
        let body = (header.size as usize)
            .checked_sub(HEADER_SIZE)
            .ok_or(DecodeError::Invalid {
                field: what,
                reason: "nested size smaller than a message header",
            })?;
        M::decode_exact(r.take(body, what)?)
    }
    fn field_len(value: &M) -> usize {
        HEADER_SIZE + value.encoded_len()
    }
}

/// Checks that `bytes` (the field `what`) is exactly one GNUnet message: its header's size is
/// its length.
pub fn check_nested(bytes: &[u8], what: &'static str) -> Result<(), DecodeError> {
    let declared = match bytes {
        [hi, lo, _, _, ..] => u16::from_be_bytes([*hi, *lo]) as usize,
        _ => {
            return Err(DecodeError::Invalid {
                field: what,
                reason: "shorter than a message header",
            })
        }
    };
    if declared != bytes.len() {
        return Err(DecodeError::Invalid {
            field: what,
            reason: "nested message size does not fill the rest",
        });
    }
    Ok(())
}

/// Implements [`Codec`](crate::wire::Codec) (and, in the second form,
/// [`Message`](crate::wire::Message)) for a struct from its layout: the fields in wire order.
///
/// ```
/// use gnunet_service::wire::{Codec, LittleEndian, Message, Rest};
///
/// #[derive(Debug, PartialEq)]
/// struct Example {
///     id: u64,
///     generation: u64,
///     body: Vec<u8>,
/// }
///
/// gnunet_service::wire_layout! {
///     impl Message(4242) for Example {
///         id,
///         padding(4),
///         generation as LittleEndian,
///         body as Rest,
///     }
/// }
///
/// let e = Example { id: 1, generation: 2, body: b"hi".to_vec() };
/// let bytes = e.to_message();
/// assert_eq!(bytes.len(), 4 + 8 + 4 + 8 + 2);
/// assert_eq!(Example::from_message(&bytes), Ok(e));
/// ```
///
/// Entries, separated by commas:
/// - `field`: the field in its type's own [`Codec`](crate::wire::Codec) form;
/// - `field as Adapter`: the field in the form of a [`FieldCodec`] adapter such as
///   [`LittleEndian`], [`Rest`], [`TrailingMessage`] or [`Nested`];
/// - `padding(n)`: `n` bytes that belong to no field (C compiler padding, a reserved word),
///   written as zeros and skipped when read.
///
/// `encoded_len` is the sum of the entries, so no size is restated by hand. Every field must
/// be listed, in wire order; the struct literal the macro builds fails to compile otherwise.
#[macro_export]
macro_rules! wire_layout {
    (impl Codec for $ty:ty { $($layout:tt)* }) => {
        $crate::wire_layout!(@parse [$ty] [] [] $($layout)*);
    };
    (impl Message($msg_type:expr) for $ty:ty { $($layout:tt)* }) => {
        $crate::wire_layout!(@parse [$ty] [] [] $($layout)*);
        impl $crate::wire::Message for $ty {
            const TYPE: u16 = $msg_type;
        }
    };

    // Parsing: entries are collected as `(kind ...)` groups, field names on their own.
    (@parse [$ty:ty] [$($entry:tt)*] [$($field:ident)*]) => {
        $crate::wire_layout!(@impl [$ty] [$($entry)*] [$($field)*]);
    };
    (@parse [$ty:ty] [$($entry:tt)*] [$($field:ident)*]
        padding($n:expr) $(, $($rest:tt)*)?) => {
        $crate::wire_layout!(@parse [$ty] [$($entry)* (pad $n)] [$($field)*] $($($rest)*)?);
    };
    (@parse [$ty:ty] [$($entry:tt)*] [$($field:ident)*]
        $name:ident as $adapter:ty $(, $($rest:tt)*)?) => {
        $crate::wire_layout!(
            @parse [$ty] [$($entry)* (adapt $name $adapter)] [$($field)* $name] $($($rest)*)?
        );
    };
    (@parse [$ty:ty] [$($entry:tt)*] [$($field:ident)*] $name:ident $(, $($rest:tt)*)?) => {
        $crate::wire_layout!(
            @parse [$ty] [$($entry)* (codec $name)] [$($field)* $name] $($($rest)*)?
        );
    };

    (@impl [$ty:ty] [$($entry:tt)*] [$($field:ident)*]) => {
        impl $crate::wire::Codec for $ty {
            fn encode(&self, out: &mut ::std::vec::Vec<u8>) {
                $($crate::wire_layout!(@encode self out $entry);)*
            }
            fn read(
                r: &mut $crate::wire::Reader<'_>,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                $($crate::wire_layout!(@read r $entry);)*
                ::std::result::Result::Ok(Self { $($field),* })
            }
            fn encoded_len(&self) -> usize {
                let mut len = 0;
                $(len += $crate::wire_layout!(@len self $entry);)*
                len
            }
        }
    };

    (@encode $s:tt $out:ident (pad $n:expr)) => {
        $out.extend_from_slice(&[0u8; $n]);
    };
    (@encode $s:tt $out:ident (codec $name:ident)) => {
        $crate::wire::Codec::encode(&$s.$name, $out);
    };
    (@encode $s:tt $out:ident (adapt $name:ident $adapter:ty)) => {
        <$adapter as $crate::wire::FieldCodec<_>>::encode_field(&$s.$name, $out);
    };

    (@read $r:ident (pad $n:expr)) => {
        $r.take($n, "padding")?;
    };
    (@read $r:ident (codec $name:ident)) => {
        let $name = $crate::wire::Codec::read($r)?;
    };
    (@read $r:ident (adapt $name:ident $adapter:ty)) => {
        let $name =
            <$adapter as $crate::wire::FieldCodec<_>>::read_field($r, stringify!($name))?;
    };

    (@len $s:tt (pad $n:expr)) => {
        $n
    };
    (@len $s:tt (codec $name:ident)) => {
        $crate::wire::Codec::encoded_len(&$s.$name)
    };
    (@len $s:tt (adapt $name:ident $adapter:ty)) => {
        <$adapter as $crate::wire::FieldCodec<_>>::field_len(&$s.$name)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Inner {
        n: u16,
    }
    crate::wire_layout! {
        impl Message(7) for Inner { n }
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Outer {
        counter: u32,
        generation: u64,
        inner: Inner,
        tail: Option<Vec<u8>>,
    }
    crate::wire_layout! {
        impl Message(4242) for Outer {
            padding(2),
            counter,
            generation as LittleEndian,
            inner as Nested,
            tail as TrailingMessage,
        }
    }

    fn outer(tail: Option<Vec<u8>>) -> Outer {
        Outer {
            counter: 0x0102_0304,
            generation: 0x0506,
            inner: Inner { n: 0x0708 },
            tail,
        }
    }

    #[test]
    fn layout_lists_the_wire_order_and_sizes_follow_from_it() {
        let o = outer(Some(vec![0, 5, 0, 1, 9]));
        let bytes = o.to_message();
        let mut expect = vec![0, 29, 0x10, 0x92, 0, 0, 1, 2, 3, 4];
        expect.extend_from_slice(&0x0506u64.to_le_bytes());
        expect.extend_from_slice(&[0, 6, 0, 7, 7, 8]);
        expect.extend_from_slice(&[0, 5, 0, 1, 9]);
        assert_eq!(bytes, expect);
        assert_eq!(o.encoded_len() + HEADER_SIZE, bytes.len());
        assert_eq!(Outer::from_message(&bytes), Ok(o));
        let bare = outer(None);
        assert_eq!(Outer::from_message(&bare.to_message()), Ok(bare));
    }

    #[test]
    fn padding_is_ignored_but_nested_sizes_and_types_are_checked() {
        let good = outer(None).to_message();
        let mut dirty = good.clone();
        dirty[4] = 0xff;
        assert_eq!(Outer::from_message(&dirty), Ok(outer(None)));
        for (at, value) in [(19, 5), (19, 3), (21, 8)] {
            let mut bad = good.clone();
            bad[at] = value;
            assert!(Outer::from_message(&bad).is_err(), "byte {at} = {value}");
        }
    }

    #[test]
    fn trailing_message_must_fill_the_rest() {
        let mut r = Reader::new(&[0, 4, 0, 1]);
        assert!(TrailingMessage::read_field(&mut r, "x").is_ok());
        for bad in [&[0, 5, 0, 1][..], &[0, 4, 0, 1, 9], &[0, 4, 0]] {
            assert!(check_nested(bad, "x").is_err(), "{bad:?}");
        }
        assert_eq!(
            TrailingMessage::read_field(&mut Reader::new(&[]), "x"),
            Ok(None)
        );
    }
}
