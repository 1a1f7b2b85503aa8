//! Test harness: N real GNUnet peers on loopback.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
