//! A place's outgoing queue: its clients' PSYC_MESSAGE containers (and relayed guest
//! requests) on their way to the place's psyc connection (spec §5.9).
//!
//! - **One FIFO per place**, shared by its clients, **one message at a time**: once a
//!   sender's METHOD went to psyc, only that sender's containers follow until its END or
//!   CANCEL; other senders' containers wait in arrival order (gap G13: C had no per-message
//!   separation beyond its message list). Our psyc service refuses a container that starts a
//!   message inside another on one connection, so this is also what keeps the place's psyc
//!   connection alive.
//! - Containers go to psyc **whole and unchanged**: psyc takes one client container as one
//!   fragment. The METHOD flags keep their client byte order (big-endian), which our psyc
//!   reads as such (spec checklist 6): state modifiers sent through social change the channel
//!   state, the observable result of C's two cancelling byte-order bugs.
//! - **MESSAGE_ACK follows psyc's**: at most [`LogicConfig::psyc_window`] containers are at
//!   psyc without their MESSAGE_ACK; each psyc MESSAGE_ACK is the oldest container's, and goes
//!   to the client that sent it (relayed containers have none). A client that waits for its
//!   ACKs (the C library does) is thus paced by the channel.
//! - A sender that goes away (or whose relay is given up) mid-message has its message closed
//!   with a CANCEL container the logic adds; its queued containers go.
//! - Bounded: [`LogicConfig::max_transmit_entries`] containers and
//!   [`LogicConfig::max_transmit_bytes`] bytes per place.
//!
//! [`LogicConfig::psyc_window`]: super::LogicConfig::psyc_window
//! [`LogicConfig::max_transmit_entries`]: super::LogicConfig::max_transmit_entries
//! [`LogicConfig::max_transmit_bytes`]: super::LogicConfig::max_transmit_bytes

use std::collections::{HashSet, VecDeque};

use gnunet_service::crypto::ecdsa;
use psyc::format::container::check_parts;
use psyc::format::parts::{Part, PartKind, FRAGMENT_MAX_PAYLOAD};

use super::action::{ClientId, Outbox, PlaceId};
use super::client::DropReason;
use crate::msg::ClientMessage;

/// Who a queued container is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Sender {
    /// A client of the place; gets the MESSAGE_ACKs.
    Client(ClientId),
    /// A guest request relayed by a host place (MSG_PROC RELAY), by the guest's key.
    Relay(ecdsa::PublicKey),
    /// The logic itself: the CANCEL that closes an abandoned message.
    Service,
}

/// One container waiting to go out.
#[derive(Debug, Clone)]
struct Entry {
    sender: Sender,
    parts: Vec<u8>,
    starts: bool,
    ends: bool,
}

/// Bounds of the queue.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueueLimits {
    pub entries: usize,
    pub bytes: usize,
}

/// What a broken psyc connection did to the queue.
#[derive(Debug, Default)]
pub(super) struct Lost {
    /// Clients whose containers were with psyc: they get their MESSAGE_ACK (the container
    /// was handed over; its fate is psyc's), so that none waits for ever.
    pub acks: Vec<ClientId>,
    /// The sender whose message was half out; it cannot be finished on a new connection.
    pub broken: Option<Sender>,
}

/// A place's outgoing queue.
#[derive(Debug, Default)]
pub(super) struct Transmit {
    queue: VecDeque<Entry>,
    bytes: usize,
    /// The sender whose message is going out: its METHOD went, its END/CANCEL not yet.
    current: Option<Sender>,
    /// Containers at psyc without their MESSAGE_ACK, oldest first, with the client to ACK.
    in_flight: VecDeque<Option<ClientId>>,
    /// Senders whose latest queued container left a message open.
    open: HashSet<Sender>,
}

impl Transmit {
    /// Checks a container (the rules of the C service, §5.9 step 2–3, plus the part order
    /// per sender that our psyc enforces) and queues it.
    pub fn accept(
        &mut self,
        sender: Sender,
        parts: Vec<u8>,
        limits: QueueLimits,
    ) -> Result<(), DropReason> {
        if parts.len() > FRAGMENT_MAX_PAYLOAD {
            return Err(DropReason::BadMessage(format!(
                "{} bytes of parts, more than {FRAGMENT_MAX_PAYLOAD}",
                parts.len()
            )));
        }
        let summary = check_parts(&parts).map_err(|e| DropReason::BadMessage(e.to_string()))?;
        if summary.count == 0 {
            return Err(DropReason::BadMessage("no parts".into()));
        }
        let starts = summary.first == Some(PartKind::Method);
        let ends = matches!(summary.last, Some(PartKind::End | PartKind::Cancel));
        let open = self.open.contains(&sender);
        if starts && open {
            return Err(DropReason::BadMessage(
                "a METHOD inside the client's unfinished message".into(),
            ));
        }
        if !starts && !open {
            return Err(DropReason::BadMessage(
                "continues no message (no METHOD first)".into(),
            ));
        }
        if self.queue.len() >= limits.entries || self.bytes + parts.len() > limits.bytes {
            return Err(DropReason::QueueFull);
        }
        if ends {
            self.open.remove(&sender);
        } else {
            self.open.insert(sender);
        }
        self.bytes += parts.len();
        self.queue.push_back(Entry {
            sender,
            parts,
            starts,
            ends,
        });
        Ok(())
    }

    /// Forgets what `sender` has queued; a message of it that is half out is closed with a
    /// CANCEL; its containers at psyc get no MESSAGE_ACK.
    pub fn abandon(&mut self, sender: Sender) {
        self.remove_queued(sender);
        self.open.remove(&sender);
        if let Sender::Client(c) = sender {
            for slot in self.in_flight.iter_mut().filter(|s| **s == Some(c)) {
                *slot = None;
            }
        }
        if self.current == Some(sender) {
            let mut cancel = Vec::new();
            Part::Cancel.emit(&mut cancel);
            self.bytes += cancel.len();
            self.queue.push_front(Entry {
                sender: Sender::Service,
                parts: cancel,
                starts: false,
                ends: true,
            });
            self.current = Some(Sender::Service);
        }
    }

    fn remove_queued(&mut self, sender: Sender) {
        let mut freed = 0;
        self.queue.retain(|e| {
            let keep = e.sender != sender;
            if !keep {
                freed += e.parts.len();
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
    }

    /// Every sender with an unfinished message (queued or half out).
    pub fn open_senders(&self) -> Vec<Sender> {
        let mut senders: Vec<Sender> = self.open.iter().copied().collect();
        if let Some(c) = self.current.filter(|c| !senders.contains(c)) {
            senders.push(c);
        }
        senders
    }

    /// Hands queued containers to psyc while the window has room.
    pub fn kick(&mut self, place: PlaceId, window: usize, out: &mut Outbox) {
        while self.in_flight.len() < window.max(1) {
            let at = match self.current {
                Some(sender) => match self.queue.iter().position(|e| e.sender == sender) {
                    Some(at) => at,
                    None => return,
                },
                None => 0,
            };
            let Some(entry) = self.queue.remove(at) else {
                return;
            };
            self.bytes = self.bytes.saturating_sub(entry.parts.len());
            if entry.starts {
                self.current = Some(entry.sender);
            }
            if entry.ends {
                self.current = None;
            }
            self.in_flight.push_back(match entry.sender {
                Sender::Client(c) => Some(c),
                Sender::Relay(_) | Sender::Service => None,
            });
            out.psyc(
                place,
                psyc::msg::Request::Message(ClientMessage { parts: entry.parts }),
            );
        }
    }

    /// psyc acknowledged the oldest container: the client to pass the MESSAGE_ACK on to.
    /// `Err` if nothing was in flight.
    pub fn acked(&mut self) -> Result<Option<ClientId>, ()> {
        self.in_flight.pop_front().ok_or(())
    }

    /// The psyc connection broke: what was at psyc is gone with it.
    pub fn lost(&mut self) -> Lost {
        let acks = self.in_flight.drain(..).flatten().collect();
        let broken = self.current.take();
        if let Some(sender) = broken {
            self.remove_queued(sender);
            self.open.remove(&sender);
        }
        Lost { acks, broken }
    }

    /// Drops everything (a refused guest, a place left): nothing of it will be sent.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Nothing queued and nothing at psyc.
    pub fn drained(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::action::Action;
    use gnunet_service::crypto::eddsa;
    use psyc::format::parts::MethodPart;
    use std::borrow::Cow;

    const LIMITS: QueueLimits = QueueLimits {
        entries: 8,
        bytes: 1 << 16,
    };
    const PLACE: PlaceId = PlaceId::Host(eddsa::PublicKey([1; 32]));

    fn method(name: &str) -> Vec<u8> {
        let mut p = Vec::new();
        Part::Method(MethodPart {
            flags: 0,
            state_delta: 0,
            name: Cow::Borrowed(name.as_bytes()),
        })
        .emit(&mut p);
        p
    }

    fn data_end(data: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        Part::Data(Cow::Borrowed(data)).emit(&mut p);
        Part::End.emit(&mut p);
        p
    }

    fn sent(out: &mut Outbox) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| out.pop())
            .filter_map(|a| match a {
                Action::Psyc {
                    msg: psyc::msg::Request::Message(m),
                    ..
                } => Some(m.parts),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn messages_of_two_clients_do_not_interleave() {
        let (a, b) = (Sender::Client(ClientId(1)), Sender::Client(ClientId(2)));
        let mut tx = Transmit::default();
        let mut out = Outbox::default();
        tx.accept(a, method("_a"), LIMITS).unwrap();
        tx.accept(b, method("_b"), LIMITS).unwrap();
        tx.accept(b, data_end(b"b"), LIMITS).unwrap();
        tx.kick(PLACE, 8, &mut out);
        // A's message is open: B waits although its message is complete.
        assert_eq!(sent(&mut out), vec![method("_a")]);
        tx.accept(a, data_end(b"a"), LIMITS).unwrap();
        tx.kick(PLACE, 8, &mut out);
        assert_eq!(
            sent(&mut out),
            vec![data_end(b"a"), method("_b"), data_end(b"b")]
        );
        for expected in [1, 1, 2, 2] {
            assert_eq!(tx.acked(), Ok(Some(ClientId(expected))));
        }
        assert_eq!(tx.acked(), Err(()));
        assert!(tx.drained());
    }

    #[test]
    fn the_window_bounds_what_is_at_psyc() {
        let a = Sender::Client(ClientId(1));
        let mut tx = Transmit::default();
        let mut out = Outbox::default();
        tx.accept(a, method("_a"), LIMITS).unwrap();
        for _ in 0..3 {
            let mut data = Vec::new();
            Part::Data(Cow::Borrowed(b"x")).emit(&mut data);
            tx.accept(a, data, LIMITS).unwrap();
        }
        tx.kick(PLACE, 2, &mut out);
        assert_eq!(sent(&mut out).len(), 2);
        tx.acked().unwrap();
        tx.kick(PLACE, 2, &mut out);
        assert_eq!(sent(&mut out).len(), 1);
    }

    #[test]
    fn part_order_and_bounds_are_checked() {
        let a = Sender::Client(ClientId(1));
        let mut tx = Transmit::default();
        assert!(matches!(
            tx.accept(a, data_end(b"x"), LIMITS),
            Err(DropReason::BadMessage(_))
        ));
        tx.accept(a, method("_a"), LIMITS).unwrap();
        assert!(matches!(
            tx.accept(a, method("_a"), LIMITS),
            Err(DropReason::BadMessage(_))
        ));
        assert!(matches!(
            tx.accept(a, vec![0, 3, 2], LIMITS),
            Err(DropReason::BadMessage(_))
        ));
        assert!(matches!(
            tx.accept(a, Vec::new(), LIMITS),
            Err(DropReason::BadMessage(_))
        ));
        let tight = QueueLimits {
            entries: 1,
            bytes: 1 << 16,
        };
        assert_eq!(
            tx.accept(a, data_end(b"x"), tight),
            Err(DropReason::QueueFull)
        );
        let small = QueueLimits {
            entries: 8,
            bytes: method("_a").len() + 1,
        };
        assert_eq!(
            tx.accept(a, data_end(b"x"), small),
            Err(DropReason::QueueFull)
        );
    }

    #[test]
    fn an_abandoned_half_sent_message_is_cancelled() {
        let (a, b) = (Sender::Client(ClientId(1)), Sender::Client(ClientId(2)));
        let mut tx = Transmit::default();
        let mut out = Outbox::default();
        tx.accept(a, method("_a"), LIMITS).unwrap();
        tx.accept(b, method("_b"), LIMITS).unwrap();
        tx.accept(b, data_end(b"b"), LIMITS).unwrap();
        tx.kick(PLACE, 8, &mut out);
        assert_eq!(sent(&mut out).len(), 1);
        tx.abandon(a);
        tx.kick(PLACE, 8, &mut out);
        let mut cancel = Vec::new();
        Part::Cancel.emit(&mut cancel);
        assert_eq!(sent(&mut out), vec![cancel, method("_b"), data_end(b"b")]);
        // A's container at psyc gets no ACK; the CANCEL none either.
        assert_eq!(tx.acked(), Ok(None));
        assert_eq!(tx.acked(), Ok(None));
        assert_eq!(tx.acked(), Ok(Some(ClientId(2))));
    }

    #[test]
    fn a_lost_connection_breaks_the_half_sent_message_only() {
        let (a, b) = (Sender::Client(ClientId(1)), Sender::Client(ClientId(2)));
        let mut tx = Transmit::default();
        let mut out = Outbox::default();
        tx.accept(a, method("_a"), LIMITS).unwrap();
        tx.accept(b, method("_b"), LIMITS).unwrap();
        tx.accept(b, data_end(b"b"), LIMITS).unwrap();
        tx.kick(PLACE, 8, &mut out);
        tx.accept(a, data_end(b"a"), LIMITS).unwrap();
        let lost = tx.lost();
        assert_eq!(lost.acks, vec![ClientId(1)]);
        assert_eq!(lost.broken, Some(a));
        sent(&mut out);
        tx.kick(PLACE, 8, &mut out);
        assert_eq!(sent(&mut out), vec![method("_b"), data_end(b"b")]);
    }
}
