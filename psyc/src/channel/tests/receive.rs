//! Reception.
