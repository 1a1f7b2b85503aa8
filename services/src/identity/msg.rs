//! IDENTITY messages (`src/identity/identity.h` of GNUnet 0.19.3).

use crate::wire::{CString, Codec, DecodeError, Message, Reader};

/// `GNUNET_MESSAGE_TYPE_IDENTITY_START`.
pub const TYPE_START: u16 = 624;
/// `GNUNET_MESSAGE_TYPE_IDENTITY_RESULT_CODE`.
pub const TYPE_RESULT_CODE: u16 = 625;
/// `GNUNET_MESSAGE_TYPE_IDENTITY_UPDATE`.
pub const TYPE_UPDATE: u16 = 626;
/// `GNUNET_MESSAGE_TYPE_IDENTITY_CREATE`.
pub const TYPE_CREATE: u16 = 629;
/// `GNUNET_MESSAGE_TYPE_IDENTITY_RENAME`.
pub const TYPE_RENAME: u16 = 630;
/// `GNUNET_MESSAGE_TYPE_IDENTITY_DELETE`.
pub const TYPE_DELETE: u16 = 631;
/// `GNUNET_MESSAGE_TYPE_IDENTITY_LOOKUP`.
pub const TYPE_LOOKUP: u16 = 632;

/// Length of a private key blob: key type plus 32 key bytes.
pub const PRIVATE_KEY_BLOB_LEN: usize = 36;

/// `START`: subscribe; the service lists every ego, then an end marker, then pushes changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Start;

impl Codec for Start {
    fn encode(&self, _out: &mut Vec<u8>) {}
    fn read(_r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
    fn encoded_len(&self) -> usize {
        0
    }
}

impl Message for Start {
    const TYPE: u16 = TYPE_START;
}

/// `RESULT_CODE`: 0 ok, 200 not found, 201 name conflict, 202 invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultCode {
    /// The code.
    pub code: u32,
}

impl Codec for ResultCode {
    fn encode(&self, out: &mut Vec<u8>) {
        self.code.encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // 0.19 may append an error text; it is informational.
        let code = u32::read(r)?;
        r.rest();
        Ok(Self { code })
    }
    fn encoded_len(&self) -> usize {
        4
    }
}

impl Message for ResultCode {
    const TYPE: u16 = TYPE_RESULT_CODE;
}

/// `UPDATE`: one ego (name and private key blob), a deletion (no name), or the end-of-list
/// marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// Ego name; `None` for the end marker or a deleted ego.
    pub name: Option<String>,
    /// Set on the marker that ends the initial listing.
    pub end_of_list: bool,
    /// The ego's private key blob (empty for the end marker).
    pub key: Vec<u8>,
}

impl Codec for Update {
    fn encode(&self, out: &mut Vec<u8>) {
        let name_len = self.name.as_ref().map_or(0, |n| n.len() + 1);
        (name_len as u16).encode(out);
        u16::from(self.end_of_list).encode(out);
        (self.key.len() as u16).encode(out);
        0u16.encode(out);
        if let Some(n) = &self.name {
            CString::put(out, n);
        }
        out.extend_from_slice(&self.key);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name_len = u16::read(r)? as usize;
        let end_of_list = u16::read(r)? != 0;
        let key_len = u16::read(r)? as usize;
        let _reserved = u16::read(r)?;
        let name = match name_len {
            0 => None,
            n => Some(CString::read_sized(r, n, "ego name")?),
        };
        let key = r.take(key_len, "ego key")?.to_vec();
        Ok(Self {
            name,
            end_of_list,
            key,
        })
    }
    fn encoded_len(&self) -> usize {
        8 + self.name.as_ref().map_or(0, |n| n.len() + 1) + self.key.len()
    }
}

impl Message for Update {
    const TYPE: u16 = TYPE_UPDATE;
}

/// `LOOKUP`: one ego by name (answered by UPDATE, or RESULT_CODE 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The name.
    pub name: String,
}

impl Codec for Lookup {
    fn encode(&self, out: &mut Vec<u8>) {
        CString::put(out, &self.name);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.left();
        Ok(Self {
            name: CString::read_sized(r, n, "lookup name")?,
        })
    }
    fn encoded_len(&self) -> usize {
        self.name.len() + 1
    }
}

impl Message for Lookup {
    const TYPE: u16 = TYPE_LOOKUP;
}

/// `CREATE`: a new ego with a key the client generated; the key blob comes before the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    /// The private key blob.
    pub key: Vec<u8>,
    /// The ego name.
    pub name: String,
}

impl Codec for Create {
    fn encode(&self, out: &mut Vec<u8>) {
        ((self.name.len() + 1) as u16).encode(out);
        (self.key.len() as u16).encode(out);
        out.extend_from_slice(&self.key);
        CString::put(out, &self.name);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name_len = u16::read(r)? as usize;
        let key_len = u16::read(r)? as usize;
        let key = r.take(key_len, "ego key")?.to_vec();
        let name = CString::read_sized(r, name_len, "ego name")?;
        Ok(Self { key, name })
    }
    fn encoded_len(&self) -> usize {
        4 + self.key.len() + self.name.len() + 1
    }
}

impl Message for Create {
    const TYPE: u16 = TYPE_CREATE;
}

/// `RENAME`: gives ego `old_name` the name `new_name` (both lower-cased by the service);
/// answered by RESULT_CODE (0, 200 not found, 201 new name taken), and every monitor gets an
/// UPDATE with the same key and the new name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The ego's current name.
    pub old_name: String,
    /// Its new name.
    pub new_name: String,
}

impl Codec for Rename {
    fn encode(&self, out: &mut Vec<u8>) {
        ((self.old_name.len() + 1) as u16).encode(out);
        ((self.new_name.len() + 1) as u16).encode(out);
        CString::put(out, &self.old_name);
        CString::put(out, &self.new_name);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let old_len = u16::read(r)? as usize;
        let new_len = u16::read(r)? as usize;
        let old_name = CString::read_sized(r, old_len, "old ego name")?;
        let new_name = CString::read_sized(r, new_len, "new ego name")?;
        Ok(Self { old_name, new_name })
    }
    fn encoded_len(&self) -> usize {
        4 + self.old_name.len() + 1 + self.new_name.len() + 1
    }
}

impl Message for Rename {
    const TYPE: u16 = TYPE_RENAME;
}

/// `DELETE`: removes ego `name`; answered by RESULT_CODE (0 or 200 not found), and every
/// monitor gets an UPDATE with the ego's key and no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    /// The ego's name.
    pub name: String,
}

impl Codec for Delete {
    fn encode(&self, out: &mut Vec<u8>) {
        ((self.name.len() + 1) as u16).encode(out);
        0u16.encode(out);
        CString::put(out, &self.name);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name_len = u16::read(r)? as usize;
        // The service drops a client whose reserved word is not zero.
        if u16::read(r)? != 0 {
            return Err(DecodeError::Invalid {
                field: "reserved",
                reason: "not zero",
            });
        }
        let name = CString::read_sized(r, name_len, "ego name")?;
        Ok(Self { name })
    }
    fn encoded_len(&self) -> usize {
        4 + self.name.len() + 1
    }
}

impl Message for Delete {
    const TYPE: u16 = TYPE_DELETE;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_spec() {
        assert_eq!(Start.to_message(), [0, 4, 2, 112]);
        let end = Update {
            name: None,
            end_of_list: true,
            key: vec![],
        };
        assert_eq!(end.to_message(), [0, 12, 2, 114, 0, 0, 0, 1, 0, 0, 0, 0]);
        let mut key = vec![0, 1, 0, 0];
        key.extend([9u8; 32]);
        let c = Create {
            key: key.clone(),
            name: "alice".into(),
        };
        let bytes = c.to_message();
        assert_eq!(bytes.len(), 8 + 36 + 6);
        assert_eq!(&bytes[8..12], &[0, 1, 0, 0]);
        assert_eq!(&bytes[44..], b"alice\0");
        // RenameMessage: header, old_name_len, new_name_len (8 bytes), old name, new name.
        let rn = Rename {
            old_name: "ab".into(),
            new_name: "c".into(),
        };
        assert_eq!(
            rn.to_message(),
            [0, 13, 2, 118, 0, 3, 0, 2, b'a', b'b', 0, b'c', 0]
        );
        // DeleteMessage: header, name_len, reserved (8 bytes), name.
        let d = Delete { name: "ab".into() };
        assert_eq!(d.to_message(), [0, 11, 2, 119, 0, 3, 0, 0, b'a', b'b', 0]);
    }

    #[test]
    fn round_trips_and_bad_strings() {
        let u = Update {
            name: Some("bob".into()),
            end_of_list: false,
            key: vec![1; 36],
        };
        assert_eq!(Update::from_message(&u.to_message()).unwrap(), u);
        let l = Lookup { name: "x".into() };
        assert_eq!(Lookup::from_message(&l.to_message()).unwrap(), l);
        let c = Create {
            key: vec![2; 36],
            name: "n".into(),
        };
        assert_eq!(Create::from_message(&c.to_message()).unwrap(), c);
        assert!(Lookup::from_message(&[0, 6, 2, 120, b'a', b'b']).is_err());
        let rn = Rename {
            old_name: "a".into(),
            new_name: "bc".into(),
        };
        assert_eq!(Rename::from_message(&rn.to_message()).unwrap(), rn);
        let d = Delete { name: "x".into() };
        assert_eq!(Delete::from_message(&d.to_message()).unwrap(), d);
        assert!(Delete::from_message(&[0, 10, 2, 119, 0, 2, 0, 1, b'x', 0]).is_err());
        assert!(Rename::from_message(&[0, 11, 2, 118, 0, 2, 0, 1, b'x', 0, b'y']).is_err());
        assert_eq!(
            ResultCode::from_message(&[0, 8, 2, 113, 0, 0, 0, 200])
                .unwrap()
                .code,
            200
        );
    }
}
