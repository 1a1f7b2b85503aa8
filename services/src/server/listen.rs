//! Where a service's listening socket comes from: handed over by ARM, or bound by ourselves.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// Why no listening socket could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenError {
    /// `LISTEN_FDS` is set but not a positive number.
    #[error("LISTEN_FDS={0:?} is not a positive number")]
    BadListenFds(String),
    /// An inherited descriptor is not a listening stream socket.
    #[error("inherited fd {fd} is not a listening socket: {reason}")]
    NotASocket {
        /// The descriptor number.
        fd: i32,
        /// What the check found.
        reason: String,
    },
    /// The section names no UNIXPATH and ARM handed nothing over.
    #[error("service section [{0}] has no UNIXPATH and no sockets were inherited")]
    NoUnixPath(String),
    /// Binding UNIXPATH failed.
    #[error("cannot listen on {path}: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// How to listen when ARM did not hand sockets over: the section's `UNIXPATH` and the
/// `UNIX_MATCH_*` flags that decide the socket file's mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixListenSpec {
    /// Socket path (`[section] UNIXPATH`, expanded).
    pub path: PathBuf,
    /// `UNIX_MATCH_UID = YES`: only our user may connect (mode 0700).
    pub match_uid: bool,
    /// `UNIX_MATCH_GID = YES`: our group may connect too (mode 0770).
    pub match_gid: bool,
}

impl UnixListenSpec {
    /// The socket file mode GNUnet uses for these flags.
    pub fn mode(&self) -> u32 {
        if self.match_uid {
            0o700
        } else if self.match_gid {
            0o770
        } else {
            0o777
        }
    }
}

/// The listeners ARM passed (`LISTEN_FDS=n`, fds 3…3+n−1), or `None` when started by hand.
pub fn inherited_listeners() -> Result<Option<Vec<UnixListener>>, ListenError> {
    let Ok(value) = std::env::var("LISTEN_FDS") else {
        return Ok(None);
    };
    let n: i32 = match value.trim().parse() {
        Ok(n) if n > 0 && n < 64 => n,
        _ => return Err(ListenError::BadListenFds(value)),
    };
    // Children we spawn must not believe they were handed sockets.
    std::env::remove_var("LISTEN_FDS");
    (3..3 + n)
        .map(take_inherited)
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Takes ownership of one inherited descriptor after checking it is a listening unix stream
/// socket, so that a wrong environment cannot make us own an unrelated fd.
fn take_inherited(fd: i32) -> Result<UnixListener, ListenError> {
    use nix::sys::socket::{getsockname, getsockopt, sockopt, SockaddrLike, SockaddrStorage};
    let not_socket = |reason: String| ListenError::NotASocket { fd, reason };
    let addr: SockaddrStorage = getsockname(fd).map_err(|e| not_socket(e.to_string()))?;
    if addr.as_unix_addr().is_none() {
        return Err(not_socket(format!("address family {:?}", addr.family())));
    }
    // SAFETY-relevant checks need a borrowed fd; the fd was just shown to be an open socket.
    let listening = {
        #[allow(unsafe_code)]
        // SAFETY: `fd` is open (getsockname succeeded) and stays open for this borrow.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        getsockopt(&borrowed, sockopt::AcceptConn).map_err(|e| not_socket(e.to_string()))?
    };
    if !listening {
        return Err(not_socket("socket is not listening".into()));
    }
    #[allow(unsafe_code)]
    // SAFETY: ARM handed this fd to us (LISTEN_FDS); nothing else in the process owns it, and we
    // take it exactly once because LISTEN_FDS is removed from the environment above.
    let owned = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let listener = UnixListener::from(owned);
    listener
        .set_nonblocking(true)
        .map_err(|e| not_socket(e.to_string()))?;
    Ok(listener)
}

/// Binds `spec.path` ourselves: creates the directory, replaces a stale socket file, and sets
/// the mode the `UNIX_MATCH_*` flags ask for. A live socket of another process is not replaced.
pub fn bind_unix(spec: &UnixListenSpec) -> Result<UnixListener, ListenError> {
    let bind_err = |source| ListenError::Bind {
        path: spec.path.clone(),
        source,
    };
    if let Some(dir) = spec.path.parent() {
        std::fs::create_dir_all(dir).map_err(bind_err)?;
    }
    remove_stale_socket(&spec.path).map_err(bind_err)?;
    let listener = UnixListener::bind(&spec.path).map_err(bind_err)?;
    std::fs::set_permissions(&spec.path, std::fs::Permissions::from_mode(spec.mode()))
        .map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    Ok(listener)
}

fn remove_stale_socket(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "another process is serving this socket",
        )),
        Err(_) => std::fs::remove_file(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn mode_follows_match_flags() {
        let spec = |u, g| UnixListenSpec {
            path: "/x".into(),
            match_uid: u,
            match_gid: g,
        };
        assert_eq!(spec(true, true).mode(), 0o700);
        assert_eq!(spec(false, true).mode(), 0o770);
        assert_eq!(spec(false, false).mode(), 0o777);
    }

    #[test]
    fn bind_creates_dirs_replaces_stale_and_refuses_live_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let spec = UnixListenSpec {
            path: dir.path().join("a/b/svc.sock"),
            match_uid: false,
            match_gid: true,
        };
        let first = bind_unix(&spec).unwrap();
        let meta = std::fs::metadata(&spec.path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o770);
        assert!(matches!(bind_unix(&spec), Err(ListenError::Bind { .. })));
        drop(first);
        // The file is left behind by the dropped listener: stale, so it is replaced.
        assert!(bind_unix(&spec).is_ok());
    }
}
