//! What every service binary does around its handler: options, logging, config, the listening
//! socket (from ARM or bound by hand), the loop, and the exit code ARM expects.

use std::process::ExitCode;

use tracing::{error, info};

use crate::config::{Config, ConfigError};
use crate::options::{self, CommonOptions, Invocation};
use crate::server::{
    self, AccessPolicy, Handler, Limits, ListenError, Runtime, RuntimeError, UnixListenSpec,
};

/// Why a service could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The service section lacks `UNIXPATH` and ARM handed no socket over.
    #[error("section [{0}] has no UNIXPATH")]
    NoUnixPath(String),
    /// A `UNIX_MATCH_*` flag is not YES or NO.
    #[error("[{section}] {option}: {source}")]
    BadFlag {
        /// The section.
        section: String,
        /// The option.
        option: &'static str,
        /// What is wrong.
        #[source]
        source: Box<ConfigError>,
    },
    /// No listening socket could be had.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// The service's handler could not be built.
    #[error("cannot start: {0}")]
    Start(String),
    /// The loop failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Everything a service needs to build its handler.
#[derive(Debug, Clone)]
pub struct ServiceEnv {
    /// The config section name, e.g. `psycstore`.
    pub name: String,
    /// The command line.
    pub options: CommonOptions,
    /// Defaults plus the `-c` file.
    pub config: Config,
}

/// Runs service `name` with the handler `make` builds; returns the process exit code.
///
/// Exit 0 after SIGTERM/SIGINT (ARM's "terminated normally"), 1 on any start-up error.
pub fn run_service<H, E, F>(name: &str, about: &str, make: F) -> ExitCode
where
    H: Handler,
    E: std::fmt::Display,
    F: FnOnce(&ServiceEnv) -> Result<H, E>,
{
    let program = format!("gnunet-service-{name}");
    let options = match options::parse_args(std::env::args_os().skip(1)) {
        Ok(Invocation::Run(o)) => o,
        Ok(Invocation::Help) => {
            print!("{}", options::help_text(&program, about));
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Version) => {
            println!("{}", options::version_text(&program));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{program}: {e}");
            return ExitCode::FAILURE;
        }
    };
    crate::logging::init(name, options.log_level, options.log_file.as_deref());
    let config = match Config::load(options.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            error!(error = %e, "cannot read configuration");
            return ExitCode::FAILURE;
        }
    };
    let env = ServiceEnv {
        name: name.to_string(),
        options,
        config,
    };
    let code = match serve(&env, make) {
        Ok(()) => {
            info!(service = name, "stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!(service = name, error = %e, "service failed");
            ExitCode::FAILURE
        }
    };
    crate::logging::flush_suppressed();
    code
}

fn serve<H, E, F>(env: &ServiceEnv, make: F) -> Result<(), DaemonError>
where
    H: Handler,
    E: std::fmt::Display,
    F: FnOnce(&ServiceEnv) -> Result<H, E>,
{
    let listeners = match server::inherited_listeners()? {
        Some(l) => {
            info!(count = l.len(), "serving sockets handed over by ARM");
            l
        }
        None => {
            let spec = listen_spec(&env.config, &env.name)?;
            info!(path = %spec.path.display(), "listening");
            vec![server::bind_unix(&spec)?]
        }
    };
    let spec = listen_spec(&env.config, &env.name);
    let access = match &spec {
        Ok(spec) => AccessPolicy {
            match_uid: spec.match_uid,
            match_gid: spec.match_gid,
        },
        Err(_) => AccessPolicy::default(),
    };
    // The handler's own error type is the binary's business; its message is what we keep.
    let handler = make(env).map_err(|e| DaemonError::Start(e.to_string()))?;
    let mut rt = Runtime::new(listeners, handler, Limits::default())?.with_access(access);
    Ok(rt.run()?)
}

/// The `UNIXPATH` and `UNIX_MATCH_*` of section `name`.
pub fn listen_spec(config: &Config, name: &str) -> Result<UnixListenSpec, DaemonError> {
    let path = config
        .unix_path(name)
        .ok_or_else(|| DaemonError::NoUnixPath(name.to_string()))?;
    let flag = |option| {
        config
            .get_yesno(name, option)
            .map(|v| v.unwrap_or(false))
            .map_err(|source| DaemonError::BadFlag {
                section: name.to_string(),
                option,
                source: Box::new(source),
            })
    };
    Ok(UnixListenSpec {
        path,
        match_uid: flag("UNIX_MATCH_UID")?,
        match_gid: flag("UNIX_MATCH_GID")?,
    })
}
