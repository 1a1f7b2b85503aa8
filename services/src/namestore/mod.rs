//! Client side of GNUnet 0.19's NAMESTORE service: storing record sets in a zone
//! (RECORD_STORE), which is all social needs (its ZONE_ADD_PLACE and ZONE_ADD_NYM).
//!
//! - [`msg`]: RECORD_STORE (435) and RECORD_STORE_RESPONSE (436).
//! - [`StoreSession`]: sans-IO stores over a reconnecting connection (ids, matching answers,
//!   what to send again), for a service's mio loop.
//! - [`NamestoreClient`]: blocking stores for tools and tests.
//! - [`check_label`]: the label rules 0.19 enforces, to refuse before asking.
//!
//! Records reach GNS only through ZONEMASTER, which watches NAMESTORE and signs the record
//! sets into the namecache (all records) and the DHT (public ones, i.e. without
//! [`Flags::PRIVATE`](crate::gnsrecord::Flags::PRIVATE)): a store's success means stored,
//! not yet resolvable.

mod client;
mod label;
pub mod msg;
mod session;

pub use client::{NamestoreClient, NamestoreError};
pub use label::{check_label, LabelError};
pub use session::{StoreError, StoreId, StoreOutcome, StoreRequest, StoreSession};
