//! secushare-rs `social`: GNUnet's social service (places, hosts and guests on top of PSYC).
//!
//! So far: [`msg`], every client↔service message of the social socket, byte-compatible with
//! the 2019 C service; [`record`], the GNS record data of places and nyms; [`store`], the
//! service's `DATA_HOME`; and [`service::config`], what the service reads from the
//! configuration.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod msg;
pub mod record;
pub mod service;
pub mod store;
