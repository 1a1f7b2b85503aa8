//! A blocking connection to the multicast service in one group role, driving a [`Session`]:
//! for tools, the CLI and tests.

use std::net::Shutdown;
use std::time::{Duration, Instant};

use gnunet_service::client::{BlockingClient, ClientError};
use gnunet_service::config::Config;
use gnunet_service::crypto::eddsa;
use gnunet_service::wire::{DecodeError, TooLarge};

use super::{origin_start, Event, Session, SessionError, SessionEvent};
use crate::msg::{Fragment, ReplayError, ReplayIds};

/// Why a [`Client`] call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Talking to the service failed.
    #[error(transparent)]
    Service(#[from] ClientError),
    /// The service sent something that is not a client message of multicast.
    #[error("undecodable message type {msg_type} from the service: {source}")]
    Decode {
        /// Its type.
        msg_type: u16,
        /// Why.
        source: DecodeError,
    },
    /// The session refused the call (wrong role, parted, queue full …).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A message built from the caller's input would exceed the GNUnet message size limit.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
}

/// A blocking connection to the multicast service in one group role.
///
/// [`send`](Self::send) writes at once, as given; [`transmit`](Self::transmit),
/// [`request`](Self::request) and [`replay`](Self::replay) go through the [`Session`], which
/// paces fragments by FRAGMENT_ACK and matches replay answers. Every event read passes
/// through the session, so it knows the role, the admission and what to re-send after
/// [`reconnect`](Self::reconnect).
pub struct Client {
    conn: BlockingClient,
    session: Session,
}

impl Client {
    /// Connects to the service named `multicast` in `config`, waiting up to `patience`.
    pub fn connect(config: &Config, patience: Duration) -> Result<Self, Error> {
        Ok(Self::from_blocking(BlockingClient::connect(
            config,
            "multicast",
            patience,
        )?))
    }

    /// Wraps an established connection (tests).
    pub fn from_blocking(conn: BlockingClient) -> Self {
        let mut session = Session::new();
        session.connected();
        Self { conn, session }
    }

    /// Closes the connection, as a lost connection would end; [`reconnect`](Self::reconnect)
    /// opens a new one.
    pub fn disconnect(&mut self) {
        // Already closed by the other side, maybe: nothing more to do then.
        let _ = self.conn.stream().shutdown(Shutdown::Both);
        self.session.disconnected();
    }

    /// Connects again to the service named `multicast` in `config` (closing the current
    /// connection first, if it is open); the session sends its start message, its unanswered
    /// replay requests and its unacknowledged fragment again.
    pub fn reconnect(&mut self, config: &Config, patience: Duration) -> Result<(), Error> {
        if self.session.is_connected() {
            self.disconnect();
        }
        self.conn = BlockingClient::connect(config, "multicast", patience)?;
        self.session.connected();
        self.flush()
    }

    /// The session this client drives.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Writes a message built by this module's functions at once, outside flow control; the
    /// session still takes note of a start message, a replay request or a part.
    pub fn send(&mut self, msg: &[u8]) -> Result<(), Error> {
        self.flush()?;
        self.conn.send_raw(msg)?;
        self.session.note_written(msg);
        Ok(())
    }

    /// Starts the origin role.
    pub fn start_origin(
        &mut self,
        group_key: eddsa::PrivateKey,
        max_fragment_id: u64,
    ) -> Result<(), Error> {
        self.session
            .send(origin_start(group_key, max_fragment_id))?;
        self.flush()
    }

    /// Transmits one application message as fragments, one at a time, each after the
    /// FRAGMENT_ACK of the one before; returns when all are acknowledged, with the other events
    /// that arrived meanwhile.
    pub fn transmit(
        &mut self,
        message_id: u64,
        group_generation: u64,
        data: &[u8],
        timeout: Duration,
    ) -> Result<Vec<Event>, Error> {
        self.session.transmit(message_id, group_generation, data)?;
        self.until_acknowledged(timeout)
    }

    /// Sends one request to the origin as fragments, paced like [`transmit`](Self::transmit)
    /// (and only once the member is admitted).
    pub fn request(
        &mut self,
        request_id: u64,
        data: &[u8],
        timeout: Duration,
    ) -> Result<Vec<Event>, Error> {
        self.session.request(request_id, data)?;
        self.until_acknowledged(timeout)
    }

    /// Member: asks for a replay of `ids` and waits for its answer; returns it with the other
    /// events that arrived meanwhile.
    pub fn replay(
        &mut self,
        ids: ReplayIds,
        timeout: Duration,
    ) -> Result<(Result<Fragment, ReplayError>, Vec<Event>), Error> {
        self.session.replay(ids)?;
        self.flush()?;
        let deadline = Instant::now() + timeout;
        let mut others = Vec::new();
        loop {
            let (event, derived) = self.next(deadline, timeout)?;
            for d in derived {
                if let SessionEvent::ReplayDone { ids: done, result } = d {
                    if done == ids {
                        return Ok((result, others));
                    }
                }
            }
            others.push(event);
        }
    }

    /// The next message from the service.
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Event, Error> {
        let raw = self.conn.recv(timeout)?;
        let event = Event::decode(raw.bytes()).map_err(|source| Error::Decode {
            msg_type: raw.msg_type(),
            source,
        })?;
        self.session.handle_event(event.clone());
        while self.session.poll_event().is_some() {}
        self.flush()?;
        Ok(event)
    }

    /// The next event within `deadline`, and what the session made of it.
    fn next(
        &mut self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(Event, Vec<SessionEvent>), Error> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::Timeout(timeout).into());
        }
        let raw = self.conn.recv(Some(left))?;
        let event = Event::decode(raw.bytes()).map_err(|source| Error::Decode {
            msg_type: raw.msg_type(),
            source,
        })?;
        self.session.handle_event(event.clone());
        let derived = std::iter::from_fn(|| self.session.poll_event()).collect();
        self.flush()?;
        Ok((event, derived))
    }

    /// Writes what the session has queued, then reads until every fragment is acknowledged;
    /// returns the events other than FRAGMENT_ACK.
    fn until_acknowledged(&mut self, timeout: Duration) -> Result<Vec<Event>, Error> {
        self.flush()?;
        let mut others = Vec::new();
        let mut deadline = Instant::now() + timeout;
        while self.session.unacknowledged() > 0 {
            let (event, _) = self.next(deadline, timeout)?;
            match event {
                // Each ACK gives the next fragment its own `timeout`.
                Event::FragmentAck => deadline = Instant::now() + timeout,
                e => others.push(e),
            }
        }
        Ok(others)
    }

    /// Writes everything the session has queued.
    fn flush(&mut self) -> Result<(), Error> {
        while let Some(msg) = self.session.poll_transmit() {
            self.conn.send_raw(&msg)?;
        }
        Ok(())
    }
}
