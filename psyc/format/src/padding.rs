//! The padding part (type 690): size padding between psyc services of this implementation.
//!
//! # Wire form
//!
//! A padding part is a GNUnet message header (size, type 690, big-endian) followed by
//! `size − 4` zero bytes: `[size_hi, size_lo, 0x02, 0xb2, 0, 0, …]`. Type 690 lies in the
//! PSYC range (680–705) and is unused in GNUnet 0.19's `gnunet_protocols.h` (and in the 2019
//! original). A padded payload is the message's own parts followed by exactly **one** padding
//! part, which ends the payload: no part follows it, and nothing but zeros is inside it. The
//! sender appends it to
//!
//! - the parts of a multicast MESSAGE fragment (master → channel) and of a multicast REQUEST
//!   fragment (slave → master),
//! - the parts of a join message (slave → master, inside multicast's JOIN_REQUEST) and of a
//!   join response (master → slave, inside multicast's JOIN_DECISION), both type-691
//!   containers (a padding-only container stands for "no message" when the scheme pads),
//!
//! so that the whole multicast message on the CADET channel has the size of a class of the
//! padding scheme. Fragments are stored in psycstore as signed, with their padding (the
//! multicast signature covers it, so replays of them stay verifiable and keep their size).
//!
//! # Who sees it
//!
//! The receiving psyc service removes the padding ([`strip`], [`strip_container`]) before
//! anything else looks at the parts: before the part check, before live delivery, history
//! results, join requests and decisions reach its clients, and before its catch-up and
//! history logic look at stored fragments. psycstore ignores a trailing padding part when it
//! reads the state modifiers of a stored message. So **clients never see padding** — C clients
//! of the 2019 library included. **C multicast peers relay padded fragments opaquely** (they
//! never look inside a payload). **A C psyc service would not understand it**: it would take
//! a padded fragment as malformed, so padding is for channels whose psyc services are all of
//! this implementation; with padding off (`[secushare] PADDING = none`, the `convenient`
//! level) nothing is added and C psyc peers take part as before.

use crate::parts::PART_HEADER_SIZE;

/// Part type of padding. Unused in GNUnet 0.19 (`GNUNET_MESSAGE_TYPE_PSYC_*` skips 690).
pub const TYPE_PADDING: u16 = 690;

/// The smallest padding part: its header alone.
pub const MIN_PADDING: usize = PART_HEADER_SIZE;

/// The largest padding part (its size field is 16 bits).
pub const MAX_PADDING: usize = u16::MAX as usize;

/// Why a payload's padding is not well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaddingError {
    /// A part follows the padding part.
    #[error("padding part at offset {offset} is not the last part")]
    NotLast {
        /// Offset of the padding part in the payload.
        offset: usize,
    },
    /// The padding part holds a byte other than zero.
    #[error("padding part at offset {offset} holds non-zero bytes")]
    NotZero {
        /// Offset of the padding part in the payload.
        offset: usize,
    },
}

/// Appends a padding part of exactly `len` bytes (header included) to `parts`. Returns
/// `false` and appends nothing when `len` is outside [`MIN_PADDING`]..=[`MAX_PADDING`].
pub fn append(parts: &mut Vec<u8>, len: usize) -> bool {
    let Ok(size) = u16::try_from(len) else {
        return false;
    };
    if len < MIN_PADDING {
        return false;
    }
    parts.extend_from_slice(&size.to_be_bytes());
    parts.extend_from_slice(&TYPE_PADDING.to_be_bytes());
    parts.resize(parts.len() + len - PART_HEADER_SIZE, 0);
    true
}

/// The parts of `payload` before its padding: `payload` itself when it has no padding part,
/// else everything before the padding part, which must be the last part and all zeros.
///
/// Only the part headers are walked (sizes and types). A malformed header (size below 4, or
/// a part that overruns the payload) ends the walk with `payload` returned as it is, so the
/// caller's part check reports it as it would without padding.
pub fn strip(payload: &[u8]) -> Result<&[u8], PaddingError> {
    let mut offset = 0;
    while let Some(header) = payload.get(offset..offset + PART_HEADER_SIZE) {
        let size = usize::from(u16::from_be_bytes([header[0], header[1]]));
        let part_type = u16::from_be_bytes([header[2], header[3]]);
        let Some(end) = offset.checked_add(size).filter(|&e| e <= payload.len()) else {
            return Ok(payload);
        };
        if size < PART_HEADER_SIZE {
            return Ok(payload);
        }
        if part_type == TYPE_PADDING {
            if end != payload.len() {
                return Err(PaddingError::NotLast { offset });
            }
            if payload[offset + PART_HEADER_SIZE..end]
                .iter()
                .any(|&b| b != 0)
            {
                return Err(PaddingError::NotZero { offset });
            }
            return Ok(&payload[..offset]);
        }
        offset = end;
    }
    Ok(payload)
}

/// A type-691 container (a complete GNUnet message: join message or join response) without
/// its padding: `Ok(None)` when nothing but padding was in it (the sender padded "no
/// message"), `Ok(Some(container))` with the header's size fixed otherwise. A message whose
/// header does not span it exactly is returned unchanged, for the caller's checks to refuse.
pub fn strip_container(msg: &[u8]) -> Result<Option<Vec<u8>>, PaddingError> {
    let declared = msg
        .get(..2)
        .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])));
    if declared != Some(msg.len()) || msg.len() < PART_HEADER_SIZE {
        return Ok(Some(msg.to_vec()));
    }
    let parts = strip(&msg[PART_HEADER_SIZE..])?;
    if parts.is_empty() && msg.len() > PART_HEADER_SIZE {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(PART_HEADER_SIZE + parts.len());
    out.extend_from_slice(&msg[..PART_HEADER_SIZE]);
    out.extend_from_slice(parts);
    let size = u16::try_from(out.len()).unwrap_or(u16::MAX);
    out[..2].copy_from_slice(&size.to_be_bytes());
    Ok(Some(out))
}

/// Appends a padding part of `len` bytes to a container (a complete GNUnet message) and fixes
/// its header's size. `false` (nothing changed) when `len` is out of range or the result
/// would not fit a GNUnet message.
pub fn pad_container(msg: &mut Vec<u8>, len: usize) -> bool {
    let Ok(size) = u16::try_from(msg.len().saturating_add(len)) else {
        return false;
    };
    if msg.len() < PART_HEADER_SIZE || !append(msg, len) {
        return false;
    }
    msg[..2].copy_from_slice(&size.to_be_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::check_parts;
    use crate::parts::Part;

    fn parts() -> Vec<u8> {
        let mut p = Vec::new();
        Part::Data(b"hello".as_slice().into()).emit(&mut p);
        Part::End.emit(&mut p);
        p
    }

    /// Oracle: the installed GNUnet 0.19 header defines no message type 690 (it has a
    /// `/* 690 */` gap between 689 and 691), so the padding part collides with nothing.
    #[test]
    fn type_690_is_unused_in_the_installed_gnunet_headers() {
        let Ok(header) = std::fs::read_to_string("/usr/include/gnunet/gnunet_protocols.h") else {
            eprintln!("SKIPPED: no /usr/include/gnunet/gnunet_protocols.h");
            return;
        };
        let defines = |n: u16| {
            header.lines().any(|l| {
                let mut w = l.split_whitespace();
                w.next() == Some("#define")
                    && w.next()
                        .is_some_and(|name| name.starts_with("GNUNET_MESSAGE_TYPE_"))
                    && w.next() == Some(n.to_string().as_str())
            })
        };
        assert!(
            defines(689) && defines(691),
            "the header is the one expected"
        );
        assert!(!defines(TYPE_PADDING));
    }

    #[test]
    fn padding_part_layout() {
        let mut out = Vec::new();
        assert!(append(&mut out, 9));
        assert_eq!(out, [0, 9, 0x02, 0xb2, 0, 0, 0, 0, 0]);
        assert!(append(&mut Vec::new(), MIN_PADDING));
        assert!(append(&mut Vec::new(), MAX_PADDING));
        let mut none = vec![1];
        assert!(!append(&mut none, 3));
        assert!(!append(&mut none, MAX_PADDING + 1));
        assert_eq!(none, [1]);
    }

    #[test]
    fn strip_round_trips_every_length() {
        let p = parts();
        assert_eq!(strip(&p), Ok(p.as_slice()));
        assert_eq!(strip(&[]), Ok([].as_slice()));
        for len in [4, 5, 100, 4000, MAX_PADDING] {
            let mut padded = p.clone();
            assert!(append(&mut padded, len));
            assert_eq!(padded.len(), p.len() + len);
            assert_eq!(strip(&padded), Ok(p.as_slice()), "{len}");
            check_parts(strip(&padded).unwrap()).unwrap();
        }
    }

    #[test]
    fn strip_refuses_padding_inside_or_with_content() {
        let mut inside = Vec::new();
        append(&mut inside, 8);
        inside.extend_from_slice(&parts());
        assert_eq!(strip(&inside), Err(PaddingError::NotLast { offset: 0 }));
        let mut dirty = parts();
        append(&mut dirty, 8);
        *dirty.last_mut().unwrap() = 1;
        let at = parts().len();
        assert_eq!(strip(&dirty), Err(PaddingError::NotZero { offset: at }));
        // Malformed headers are left to the part check.
        let truncated = [0, 40, 0x02, 0xb2, 0];
        assert_eq!(strip(&truncated), Ok(truncated.as_slice()));
        let tiny = [0, 2, 0x02, 0xb2];
        assert_eq!(strip(&tiny), Ok(tiny.as_slice()));
    }

    #[test]
    fn containers_pad_and_strip() {
        let mut msg = vec![0, 0, 0x02, 0xb3];
        msg.extend_from_slice(&parts());
        let n = msg.len() as u16;
        msg[..2].copy_from_slice(&n.to_be_bytes());
        let plain = msg.clone();
        assert!(pad_container(&mut msg, 50));
        assert_eq!(msg.len(), plain.len() + 50);
        assert_eq!(&msg[..2], &((plain.len() + 50) as u16).to_be_bytes());
        assert_eq!(strip_container(&msg), Ok(Some(plain.clone())));
        assert_eq!(strip_container(&plain), Ok(Some(plain.clone())));
        // Padding alone stands for "no message".
        let mut empty = vec![0, 4, 0x02, 0xb3];
        assert!(pad_container(&mut empty, 12));
        assert_eq!(strip_container(&empty), Ok(None));
        // A bare header stays what it is.
        assert_eq!(
            strip_container(&[0, 4, 0x02, 0xb3]),
            Ok(Some(vec![0, 4, 0x02, 0xb3]))
        );
        assert!(!pad_container(&mut vec![0, 4, 0x02, 0xb3], 65_533));
    }
}
