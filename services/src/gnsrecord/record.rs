//! [`Record`], its [`Flags`], and the serialization of a record set (see the
//! [module docs](super) for the layout).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::is_zone_delegation;
use crate::wire::{Codec, DecodeError, Reader, MAX_MESSAGE_SIZE};

/// Bytes of a serialized record before its data (`struct NetworkRecord`).
pub const RECORD_HEADER_SIZE: usize = 16;

/// `enum GNUNET_GNSRECORD_Flags` (u16 on the wire since LSD0001). Bits this type does not
/// name are kept as they came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u16);

impl Flags {
    /// No flag: a public record with an absolute expiration.
    pub const NONE: Self = Self(0);
    /// `GNUNET_GNSRECORD_RF_CRITICAL`: a resolver that does not understand the type must fail.
    /// NAMESTORE sets it on PKEY/EDKEY records itself when it stores them.
    pub const CRITICAL: Self = Self(1);
    /// `GNUNET_GNSRECORD_RF_SHADOW`: only valid once the other records of its type expired.
    pub const SHADOW: Self = Self(2);
    /// `GNUNET_GNSRECORD_RF_SUPPLEMENTAL`: added by the resolver, not by the zone owner.
    pub const SUPPLEMENTAL: Self = Self(4);
    /// `GNUNET_GNSRECORD_RF_RELATIVE_EXPIRATION`: the expiration is a duration from
    /// publication, not a point in time.
    pub const RELATIVE_EXPIRATION: Self = Self(16384);
    /// `GNUNET_GNSRECORD_RF_PRIVATE`: kept in the local zone, never published to the DHT.
    pub const PRIVATE: Self = Self(32768);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with the bits of `other` added.
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` with the bits of `other` removed.
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.with(rhs)
    }
}

/// When a record expires, as its expiration field and [`Flags::RELATIVE_EXPIRATION`] say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    /// Microseconds since the Unix epoch (`u64::MAX` is GNUnet's "forever").
    Absolute(u64),
    /// A lifetime counted from when the record is published.
    Relative(Duration),
}

/// One GNS record (`struct GNUNET_GNSRECORD_Data`), fields as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// Expiration in microseconds: absolute, or relative with
    /// [`Flags::RELATIVE_EXPIRATION`] (see [`Record::expiration`]).
    pub expiration_time: u64,
    /// The record type (`TYPE_*` in [`super`], or a DNS type).
    pub record_type: u32,
    /// The flags.
    pub flags: Flags,
    /// The record data, at most `u16::MAX` bytes.
    pub data: Vec<u8>,
}

impl Record {
    /// A record that lives `lifetime` from publication (microsecond resolution, saturating);
    /// [`Flags::RELATIVE_EXPIRATION`] is added to `flags`.
    pub fn relative(record_type: u32, data: Vec<u8>, lifetime: Duration, flags: Flags) -> Self {
        Self {
            expiration_time: u64::try_from(lifetime.as_micros()).unwrap_or(u64::MAX),
            record_type,
            flags: flags.with(Flags::RELATIVE_EXPIRATION),
            data,
        }
    }

    /// A record that expires at `at` (microsecond resolution; a time before the epoch counts
    /// as the epoch); [`Flags::RELATIVE_EXPIRATION`] is removed from `flags`. NAMESTORE
    /// drops records that expired already without telling.
    pub fn absolute(record_type: u32, data: Vec<u8>, at: SystemTime, flags: Flags) -> Self {
        let micros = at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        Self {
            expiration_time: micros,
            record_type,
            flags: flags.without(Flags::RELATIVE_EXPIRATION),
            data,
        }
    }

    /// The expiration, read with the flag that says how.
    pub fn expiration(&self) -> Expiration {
        if self.flags.contains(Flags::RELATIVE_EXPIRATION) {
            Expiration::Relative(Duration::from_micros(self.expiration_time))
        } else {
            Expiration::Absolute(self.expiration_time)
        }
    }

    fn encoded_len(&self) -> usize {
        RECORD_HEADER_SIZE + self.data.len()
    }
}

/// Why a record set cannot be serialized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A record's data does not fit the 16-bit size field.
    #[error(
        "record {index} has {size} bytes of data, more than the {} a record holds",
        u16::MAX
    )]
    DataTooLarge {
        /// Position of the record in the set.
        index: usize,
        /// Its data size.
        size: usize,
    },
    /// The set would not fit one GNUnet message.
    #[error("record set of {size} bytes does not fit a GNUnet message")]
    SetTooLarge {
        /// The serialized size (padding included).
        size: usize,
    },
}

/// The serialized size of `records` as libgnunetgnsrecord computes it
/// (`GNUNET_GNSRECORD_records_get_size`): headers and data, rounded up to a power of two
/// unless the first record is a zone delegation; 0 for no records. Saturates instead of
/// overflowing (such sets are refused by [`serialize`]).
pub fn serialized_len(records: &[Record]) -> usize {
    let Some(first) = records.first() else {
        return 0;
    };
    let exact = records
        .iter()
        .fold(0usize, |sum, r| sum.saturating_add(r.encoded_len()));
    if is_zone_delegation(first.record_type) {
        exact
    } else {
        exact.checked_next_power_of_two().unwrap_or(usize::MAX)
    }
}

/// The bytes libgnunetgnsrecord writes for `records` (`GNUNET_GNSRECORD_records_serialize`
/// into a buffer of [`serialized_len`] bytes): each record's header and data, then zeros up
/// to the padded size.
pub fn serialize(records: &[Record]) -> Result<Vec<u8>, RecordError> {
    if let Some((index, r)) = records
        .iter()
        .enumerate()
        .find(|(_, r)| r.data.len() > u16::MAX as usize)
    {
        return Err(RecordError::DataTooLarge {
            index,
            size: r.data.len(),
        });
    }
    let size = serialized_len(records);
    if size > MAX_MESSAGE_SIZE {
        return Err(RecordError::SetTooLarge { size });
    }
    let mut out = Vec::with_capacity(size);
    for r in records {
        r.expiration_time.encode(&mut out);
        (r.data.len() as u16).encode(&mut out);
        r.flags.0.encode(&mut out);
        r.record_type.encode(&mut out);
        out.extend_from_slice(&r.data);
    }
    out.resize(size, 0);
    Ok(out)
}

/// Reads `count` records from the start of `bytes` (`GNUNET_GNSRECORD_records_deserialize`);
/// what follows the last record (padding) is ignored, as C does. A count that `bytes` cannot
/// hold is refused before anything is allocated.
pub fn deserialize(bytes: &[u8], count: usize) -> Result<Vec<Record>, DecodeError> {
    if count > bytes.len() / RECORD_HEADER_SIZE {
        return Err(DecodeError::Invalid {
            field: "record count",
            reason: "more records than the bytes can hold",
        });
    }
    let mut r = Reader::new(bytes);
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let expiration_time = u64::read(&mut r)?;
        let data_size = u16::read(&mut r)?;
        let flags = Flags(u16::read(&mut r)?);
        let record_type = u32::read(&mut r)?;
        let data = r.take(data_size as usize, "record data")?.to_vec();
        records.push(Record {
            expiration_time,
            record_type,
            flags,
            data,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::super::{TYPE_EDKEY, TYPE_PKEY, TYPE_PLACE};
    use super::*;
    use gnunet_sys::gnsrecord_oracle::{self, PlainRecord};

    fn plain(records: &[Record]) -> Vec<PlainRecord> {
        records
            .iter()
            .map(|r| (r.expiration_time, r.record_type, r.flags.0, r.data.clone()))
            .collect()
    }

    fn place(relays: usize) -> Record {
        Record::relative(
            TYPE_PLACE,
            (0..68 + 32 * relays).map(|i| i as u8).collect(),
            Duration::from_secs(3600),
            Flags::NONE,
        )
    }

    fn pkey() -> Record {
        Record::absolute(
            TYPE_PKEY,
            vec![9; 32],
            UNIX_EPOCH + Duration::from_secs(2_000_000_000),
            Flags::PRIVATE,
        )
    }

    #[test]
    fn layout_is_the_16_byte_header_then_data() {
        let r = Record {
            expiration_time: 0x0102_0304_0506_0708,
            record_type: TYPE_PLACE,
            flags: Flags::PRIVATE | Flags::RELATIVE_EXPIRATION | Flags::CRITICAL,
            data: vec![0xaa; 3],
        };
        let bytes = serialize(std::slice::from_ref(&r)).unwrap();
        assert_eq!(
            &bytes[..19],
            &[
                1, 2, 3, 4, 5, 6, 7, 8, // expiration
                0, 3, // data size
                0xc0, 0x01, // flags
                0, 1, 0, 6, // type 65542
                0xaa, 0xaa, 0xaa
            ]
        );
        // 19 bytes padded to 32 with zeros.
        assert_eq!(bytes.len(), 32);
        assert!(bytes[19..].iter().all(|&b| b == 0));
        assert_eq!(deserialize(&bytes, 1).unwrap(), vec![r]);
    }

    #[test]
    fn padding_is_to_a_power_of_two_unless_a_delegation_comes_first() {
        assert_eq!(serialized_len(&[]), 0);
        assert_eq!(serialize(&[]).unwrap(), Vec::<u8>::new());
        assert_eq!(serialized_len(&[pkey()]), 48);
        assert_eq!(serialized_len(&[place(0)]), 128); // 84 → 128
        assert_eq!(serialized_len(&[place(1)]), 128); // 116 → 128
        assert_eq!(serialized_len(&[place(2)]), 256); // 148 → 256
        assert_eq!(serialized_len(&[pkey(), place(0)]), 48 + 84);
        assert_eq!(serialized_len(&[place(0), pkey()]), 256);
        let mut edkey = pkey();
        edkey.record_type = TYPE_EDKEY;
        assert_eq!(serialized_len(&[edkey]), 48);
    }

    #[test]
    fn bytes_are_libgnunetgnsrecord_s() {
        let sets: Vec<Vec<Record>> = vec![
            vec![pkey()],
            vec![place(0)],
            vec![place(3), pkey()],
            vec![pkey(), place(2)],
            vec![Record::relative(16, vec![], Duration::ZERO, Flags::SHADOW)],
            (0..5).map(place).collect(),
        ];
        for set in sets {
            let ours = serialize(&set).unwrap();
            let theirs = gnsrecord_oracle::records_serialize(&plain(&set)).unwrap();
            assert_eq!(ours, theirs, "{set:?}");
            let back = gnsrecord_oracle::records_deserialize(&ours, set.len() as u32).unwrap();
            assert_eq!(back, plain(&set));
            assert_eq!(deserialize(&theirs, set.len()).unwrap(), set);
        }
    }

    #[test]
    fn expiration_follows_the_relative_flag() {
        let r = Record::relative(1, vec![], Duration::from_millis(1500), Flags::PRIVATE);
        assert_eq!(r.expiration_time, 1_500_000);
        assert!(r
            .flags
            .contains(Flags::PRIVATE | Flags::RELATIVE_EXPIRATION));
        assert_eq!(
            r.expiration(),
            Expiration::Relative(Duration::from_millis(1500))
        );
        let a = Record::absolute(
            1,
            vec![],
            UNIX_EPOCH + Duration::from_secs(1),
            Flags::RELATIVE_EXPIRATION,
        );
        assert_eq!(a.flags, Flags::NONE);
        assert_eq!(a.expiration(), Expiration::Absolute(1_000_000));
        assert_eq!(
            Record::absolute(1, vec![], UNIX_EPOCH - Duration::from_secs(1), Flags::NONE)
                .expiration_time,
            0
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let bytes = serialize(&[place(1), pkey()]).unwrap();
        // A count the bytes cannot hold is refused before allocating.
        assert!(deserialize(&bytes, usize::MAX).is_err());
        assert!(deserialize(&bytes, bytes.len() / 16 + 1).is_err());
        // Truncated data.
        assert!(deserialize(&bytes[..100], 2).is_err());
        assert!(deserialize(&bytes[..15], 1).is_err());
        // A data size past the end.
        let mut long = bytes.clone();
        long[8] = 0xff;
        assert!(deserialize(&long, 1).is_err());
        // Fewer records than present is fine: the rest counts as padding.
        assert_eq!(deserialize(&bytes, 1).unwrap(), vec![place(1)]);
        assert_eq!(deserialize(&[], 0).unwrap(), vec![]);
        // Oversized data or sets are refused on the way out.
        let huge = Record::relative(1, vec![0; 65536], Duration::ZERO, Flags::NONE);
        assert_eq!(
            serialize(&[pkey(), huge]),
            Err(RecordError::DataTooLarge {
                index: 1,
                size: 65536
            })
        );
        let big = Record::relative(1, vec![0; 40_000], Duration::ZERO, Flags::NONE);
        assert!(matches!(
            serialize(&[big]),
            Err(RecordError::SetTooLarge { size: 65536 })
        ));
    }
}
