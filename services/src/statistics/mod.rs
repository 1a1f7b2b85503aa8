//! Reporting values to GNUnet's STATISTICS service (set and update; no reply is sent for
//! either). Services inside the mio loop send [`Set`] messages themselves; tools and tests use
//! [`StatisticsClient`].

mod client;
pub mod msg;

pub use client::StatisticsClient;
pub use msg::{Set, SetFlags};
