//! GNUnet's IPC message format: the 4-byte header, the [`Codec`] trait every wire type
//! implements, layouts declared once with [`wire_layout!`](crate::wire_layout), the
//! [`DispatchError`] of decoders over many message types, and a stream [`Framer`].
//!
//! Every multi-byte integer on GNUnet's wire is big-endian and structs are packed, unless a
//! message's own module says otherwise (the 2019 originals have a few host-order quirks).

mod codec;
mod dispatch;
mod framer;
mod header;
mod layout;

pub use codec::{body_reader, Codec, DecodeError, Message, Reader, TooLarge};
pub use dispatch::DispatchError;
pub use framer::{FrameError, Framer, RawMessage};
pub use header::{MessageHeader, HEADER_SIZE, MAX_MESSAGE_SIZE};
pub use layout::{
    check_nested, CString, FieldCodec, LittleEndian, Nested, NestedAnyType, OffsetBinary, Rest,
    TrailingMessage,
};
