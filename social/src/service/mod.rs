//! The social service process: [`config`], what it reads from the configuration, and the
//! driver that puts the place logic on the runtime's loop ([`Service`]).

pub mod config;
mod driver;
mod names;

pub use config::{LogicKnobs, ServiceConfig, ServiceError, SECTION};
pub use driver::{
    DriverTimer, Service, EGO_LIST_PATIENCE, NAME_OP_TIMEOUT, STAT_CLIENTS_DROPPED,
    STAT_PLACES_OPENED, STAT_STORE_FAILURES, SUBSYSTEM,
};
pub use names::NameOp;
