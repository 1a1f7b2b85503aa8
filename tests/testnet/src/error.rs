//! Errors of the harness, each carrying enough context to debug a failed start.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while starting, driving or stopping a test network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestnetError {
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The requested number of peers is outside `1..=MAX_PEERS`.
    #[error("peer count {requested} is outside 1..={max}")]
    PeerCount {
        /// The number asked for.
        requested: usize,
        /// The largest supported number.
        max: usize,
    },
    /// No free TCP port could be leased in the harness range.
    #[error("no free TCP port in {first}..={last} (need {needed})")]
    NoFreePort {
        /// How many ports were needed.
        needed: usize,
        /// First port of the range.
        first: u16,
        /// Last port of the range.
        last: u16,
    },
    /// A GNUnet tool exited unsuccessfully.
    #[error("`{command}` failed ({status}): {output}")]
    Command {
        /// The command line that was run.
        command: String,
        /// Exit status as text.
        status: String,
        /// Its stdout and stderr.
        output: String,
    },
    /// A GNUnet tool did not finish in time and was killed.
    #[error("`{command}` did not finish within {after:?}")]
    CommandTimeout {
        /// The command line that was run.
        command: String,
        /// The time limit.
        after: Duration,
    },
    /// A peer did not come up (ARM start, identity or HELLO); the ARM log tail is included.
    #[error("peer p{peer} failed to start: {reason}\n--- tail of {arm_log} ---\n{arm_log_tail}")]
    PeerStart {
        /// 1-based peer number (as in the directory name `pK`).
        peer: usize,
        /// What failed.
        reason: String,
        /// Path of the peer's ARM log.
        arm_log: PathBuf,
        /// Last lines of that log.
        arm_log_tail: String,
    },
    /// The expected links did not all appear in `gnunet-core` before the timeout.
    #[error("links not up after {after:?}:\n{report}")]
    LinksTimeout {
        /// The time waited.
        after: Duration,
        /// `gnunet-core` view and ARM log tail of every peer.
        report: String,
    },
    /// A configuration file could not be turned into a service section.
    #[error("{path}:{line}: {reason}")]
    ConfParse {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 if the problem is not tied to a line).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A workspace service binary was not found next to the test executable.
    #[error("binary `{name}` not found (looked in {searched:?}); build it first, e.g. `cargo build --workspace --bins`")]
    MissingBinary {
        /// The binary name.
        name: String,
        /// Directories searched.
        searched: Vec<PathBuf>,
    },
    /// A printed peer identity is not 52 characters of GNUnet base32.
    #[error("invalid peer identity {text:?}: {reason}")]
    BadIdentity {
        /// The text received.
        text: String,
        /// Why it was rejected.
        reason: String,
    },
}

impl TestnetError {
    /// Wraps an I/O error with a description of the operation.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        TestnetError::Io {
            context: context.into(),
            source,
        }
    }
}
