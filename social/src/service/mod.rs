//! The social service process. So far only [`config`]: what it reads from the configuration.

pub mod config;

pub use config::{LogicKnobs, ServiceConfig, ServiceError, SECTION};
