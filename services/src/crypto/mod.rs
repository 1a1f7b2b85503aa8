//! GNUnet-compatible cryptography, byte-identical to libgnunetutil 0.19.3.

mod hash;

pub use hash::HashCode;
