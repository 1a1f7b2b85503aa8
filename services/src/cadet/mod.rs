//! Client side of GNUnet 0.19's CADET service: ports, channels, data under `LOCAL_ACK` flow
//! control.
//!
//! [`msg`] holds the wire types, [`flow`] the per-channel credit rules (sans-IO), and
//! [`CadetClient`] a blocking client for tools, tests and benchmarks. Services drive the same
//! wire types and flow state from their own mio loop.

mod blocking;
pub mod flow;
pub mod msg;

pub use blocking::{CadetClient, CadetError, CadetEvent};
pub use flow::{ChannelFlow, FlowError};

use crate::crypto::HashCode;

/// Largest message that may travel inside one `LOCAL_DATA`, header included
/// (`GNUNET_CONSTANTS_MAX_CADET_MESSAGE_SIZE`).
pub const MAX_CADET_MESSAGE_SIZE: usize = 63 * 1024 - 164;

/// Messages the service lets a client have in flight per channel.
pub const CHANNEL_WINDOW: u32 = 4;

/// First channel number a client assigns to channels it creates.
pub const FIRST_CLIENT_CCN: u32 = 0x8000_0000;

/// The port of a name, by the convention of `gnunet-cadet` and most C code: SHA-512 of the
/// name without its terminating NUL.
pub fn port_of_name(name: &str) -> HashCode {
    HashCode::of(name.as_bytes())
}
