//! What can go wrong in `DATA_HOME`: errors of a store operation ([`StoreError`]) and the
//! damaged entries loading skips ([`LoadProblem`]).

use std::path::PathBuf;

use gnunet_service::wire::{DecodeError, TooLarge};

/// Why a store operation failed. Each names the path it concerns; the driver logs it, and the
/// operation's effect is lost (as with the C service, the place stays entered in memory).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system call failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What the store was doing: "create", "write", "rename", …
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An operation named an app that is not a directory name
    /// [`app_dir_name`](super::app_dir_name) produces (the logic must map app ids first).
    #[error("app {app:?} is not a safe directory name under {root}/apps")]
    BadAppName {
        /// The name given.
        app: String,
        /// `DATA_HOME`.
        root: PathBuf,
    },
    /// A request to save is too large to be a GNUnet message.
    #[error("cannot save {path}: {source}")]
    TooLarge {
        /// The file it was for.
        path: PathBuf,
        /// The encoder's refusal.
        source: TooLarge,
    },
}

impl StoreError {
    /// A [`StoreError::Io`] for `path`.
    pub(super) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

/// An entry of `DATA_HOME` that loading skipped, and why. Loading goes on with the rest; the
/// driver logs each problem.
#[derive(Debug)]
pub struct LoadProblem {
    /// The file or directory.
    pub path: PathBuf,
    /// What is wrong with it.
    pub kind: ProblemKind,
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.kind)
    }
}

/// What is wrong with a skipped entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// It could not be read (or listed, for a directory).
    #[error("unreadable: {0}")]
    Unreadable(std::io::Error),
    /// Its name is not what the store writes there: a 52-character key, or an app directory
    /// name (see [`app_dir_name`](super::app_dir_name)).
    #[error("name is not a key or app directory the store writes")]
    BadName,
    /// A file where a directory belongs, or the other way round.
    #[error("wrong kind of file system entry")]
    WrongKind,
    /// An `apps/` marker whose `places/` file is missing.
    #[error("app marker without a saved place")]
    MissingPlace,
    /// A `places/` file no app has a marker for. The C service never looks at such a file;
    /// it is what an interrupted save or leave leaves behind. It is not loaded, and kept (it
    /// may hold a place's private key).
    #[error("saved place without any app marker: not loaded")]
    NoApp,
    /// A `places/` file shorter than the common part of an enter request (72 bytes), or than
    /// the fixed part of its type.
    #[error("{len} bytes, too short for an enter request")]
    TooShort {
        /// File size.
        len: u64,
    },
    /// A file larger than any GNUnet message.
    #[error("{len} bytes, larger than a GNUnet message")]
    TooLong {
        /// File size.
        len: u64,
    },
    /// The message's size field is not the file size.
    #[error("header says {header} bytes, file has {file}")]
    SizeMismatch {
        /// Size field.
        header: u16,
        /// File size.
        file: u64,
    },
    /// Neither HOST_ENTER (841) nor GUEST_ENTER (843).
    #[error("message type {0} is not an enter request")]
    UnknownType(u16),
    /// The message does not decode.
    #[error("does not decode: {0}")]
    Undecodable(DecodeError),
    /// The keys in the file are not the ones its path names, or a host's private key is not
    /// the place's.
    #[error("keys in the file do not match {0}")]
    KeyMismatch(&'static str),
    /// A kept decision for a place that was not loaded.
    #[error("entry decision without a loaded place")]
    OrphanDecision,
}
