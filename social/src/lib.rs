//! secushare-rs `social`: GNUnet's social service (places, hosts and guests on top of PSYC).
//!
//! So far the wire module: [`msg`], every client↔service message of the social socket,
//! byte-compatible with the 2019 C service.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod msg;
pub mod store;
