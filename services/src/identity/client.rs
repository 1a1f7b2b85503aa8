//! Blocking IDENTITY clients for tools and tests: [`IdentityClient`] lists, looks up, creates,
//! renames and deletes egos; [`IdentityMonitor`] follows the changes through a [`Monitor`].

use std::time::Duration;

use std::collections::VecDeque;

use super::monitor::{EgoEvent, Monitor, MonitorError};
use super::msg::{
    Create, Delete, Lookup, Rename, ResultCode, Start, Update, TYPE_RESULT_CODE, TYPE_UPDATE,
};
use crate::client::{BlockingClient, ClientError};
use crate::config::Config;
use crate::crypto::identity_key::{KeyType, PrivateKey};
use crate::error_code::ErrorCode;
use crate::wire::{Codec, DecodeError, Message};

/// Result code of IDENTITY for "no such ego".
pub const CODE_NOT_FOUND: u32 = 200;

/// What went wrong talking to IDENTITY.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The connection failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The service answered with a failure code (200 not found, 201 conflict, 202 invalid).
    #[error("identity service refused: {}", ErrorCode(*.0))]
    Code(u32),
    /// A monitored UPDATE could not be taken.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// An ego's key blob could not be decoded.
    #[error("ego {name:?} has an unreadable key: {source}")]
    BadKey {
        /// The ego.
        name: String,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
    /// The service sent a message type that does not answer our request.
    #[error("unexpected message type {0} from identity")]
    Unexpected(u16),
}

/// One ego: a name and its private key (ECDSA or EdDSA in GNUnet 0.19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ego {
    /// The ego's name, lower case.
    pub name: String,
    /// Its private key.
    pub key: PrivateKey,
}

/// A blocking connection to the IDENTITY service.
#[derive(Debug)]
pub struct IdentityClient {
    conn: BlockingClient,
    timeout: Duration,
}

impl IdentityClient {
    /// Connects to `[identity] UNIXPATH`.
    pub fn connect(config: &Config) -> Result<Self, IdentityError> {
        let timeout = Duration::from_secs(10);
        Ok(Self {
            conn: BlockingClient::connect(config, "identity", timeout)?,
            timeout,
        })
    }

    /// Every ego the service knows.
    pub fn list(mut self) -> Result<Vec<Ego>, IdentityError> {
        self.conn.send(&Start)?;
        let mut egos = Vec::new();
        loop {
            let u: Update = self.conn.recv_as(Some(self.timeout))?;
            if u.end_of_list {
                return Ok(egos);
            }
            if let Some(name) = u.name {
                egos.push(ego(name, &u.key)?);
            }
        }
    }

    /// The ego called `name` (case-insensitive), if any.
    pub fn lookup(&mut self, name: &str) -> Result<Option<Ego>, IdentityError> {
        self.conn.send(&Lookup {
            name: name.to_string(),
        })?;
        let raw = self.conn.recv(Some(self.timeout))?;
        let decode_err = |source| {
            IdentityError::Client(ClientError::Decode {
                msg_type: raw.msg_type(),
                source,
            })
        };
        match raw.msg_type() {
            TYPE_UPDATE => {
                let u = Update::from_message(raw.bytes()).map_err(decode_err)?;
                match u.name {
                    Some(n) => Ok(Some(ego(n, &u.key)?)),
                    None => Ok(None),
                }
            }
            TYPE_RESULT_CODE => {
                match ResultCode::from_message(raw.bytes())
                    .map_err(decode_err)?
                    .code
                {
                    CODE_NOT_FOUND => Ok(None),
                    code => Err(IdentityError::Code(code)),
                }
            }
            other => Err(IdentityError::Unexpected(other)),
        }
    }

    /// Creates ego `name` with a fresh key of `key_type` (the client makes the key, as the C
    /// API does).
    pub fn create(&mut self, name: &str, key_type: KeyType) -> Result<Ego, IdentityError> {
        let key = PrivateKey::generate(key_type, &mut rand_core::OsRng);
        self.conn.send(&Create {
            key: key.to_vec(),
            name: name.to_string(),
        })?;
        let rc: ResultCode = self.conn.recv_as(Some(self.timeout))?;
        if rc.code != 0 {
            return Err(IdentityError::Code(rc.code));
        }
        Ok(Ego {
            name: name.to_lowercase(),
            key,
        })
    }

    /// Renames ego `old_name` to `new_name` (the service lower-cases both).
    pub fn rename(&mut self, old_name: &str, new_name: &str) -> Result<(), IdentityError> {
        self.expect_success(&Rename {
            old_name: old_name.to_string(),
            new_name: new_name.to_string(),
        })
    }

    /// Deletes ego `name`.
    pub fn delete(&mut self, name: &str) -> Result<(), IdentityError> {
        self.expect_success(&Delete {
            name: name.to_string(),
        })
    }

    /// Sends `request` and expects RESULT_CODE 0.
    fn expect_success<M: Message>(&mut self, request: &M) -> Result<(), IdentityError> {
        let rc: ResultCode = self.conn.request(request, self.timeout)?;
        match rc.code {
            0 => Ok(()),
            code => Err(IdentityError::Code(code)),
        }
    }
}

/// A blocking connection that follows the egos: a [`Monitor`] fed from its own connection.
#[derive(Debug)]
pub struct IdentityMonitor {
    conn: BlockingClient,
    monitor: Monitor,
    events: VecDeque<EgoEvent>,
}

impl IdentityMonitor {
    /// Connects and asks for the egos (START).
    pub fn connect(config: &Config) -> Result<Self, IdentityError> {
        let mut monitor = Monitor::default();
        let mut conn = BlockingClient::connect(config, "identity", Duration::from_secs(10))?;
        conn.send_raw(&monitor.connected())?;
        Ok(Self {
            conn,
            monitor,
            events: VecDeque::new(),
        })
    }

    /// Drops the connection and makes a new one, as a link does after the service went away:
    /// the egos stay known, the listing that follows is compared with them.
    pub fn reconnect(&mut self, config: &Config) -> Result<(), IdentityError> {
        self.monitor.disconnected();
        self.events.clear();
        self.conn = BlockingClient::connect(config, "identity", Duration::from_secs(10))?;
        self.conn.send_raw(&self.monitor.connected())?;
        Ok(())
    }

    /// The next change, waiting at most `timeout` for it.
    pub fn next_event(&mut self, timeout: Duration) -> Result<EgoEvent, IdentityError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout(timeout).into());
            }
            let msg = self.conn.recv(Some(left))?;
            self.events
                .extend(self.monitor.handle_message(msg.bytes())?);
        }
    }

    /// The monitor (e.g. for the egos known now).
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }
}

fn ego(name: String, blob: &[u8]) -> Result<Ego, IdentityError> {
    match PrivateKey::decode_exact(blob) {
        Ok(key) => Ok(Ego { name, key }),
        Err(source) => Err(IdentityError::BadKey { name, source }),
    }
}
