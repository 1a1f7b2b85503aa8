//! `gnunet-service-multicast`: the multicast service, started by `gnunet-arm` from
//! `conf/multicast.conf` (or by hand with `-c CONFIG`).
//!
//! Talks to the peer's cadet (channels to the same service on other peers) and statistics
//! services, and serves multicast clients (origins and members) until SIGTERM.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use gnunet_service::daemon::run_service;
use multicast::service::{Service, ServiceConfig, ServiceError, SECTION};

fn main() -> ExitCode {
    run_service(
        SECTION,
        "Multicast groups over CADET: origin, members and relays of a dissemination tree.",
        |env| {
            let cfg = ServiceConfig::from_config(&env.config)?.watching(env.options.config.clone());
            Ok::<_, ServiceError>(Service::new(cfg))
        },
    )
}
