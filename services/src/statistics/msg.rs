//! STATISTICS messages (`src/statistics/statistics.h` of GNUnet 0.19.3).

use crate::wire::{Codec, DecodeError, Message, Reader, MAX_MESSAGE_SIZE};

/// `GNUNET_MESSAGE_TYPE_STATISTICS_SET`.
pub const TYPE_SET: u16 = 168;
/// `GNUNET_MESSAGE_TYPE_STATISTICS_GET`.
pub const TYPE_GET: u16 = 169;
/// `GNUNET_MESSAGE_TYPE_STATISTICS_VALUE`.
pub const TYPE_VALUE: u16 = 170;
/// `GNUNET_MESSAGE_TYPE_STATISTICS_END`.
pub const TYPE_END: u16 = 171;

/// How a [`Set`] changes the stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetFlags {
    /// The value is a signed delta, not a new absolute value.
    pub relative: bool,
    /// The service keeps the value across restarts.
    pub persistent: bool,
}

impl SetFlags {
    fn bits(self) -> u32 {
        u32::from(self.relative) | (u32::from(self.persistent) << 1)
    }
    fn from_bits(bits: u32) -> Self {
        Self {
            relative: bits & 1 != 0,
            persistent: bits & 2 != 0,
        }
    }
}

/// Reads the `subsystem\0name\0` pair that ends SET, GET and VALUE.
fn read_names(r: &mut Reader<'_>) -> Result<(String, String), DecodeError> {
    let rest = r.rest();
    let invalid = |reason| DecodeError::Invalid {
        field: "subsystem/name",
        reason,
    };
    let mut parts = rest.split(|b| *b == 0);
    let (Some(sub), Some(name), Some(tail), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("not two NUL-terminated strings"));
    };
    if !tail.is_empty() {
        return Err(invalid("bytes after the name"));
    }
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| invalid("not UTF-8"));
    Ok((s(sub)?, s(name)?))
}

/// `GNUNET_STATISTICS_SetMessage`: set or change one value; no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    /// Relative and/or persistent.
    pub flags: SetFlags,
    /// New value, or (relative) the delta as two's complement.
    pub value: u64,
    /// Subsystem, e.g. `multicast`.
    pub subsystem: String,
    /// Value name, e.g. `# messages forwarded`.
    pub name: String,
}

impl Set {
    /// Adds `delta` (may be negative) to a value.
    pub fn update(subsystem: &str, name: &str, delta: i64) -> Self {
        Self {
            flags: SetFlags {
                relative: true,
                persistent: false,
            },
            value: delta as u64,
            subsystem: subsystem.to_string(),
            name: name.to_string(),
        }
    }

    /// Sets a value.
    pub fn absolute(subsystem: &str, name: &str, value: u64) -> Self {
        Self {
            flags: SetFlags::default(),
            value,
            subsystem: subsystem.to_string(),
            name: name.to_string(),
        }
    }

    /// Whether the names fit one message.
    pub fn fits(&self) -> bool {
        self.encoded_len() + 4 <= MAX_MESSAGE_SIZE
    }
}

impl Codec for Set {
    fn encode(&self, out: &mut Vec<u8>) {
        self.flags.bits().encode(out);
        self.value.encode(out);
        out.extend_from_slice(self.subsystem.as_bytes());
        out.push(0);
        out.extend_from_slice(self.name.as_bytes());
        out.push(0);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let flags = SetFlags::from_bits(u32::read(r)?);
        let value = u64::read(r)?;
        let (subsystem, name) = read_names(r)?;
        Ok(Self {
            flags,
            value,
            subsystem,
            name,
        })
    }
    fn encoded_len(&self) -> usize {
        12 + self.subsystem.len() + 1 + self.name.len() + 1
    }
}

impl Message for Set {
    const TYPE: u16 = TYPE_SET;
}

/// `GET`: ask for values (empty strings match everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Get {
    /// Subsystem filter.
    pub subsystem: String,
    /// Name filter.
    pub name: String,
}

impl Codec for Get {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.subsystem.as_bytes());
        out.push(0);
        out.extend_from_slice(self.name.as_bytes());
        out.push(0);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (subsystem, name) = read_names(r)?;
        Ok(Self { subsystem, name })
    }
    fn encoded_len(&self) -> usize {
        self.subsystem.len() + self.name.len() + 2
    }
}

impl Message for Get {
    const TYPE: u16 = TYPE_GET;
}

/// `GNUNET_STATISTICS_ReplyMessage`: one value in answer to GET (followed by END).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// Watch id; bit 31 marks a persistent value.
    pub uid: u32,
    /// The value.
    pub value: u64,
    /// Subsystem.
    pub subsystem: String,
    /// Name.
    pub name: String,
}

impl Codec for Value {
    fn encode(&self, out: &mut Vec<u8>) {
        self.uid.encode(out);
        self.value.encode(out);
        out.extend_from_slice(self.subsystem.as_bytes());
        out.push(0);
        out.extend_from_slice(self.name.as_bytes());
        out.push(0);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let uid = u32::read(r)?;
        let value = u64::read(r)?;
        let (subsystem, name) = read_names(r)?;
        Ok(Self {
            uid,
            value,
            subsystem,
            name,
        })
    }
    fn encoded_len(&self) -> usize {
        12 + self.subsystem.len() + self.name.len() + 2
    }
}

impl Message for Value {
    const TYPE: u16 = TYPE_VALUE;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_layout_and_round_trip() {
        let s = Set::update("multicast", "# x", -5);
        let bytes = s.to_message();
        assert_eq!(bytes.len(), 4 + 4 + 8 + "multicast".len() + 1 + 3 + 1);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 1]);
        assert_eq!(&bytes[8..16], &(-5i64).to_be_bytes());
        assert_eq!(Set::from_message(&bytes).unwrap(), s);
        let v = Value {
            uid: 1 << 31,
            value: 37,
            subsystem: "a".into(),
            name: "b".into(),
        };
        assert_eq!(Value::from_message(&v.to_message()).unwrap(), v);
        let g = Get {
            subsystem: String::new(),
            name: String::new(),
        };
        assert_eq!(g.to_message(), [0, 6, 0, 169, 0, 0]);
    }

    #[test]
    fn names_must_be_two_terminated_strings() {
        let mut bytes = Set::absolute("a", "b", 1).to_message();
        bytes.pop();
        bytes[1] -= 1;
        assert!(Set::from_message(&bytes).is_err());
        assert!(Get::from_message(&[0, 7, 0, 169, b'a', 0, b'b']).is_err());
        assert!(Get::from_message(&[0, 9, 0, 169, b'a', 0, b'b', 0, 1]).is_err());
    }
}
