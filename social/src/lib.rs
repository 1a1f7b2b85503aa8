//! secushare-rs `social`: GNUnet's social service (places, hosts and guests on top of PSYC).
//!
//! - [`msg`]: every client↔service message of the social socket, byte-compatible with the
//!   2019 C service.
//! - [`place`]: the service's logic without IO — apps, egos, places, hosts and guests on top
//!   of psyc — as a state machine its driver feeds and drains.
//! - [`record`]: the GNS record data of places and nyms.
//! - [`store`]: what the service keeps in `DATA_HOME`.
//! - [`service`]: the service process: its configuration and its driver.
//! - [`client`]: the client API — sans-IO sessions for the application connection and each
//!   place connection, and blocking handles over the service's socket.
//! - [`cli`]: the `gnunet-social` command line tool.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod msg;
pub mod place;
pub mod record;
pub mod service;
pub mod store;
