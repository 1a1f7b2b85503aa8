//! The CADET side of the driver: channel numbers, credit and the bounded queue of each
//! channel (sans-IO bookkeeping; the service module does the sending).

use std::collections::{HashMap, VecDeque};

use gnunet_service::cadet::{ChannelFlow, FIRST_CLIENT_CCN};
use tracing::debug;

use crate::group::ChannelId;

/// What happened when a message was queued on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued (and maybe sendable right away).
    Ok,
    /// The queue is over its bound: the channel must be closed.
    Overflow,
    /// No such channel (closed meanwhile); the message is dropped.
    Unknown,
}

/// One CADET channel as the driver sees it.
#[derive(Debug)]
pub struct Chan {
    /// CADET channel number on our client connection.
    pub ccn: u32,
    /// Credit (sending) and receive-done bookkeeping.
    pub flow: ChannelFlow,
    /// Messages waiting for credit.
    queue: VecDeque<Vec<u8>>,
    /// Bytes in `queue`.
    queued_bytes: usize,
    /// The logic closed it: destroy once the queue is sent (or credit runs out).
    pub closing: bool,
}

/// Bounds of a channel's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Messages waiting for credit above which the channel counts as congested: inputs that
    /// fed it are not acknowledged (FRAGMENT_ACK to the client, LOCAL_ACK to CADET) until it
    /// is back at this mark, so senders slow down to the pace of the channel.
    pub congested_at: usize,
    /// Messages waiting for credit above which the channel is closed: its peer is too slow
    /// and must not hold the others up any longer (it re-attaches and replays the gap).
    pub max_messages: usize,
    /// Bytes waiting above which the channel is closed.
    pub max_bytes: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            congested_at: 32,
            max_messages: 1024,
            max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Every channel of our one CADET client connection.
#[derive(Debug)]
pub struct Channels {
    limits: QueueLimits,
    chans: HashMap<ChannelId, Chan>,
    by_ccn: HashMap<u32, ChannelId>,
    next_ccn: u32,
}

impl Channels {
    /// No channels yet.
    pub fn new(limits: QueueLimits) -> Self {
        Self {
            limits,
            chans: HashMap::new(),
            by_ccn: HashMap::new(),
            next_ccn: FIRST_CLIENT_CCN,
        }
    }

    /// A channel number for a channel we create (≥ 0x80000000, unused).
    pub fn allocate_ccn(&mut self) -> u32 {
        loop {
            let ccn = self.next_ccn;
            self.next_ccn = match self.next_ccn.checked_add(1) {
                Some(n) => n,
                None => FIRST_CLIENT_CCN,
            };
            if !self.by_ccn.contains_key(&ccn) {
                return ccn;
            }
        }
    }

    /// Records a channel (ours or incoming).
    pub fn insert(&mut self, id: ChannelId, ccn: u32) {
        self.by_ccn.insert(ccn, id);
        self.chans.insert(
            id,
            Chan {
                ccn,
                flow: ChannelFlow::default(),
                queue: VecDeque::new(),
                queued_bytes: 0,
                closing: false,
            },
        );
    }

    /// Forgets a channel; returns it if it was known.
    pub fn remove(&mut self, id: ChannelId) -> Option<Chan> {
        let c = self.chans.remove(&id)?;
        self.by_ccn.remove(&c.ccn);
        Some(c)
    }

    /// Forgets every channel (the CADET connection is gone); returns their ids.
    pub fn clear(&mut self) -> Vec<ChannelId> {
        self.by_ccn.clear();
        self.chans.drain().map(|(id, _)| id).collect()
    }

    /// The logic's handle of a CADET channel number.
    pub fn by_ccn(&self, ccn: u32) -> Option<ChannelId> {
        self.by_ccn.get(&ccn).copied()
    }

    /// A channel's state.
    pub fn get_mut(&mut self, id: ChannelId) -> Option<&mut Chan> {
        self.chans.get_mut(&id)
    }

    /// Whether the channel is known.
    pub fn contains(&self, id: ChannelId) -> bool {
        self.chans.contains_key(&id)
    }

    /// Queues `msg` for `id`.
    pub fn enqueue(&mut self, id: ChannelId, msg: Vec<u8>) -> Queued {
        let Some(c) = self.chans.get_mut(&id) else {
            debug!(channel = id.0, "message for a channel that is gone");
            return Queued::Unknown;
        };
        c.queued_bytes += msg.len();
        c.queue.push_back(msg);
        if c.queue.len() > self.limits.max_messages || c.queued_bytes > self.limits.max_bytes {
            Queued::Overflow
        } else {
            Queued::Ok
        }
    }

    /// Takes the messages that credit allows now, counting them against the credit.
    pub fn sendable(&mut self, id: ChannelId) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let Some(c) = self.chans.get_mut(&id) else {
            return out;
        };
        while c.flow.can_send() {
            let Some(m) = c.queue.pop_front() else {
                break;
            };
            if c.flow.on_send().is_err() {
                c.queue.push_front(m);
                break;
            }
            c.queued_bytes -= m.len();
            out.push(m);
        }
        out
    }

    /// Whether the channel has more waiting than the congestion mark (unknown: no).
    pub fn congested(&self, id: ChannelId) -> bool {
        self.chans
            .get(&id)
            .is_some_and(|c| !c.closing && c.queue.len() > self.limits.congested_at)
    }

    /// Whether any channel has more waiting than the congestion mark.
    pub fn any_congested(&self) -> bool {
        self.chans
            .values()
            .any(|c| !c.closing && c.queue.len() > self.limits.congested_at)
    }

    /// Whether nothing waits on the channel.
    pub fn is_idle(&self, id: ChannelId) -> bool {
        match self.chans.get(&id) {
            Some(c) => c.queue.is_empty(),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> QueueLimits {
        QueueLimits {
            congested_at: 2,
            max_messages: 4,
            max_bytes: 1000,
        }
    }

    #[test]
    fn credit_gates_sending_and_the_queue_is_bounded() {
        let mut ch = Channels::new(limits());
        let id = ChannelId(7);
        let ccn = ch.allocate_ccn();
        assert!(ccn >= FIRST_CLIENT_CCN);
        ch.insert(id, ccn);
        assert_eq!(ch.by_ccn(ccn), Some(id));
        for _ in 0..3 {
            assert_eq!(ch.enqueue(id, vec![0; 10]), Queued::Ok);
        }
        assert!(ch.congested(id));
        assert!(ch.any_congested());
        assert!(ch.sendable(id).is_empty(), "no credit yet");
        ch.get_mut(id).unwrap().flow.on_ack().unwrap();
        ch.get_mut(id).unwrap().flow.on_ack().unwrap();
        assert_eq!(ch.sendable(id).len(), 2);
        assert!(!ch.congested(id));
        assert!(!ch.any_congested());
        for _ in 0..3 {
            assert_eq!(ch.enqueue(id, vec![0; 10]), Queued::Ok);
        }
        assert_eq!(ch.enqueue(id, vec![0; 10]), Queued::Overflow);
        assert_eq!(ch.enqueue(ChannelId(8), vec![]), Queued::Unknown);
        assert!(ch.remove(id).is_some());
        assert_eq!(ch.by_ccn(ccn), None);
    }

    #[test]
    fn byte_bound_closes_too() {
        let mut ch = Channels::new(limits());
        ch.insert(ChannelId(1), 0);
        assert_eq!(ch.enqueue(ChannelId(1), vec![0; 1001]), Queued::Overflow);
    }
}
