//! The outgoing side of a [`Session`](super::Session): messages queued in order, segmented
//! one after the other, their containers written while fewer than a window of them wait for
//! their MESSAGE_ACK.
//!
//! The service answers every PSYC_MESSAGE container with exactly one MESSAGE_ACK, in order
//! ([`crate::channel::transmit`]), so the pipeline matches ACKs to containers by counting:
//! [`Pipeline::unacked`] holds one entry per container written on the current connection,
//! the last container of each message marked, and each ACK takes the front one. A message is
//! [`Event::Transmitted`](super::Event::Transmitted) when its last container is acknowledged.
//!
//! Messages never interleave — the service drops a client that starts a message while its
//! previous one is open — so the containers of a message are written only after the last
//! container of the message before it was written (not necessarily acknowledged).
//!
//! Each message has a [`Transmitter`] of its own, started when the message is queued (so a
//! bad method name is refused at once, and the modifiers are segmented then). A transmitter
//! paces itself by one container: it segments the next DATA only once every container it
//! produced is acknowledged. The window replaces that pacing: the pipeline acknowledges the
//! containers it took to the transmitter itself ([`Outbound::owed`]) when the window has room
//! for the next one, so body data stays in the [`Outgoing`] queue until it can be written
//! (only a message's first container is segmented before: when it is queued).

use std::collections::VecDeque;

use super::source::{Outgoing, Starting};
use super::SessionError;
use crate::format::env::Environment;
use crate::format::transmit::{EnvSource, Outcome, TransmitError, Transmitter};

/// One message not completely written.
#[derive(Debug)]
struct Outbound {
    tx: Transmitter,
    /// Its body not segmented yet.
    body: Outgoing,
    /// The body size of a whole message, counted as waiting until the message is completely
    /// written (its first container is segmented when it is queued); `None` for a streamed
    /// one, whose chunks count until they are segmented.
    whole_len: Option<usize>,
    /// Containers taken from `tx` and not acknowledged to it yet.
    owed: u32,
    /// A container of it was written (on the current connection: a message that started on
    /// a lost connection is dropped).
    started: bool,
}

/// A container written and waiting for its MESSAGE_ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    /// Not the last container of its message.
    Part,
    /// The last container of its message, which ended with CANCEL if `cancelled`.
    Last { cancelled: bool },
}

/// The messages a session transmits, in order.
#[derive(Debug, Default)]
pub(super) struct Pipeline {
    /// Messages not completely written, in order: the front one is being written.
    messages: VecDeque<Outbound>,
    /// Containers written on the current connection whose MESSAGE_ACK has not come, in order.
    unacked: VecDeque<Written>,
}

impl Pipeline {
    /// Queues a message behind the others and starts segmenting it: its METHOD and modifiers
    /// (from `env`) now, its body (`body`, which may still grow if it is streamed) as the
    /// window allows.
    pub(super) fn push(
        &mut self,
        method: &str,
        flags: u32,
        env: &Environment,
        mut body: Outgoing,
    ) -> Result<(), TransmitError> {
        let whole_len = body.is_closed().then(|| body.queued());
        let mut tx = Transmitter::new();
        let mut starting = Starting {
            modifiers: EnvSource::new(env, &[]),
            body: &mut body,
        };
        tx.start(method, flags, &mut starting)?;
        self.messages.push_back(Outbound {
            tx,
            body,
            whole_len,
            owed: 0,
            started: false,
        });
        Ok(())
    }

    /// The message being streamed, if the front message is one whose body is still open.
    fn streaming(&mut self) -> Option<&mut Outbound> {
        self.messages
            .front_mut()
            .filter(|m| !m.body.is_closed() && m.tx.is_transmitting())
    }

    /// Adds a body chunk to the message being streamed, if its body stays within
    /// `max_queued` bytes not segmented yet.
    pub(super) fn push_data(
        &mut self,
        chunk: Vec<u8>,
        last: bool,
        max_queued: usize,
    ) -> Result<(), SessionError> {
        let Some(m) = self.streaming() else {
            return Err(SessionError::NoTransmission);
        };
        if m.body.queued().saturating_add(chunk.len()) > max_queued {
            return Err(SessionError::QueueFull("message body"));
        }
        m.body.push(chunk, last);
        m.tx.resume(&mut m.body);
        Ok(())
    }

    /// Cancels the front message if it is still being segmented: CANCEL follows what is
    /// already segmented.
    pub(super) fn cancel(&mut self) {
        if let Some(m) = self.messages.front_mut() {
            m.tx.cancel();
        }
    }

    /// Writes into `out` the containers the window has room for (`window` unacknowledged at
    /// most, 0 counting as 1), message after message.
    pub(super) fn release(&mut self, window: usize, out: &mut VecDeque<Vec<u8>>) {
        while self.unacked.len() < window.max(1) {
            let Some(m) = self.messages.front_mut() else {
                return;
            };
            let container = match m.tx.poll_transmit() {
                Some(c) => c,
                None if m.owed > 0 => {
                    // Everything segmented is written: let the transmitter go on.
                    for _ in 0..std::mem::take(&mut m.owed) {
                        m.tx.handle_ack(&mut m.body);
                    }
                    match m.tx.poll_transmit() {
                        Some(c) => c,
                        None => return,
                    }
                }
                // Paused for body data.
                None => return,
            };
            m.owed += 1;
            m.started = true;
            out.push_back(container);
            // The transmitter counts every container it produced and was not acknowledged
            // for; once END or CANCEL is segmented, those are all taken when none is left.
            let last = !m.tx.is_transmitting() && m.tx.acks_pending() == m.owed;
            if last {
                let cancelled = m.tx.outcome() == Outcome::Cancelled;
                self.messages.pop_front();
                self.unacked.push_back(Written::Last { cancelled });
            } else {
                self.unacked.push_back(Written::Part);
            }
        }
    }

    /// One MESSAGE_ACK: frees a place in the window. Returns `Some(cancelled)` when it
    /// completes a message; `None` for a container in the middle of one, or (logged) for an
    /// ACK nobody waits for.
    pub(super) fn acknowledged(&mut self) -> Option<bool> {
        match self.unacked.pop_front() {
            Some(Written::Last { cancelled }) => Some(cancelled),
            Some(Written::Part) => None,
            None => {
                tracing::debug!("ignoring a MESSAGE_ACK for no container");
                None
            }
        }
    }

    /// The connection is gone: returns how many messages had a container written on it and
    /// are not complete (in order, they are lost). The one being written is dropped (its rest
    /// cannot continue on another connection); those not started stay for the next one.
    pub(super) fn connection_lost(&mut self) -> usize {
        let written = self
            .unacked
            .drain(..)
            .filter(|w| matches!(w, Written::Last { .. }))
            .count();
        let partly = self.messages.front().is_some_and(|m| m.started);
        if partly {
            self.messages.pop_front();
        }
        written + usize::from(partly)
    }

    /// Drops every message (the session parts).
    pub(super) fn clear(&mut self) {
        self.messages.clear();
        self.unacked.clear();
    }

    /// Whether nothing is queued, being written or waiting for an ACK.
    pub(super) fn is_idle(&self) -> bool {
        self.messages.is_empty() && self.unacked.is_empty()
    }

    /// Messages not completely written.
    pub(super) fn unwritten(&self) -> usize {
        self.messages.len()
    }

    /// Containers written and not acknowledged.
    pub(super) fn in_flight(&self) -> usize {
        self.unacked.len()
    }

    /// Body bytes waiting: of whole messages not completely written, and of a streamed body
    /// not segmented yet.
    pub(super) fn queued_data(&self) -> usize {
        self.messages
            .iter()
            .map(|m| m.whole_len.unwrap_or_else(|| m.body.queued()))
            .sum()
    }
}
