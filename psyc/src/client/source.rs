//! The content of the message a [`Session`](super::Session) is transmitting, as
//! [`MessageSource`]s for the format library's
//! [`Transmitter`](crate::format::transmit::Transmitter).
//!
//! The transmitter produces every modifier inside
//! [`Transmitter::start`](crate::format::transmit::Transmitter::start) (modifiers are not paced
//! by ACKs, and an environment never pauses), so the modifiers come from the format library's
//! own [`EnvSource`] over the caller's environment during that one call ([`Starting`]); from
//! then on only body data is asked for, from [`Outgoing`]: a queue of chunks the application
//! may keep filling while the message goes out, so a body larger than memory can be
//! streamed. An empty queue that is not closed pauses the transmitter until more data
//! arrives.

use std::collections::VecDeque;

use crate::format::transmit::{ChunkStep, DataStep, EnvSource, MessageSource, ModifierStep};

/// The body of one outgoing message.
#[derive(Debug, Default)]
pub(super) struct Outgoing {
    /// Body chunks not handed out yet; the front one from `front_sent` on.
    chunks: VecDeque<Vec<u8>>,
    front_sent: usize,
    /// Body bytes queued and not handed out yet.
    queued: usize,
    /// No more body chunks will come.
    closed: bool,
}

impl Outgoing {
    /// Appends a body chunk; `last` closes the body.
    pub(super) fn push(&mut self, chunk: Vec<u8>, last: bool) {
        if !chunk.is_empty() {
            self.queued += chunk.len();
            self.chunks.push_back(chunk);
        }
        self.closed |= last;
    }

    /// Body bytes waiting to be handed to the transmitter.
    pub(super) fn queued(&self) -> usize {
        self.queued
    }

    /// Whether the body is closed.
    pub(super) fn is_closed(&self) -> bool {
        self.closed
    }
}

impl MessageSource for Outgoing {
    /// Never asked after [`Starting`] produced the modifiers.
    fn next_modifier(&mut self, _buf: &mut [u8]) -> ModifierStep {
        ModifierStep::Done
    }

    /// Never asked after [`Starting`] produced the modifiers; a request would be a bug,
    /// answered by cancelling the message.
    fn next_value_chunk(&mut self, _buf: &mut [u8], _remaining: u32) -> ChunkStep {
        ChunkStep::Fail
    }

    /// Hands out the front chunk (up to `buf.len()` bytes of it): like the C data callback,
    /// each chunk of the caller becomes its own DATA part, so the caller's chunking decides
    /// the containers, as in C.
    fn next_data(&mut self, buf: &mut [u8]) -> DataStep {
        let mut n = 0;
        if let Some(front) = self.chunks.front() {
            let rest = front.get(self.front_sent..).unwrap_or_default();
            n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.front_sent += n;
            if self.front_sent >= front.len() {
                self.chunks.pop_front();
                self.front_sent = 0;
            }
        }
        self.queued -= n;
        if self.chunks.is_empty() && self.closed {
            DataStep::Last(n)
        } else {
            // More(0) pauses the transmitter until the next chunk arrives.
            DataStep::More(n)
        }
    }
}

/// The source while a transmission starts: the environment's modifiers, then the body.
pub(super) struct Starting<'a> {
    /// Modifiers of the caller's environment (its body part is empty and unused).
    pub(super) modifiers: EnvSource<'a>,
    /// The body.
    pub(super) body: &'a mut Outgoing,
}

impl MessageSource for Starting<'_> {
    fn next_modifier(&mut self, buf: &mut [u8]) -> ModifierStep {
        self.modifiers.next_modifier(buf)
    }

    fn next_value_chunk(&mut self, buf: &mut [u8], remaining: u32) -> ChunkStep {
        self.modifiers.next_value_chunk(buf, remaining)
    }

    fn next_data(&mut self, buf: &mut [u8]) -> DataStep {
        self.body.next_data(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_chunks_stream_one_at_a_time() {
        let mut src = Outgoing::default();
        let mut buf = [0u8; 5];
        // No body yet: pause.
        assert_eq!(src.next_data(&mut buf), DataStep::More(0));
        src.push(b"abc".to_vec(), false);
        src.push(b"defghij".to_vec(), false);
        assert_eq!(src.queued(), 10);
        assert_eq!(src.next_data(&mut buf), DataStep::More(3));
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(src.next_data(&mut buf), DataStep::More(5));
        assert_eq!(&buf, b"defgh");
        src.push(Vec::new(), true);
        assert_eq!(src.next_data(&mut buf), DataStep::Last(2));
        assert_eq!(&buf[..2], b"ij");
        assert_eq!(src.queued(), 0);
        assert_eq!(src.next_modifier(&mut buf), ModifierStep::Done);
    }
}
