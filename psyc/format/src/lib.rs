//! secushare-rs `psyc-format`: the PSYC message format (the C `psycutil` library).
//!
//! A leaf crate so that everything speaking PSYC shares one parser: the `psyc` crate re-exports
//! it as `psyc::format`, and `psycstore` (which `psyc`'s service depends on) reads the state
//! modifiers of stored messages with it. Pure, sans-IO library code; no sockets, no clock.
//!
//! A PSYC message is a sequence of *parts* — one METHOD, any number of MODIFIERs (each
//! possibly continued by MOD_CONT parts), any number of DATA parts, and END or CANCEL — carried
//! in one or more *containers* (type 691). Modules, one thing each:
//!
//! - [`parts`]: the six part types (693–698), byte-compatible with the C structs, and the size
//!   constants.
//! - [`container`]: the two type-691 container layouts and the structural part check.
//! - [`names`]: method and variable name rules and the `_` family walk.
//! - [`env`](mod@env): operators, modifiers, environments and how they change channel state.
//! - [`receive`]: the validating receiver (streaming, zero-copy) and the message assembler.
//! - [`message`]: a complete message held in memory, and rendering it into one container.
//! - [`transmit`]: the sans-IO transmitter that segments a message into containers.
//! - [`padding`]: the padding part (690) that hides message sizes between our psyc services.
//! - [`slicer`]: dispatch of incoming parts to handlers registered by name family.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod container;
pub mod env;
pub mod message;
pub mod names;
pub mod padding;
pub mod parts;
pub mod receive;
pub mod slicer;
pub mod transmit;
