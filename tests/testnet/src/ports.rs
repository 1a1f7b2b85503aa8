//! Leasing TCP ports so that parallel test networks (threads or processes) never collide.
//!
//! A port is leased by holding an exclusive `flock` on `/tmp/secushare-testnet-ports/<port>.lock`
//! and checking that 127.0.0.1:port can be bound right now. The kernel drops the lock when the
//! lease (or the whole process) goes away, so a crashed test leaves no stale reservation.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use crate::TestnetError;

/// Directory holding one lock file per leased port.
pub const PORT_LOCK_DIR: &str = "/tmp/secushare-testnet-ports";
/// First port the harness hands out.
pub const FIRST_PORT: u16 = 20000;
/// Last port the harness hands out.
pub const LAST_PORT: u16 = 40000;

/// One leased port; the lock is held until this value is dropped.
#[derive(Debug)]
pub(crate) struct PortLease {
    port: u16,
    _lock: Flock<File>,
}

impl PortLease {
    /// The leased port number.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Leases `count` distinct free ports, starting the scan at a per-process pseudo-random offset.
pub(crate) fn lease_ports(count: usize) -> Result<Vec<PortLease>, TestnetError> {
    let dir = Path::new(PORT_LOCK_DIR);
    std::fs::create_dir_all(dir)
        .map_err(|e| TestnetError::io(format!("create {PORT_LOCK_DIR}"), e))?;
    // Other users may share the directory: make it world-writable with the sticky bit.
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777));

    let span = u32::from(LAST_PORT - FIRST_PORT) + 1;
    let start = scan_offset() % span;
    let mut leases = Vec::with_capacity(count);
    for step in 0..span {
        if leases.len() == count {
            break;
        }
        let port = FIRST_PORT + ((start + step) % span) as u16;
        if let Some(lease) = try_lease(dir, port)? {
            leases.push(lease);
        }
    }
    if leases.len() < count {
        return Err(TestnetError::NoFreePort {
            needed: count,
            first: FIRST_PORT,
            last: LAST_PORT,
        });
    }
    Ok(leases)
}

/// Spreads concurrent processes over the range so they rarely contend for the same locks.
fn scan_offset() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::process::id()
        .wrapping_mul(2_654_435_761)
        .wrapping_add(nanos / 1000)
}

fn try_lease(dir: &Path, port: u16) -> Result<Option<PortLease>, TestnetError> {
    let path = dir.join(format!("{port}.lock"));
    let file = match OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(f) => f,
        // A lock file of another user that we may not open: treat the port as taken.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Ok(None),
        Err(e) => return Err(TestnetError::io(format!("open {}", path.display()), e)),
    };
    let Ok(mut lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) else {
        return Ok(None);
    };
    if TcpListener::bind(("127.0.0.1", port)).is_err() {
        return Ok(None);
    }
    // Who holds it, for someone inspecting the directory; the lock itself is what counts.
    let _ = lock.set_len(0);
    let _ = writeln!(*lock, "{}", std::process::id());
    Ok(Some(PortLease { port, _lock: lock }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_distinct_free_and_exclusive() {
        let a = lease_ports(3).expect("three ports");
        let mut ports: Vec<u16> = a.iter().map(PortLease::port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 3);
        assert!(ports.iter().all(|p| (FIRST_PORT..=LAST_PORT).contains(p)));
        // A second lease while the first is held must not hand out the same ports.
        let b = lease_ports(3).expect("three more ports");
        assert!(b.iter().all(|l| !ports.contains(&l.port())));
        // After release the lock can be taken again.
        let first = a[0].port();
        drop(a);
        let again = try_lease(Path::new(PORT_LOCK_DIR), first).expect("io ok");
        assert!(again.is_some(), "port {first} should be free after release");
    }

    #[test]
    fn a_bound_port_is_skipped() {
        let held = lease_ports(1).expect("one port");
        let port = held[0].port();
        drop(held);
        let _listener = TcpListener::bind(("127.0.0.1", port)).expect("bind freed port");
        let lease = try_lease(Path::new(PORT_LOCK_DIR), port).expect("io ok");
        assert!(
            lease.is_none(),
            "port {port} is bound and must not be leased"
        );
    }
}
