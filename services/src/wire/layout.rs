//! A message layout written down once: [`wire_layout!`](crate::wire_layout) derives a
//! [`Codec`] from the order of a struct's fields on the wire, and [`FieldCodec`] adapters carry
//! the fields whose wire form is not their type's own (host byte order, a payload running to
//! the end, a nested message, a C string, an offset-binary integer).
//! [`header_only_message!`](crate::header_only_message) declares the messages that are nothing
//! but their header.
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
        let (msg_type, body) = read_nested_body(r, what)?;
        if msg_type != M::TYPE {
            return Err(DecodeError::Invalid {
                field: what,
                reason: "nested message of another type",
            });
        }
        M::decode_exact(body)
    }
    fn field_len(value: &M) -> usize {
        HEADER_SIZE + value.encoded_len()
    }
}

/// Like [`Nested`], but the nested header's type is not checked on receipt (it is written as
/// `M::TYPE`): how C code reads a nested message when it trusts the outer type alone.
#[derive(Debug)]
pub enum NestedAnyType {}

impl<M: Message> FieldCodec<M> for NestedAnyType {
    fn encode_field(value: &M, out: &mut Vec<u8>) {
        Nested::encode_field(value, out);
    }
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<M, DecodeError> {
        let (_any_type, body) = read_nested_body(r, what)?;
        M::decode_exact(body)
    }
    fn field_len(value: &M) -> usize {
        <Nested as FieldCodec<M>>::field_len(value)
    }
}

/// Reads a nested message's header and the body its size field bounds: the type and the body.
fn read_nested_body<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<(u16, &'a [u8]), DecodeError> {
    let header = MessageHeader::read(r)?;
    let body = (header.size as usize)
        .checked_sub(HEADER_SIZE)
        .ok_or(DecodeError::Invalid {
            field: what,
            reason: "nested size smaller than a message header",
        })?;
    Ok((header.msg_type, r.take(body, what)?))
}

/// A NUL-terminated C string that ends the message, kept without that last NUL. The NUL must
/// be the last byte (an empty string is the NUL alone); bytes before it are kept as sent, inner
/// NULs included ([`CString::as_c_reads`] gives what C code sees). The `Option` form is absent
/// when nothing is left.
#[derive(Debug)]
pub enum CString {}

impl CString {
    /// What C code reads as the string: `bytes` up to the first NUL (all of it if none).
    pub fn as_c_reads(bytes: &[u8]) -> &[u8] {
        bytes.split(|&b| b == 0).next().unwrap_or(bytes)
    }

    /// Reads a UTF-8 string of exactly `len` bytes, its only NUL the last one: the strings
    /// whose length (NUL included) a message states in a field of its own (IDENTITY names,
    /// NAMESTORE labels).
    pub fn read_sized(
        r: &mut Reader<'_>,
        len: usize,
        what: &'static str,
    ) -> Result<String, DecodeError> {
        let invalid = |reason| DecodeError::Invalid {
            field: what,
            reason,
        };
        let Some((&0, text)) = r.take(len, what)?.split_last() else {
            return Err(invalid("not NUL-terminated"));
        };
        if text.contains(&0) {
            return Err(invalid("NUL inside"));
        }
        String::from_utf8(text.to_vec()).map_err(|_| invalid("not UTF-8"))
    }

    /// Writes `text` and its terminating NUL: the counterpart of
    /// [`read_sized`](Self::read_sized), `text.len() + 1` bytes.
    pub fn put(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(text.as_bytes());
        out.push(0);
    }
}

impl FieldCodec<Vec<u8>> for CString {
    fn encode_field(value: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(value);
        out.push(0);
    }
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        match r.rest().split_last() {
            Some((0, text)) => Ok(text.to_vec()),
            _ => Err(DecodeError::Invalid {
                field: what,
                reason: "missing or not NUL-terminated",
            }),
        }
    }
    fn field_len(value: &Vec<u8>) -> usize {
        value.len() + 1
    }
}

impl FieldCodec<Option<Vec<u8>>> for CString {
    fn encode_field(value: &Option<Vec<u8>>, out: &mut Vec<u8>) {
        if let Some(text) = value {
            Self::encode_field(text, out);
        }
    }
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Option<Vec<u8>>, DecodeError> {
        match r.left() {
            0 => Ok(None),
            _ => Self::read_field(r, what).map(Some),
        }
    }
    fn field_len(value: &Option<Vec<u8>>) -> usize {
        value.as_ref().map_or(0, |text| text.len() + 1)
    }
}

/// A signed 64-bit integer in offset binary, big-endian: `value − i64::MIN` with wrap-around,
/// i.e. the two's-complement value with its top bit flipped, so that unsigned order is signed
/// order (PSYCstore's RESULT_CODE result).
#[derive(Debug)]
pub enum OffsetBinary {}

impl OffsetBinary {
    /// The wire value of `value`.
    pub const fn to_wire(value: i64) -> u64 {
        (value as u64) ^ (1 << 63)
    }

    /// The value of the wire value `wire`: the inverse of [`to_wire`](Self::to_wire).
    pub const fn from_wire(wire: u64) -> i64 {
        (wire ^ (1 << 63)) as i64
    }
}

impl FieldCodec<i64> for OffsetBinary {
    fn encode_field(value: &i64, out: &mut Vec<u8>) {
        Self::to_wire(*value).encode(out);
    }
    fn read_field(r: &mut Reader<'_>, _what: &'static str) -> Result<i64, DecodeError> {
        u64::read(r).map(Self::from_wire)
    }
    fn field_len(_: &i64) -> usize {
        8
    }
}

/// The required form: a complete message must fill the rest; nothing left is an error.
impl FieldCodec<Vec<u8>> for TrailingMessage {
    fn encode_field(value: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(value);
    }
    fn read_field(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let rest = r.rest();
        check_nested(rest, what)?;
        Ok(rest.to_vec())
    }
    fn field_len(value: &Vec<u8>) -> usize {
        value.len()
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
///   [`LittleEndian`], [`Rest`], [`TrailingMessage`], [`Nested`], [`NestedAnyType`],
///   [`CString`] or [`OffsetBinary`];
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
            #[allow(unused_variables)] // a header-only message writes nothing
            fn encode(&self, out: &mut ::std::vec::Vec<u8>) {
                $($crate::wire_layout!(@encode self out $entry);)*
            }
            #[allow(unused_variables)] // and reads nothing
            fn read(
                r: &mut $crate::wire::Reader<'_>,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                $($crate::wire_layout!(@read r $entry);)*
                ::std::result::Result::Ok(Self { $($field),* })
            }
            fn encoded_len(&self) -> usize {
                0 $(+ $crate::wire_layout!(@len self $entry))*
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

/// Declares a message that is nothing but its 4-byte header: a unit struct with its
/// [`Message`](crate::wire::Message) impl (any body byte is then a decode error).
///
/// ```
/// use gnunet_service::wire::Message;
///
/// gnunet_service::header_only_message!(
///     /// A request that needs no fields.
///     pub Stop = 4242
/// );
/// assert_eq!(Stop.to_message(), [0, 4, 0x10, 0x92]);
/// assert_eq!(Stop::from_message(&[0, 4, 0x10, 0x92]), Ok(Stop));
/// ```
#[macro_export]
macro_rules! header_only_message {
    ($(#[$doc:meta])* $vis:vis $name:ident = $msg_type:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        $vis struct $name;

        $crate::wire_layout! {
            impl Message($msg_type) for $name {}
        }
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
        assert!(<TrailingMessage as FieldCodec<Option<_>>>::read_field(&mut r, "x").is_ok());
        for bad in [&[0, 5, 0, 1][..], &[0, 4, 0, 1, 9], &[0, 4, 0]] {
            assert!(check_nested(bad, "x").is_err(), "{bad:?}");
        }
        assert_eq!(
            TrailingMessage::read_field(&mut Reader::new(&[]), "x"),
            Ok(None)
        );
    }

    #[test]
    fn required_trailing_message_must_be_present() {
        let mut r = Reader::new(&[]);
        assert!(<TrailingMessage as FieldCodec<Vec<u8>>>::read_field(&mut r, "x").is_err());
        let mut r = Reader::new(&[0, 4, 0, 1]);
        assert_eq!(
            <TrailingMessage as FieldCodec<Vec<u8>>>::read_field(&mut r, "x"),
            Ok(vec![0, 4, 0, 1])
        );
    }

    #[test]
    fn nested_any_type_checks_the_size_but_not_the_type() {
        let mut bytes = Vec::new();
        NestedAnyType::encode_field(&Inner { n: 9 }, &mut bytes);
        assert_eq!(bytes, [0, 6, 0, 7, 0, 9]);
        bytes[3] = 8;
        let read = |b: &[u8]| -> Result<Inner, DecodeError> {
            NestedAnyType::read_field(&mut Reader::new(b), "x")
        };
        assert_eq!(read(&bytes), Ok(Inner { n: 9 }));
        assert!(Nested::read_field(&mut Reader::new(&bytes), "x")
            .map(|_: Inner| ())
            .is_err());
        for size in [3, 5, 7] {
            bytes[1] = size;
            assert!(read(&bytes).is_err(), "size {size}");
        }
    }

    #[test]
    fn c_string_must_end_in_its_nul() {
        let read = |b: &[u8]| -> Result<Vec<u8>, DecodeError> {
            CString::read_field(&mut Reader::new(b), "s")
        };
        assert_eq!(read(b"ab\0"), Ok(b"ab".to_vec()));
        assert_eq!(read(b"a\0b\0"), Ok(b"a\0b".to_vec()));
        assert_eq!(read(b"\0"), Ok(vec![]));
        assert!(read(b"").is_err());
        assert!(read(b"ab").is_err());
        let mut out = Vec::new();
        CString::encode_field(&b"ab".to_vec(), &mut out);
        assert_eq!(out, b"ab\0");
        assert_eq!(CString::field_len(&b"ab".to_vec()), 3);

        let read_opt = |b: &[u8]| -> Result<Option<Vec<u8>>, DecodeError> {
            CString::read_field(&mut Reader::new(b), "s")
        };
        assert_eq!(read_opt(b""), Ok(None));
        assert_eq!(read_opt(b"x\0"), Ok(Some(b"x".to_vec())));
        assert!(read_opt(b"x").is_err());
        assert_eq!(CString::field_len(&None::<Vec<u8>>), 0);

        assert_eq!(CString::as_c_reads(b"a\0b"), b"a");
        assert_eq!(CString::as_c_reads(b"ab"), b"ab");
    }

    #[test]
    fn offset_binary_flips_the_top_bit() {
        let wire = |v: i64| OffsetBinary::to_wire(v).to_be_bytes();
        assert_eq!(wire(1), [0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(wire(0), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(wire(-1), [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(wire(i64::MIN), [0; 8]);
        for v in [i64::MIN, -5, 0, 7, i64::MAX] {
            assert_eq!(OffsetBinary::from_wire(OffsetBinary::to_wire(v)), v);
            let mut out = Vec::new();
            OffsetBinary::encode_field(&v, &mut out);
            assert_eq!(OffsetBinary::read_field(&mut Reader::new(&out), "r"), Ok(v));
        }
    }

    crate::header_only_message!(
        /// A test message of header only.
        Bare = 4243
    );

    #[test]
    fn header_only_messages_have_no_body() {
        assert_eq!(Bare.to_message(), [0, 4, 0x10, 0x93]);
        assert_eq!(Bare::from_message(&[0, 4, 0x10, 0x93]), Ok(Bare));
        assert!(Bare::from_message(&[0, 5, 0x10, 0x93, 0]).is_err());
        assert!(Bare::from_message(&[0, 4, 0x10, 0x92]).is_err());
    }
}
