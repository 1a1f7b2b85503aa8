//! The part of GNUnet's CORE service we need: learning our own peer identity and which peers
//! are connected.

pub mod msg;

use std::path::Path;
use std::time::Duration;

use crate::client::{BlockingClient, ClientError};
use crate::config::Config;
use crate::peer::PeerIdentity;

/// This peer's identity as a service learns it at start-up: from the host key file
/// (`[PEER] PRIVATE_KEY`) when it can be read, else by asking CORE ([`own_identity`], waiting
/// up to `timeout`).
pub fn this_peer(config: &Config, timeout: Duration) -> Result<PeerIdentity, ClientError> {
    if let Some(path) = config.get_filename("PEER", "PRIVATE_KEY") {
        match PeerIdentity::from_private_key_file(&path) {
            Ok(id) => return Ok(id),
            Err(e) => tracing::debug!(error = %e, "no host key file; asking CORE"),
        }
    }
    own_identity(config, timeout)
}

/// Asks CORE who we are (INIT, INIT_REPLY), then disconnects.
pub fn own_identity(config: &Config, timeout: Duration) -> Result<PeerIdentity, ClientError> {
    let mut c = BlockingClient::connect(config, "core", timeout)?;
    own_identity_over(&mut c, timeout)
}

/// Same as [`own_identity`], on a socket path.
pub fn own_identity_at(path: &Path, timeout: Duration) -> Result<PeerIdentity, ClientError> {
    let mut c = BlockingClient::connect_path(path, timeout)?;
    own_identity_over(&mut c, timeout)
}

fn own_identity_over(
    c: &mut BlockingClient,
    timeout: Duration,
) -> Result<PeerIdentity, ClientError> {
    let reply: msg::InitReply = c.request(
        &msg::Init {
            options: 0,
            types: vec![],
        },
        timeout,
    )?;
    Ok(reply.my_identity)
}
