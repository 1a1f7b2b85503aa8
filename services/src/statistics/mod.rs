//! Reporting values to GNUnet's STATISTICS service (set and update; no reply is sent for
//! either).

pub mod msg;

pub use msg::{Set, SetFlags};
