//! Client side of GNUnet 0.19's IDENTITY service: list, look up and create egos.
//!
//! Egos carry a key type in 0.19 (ECDSA or EdDSA); keys travel as the 36-byte private key blob
//! (type u32 BE, then 32 key bytes).

mod client;
pub mod msg;

pub use client::{Ego, IdentityClient, IdentityError, CODE_NOT_FOUND};
