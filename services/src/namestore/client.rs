//! [`NamestoreClient`]: blocking record stores and label lookups for tools and tests, over a
//! [`StoreSession`] and a [`LabelLookupSession`].

use std::time::Duration;

use super::lookup::{LabelLookupError, LabelLookupSession, TYPE_RECORD_LOOKUP_RESPONSE};
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
    /// The lookup was refused before sending (bad label).
    #[error(transparent)]
    Lookup(#[from] LabelLookupError),
    /// NAMESTORE refused the store.
    #[error("namestore refused the store: {0}")]
    Refused(ErrorCode),
    /// NAMESTORE's database failed to look the label up.
    #[error("namestore could not read its database")]
    LookupFailed,
    /// NAMESTORE sent something that is not an answer to a store.
    #[error("unexpected answer from namestore: {0}")]
    Unexpected(#[from] DispatchError),
}

/// A blocking connection to NAMESTORE (`[namestore] UNIXPATH`).
#[derive(Debug)]
pub struct NamestoreClient {
    conn: BlockingClient,
    session: StoreSession,
    lookups: LabelLookupSession,
    timeout: Duration,
}

impl NamestoreClient {
    /// Connects; each store then waits at most `timeout` for its answer.
    pub fn connect(config: &Config, timeout: Duration) -> Result<Self, NamestoreError> {
        Ok(Self {
            conn: BlockingClient::connect(config, "namestore", timeout)?,
            session: StoreSession::default(),
            lookups: LabelLookupSession::default(),
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

    /// Every record under `label` in `zone`, private ones included (none if the label holds
    /// none): what the zone's owner sees, unlike a GNS lookup.
    pub fn lookup(
        &mut self,
        zone: &PrivateKey,
        label: &str,
    ) -> Result<Vec<Record>, NamestoreError> {
        let request = self.lookups.lookup(zone, label)?;
        self.conn.send_raw(&request.message)?;
        loop {
            let msg = self.conn.recv(Some(self.timeout))?;
            if msg.msg_type() != TYPE_RECORD_LOOKUP_RESPONSE {
                // A late store answer: nothing waits for it.
                self.session.handle_message(msg.bytes())?;
                continue;
            }
            if let Some(answer) = self.lookups.handle_message(msg.bytes())? {
                if answer.id == request.id {
                    return answer.records.map_err(|()| NamestoreError::LookupFailed);
                }
            }
        }
    }

    /// Reads answers until the one for `id` (answers to nothing pending are skipped).
    fn wait_for(&mut self, id: StoreId) -> Result<Result<(), ErrorCode>, NamestoreError> {
        loop {
            let msg = self.conn.recv(Some(self.timeout))?;
            if msg.msg_type() == TYPE_RECORD_LOOKUP_RESPONSE {
                self.lookups.handle_message(msg.bytes())?;
                continue;
            }
            if let Some(outcome) = self.session.handle_message(msg.bytes())? {
                if outcome.id == id {
                    return Ok(outcome.result);
                }
            }
        }
    }
}
