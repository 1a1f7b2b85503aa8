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
//!
//! # Privacy (issue 13)
//!
//! The service reads the knobs of `[secushare]` (`gnunet_service::privacy`) from its
//! configuration and again whenever the `-c` file changes, so a new level holds for the next
//! request. Social's share of them:
//!
//! - **Local contacts.** ZONE_ADD_NYM stores a nym as a private record when `PRIVATE_NYMS`
//!   (balanced, strict): GNUnet 0.19's ZONEMASTER puts private records only into this node's
//!   namecache, never into the DHT, so no other peer can resolve a contact. ZONE_ADD_PLACE is
//!   the user's explicit wish to publish a place; with `PRIVATE_PLACES` (strict) the PLACE
//!   record is private too. Entering by a name through the ego's own zone reads that zone's
//!   label from NAMESTORE first, so a private nym works as a name (`home.alice.gnu`)
//!   ([`place::zone`]).
//! - **The host's level, told to guests.** A host's level applies to its place. Guests learn
//!   it before entering from a TXT record `secushare privacy=<level>` that the hosting peer
//!   stores beside the place's PLACE record ([`record::PlaceLevel`];
//!   `gnunet-social --status --gns NAME --ego EGO` prints it), and on entering from the
//!   transient modifier `_privacy_level` a host at balanced or strict adds to the response of
//!   its entry decision ([`place::level`]; at convenient decisions pass unchanged, as with
//!   C). A guest's own level governs what its node does; the host's tells it what the place's
//!   host does with the place's traffic.
//! - `gnunet-social --privacy` prints the effective knobs of a configuration.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod msg;
pub mod place;
pub mod record;
pub mod service;
pub mod store;
