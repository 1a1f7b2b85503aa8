//! `gnunet-service-psycstore`: the PSYCstore service, started by `gnunet-arm` from
//! `conf/psycstore.conf` (or by hand with `-c CONFIG`).
//!
//! Reads `[psycstore] DATABASE` (sqlite) and `[psycstore-sqlite] FILENAME`, creates the
//! database's directory, and serves clients until SIGTERM.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use gnunet_service::daemon::run_service;
use psycstore::service::{Service, StoreConfig, SECTION};
use tracing::info;

fn main() -> ExitCode {
    run_service(
        SECTION,
        "Persistent store of PSYC channels: messages, membership and state.",
        |env| {
            let config = StoreConfig::from_config(&env.config)?;
            let store = config.open()?;
            info!(database = %config.filename.display(), "database open");
            Ok::<_, psycstore::service::ServiceError>(Service::new(store))
        },
    )
}
