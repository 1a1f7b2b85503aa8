//! Decoding a message whose type is known only from its header: the error a
//! `Request::decode`/`Reply::decode` over many message types returns, the two steps every
//! such decoder takes, and [`message_enum!`](crate::message_enum) that declares one.

use super::codec::{DecodeError, Message};

/// Why bytes could not be decoded as one of the message types a decoder dispatches over. For a
/// client's request, the service drops the client and logs the type and size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// The bytes do not even hold a message header.
    #[error("message shorter than its header ({0} bytes)")]
    NoHeader(usize),
    /// A type the decoder does not carry (unknown, or of the other direction).
    #[error("unexpected message type {msg_type} (size {size})")]
    UnknownType {
        /// The type found.
        msg_type: u16,
        /// The message size.
        size: usize,
    },
    /// A known type with a layout the C peer would reject.
    #[error("malformed message of type {msg_type} (size {size}): {source}")]
    Malformed {
        /// The type found.
        msg_type: u16,
        /// The message size.
        size: usize,
        /// What is wrong.
        source: DecodeError,
    },
}

impl DispatchError {
    /// The type in the header of the complete message `bytes`, or [`DispatchError::NoHeader`].
    pub fn header_type(bytes: &[u8]) -> Result<u16, Self> {
        match bytes {
            [_, _, hi, lo, ..] => Ok(u16::from_be_bytes([*hi, *lo])),
            _ => Err(Self::NoHeader(bytes.len())),
        }
    }

    /// Decodes `bytes` as `M`, a failure wrapped with the message's type and size.
    pub fn decode_as<M: Message>(bytes: &[u8]) -> Result<M, Self> {
        M::from_message(bytes).map_err(|source| Self::Malformed {
            msg_type: M::TYPE,
            size: bytes.len(),
            source,
        })
    }

    /// [`DispatchError::UnknownType`] for the complete message `bytes` of type `msg_type`.
    pub fn unknown(msg_type: u16, bytes: &[u8]) -> Self {
        Self::UnknownType {
            msg_type,
            size: bytes.len(),
        }
    }
}

/// Declares an enum over message types, one variant per type, with `decode` by the type in the
/// header (a type not listed, e.g. one of the other direction, is
/// [`DispatchError::UnknownType`]) and `to_message`. Each variant is named after and documented
/// by its message type.
///
/// ```
/// use gnunet_service::wire::DispatchError;
///
/// gnunet_service::header_only_message!(
///     /// A request that needs no fields.
///     pub Stop = 4242
/// );
/// gnunet_service::message_enum!(
///     /// Every request of a small service.
///     pub Request {
///         Stop(Stop),
///     }
/// );
/// assert_eq!(Request::decode(&[0, 4, 0x10, 0x92]), Ok(Request::Stop(Stop)));
/// assert_eq!(Request::Stop(Stop).to_message(), [0, 4, 0x10, 0x92]);
/// assert!(matches!(
///     Request::decode(&[0, 4, 0, 7]),
///     Err(DispatchError::UnknownType { msg_type: 7, size: 4 })
/// ));
/// ```
#[macro_export]
macro_rules! message_enum {
    ($(#[$doc:meta])* $vis:vis $name:ident { $($variant:ident($ty:ty)),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[allow(missing_docs)] // each variant is named after and documented by its message type
        $vis enum $name {
            $($variant($ty),)*
        }

        impl $name {
            /// Decodes one complete message (header included) by the type in its header.
            pub fn decode(bytes: &[u8]) -> Result<Self, $crate::wire::DispatchError> {
                let msg_type = $crate::wire::DispatchError::header_type(bytes)?;
                $(if msg_type == <$ty as $crate::wire::Message>::TYPE {
                    return $crate::wire::DispatchError::decode_as(bytes).map(Self::$variant);
                })*
                Err($crate::wire::DispatchError::unknown(msg_type, bytes))
            }

            /// The complete message, header included.
            pub fn to_message(&self) -> Vec<u8> {
                match self {
                    $(Self::$variant(m) => $crate::wire::Message::to_message(m),)*
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::header_only_message!(
        /// A test message of header only.
        Ping = 4242
    );

    #[test]
    fn each_step_names_type_and_size() {
        assert_eq!(
            DispatchError::header_type(&[0, 4, 0x10]),
            Err(DispatchError::NoHeader(3))
        );
        assert_eq!(DispatchError::header_type(&[0, 4, 0x10, 0x92]), Ok(4242));
        assert_eq!(DispatchError::decode_as(&[0, 4, 0x10, 0x92]), Ok(Ping));
        assert!(matches!(
            DispatchError::decode_as::<Ping>(&[0, 5, 0x10, 0x92, 0]),
            Err(DispatchError::Malformed {
                msg_type: 4242,
                size: 5,
                ..
            })
        ));
        assert_eq!(
            DispatchError::unknown(7, &[0, 4, 0, 7]),
            DispatchError::UnknownType {
                msg_type: 7,
                size: 4
            }
        );
    }
}
