//! secushare-rs `psycstore` (filled in by its own issue).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
