//! A blocking CADET client for tools, tests and benchmarks.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use super::flow::{ChannelFlow, FlowError};
use super::msg::{
    ChannelCreate, ChannelDestroy, LocalAck, LocalData, PortClose, PortOpen, TYPE_LOCAL_ACK,
    TYPE_LOCAL_CHANNEL_CREATE, TYPE_LOCAL_CHANNEL_DESTROY, TYPE_LOCAL_DATA,
};
use super::{FIRST_CLIENT_CCN, MAX_CADET_MESSAGE_SIZE};
use crate::client::{BlockingClient, ClientError};
use crate::config::Config;
use crate::crypto::HashCode;
use crate::peer::PeerIdentity;
use crate::wire::{DecodeError, Message, RawMessage};

/// What went wrong talking to CADET.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CadetError {
    /// The connection to the service failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The service sent a message we cannot decode.
    #[error("bad message of type {msg_type} from cadet: {source}")]
    Decode {
        /// Type of the message.
        msg_type: u16,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
    /// The service sent a type a client never receives.
    #[error("unexpected message type {0} from cadet")]
    Unexpected(u16),
    /// Flow control was violated.
    #[error("channel {ccn:#x}: {source}")]
    Flow {
        /// The channel.
        ccn: u32,
        /// The rule.
        #[source]
        source: FlowError,
    },
    /// The channel is not (or no longer) known.
    #[error("channel {0:#x} is unknown or destroyed")]
    NoChannel(u32),
    /// The payload is not one message of at most 64,348 bytes.
    #[error("payload of {0} bytes is not one CADET-sized message")]
    BadPayload(usize),
    /// Waiting for credit or an event took too long.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

/// Something the service told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CadetEvent {
    /// A remote peer opened a channel to one of our ports; it is live.
    Incoming {
        /// Our number for the channel.
        ccn: u32,
        /// The initiator.
        peer: PeerIdentity,
        /// The port it came in on.
        port: HashCode,
    },
    /// A message arrived; acknowledge it with [`CadetClient::receive_done`].
    Data {
        /// The channel.
        ccn: u32,
        /// The carried message, header included.
        payload: Vec<u8>,
    },
    /// The channel was closed by the other side or the service.
    Destroyed {
        /// The channel.
        ccn: u32,
    },
}

/// A blocking connection to the local CADET service.
#[derive(Debug)]
pub struct CadetClient {
    conn: BlockingClient,
    next_ccn: u32,
    channels: HashMap<u32, ChannelFlow>,
    events: VecDeque<CadetEvent>,
}

impl CadetClient {
    /// Connects to `[cadet] UNIXPATH` of `config`.
    pub fn connect(config: &Config) -> Result<Self, CadetError> {
        Ok(Self::new(BlockingClient::connect(
            config,
            "cadet",
            Duration::from_secs(10),
        )?))
    }

    /// Connects to a cadet socket path.
    pub fn connect_path(path: &Path) -> Result<Self, CadetError> {
        Ok(Self::new(BlockingClient::connect_path(
            path,
            Duration::from_secs(10),
        )?))
    }

    fn new(conn: BlockingClient) -> Self {
        Self {
            conn,
            next_ccn: FIRST_CLIENT_CCN,
            channels: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Listens on `port`.
    pub fn open_port(&mut self, port: HashCode) -> Result<(), CadetError> {
        Ok(self.conn.send(&PortOpen { port })?)
    }

    /// Stops listening on `port`.
    pub fn close_port(&mut self, port: HashCode) -> Result<(), CadetError> {
        Ok(self.conn.send(&PortClose { port })?)
    }

    /// Opens a channel to `port` on `peer`; it may carry data once the service grants credit.
    pub fn create_channel(
        &mut self,
        peer: PeerIdentity,
        port: HashCode,
    ) -> Result<u32, CadetError> {
        let ccn = self.next_ccn;
        self.next_ccn = self.next_ccn.checked_add(1).unwrap_or(FIRST_CLIENT_CCN);
        self.conn.send(&ChannelCreate {
            ccn,
            peer,
            port,
            opt: 0,
        })?;
        self.channels.insert(ccn, ChannelFlow::default());
        Ok(ccn)
    }

    /// Closes a channel we know.
    pub fn destroy_channel(&mut self, ccn: u32) -> Result<(), CadetError> {
        self.channels.remove(&ccn);
        Ok(self.conn.send(&ChannelDestroy { ccn })?)
    }

    /// Credit left on `ccn`.
    pub fn credit(&self, ccn: u32) -> u32 {
        self.channels.get(&ccn).map_or(0, ChannelFlow::credit)
    }

    /// Sends one complete message on `ccn`, first waiting (up to `timeout`) for credit while
    /// queueing other events.
    pub fn send(&mut self, ccn: u32, message: &[u8], timeout: Duration) -> Result<(), CadetError> {
        if message.len() > MAX_CADET_MESSAGE_SIZE || LocalData::check_payload(message).is_err() {
            return Err(CadetError::BadPayload(message.len()));
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.channels.get(&ccn) {
                None => return Err(CadetError::NoChannel(ccn)),
                Some(f) if f.can_send() => break,
                Some(_) => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CadetError::Timeout(timeout));
            }
            self.pump(left)?;
        }
        if let Some(f) = self.channels.get_mut(&ccn) {
            f.on_send()
                .map_err(|source| CadetError::Flow { ccn, source })?;
        }
        let data = LocalData {
            ccn,
            pp: 0,
            payload: message.to_vec(),
        };
        Ok(self.conn.send(&data)?)
    }

    /// Waits until `ccn` has credit (i.e. the channel is up), up to `timeout`.
    pub fn wait_ready(&mut self, ccn: u32, timeout: Duration) -> Result<(), CadetError> {
        let deadline = Instant::now() + timeout;
        while self.credit(ccn) == 0 {
            if !self.channels.contains_key(&ccn) {
                return Err(CadetError::NoChannel(ccn));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CadetError::Timeout(timeout));
            }
            self.pump(left)?;
        }
        Ok(())
    }

    /// Tells the service we processed a message of `ccn`, so it may hand us the next one.
    pub fn receive_done(&mut self, ccn: u32) -> Result<(), CadetError> {
        if let Some(f) = self.channels.get_mut(&ccn) {
            f.on_receive_done();
        }
        Ok(self.conn.send(&LocalAck { ccn })?)
    }

    /// The next event, waiting at most `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Result<CadetEvent, CadetError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(e);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CadetError::Timeout(timeout));
            }
            self.pump(left)?;
        }
    }

    /// Reads one message from the service and applies it.
    fn pump(&mut self, timeout: Duration) -> Result<(), CadetError> {
        let raw = match self.conn.recv(Some(timeout)) {
            Ok(raw) => raw,
            Err(ClientError::Timeout(t)) => return Err(CadetError::Timeout(t)),
            Err(e) => return Err(e.into()),
        };
        self.apply(raw)
    }

    fn apply(&mut self, raw: RawMessage) -> Result<(), CadetError> {
        fn decode<M: Message>(raw: &RawMessage) -> Result<M, CadetError> {
            M::from_message(raw.bytes()).map_err(|source| CadetError::Decode {
                msg_type: raw.msg_type(),
                source,
            })
        }
        match raw.msg_type() {
            TYPE_LOCAL_ACK => {
                let LocalAck { ccn } = decode(&raw)?;
                if let Some(f) = self.channels.get_mut(&ccn) {
                    f.on_ack()
                        .map_err(|source| CadetError::Flow { ccn, source })?;
                }
            }
            TYPE_LOCAL_DATA => {
                let d: LocalData = decode(&raw)?;
                if let Some(f) = self.channels.get_mut(&d.ccn) {
                    f.on_receive();
                }
                self.events.push_back(CadetEvent::Data {
                    ccn: d.ccn,
                    payload: d.payload,
                });
            }
            TYPE_LOCAL_CHANNEL_CREATE => {
                let c: ChannelCreate = decode(&raw)?;
                self.channels.insert(c.ccn, ChannelFlow::default());
                self.events.push_back(CadetEvent::Incoming {
                    ccn: c.ccn,
                    peer: c.peer,
                    port: c.port,
                });
            }
            TYPE_LOCAL_CHANNEL_DESTROY => {
                let ChannelDestroy { ccn } = decode(&raw)?;
                self.channels.remove(&ccn);
                self.events.push_back(CadetEvent::Destroyed { ccn });
            }
            other => return Err(CadetError::Unexpected(other)),
        }
        Ok(())
    }
}
