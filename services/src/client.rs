//! Clients of other services: find the socket through the config, connect with GNUnet's
//! exponential back-off, and a blocking request/response helper for tools and tests.
//!
//! Code inside a service's mio loop talks to other services over links
//! ([`crate::server::Ctx::open_link`], reconnected with [`Backoff`]); this module's
//! [`BlockingClient`] is for everything else.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::wire::{DecodeError, FrameError, Framer, Message, RawMessage, TooLarge};

/// Why talking to a service failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The config names no `UNIXPATH` for the service.
    #[error("no UNIXPATH configured for service [{0}]")]
    NoUnixPath(String),
    /// Connecting kept failing until the deadline.
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The last OS error.
        #[source]
        source: io::Error,
    },
    /// Reading or writing the socket failed.
    #[error("i/o with service: {0}")]
    Io(#[from] io::Error),
    /// The service closed the connection.
    #[error("service closed the connection")]
    Closed,
    /// The message to send would exceed the GNUnet message size limit; nothing was sent.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// No message arrived in time.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The service sent bytes that are not GNUnet framing.
    #[error("bad framing from service: {0}")]
    Framing(#[from] FrameError),
    /// A reply could not be decoded as the expected message.
    #[error("bad reply of type {msg_type}: {source}")]
    Decode {
        /// Type of the offending message.
        msg_type: u16,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
}

/// GNUnet's standard back-off: doubles from 1 ms up to a ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    current: Duration,
    max: Duration,
}

impl Backoff {
    /// A back-off that never waits longer than `max`.
    pub fn new(max: Duration) -> Self {
        Self {
            current: Duration::ZERO,
            max,
        }
    }

    /// The next delay: 1 ms, then double the previous one, at most `max`.
    pub fn next_delay(&mut self) -> Duration {
        self.current = (self.current * 2).clamp(Duration::from_millis(1), self.max);
        self.current
    }

    /// Back to the shortest delay, after a success.
    pub fn reset(&mut self) {
        self.current = Duration::ZERO;
    }
}

impl Default for Backoff {
    /// Ceiling of 15 minutes, as `GNUNET_TIME_STD_BACKOFF`.
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60))
    }
}

/// The socket of service `name` as clients find it: `[name] UNIXPATH`, expanded.
pub fn service_socket(config: &Config, name: &str) -> Result<PathBuf, ClientError> {
    config
        .unix_path(name)
        .ok_or_else(|| ClientError::NoUnixPath(name.to_string()))
}

/// A blocking connection to one service.
#[derive(Debug)]
pub struct BlockingClient {
    stream: UnixStream,
    framer: Framer,
}

impl BlockingClient {
    /// Connects to service `name` as configured, retrying with back-off for up to `patience`
    /// (a service started on demand by ARM accepts once it is up).
    pub fn connect(config: &Config, name: &str, patience: Duration) -> Result<Self, ClientError> {
        Self::connect_path(&service_socket(config, name)?, patience)
    }

    /// Connects to a socket path, retrying with back-off for up to `patience`.
    pub fn connect_path(path: &Path, patience: Duration) -> Result<Self, ClientError> {
        let deadline = Instant::now() + patience;
        let mut backoff = Backoff::new(Duration::from_millis(500));
        loop {
            match UnixStream::connect(path) {
                Ok(stream) => return Ok(Self::from_stream(stream)),
                Err(e) if Instant::now() >= deadline => {
                    return Err(ClientError::Connect {
                        path: path.to_path_buf(),
                        source: e,
                    })
                }
                Err(_) => std::thread::sleep(backoff.next_delay()),
            }
        }
    }

    /// Wraps an already connected stream.
    pub fn from_stream(stream: UnixStream) -> Self {
        Self {
            stream,
            framer: Framer::new(),
        }
    }

    /// Sends complete message bytes.
    pub fn send_raw(&mut self, msg: &[u8]) -> Result<(), ClientError> {
        self.stream.write_all(msg)?;
        Ok(())
    }

    /// Sends one message; [`ClientError::TooLarge`] (nothing sent) if it does not fit one
    /// GNUnet message.
    pub fn send<M: Message>(&mut self, msg: &M) -> Result<(), ClientError> {
        self.send_raw(&msg.try_to_message()?)
    }

    /// The next message; waits at most `timeout` (forever with `None`).
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<RawMessage, ClientError> {
        let deadline = timeout.map(|t| (Instant::now() + t, t));
        let mut buf = [0u8; 64 * 1024];
        loop {
            if let Some(m) = self.framer.next_message()? {
                return Ok(m);
            }
            let wait = match deadline {
                Some((at, t)) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ClientError::Timeout(t));
                    }
                    Some(left)
                }
                None => None,
            };
            self.stream.set_read_timeout(wait)?;
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    self.framer.finish()?;
                    return Err(ClientError::Closed);
                }
                Ok(n) => self.framer.push(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The next message if one is buffered or can be read at once, without waiting (`None`
    /// otherwise, also when only part of one has arrived): lets a client take the replies
    /// that came meanwhile between its own sends.
    pub fn try_recv(&mut self) -> Result<Option<RawMessage>, ClientError> {
        if let Some(m) = self.framer.next_message()? {
            return Ok(Some(m));
        }
        let mut buf = [0u8; 64 * 1024];
        self.stream.set_nonblocking(true)?;
        let read = self.stream.read(&mut buf);
        self.stream.set_nonblocking(false)?;
        match read {
            Ok(0) => {
                self.framer.finish()?;
                Err(ClientError::Closed)
            }
            Ok(n) => {
                self.framer.push(&buf[..n]);
                Ok(self.framer.next_message()?)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The next message, decoded as `M`; a message of another type is an error.
    pub fn recv_as<M: Message>(&mut self, timeout: Option<Duration>) -> Result<M, ClientError> {
        let raw = self.recv(timeout)?;
        M::from_message(raw.bytes()).map_err(|source| ClientError::Decode {
            msg_type: raw.msg_type(),
            source,
        })
    }

    /// Sends `req` and returns the first reply of type `M`, skipping nothing: any other reply is
    /// an error.
    pub fn request<Q: Message, M: Message>(
        &mut self,
        req: &Q,
        timeout: Duration,
    ) -> Result<M, ClientError> {
        self.send(req)?;
        self.recv_as(Some(timeout))
    }

    /// The underlying stream (e.g. to shut down one direction).
    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_millisecond_to_the_ceiling() {
        let mut b = Backoff::new(Duration::from_millis(5));
        let got: Vec<u128> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, [1, 2, 4, 5, 5]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(1));
    }

    #[test]
    fn recv_frames_split_messages_and_times_out() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut c = BlockingClient::from_stream(a);
        b.write_all(&[0, 6, 0, 9, 1]).unwrap();
        assert!(matches!(
            c.recv(Some(Duration::from_millis(20))),
            Err(ClientError::Timeout(_))
        ));
        b.write_all(&[2]).unwrap();
        let m = c.recv(Some(Duration::from_secs(1))).unwrap();
        assert_eq!((m.msg_type(), m.body()), (9, &[1u8, 2][..]));
        drop(b);
        assert!(matches!(c.recv(None), Err(ClientError::Closed)));
    }

    #[test]
    fn try_recv_takes_what_arrived_without_waiting() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut c = BlockingClient::from_stream(a);
        assert!(c.try_recv().unwrap().is_none());
        // Two whole messages and part of a third in one read.
        b.write_all(&[0, 4, 0, 1, 0, 5, 0, 2, 7, 0, 4]).unwrap();
        assert_eq!(c.try_recv().unwrap().unwrap().msg_type(), 1);
        assert_eq!(c.try_recv().unwrap().unwrap().body(), &[7]);
        assert!(c.try_recv().unwrap().is_none());
        b.write_all(&[0, 3]).unwrap();
        assert_eq!(c.try_recv().unwrap().unwrap().msg_type(), 3);
        // The stream is blocking again for recv.
        assert!(matches!(
            c.recv(Some(Duration::from_millis(20))),
            Err(ClientError::Timeout(_))
        ));
        drop(b);
        assert!(matches!(c.try_recv(), Err(ClientError::Closed)));
    }

    #[test]
    fn an_oversized_message_is_an_error_and_nothing_is_sent() {
        use crate::statistics::msg::Set;
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut c = BlockingClient::from_stream(a);
        let huge = Set::absolute("test", &"n".repeat(70_000), 1);
        assert!(matches!(c.send(&huge), Err(ClientError::TooLarge(e)) if e.size > 70_000));
        c.send(&Set::absolute("test", "small", 1)).unwrap();
        drop(c);
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        assert_eq!(got, Set::absolute("test", "small", 1).to_message());
    }
}
