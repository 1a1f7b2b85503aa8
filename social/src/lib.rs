//! secushare-rs `social`: GNUnet's social service (places, hosts and guests on top of PSYC).
//!
//! - [`msg`]: every client↔service message of the social socket, byte-compatible with the
//!   2019 C service.
//! - [`client`]: the client API — sans-IO sessions for the application connection and each
//!   place connection, and blocking handles over the service's socket.
//! - [`cli`]: the `gnunet-social` command line tool.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod msg;
pub mod store;
