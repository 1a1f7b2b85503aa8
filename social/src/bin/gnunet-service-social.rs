//! `gnunet-service-social`: the social service, started by `gnunet-arm` from
//! `conf/social.conf` (once per user, `RUN_PER_USER`), or by hand with `-c CONFIG`.
//!
//! A client of the peer's psyc, identity, namestore, gns (and statistics) services; serves
//! social clients (apps and their places) until SIGTERM.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use gnunet_service::daemon::run_service;
use social::service::{Service, ServiceConfig, ServiceError, SECTION};

fn main() -> ExitCode {
    run_service(
        SECTION,
        "Social places: hosts and guests, entry decisions, announcements and talk on PSYC.",
        |env| {
            let cfg = ServiceConfig::from_config(&env.config)?;
            Ok::<_, ServiceError>(Service::new(cfg).watching(env.options.config.clone()))
        },
    )
}
