//! Reporting values to GNUnet's STATISTICS service (set and update; no reply is sent for
//! either). Services inside the mio loop report through [`PendingStats`] on a link; tools and
//! tests use [`StatisticsClient`].

mod client;
pub mod msg;
mod pending;

pub use client::StatisticsClient;
pub use msg::{Set, SetFlags};
pub use pending::PendingStats;
