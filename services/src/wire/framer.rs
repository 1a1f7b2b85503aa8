//! Splitting a byte stream into GNUnet messages.

use super::header::HEADER_SIZE;

/// Why a stream is not a valid sequence of GNUnet messages. Unlike an incomplete message,
/// this is final: the connection must be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A header announces fewer than 4 bytes (`GNUNET_MIN_MESSAGE_SIZE`).
    #[error("message size {0} is below the 4-byte header")]
    SizeBelowHeader(u16),
    /// The stream ended in the middle of a message.
    #[error("stream ended inside a message: {have} of {want} bytes")]
    TruncatedAtEof {
        /// Bytes of the message received.
        have: usize,
        /// Bytes the header announced (or 4 when the header itself is incomplete).
        want: usize,
    },
}

/// One complete message off the stream, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    bytes: Vec<u8>,
}

impl RawMessage {
    /// Wraps complete message bytes; `None` when they are shorter than the header or their
    /// header's size disagrees with their length.
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        if bytes.len() < HEADER_SIZE
            || u16::from_be_bytes([bytes[0], bytes[1]]) as usize != bytes.len()
        {
            return None;
        }
        Some(Self { bytes })
    }

    /// The message type from the header.
    pub fn msg_type(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    /// The whole message, header included.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes after the header.
    pub fn body(&self) -> &[u8] {
        &self.bytes[HEADER_SIZE..]
    }

    /// Total size, header included.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Never true: a message holds at least its header. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Gives back the owned bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Accumulates stream bytes and yields complete messages.
///
/// Memory is bounded: at most one message (≤ 65535 bytes) plus what one `push` adds.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    start: usize,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete message; `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<RawMessage>, FrameError> {
        let pending = &self.buf[self.start..];
        if pending.len() < HEADER_SIZE {
            return Ok(None);
        }
        let size = u16::from_be_bytes([pending[0], pending[1]]);
        if (size as usize) < HEADER_SIZE {
            return Err(FrameError::SizeBelowHeader(size));
        }
        let size = size as usize;
        if pending.len() < size {
            return Ok(None);
        }
        let bytes = pending[..size].to_vec();
        self.start += size;
        Ok(Some(RawMessage { bytes }))
    }

    /// Bytes received but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Call at end of stream: an error if a message was left incomplete.
    pub fn finish(&self) -> Result<(), FrameError> {
        let pending = &self.buf[self.start..];
        match pending.len() {
            0 => Ok(()),
            have if have < HEADER_SIZE => Err(FrameError::TruncatedAtEof {
                have,
                want: HEADER_SIZE,
            }),
            have => Err(FrameError::TruncatedAtEof {
                have,
                want: u16::from_be_bytes([pending[0], pending[1]]) as usize,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_back_to_back_messages_fed_byte_by_byte() {
        let stream = [0u8, 4, 0, 1, 0, 6, 0, 2, 9, 9];
        let mut f = Framer::new();
        let mut got = Vec::new();
        for b in stream {
            f.push(&[b]);
            while let Some(m) = f.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].msg_type(), 1);
        assert_eq!(got[1].body(), &[9, 9]);
        assert!(f.finish().is_ok());
    }

    #[test]
    fn incomplete_is_not_an_error_until_eof() {
        let mut f = Framer::new();
        f.push(&[0, 10, 0, 1, 5]);
        assert_eq!(f.next_message(), Ok(None));
        assert_eq!(
            f.finish(),
            Err(FrameError::TruncatedAtEof { have: 5, want: 10 })
        );
    }

    #[test]
    fn size_below_header_is_invalid() {
        let mut f = Framer::new();
        f.push(&[0, 3, 0, 1]);
        assert_eq!(f.next_message(), Err(FrameError::SizeBelowHeader(3)));
    }

    #[test]
    fn raw_message_checks_its_header() {
        assert!(RawMessage::new(vec![0, 4, 0, 1]).is_some());
        assert!(RawMessage::new(vec![0, 5, 0, 1]).is_none());
        assert!(RawMessage::new(vec![0, 4]).is_none());
    }
}
