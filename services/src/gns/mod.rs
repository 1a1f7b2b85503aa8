//! Client side of GNUnet 0.19's GNS service: looking names up (LOOKUP / LOOKUP_RESULT).
//!
//! - [`msg`]: LOOKUP (500) and LOOKUP_RESULT (501).
//! - [`LookupSession`]: sans-IO lookups over a reconnecting connection, for a service's mio
//!   loop.
//! - [`GnsClient`]: blocking lookups for tools and tests.
//! - [`ZoneName`]: where a name given relative to an ego starts (`.gnu` and zone-key TLDs).
//!
//! GNS answers from the namecache and the DHT, which ZONEMASTER fills from NAMESTORE; a record
//! just stored is found once ZONEMASTER has published it.

mod client;
pub mod msg;
mod name;
mod session;

pub use client::{GnsClient, GnsError};
pub use msg::LocalOptions;
pub use name::{ZoneName, APEX_LABEL, OWN_ZONE_TLD};
pub use session::{LookupAnswer, LookupError, LookupId, LookupRequest, LookupSession, Query};
