//! [`NamestoreClient`]: blocking record stores for tools and tests, over a [`StoreSession`].

use std::time::Duration;

use super::session::{StoreError, StoreId, StoreSession};
use crate::client::{BlockingClient, ClientError};
use crate::config::Config;
use crate::crypto::identity_key::PrivateKey;
use crate::error_code::ErrorCode;
use crate::gnsrecord::Record;
use crate::wire::DispatchError;

/// What went wrong storing records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NamestoreError {
    /// The connection failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The request was refused before sending (bad label, records too large).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// NAMESTORE refused the store.
    #[error("namestore refused the store: {0}")]
    Refused(ErrorCode),
    /// NAMESTORE sent something that is not an answer to a store.
    #[error("unexpected answer from namestore: {0}")]
    Unexpected(#[from] DispatchError),
}

/// A blocking connection to NAMESTORE (`[namestore] UNIXPATH`).
#[derive(Debug)]
pub struct NamestoreClient {
    conn: BlockingClient,
    session: StoreSession,
    timeout: Duration,
}

impl NamestoreClient {
    /// Connects; each store then waits at most `timeout` for its answer.
    pub fn connect(config: &Config, timeout: Duration) -> Result<Self, NamestoreError> {
        Ok(Self {
            conn: BlockingClient::connect(config, "namestore", timeout)?,
            session: StoreSession::default(),
            timeout,
        })
    }

    /// Replaces the records under `label` in `zone` by `records` and waits for the answer:
    /// `Ok` once they are stored, [`NamestoreError::Refused`] with NAMESTORE's reason
    /// otherwise.
    pub fn store(
        &mut self,
        zone: &PrivateKey,
        label: &str,
        records: Vec<Record>,
    ) -> Result<(), NamestoreError> {
        let request = self.session.store(zone, label, records)?;
        let answer = self
            .conn
            .send_raw(&request.message)
            .map_err(NamestoreError::from)
            .and_then(|()| self.wait_for(request.id));
        if answer.is_err() {
            self.session.cancel(request.id);
        }
        answer?.map_err(NamestoreError::Refused)
    }

    /// Reads answers until the one for `id` (answers to nothing pending are skipped).
    fn wait_for(&mut self, id: StoreId) -> Result<Result<(), ErrorCode>, NamestoreError> {
        loop {
            let msg = self.conn.recv(Some(self.timeout))?;
            if let Some(outcome) = self.session.handle_message(msg.bytes())? {
                if outcome.id == id {
                    return Ok(outcome.result);
                }
            }
        }
    }
}
