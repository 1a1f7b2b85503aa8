//! `gnunet-service-psyc`: the PSYC service, started by `gnunet-arm` from `conf/psyc.conf` (or by
//! hand with `-c CONFIG`).
//!
//! A client of the peer's multicast and psycstore services (and statistics); serves PSYC
//! clients (channel masters and slaves) until SIGTERM.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use gnunet_service::daemon::run_service;
use psyc::service::{Service, ServiceConfig, ServiceError, SECTION};

fn main() -> ExitCode {
    run_service(
        SECTION,
        "PSYC channels: masters and slaves with ordered messages, state and history.",
        |env| {
            let cfg = ServiceConfig::from_config(&env.config)?.watching(env.options.config.clone());
            Ok::<_, ServiceError>(Service::new(cfg))
        },
    )
}
