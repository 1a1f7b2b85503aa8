//! The content of the message a [`Session`](super::Session) is transmitting: an owned
//! [`MessageSource`] for the format library's [`Transmitter`](crate::format::transmit::Transmitter).
//!
//! The modifiers come from an [`Environment`] the session owns (the format library's
//! `EnvSource` borrows its environment, which a session cannot keep across calls); the body
//! comes from a queue of chunks the application may keep filling while the message goes out,
//! so a body larger than memory can be streamed. An empty queue that is not closed pauses the
//! transmitter until more data arrives.

use std::collections::VecDeque;

use crate::format::env::Environment;
use crate::format::transmit::{ChunkStep, DataStep, MessageSource, ModifierStep};

/// Modifiers and body of one outgoing message.
#[derive(Debug, Default)]
pub(super) struct Outgoing {
    env: Environment,
    /// Index of the modifier being written.
    next_mod: usize,
    /// Bytes of its value already handed out.
    value_sent: usize,
    /// Body chunks not handed out yet; the front one from `front_sent` on.
    chunks: VecDeque<Vec<u8>>,
    front_sent: usize,
    /// Body bytes queued and not handed out yet.
    queued: usize,
    /// No more body chunks will come.
    closed: bool,
}

impl Outgoing {
    /// A message with these modifiers and no body yet.
    pub(super) fn new(env: Environment) -> Self {
        Self {
            env,
            ..Self::default()
        }
    }

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

    /// Whether the modifiers change channel state (the C transmitter then sets STATE_MODIFY).
    pub(super) fn is_stateful(&self) -> bool {
        self.env.is_stateful()
    }

    /// Whether the body is closed.
    pub(super) fn is_closed(&self) -> bool {
        self.closed
    }
}

impl MessageSource for Outgoing {
    fn next_modifier(&mut self, buf: &mut [u8]) -> ModifierStep {
        let Some(m) = self.env.iter().nth(self.next_mod) else {
            return ModifierStep::Done;
        };
        let Ok(value_size) = u32::try_from(m.value.len()) else {
            return ModifierStep::Fail;
        };
        let name = m.name.as_bytes();
        let name_len = name.len() + 1;
        if name_len > buf.len() {
            return ModifierStep::Fail;
        }
        buf[..name.len()].copy_from_slice(name);
        buf[name.len()] = 0;
        let chunk = m.value.len().min(buf.len() - name_len);
        buf[name_len..name_len + chunk].copy_from_slice(&m.value[..chunk]);
        if chunk == m.value.len() {
            self.next_mod += 1;
            self.value_sent = 0;
        } else {
            self.value_sent = chunk;
        }
        ModifierStep::Modifier {
            oper: m.oper,
            value_size,
            len: name_len + chunk,
        }
    }

    fn next_value_chunk(&mut self, buf: &mut [u8], _remaining: u32) -> ChunkStep {
        let Some(m) = self.env.iter().nth(self.next_mod) else {
            return ChunkStep::Fail;
        };
        let rest = m.value.get(self.value_sent..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.value_sent += n;
        if self.value_sent >= m.value.len() {
            self.next_mod += 1;
            self.value_sent = 0;
        }
        ChunkStep::Chunk(n)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::env::Operator;

    #[test]
    fn modifiers_then_streamed_body() {
        let mut env = Environment::new();
        env.add(Operator::Assign, "_a", "xyz").unwrap();
        let mut src = Outgoing::new(env);
        let mut buf = [0u8; 5];
        // "_a\0" + 2 of 3 value bytes, then the continuation.
        assert_eq!(
            src.next_modifier(&mut buf),
            ModifierStep::Modifier {
                oper: Operator::Assign,
                value_size: 3,
                len: 5
            }
        );
        assert_eq!(&buf, b"_a\0xy");
        assert_eq!(src.next_value_chunk(&mut buf, 1), ChunkStep::Chunk(1));
        assert_eq!(buf[0], b'z');
        assert_eq!(src.next_modifier(&mut buf), ModifierStep::Done);
        // No body yet: pause.
        assert_eq!(src.next_data(&mut buf), DataStep::More(0));
        src.push(b"abc".to_vec(), false);
        src.push(b"defg".to_vec(), false);
        assert_eq!(src.queued(), 7);
        assert_eq!(src.next_data(&mut buf), DataStep::More(3));
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(src.next_data(&mut buf), DataStep::More(4));
        assert_eq!(&buf[..4], b"defg");
        src.push(Vec::new(), true);
        assert_eq!(src.next_data(&mut buf), DataStep::Last(0));
        assert_eq!(src.queued(), 0);
    }

    #[test]
    fn a_name_that_does_not_fit_fails() {
        let mut env = Environment::new();
        env.add(Operator::Set, "_long", "").unwrap();
        let mut src = Outgoing::new(env);
        assert_eq!(src.next_modifier(&mut [0u8; 5]), ModifierStep::Fail);
    }
}
