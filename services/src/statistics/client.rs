//! A blocking STATISTICS client for tools and tests.

use std::time::Duration;

use super::msg::{Get, Set, Value, TYPE_END, TYPE_VALUE};
use crate::client::{BlockingClient, ClientError};
use crate::config::Config;
use crate::wire::Message;

/// A blocking connection to the STATISTICS service.
#[derive(Debug)]
pub struct StatisticsClient {
    conn: BlockingClient,
}

impl StatisticsClient {
    /// Connects to `[statistics] UNIXPATH`.
    pub fn connect(config: &Config) -> Result<Self, ClientError> {
        Ok(Self {
            conn: BlockingClient::connect(config, "statistics", Duration::from_secs(10))?,
        })
    }

    /// Sets `subsystem`/`name` to `value` (no reply is sent by the service).
    pub fn set(&mut self, subsystem: &str, name: &str, value: u64) -> Result<(), ClientError> {
        self.conn.send(&Set::absolute(subsystem, name, value))
    }

    /// Adds `delta` to `subsystem`/`name`; the service clamps the result at 0.
    pub fn update(&mut self, subsystem: &str, name: &str, delta: i64) -> Result<(), ClientError> {
        self.conn.send(&Set::update(subsystem, name, delta))
    }

    /// Values matching `subsystem` and `name` (empty matches all).
    pub fn get(&mut self, subsystem: &str, name: &str) -> Result<Vec<Value>, ClientError> {
        self.conn.send(&Get {
            subsystem: subsystem.to_string(),
            name: name.to_string(),
        })?;
        let mut out = Vec::new();
        loop {
            let raw = self.conn.recv(Some(Duration::from_secs(10)))?;
            match raw.msg_type() {
                TYPE_VALUE => out.push(Value::from_message(raw.bytes()).map_err(|source| {
                    ClientError::Decode {
                        msg_type: TYPE_VALUE,
                        source,
                    }
                })?),
                TYPE_END => return Ok(out),
                other => {
                    return Err(ClientError::Decode {
                        msg_type: other,
                        source: crate::wire::DecodeError::Invalid {
                            field: "type",
                            reason: "neither VALUE nor END",
                        },
                    })
                }
            }
        }
    }
}
