//! `struct GNUNET_CRYPTO_EccSignaturePurpose`: the 8-byte header in front of everything GNUnet
//! signs.
//!
//! `size` (u32 BE) counts the header itself plus the data after it, `purpose` (u32 BE) is a
//! number from `gnunet_signatures.h`. A signature covers exactly those `size` bytes, header
//! included, so one signature can never be replayed for another purpose. Verifiers compare the
//! purpose number they expect before they look at the signature.

use crate::wire::{Codec, DecodeError, Reader};

/// Size of the purpose header in bytes.
pub const HEADER_SIZE: usize = 8;

/// The purpose header: how many bytes are signed and what for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignaturePurpose {
    /// Bytes covered by the signature, these 8 included.
    pub size: u32,
    /// What the signature is for (`GNUNET_SIGNATURE_PURPOSE_*`).
    pub purpose: u32,
}

impl Codec for SignaturePurpose {
    fn encode(&self, out: &mut Vec<u8>) {
        self.size.encode(out);
        self.purpose.encode(out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            size: u32::read(r)?,
            purpose: u32::read(r)?,
        })
    }
    fn encoded_len(&self) -> usize {
        HEADER_SIZE
    }
}

/// Why bytes are not a usable signed block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurposeError {
    /// Fewer than 8 bytes: no purpose header.
    #[error("signed block of {0} bytes has no purpose header")]
    NoHeader(usize),
    /// The header's `size` is smaller than the header itself.
    #[error("purpose size {0} is smaller than the 8-byte header")]
    SizeTooSmall(u32),
    /// The header's `size` reaches past the bytes given.
    #[error("purpose size {size} exceeds the {available} bytes given")]
    SizeBeyondBlock {
        /// `size` from the header.
        size: u32,
        /// Bytes actually present.
        available: usize,
    },
    /// The data is too long for a u32 `size`.
    #[error("{0} bytes of data do not fit a signature purpose")]
    TooLarge(usize),
    /// The block is signed for another purpose than the verifier expects.
    #[error("expected signature purpose {expected}, block has {got}")]
    WrongPurpose {
        /// Purpose the verifier wants.
        expected: u32,
        /// Purpose in the block.
        got: u32,
    },
}

/// The block to sign: purpose header (`size` = 8 + data length) followed by `data`.
pub fn signed_block(purpose: u32, data: &[u8]) -> Result<Vec<u8>, PurposeError> {
    let size = data
        .len()
        .checked_add(HEADER_SIZE)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(PurposeError::TooLarge(data.len()))?;
    let mut out = Vec::with_capacity(size as usize);
    SignaturePurpose { size, purpose }.encode(&mut out);
    out.extend_from_slice(data);
    Ok(out)
}

/// Reads the header at the start of `block` and returns it with the bytes a signature covers:
/// the first `size` bytes of `block` (what follows them is not signed).
pub fn signed_bytes(block: &[u8]) -> Result<(SignaturePurpose, &[u8]), PurposeError> {
    let header = SignaturePurpose::read(&mut Reader::new(block))
        .map_err(|_| PurposeError::NoHeader(block.len()))?;
    let size = header.size as usize;
    if size < HEADER_SIZE {
        return Err(PurposeError::SizeTooSmall(header.size));
    }
    let signed = block.get(..size).ok_or(PurposeError::SizeBeyondBlock {
        size: header.size,
        available: block.len(),
    })?;
    Ok((header, signed))
}

/// Like [`signed_bytes`], but first checks that `block` is signed for `expected` — the check
/// every GNUnet verifier makes before it looks at the signature.
pub fn check_purpose(expected: u32, block: &[u8]) -> Result<&[u8], PurposeError> {
    let (header, signed) = signed_bytes(block)?;
    if header.purpose != expected {
        return Err(PurposeError::WrongPurpose {
            expected,
            got: header.purpose,
        });
    }
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_c() {
        assert_eq!(
            std::mem::size_of::<gnunet_sys::GNUNET_CRYPTO_EccSignaturePurpose>(),
            HEADER_SIZE
        );
        let p = SignaturePurpose {
            size: 0x0102_0304,
            purpose: 0x0506_0708,
        };
        assert_eq!(p.to_vec(), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(SignaturePurpose::decode_exact(&p.to_vec()), Ok(p));
    }

    #[test]
    fn signed_block_counts_header_and_data() {
        let block = signed_block(7, b"abc").unwrap();
        assert_eq!(block, [0, 0, 0, 11, 0, 0, 0, 7, b'a', b'b', b'c']);
        assert_eq!(check_purpose(7, &block), Ok(&block[..]));
    }

    #[test]
    fn verifier_checks_purpose_and_bounds() {
        let mut block = signed_block(7, b"abc").unwrap();
        assert_eq!(
            check_purpose(8, &block),
            Err(PurposeError::WrongPurpose {
                expected: 8,
                got: 7
            })
        );
        block.push(0xee);
        assert_eq!(check_purpose(7, &block).unwrap().len(), 11);
        block[3] = 200;
        assert!(matches!(
            check_purpose(7, &block),
            Err(PurposeError::SizeBeyondBlock { .. })
        ));
        block[3] = 7;
        assert_eq!(check_purpose(7, &block), Err(PurposeError::SizeTooSmall(7)));
        assert_eq!(
            check_purpose(7, &block[..5]),
            Err(PurposeError::NoHeader(5))
        );
    }
}
