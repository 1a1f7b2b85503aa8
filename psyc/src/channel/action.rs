//! What the channel logic asks its driver to do, the handles it names things by, and its
//! knobs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use gnunet_service::crypto::{ecdsa, eddsa};

use crate::msg::Reply;

/// A client connection of the psyc service, numbered by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// Which channel record something belongs to: the master record of a channel, or the slave
/// record of (channel, slave key). Each record has its own connection to the multicast
/// service (multicast binds a client connection to one origin or member), which the driver
/// opens at the record's first [`Action::Multicast`] and closes at [`Action::CloseMulticast`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKey {
    /// The master of the channel with this public key.
    Master(eddsa::PublicKey),
    /// The slave with this public key in the channel with this public key.
    Slave(eddsa::PublicKey, ecdsa::PublicKey),
}

impl RecordKey {
    /// The channel's public key.
    pub fn channel(&self) -> eddsa::PublicKey {
        match self {
            Self::Master(c) | Self::Slave(c, _) => *c,
        }
    }
}

/// One thing for the driver to carry out, in the order returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Send a message to a client.
    SendClient {
        /// The client.
        client: ClientId,
        /// The message.
        reply: Reply,
    },
    /// Disconnect a client that broke the protocol; log the reason.
    DropClient {
        /// The client.
        client: ClientId,
        /// Why (names the message type where one is at fault).
        reason: String,
    },
    /// Open the record's own connection to the multicast service, and call
    /// [`Channels::handle_multicast_up`](super::Channels::handle_multicast_up) each time it is
    /// up (again) and [`Channels::handle_multicast_down`](super::Channels::handle_multicast_down)
    /// each time it breaks, until [`Action::CloseMulticast`].
    OpenMulticast {
        /// The record.
        record: RecordKey,
    },
    /// Send a message to the multicast service on the record's connection. The logic only
    /// asks for this while the connection is up; should it have broken meanwhile, drop the
    /// message (the logic sends what matters again after the next `handle_multicast_up`).
    Multicast {
        /// The record on whose behalf.
        record: RecordKey,
        /// The message (ORIGIN_START, MEMBER_JOIN, JOIN_DECISION, MESSAGE, REQUEST,
        /// REPLAY_REQUEST, REPLAY_RESPONSE(_END), PART_REQUEST).
        msg: multicast::msg::Any,
    },
    /// Close the record's connection to the multicast service (the origin stops, the member
    /// leaves). Nothing more arrives for the record from multicast.
    CloseMulticast {
        /// The record.
        record: RecordKey,
    },
    /// Send a request to the psycstore service. Its `op_id` was assigned by the logic; hand
    /// every reply to [`Channels::handle_store`](super::Channels::handle_store). While the
    /// connection to psycstore is down, drop it: the logic keeps every unanswered request
    /// and hands it out again from
    /// [`Channels::handle_store_up`](super::Channels::handle_store_up).
    Store {
        /// The request.
        request: psycstore::msg::Request,
    },
    /// Call [`Channels::handle_timeout`](super::Channels::handle_timeout) with `timer` at
    /// `at`. Timers are never cancelled; stale ones are ignored when they fire.
    SetTimer {
        /// When.
        at: Instant,
        /// What to hand back.
        timer: Timer,
    },
}

/// A timer the logic asked for, handed back when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// A replay request for a missing message got no answer in time.
    Replay {
        /// The receiving record.
        record: RecordKey,
        /// The missing message.
        message_id: u64,
        /// Which request for it this timer belongs to.
        attempt: u32,
    },
    /// A replay request of a state catch-up got no answer in time (see
    /// [`catchup`](super::catchup)).
    StateChain {
        /// The catching-up record.
        record: RecordKey,
        /// Which request of the record's catch-ups this timer belongs to.
        request: u64,
    },
    /// A replay request of a client's remote history replay got no answer in time.
    HistoryFetch {
        /// The record that asked.
        record: RecordKey,
        /// Which request this timer belongs to (a serial number the record hands out).
        ask: u64,
    },
    /// Automatic answers of a record held for their privacy delay may be due.
    Answer {
        /// The record that answers.
        record: RecordKey,
        /// The release time it was armed for: what is due by then goes, even if the timer
        /// fires a little early (a driver's clock rounding).
        at: Instant,
    },
}

/// The knobs of the channel logic. Every queue is bounded by one of them.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client PSYC_MESSAGEs a record holds for transmission (all clients together); a client
    /// that sends beyond it is dropped. The C library waits for a MESSAGE_ACK after each data
    /// container, but sends the containers of the modifiers without waiting.
    pub max_transmit_queue: usize,
    /// Fragments of one record handed to multicast without its FRAGMENT_ACK; a client's
    /// container is acknowledged (MESSAGE_ACK) when it is handed out within this window, so
    /// it bounds how far a client runs ahead of the channel (see
    /// [`transmit`](super::transmit)).
    pub max_fragments_in_flight: usize,
    /// How far past the next message to deliver fragments are buffered (in message ids);
    /// fragments further ahead are dropped and fetched by replay later.
    pub receive_window: u64,
    /// Bytes of received fragments (whole, headers included) a record holds for in-order
    /// delivery; beyond it the fragments furthest ahead are dropped and fetched by replay
    /// later, like fragments beyond the window.
    pub max_buffered_bytes: usize,
    /// Replay requests one record keeps outstanding at a time.
    pub max_replays: usize,
    /// psycstore operations kept waiting for their answer, all records together (each with
    /// its request, to be sent again after psycstore restarts). Only a psycstore that stopped
    /// answering fills it; then the oldest fragment stores are forgotten first.
    pub max_store_ops: usize,
    /// How long to wait for a replayed fragment before asking again.
    pub replay_timeout: Duration,
    /// Requests per missing message before it is skipped (also per fragment of a remote
    /// history replay).
    pub replay_attempts: u32,
    /// Longest chain of earlier stateful messages a record fetches to catch up with the
    /// channel state (see [`catchup`](super::catchup)); beyond it the catch-up is given up.
    /// 0 turns catch-up off.
    pub max_state_chain: u64,
    /// Fragments one catch-up fetches at most (the chain's messages may be long); beyond it
    /// the catch-up is given up.
    pub max_state_chain_fragments: u64,
    /// Messages one record fetches from the channel at a time for remote history replays
    /// (all of its clients' replays together); each holds at most one fragment waiting.
    pub max_history_fetches: usize,
    /// Remote history replays one record runs at a time; further ones are answered from the
    /// local store only.
    pub max_history_ops: usize,
    /// Message ids one history replay covers remotely: of a larger range only the newest
    /// this many are fetched.
    pub max_history_span: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_transmit_queue: 256,
            max_fragments_in_flight: 4,
            receive_window: 256,
            max_buffered_bytes: 8 << 20,
            max_replays: 8,
            max_store_ops: 65_536,
            replay_timeout: Duration::from_secs(5),
            replay_attempts: 3,
            max_state_chain: 1024,
            max_state_chain_fragments: 8192,
            max_history_fetches: 16,
            max_history_ops: 8,
            max_history_span: 10_000,
        }
    }
}

/// The actions produced and not yet handed to the driver, in order.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    actions: VecDeque<Action>,
}

impl Outbox {
    pub(super) fn push(&mut self, a: Action) {
        self.actions.push_back(a);
    }

    pub(super) fn pop(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub(super) fn send(&mut self, client: ClientId, reply: Reply) {
        self.push(Action::SendClient { client, reply });
    }

    /// Sends `reply` to every client in `clients`.
    pub(super) fn send_all(&mut self, clients: &[ClientId], reply: &Reply) {
        for &client in clients {
            self.send(client, reply.clone());
        }
    }

    pub(super) fn drop_client(&mut self, client: ClientId, reason: impl Into<String>) {
        self.push(Action::DropClient {
            client,
            reason: reason.into(),
        });
    }

    pub(super) fn multicast(&mut self, record: RecordKey, msg: multicast::msg::Any) {
        self.push(Action::Multicast { record, msg });
    }

    pub(super) fn store(&mut self, request: psycstore::msg::Request) {
        self.push(Action::Store { request });
    }
}
