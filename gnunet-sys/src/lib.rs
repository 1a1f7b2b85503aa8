//! Raw bindings to GNUnet 0.19 as installed on this machine (`/usr/include/gnunet`,
//! `libgnunetutil`).
//!
//! Used for three things only: message-type and signature-purpose constants, `sizeof` of C
//! structs for layout tests, and libgnunetutil functions as the oracle our own Rust code is
//! checked against (crypto, base32, configuration); [`oracle`] wraps the crypto ones in safe
//! calls for every crate's tests. Service code never calls into C.
#![allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code
)]
#![allow(clippy::all, missing_docs, rustdoc::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

pub mod gnsrecord_oracle;
pub mod oracle;
