//! Who may talk to a service over its unix socket: `UNIX_MATCH_UID` / `UNIX_MATCH_GID`.
//!
//! GNUnet 0.19 leaves this to the socket file's mode. We check the peer's credentials as well,
//! so a socket handed over with a too-open mode, or a mode changed later, still keeps others out.

use std::os::fd::AsFd;

use nix::sys::socket::{getsockopt, sockopt};
use nix::unistd::{getegid, geteuid, getgrouplist, getgroups, Gid, Uid, User};

/// Why a client was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// `SO_PEERCRED` failed, so the client cannot be checked.
    #[error("cannot read peer credentials: {0}")]
    NoCredentials(nix::errno::Errno),
    /// The client's ids do not match the policy.
    #[error(
        "client uid {} gid {} refused by UNIX_MATCH_UID={} UNIX_MATCH_GID={}",
        cred.uid, cred.gid, policy.match_uid, policy.match_gid
    )]
    Refused {
        /// The client's credentials.
        cred: PeerCred,
        /// The policy that refused them.
        policy: AccessPolicy,
    },
}

/// The `UNIX_MATCH_*` flags of a service section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccessPolicy {
    /// Clients running as our user may connect.
    pub match_uid: bool,
    /// Clients whose primary group is one of ours may connect.
    pub match_gid: bool,
}

/// Credentials of a connected client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCred {
    /// The client's effective user id.
    pub uid: u32,
    /// The client's effective group id.
    pub gid: u32,
}

impl AccessPolicy {
    /// Whether a client with `cred` may talk to a service running as `our_uid` with groups
    /// `our_gids`. Neither flag set means anyone may (mode 0777); root may always.
    pub fn allows(&self, cred: PeerCred, our_uid: u32, our_gids: &[u32]) -> bool {
        if !self.match_uid && !self.match_gid {
            return true;
        }
        if cred.uid == 0 || cred.uid == our_uid {
            return true;
        }
        self.match_gid && our_gids.contains(&cred.gid)
    }

    /// [`AccessPolicy::allows`], where `UNIX_MATCH_GID` also admits a client whose user is a
    /// member of one of our groups through `client_groups` (its supplementary groups), as the
    /// socket file's group permission that GNUnet relies on does: a per-user service (social,
    /// as a user in group `gnunet`) reaches a system service (psyc, running as `gnunet`).
    pub fn allows_member(
        &self,
        cred: PeerCred,
        client_groups: &[u32],
        our_uid: u32,
        our_gids: &[u32],
    ) -> bool {
        self.allows(cred, our_uid, our_gids)
            || (self.match_gid && client_groups.iter().any(|g| our_gids.contains(g)))
    }

    /// Checks the client at the other end of `stream` against this policy and our own ids.
    pub fn check<F: AsFd>(&self, stream: &F) -> Result<(), AccessError> {
        if !self.match_uid && !self.match_gid {
            return Ok(());
        }
        let cred =
            getsockopt(stream, sockopt::PeerCredentials).map_err(AccessError::NoCredentials)?;
        let cred = PeerCred {
            uid: cred.uid(),
            gid: cred.gid(),
        };
        let mut gids: Vec<u32> = getgroups()
            .unwrap_or_default()
            .into_iter()
            .map(Gid::as_raw)
            .collect();
        gids.push(getegid().as_raw());
        let our_uid = geteuid().as_raw();
        let admitted = self.allows(cred, our_uid, &gids)
            || (self.match_gid && self.allows_member(cred, &client_groups(cred), our_uid, &gids));
        if admitted {
            Ok(())
        } else {
            Err(AccessError::Refused {
                cred,
                policy: *self,
            })
        }
    }
}

/// The groups of the client's user (from the user database), empty if it cannot be read.
fn client_groups(cred: PeerCred) -> Vec<u32> {
    let Ok(Some(user)) = User::from_uid(Uid::from_raw(cred.uid)) else {
        return Vec::new();
    };
    let Ok(name) = std::ffi::CString::new(user.name) else {
        return Vec::new();
    };
    getgrouplist(&name, Gid::from_raw(cred.gid))
        .map(|groups| groups.into_iter().map(Gid::as_raw).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;
    const GROUPS: &[u32] = &[1000, 27];

    fn cred(uid: u32, gid: u32) -> PeerCred {
        PeerCred { uid, gid }
    }

    #[test]
    fn policy_table() {
        let open = AccessPolicy::default();
        let uid = AccessPolicy {
            match_uid: true,
            match_gid: false,
        };
        let gid = AccessPolicy {
            match_uid: false,
            match_gid: true,
        };
        let both = AccessPolicy {
            match_uid: true,
            match_gid: true,
        };
        assert!(open.allows(cred(4242, 4242), ME, GROUPS));
        assert!(uid.allows(cred(ME, 4242), ME, GROUPS));
        assert!(!uid.allows(cred(4242, 27), ME, GROUPS));
        assert!(gid.allows(cred(4242, 27), ME, GROUPS));
        assert!(!gid.allows(cred(4242, 4242), ME, GROUPS));
        assert!(both.allows(cred(4242, 1000), ME, GROUPS));
        assert!(both.allows(cred(0, 0), ME, GROUPS));
        // A user whose primary group is its own but who is a member of one of ours.
        let member = cred(4242, 4242);
        assert!(!gid.allows(member, ME, GROUPS));
        assert!(gid.allows_member(member, &[4242, 27], ME, GROUPS));
        assert!(both.allows_member(member, &[4242, 27], ME, GROUPS));
        assert!(!gid.allows_member(member, &[4242, 99], ME, GROUPS));
        assert!(!uid.allows_member(member, &[4242, 27], ME, GROUPS));
    }

    #[test]
    fn own_process_passes_the_check() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let strict = AccessPolicy {
            match_uid: true,
            match_gid: false,
        };
        assert_eq!(strict.check(&a), Ok(()));
    }
}
