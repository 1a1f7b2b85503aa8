//! [`GnsClient`]: blocking lookups for tools and tests, over a [`LookupSession`].

use std::time::Duration;

use super::session::{LookupError, LookupId, LookupSession, Query};
use crate::client::{BlockingClient, ClientError};
use crate::config::Config;
use crate::gnsrecord::Record;
use crate::wire::DispatchError;

/// What went wrong looking a name up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GnsError {
    /// The connection failed, or no answer came in time.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The lookup was refused before sending.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// GNS sent something that is not a lookup result.
    #[error("unexpected answer from gns: {0}")]
    Unexpected(#[from] DispatchError),
}

/// A blocking connection to GNS (`[gns] UNIXPATH`).
#[derive(Debug)]
pub struct GnsClient {
    conn: BlockingClient,
    session: LookupSession,
}

impl GnsClient {
    /// Connects, waiting up to `patience` for the service to accept.
    pub fn connect(config: &Config, patience: Duration) -> Result<Self, GnsError> {
        Ok(Self {
            conn: BlockingClient::connect(config, "gns", patience)?,
            session: LookupSession::default(),
        })
    }

    /// Resolves `query` and waits at most `timeout` for the answer: the records found, empty if
    /// the name does not exist. A lookup through the DHT may take until GNS gives up on it.
    pub fn lookup(&mut self, query: &Query, timeout: Duration) -> Result<Vec<Record>, GnsError> {
        let request = self.session.lookup(query)?;
        let answer = self
            .conn
            .send_raw(&request.message)
            .map_err(GnsError::from)
            .and_then(|()| self.wait_for(request.id, timeout));
        if answer.is_err() {
            self.session.cancel(request.id);
        }
        answer
    }

    /// Reads answers until the one for `id` (answers to cancelled lookups are skipped).
    fn wait_for(&mut self, id: LookupId, timeout: Duration) -> Result<Vec<Record>, GnsError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout(timeout).into());
            }
            let msg = self.conn.recv(Some(left))?;
            if let Some(answer) = self.session.handle_message(msg.bytes())? {
                if answer.id == id {
                    return Ok(answer.records);
                }
            }
        }
    }
}
