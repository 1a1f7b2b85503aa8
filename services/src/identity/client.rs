//! A blocking IDENTITY client: list, look up and create egos.

use std::time::Duration;

use super::msg::{Create, Lookup, ResultCode, Start, Update, TYPE_RESULT_CODE, TYPE_UPDATE};
use crate::client::{BlockingClient, ClientError};
use crate::config::Config;
use crate::crypto::identity_key::{KeyType, PrivateKey};
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
    #[error("identity service answered code {0}")]
    Code(u32),
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
#[derive(Debug, Clone)]
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
}

fn ego(name: String, blob: &[u8]) -> Result<Ego, IdentityError> {
    match PrivateKey::decode_exact(blob) {
        Ok(key) => Ok(Ego { name, key }),
        Err(source) => Err(IdentityError::BadKey { name, source }),
    }
}
