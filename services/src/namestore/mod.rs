//! Client side of GNUnet 0.19's NAMESTORE service: storing record sets in a zone
//! (RECORD_STORE, social's ZONE_ADD_PLACE and ZONE_ADD_NYM) and reading a label's records
//! (RECORD_LOOKUP, how social resolves names through its own private records).
//!
//! - [`msg`]: RECORD_STORE (435) and RECORD_STORE_RESPONSE (436).
//! - [`StoreSession`]: sans-IO stores over a reconnecting connection (ids, matching answers,
//!   what to send again), for a service's mio loop.
//! - [`lookup`]: RECORD_LOOKUP (437) and its response (438), and [`LabelLookupSession`], the
//!   sans-IO lookups of a label's records, private ones included.
//! - [`NamestoreClient`]: blocking stores and lookups for tools and tests.
//! - [`check_label`]: the label rules 0.19 enforces, to refuse before asking.
//!
//! Records reach GNS only through ZONEMASTER, which watches NAMESTORE and signs the record
//! sets into the namecache (all records) and the DHT (public ones, i.e. without
//! [`Flags::PRIVATE`](crate::gnsrecord::Flags::PRIVATE)): a store's success means stored,
//! not yet resolvable.

mod client;
mod label;
pub mod lookup;
pub mod msg;
mod session;

pub use client::{NamestoreClient, NamestoreError};
pub use label::{check_label, LabelError};
pub use lookup::{
    LabelLookupError, LabelLookupId, LabelLookupRequest, LabelLookupSession, LabelRecords,
};
pub use session::{StoreError, StoreId, StoreOutcome, StoreRequest, StoreSession};
