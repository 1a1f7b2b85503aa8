//! Unit tests of the channel logic: a harness that plays the clients, multicast and psycstore.

mod catchup;
mod delays;
mod generation;
mod padding;
mod query;
mod receive;
mod reconnect;
mod remote;
mod start;
mod state;
mod transmit;

use std::borrow::Cow;
use std::time::Instant;

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use multicast::client::Event;
use multicast::msg::{Any, Fragment};
use psycstore::msg::{CountersResult, Reply as StoreReply, Request as StoreRequest, ResultCode};

use super::{Action, Channels, ClientId, Config, RecordKey};
use crate::format::container::ClientMessage;
use crate::format::parts::{MethodPart, Part};
use crate::msg::{slave_join_flags, MasterStart, Reply, Request, SlaveJoin};

/// The logic with a clock the test moves.
struct Harness {
    ch: Channels,
    now: Instant,
}

fn channel_key() -> eddsa::PrivateKey {
    eddsa::PrivateKey([7; 32])
}

fn slave_key() -> ecdsa::PrivateKey {
    ecdsa::PrivateKey::clamped([9; 32])
}

fn master() -> RecordKey {
    RecordKey::Master(channel_key().public_key())
}

fn slave() -> RecordKey {
    RecordKey::Slave(channel_key().public_key(), slave_key().public_key())
}

/// METHOD with `flags`, then END unless `more`.
fn method(flags: u32, name: &str, more: bool) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Method(MethodPart {
        flags,
        state_delta: 0,
        name: Cow::Owned(name.as_bytes().to_vec()),
    })
    .emit(&mut p);
    if !more {
        Part::End.emit(&mut p);
    }
    p
}

/// A DATA part, then END if `last`.
fn data(text: &str, last: bool) -> Vec<u8> {
    let mut p = Vec::new();
    Part::Data(Cow::Owned(text.as_bytes().to_vec())).emit(&mut p);
    if last {
        Part::End.emit(&mut p);
    }
    p
}

/// A signed-looking fragment as multicast delivers it.
fn fragment(message_id: u64, offset: u64, payload: Vec<u8>) -> Fragment {
    let mut f = Fragment::unsigned(message_id, offset, 0, 0, payload);
    f.fragment_id = message_id * 100 + offset;
    f
}

impl Harness {
    fn new() -> Self {
        Self::with(Config::default())
    }

    fn with(cfg: Config) -> Self {
        Self {
            ch: Channels::new(cfg),
            now: Instant::now(),
        }
    }

    /// The actions due, as a driver whose multicast connections come up at once sees them:
    /// each OPEN is followed by what `handle_multicast_up` produces.
    fn drain(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        for a in self.ch.drain_actions() {
            let open = match &a {
                Action::OpenMulticast { record } => Some(*record),
                _ => None,
            };
            out.push(a);
            if let Some(record) = open {
                self.ch.handle_multicast_up(self.now, record);
                out.extend(self.drain());
            }
        }
        out
    }

    fn client(&mut self, c: u64, r: Request) -> Vec<Action> {
        self.ch.handle_client(self.now, ClientId(c), r);
        self.drain()
    }

    fn mcast(&mut self, record: RecordKey, e: Event) -> Vec<Action> {
        self.ch.handle_multicast(self.now, record, e);
        self.drain()
    }

    fn store(&mut self, r: StoreReply) -> Vec<Action> {
        self.ch.handle_store(self.now, r);
        self.drain()
    }

    fn send(&mut self, c: u64, parts: Vec<u8>) -> Vec<Action> {
        self.client(c, Request::Message(ClientMessage { parts }))
    }

    /// Answers the counters lookup in `actions` with `max_message_id`.
    fn counters(&mut self, actions: &[Action], result: i32, max_message_id: u64) -> Vec<Action> {
        self.counters_at(actions, result, max_message_id, 0)
    }

    /// Answers the counters lookup in `actions` with `max_message_id` and group generation
    /// `generation`.
    fn counters_at(
        &mut self,
        actions: &[Action],
        result: i32,
        max_message_id: u64,
        generation: u64,
    ) -> Vec<Action> {
        let op_id = counters_op(actions);
        self.store(StoreReply::Counters(CountersResult {
            result_code: result,
            op_id,
            max_fragment_id: 40,
            max_message_id,
            max_group_generation: generation,
            max_state_message_id: 0,
        }))
    }

    /// A started master with client 1 on a channel whose last message was `max_message_id`.
    fn started_master(max_message_id: u64) -> Self {
        Self::started_master_at(max_message_id, 0)
    }

    /// A started master with client 1 on a channel whose last message was `max_message_id`,
    /// sent with group generation `generation`.
    fn started_master_at(max_message_id: u64, generation: u64) -> Self {
        Self::started_master_with(Config::default(), max_message_id, generation)
    }

    /// [`Self::started_master_at`] with the knobs `cfg`.
    fn started_master_with(cfg: Config, max_message_id: u64, generation: u64) -> Self {
        let mut h = Self::with(cfg);
        let a = h.client(
            1,
            Request::MasterStart(MasterStart {
                policy: 0,
                channel_key: channel_key(),
            }),
        );
        h.counters_at(&a, 1, max_message_id, generation);
        h
    }

    /// A slave client `c` (SLAVE_JOIN with `flags`).
    fn join(&mut self, c: u64, flags: u32) -> Vec<Action> {
        self.client(
            c,
            Request::SlaveJoin(SlaveJoin {
                channel_pub_key: channel_key().public_key(),
                slave_key: slave_key(),
                origin: PeerIdentity([3; 32]),
                flags,
                relays: vec![PeerIdentity([4; 32])],
                join_msg: None,
            }),
        )
    }

    /// An admitted slave with client 1 on a peer holding `max_message_id` of history.
    fn admitted_slave(max_message_id: u64) -> Self {
        let mut h = Self::new();
        let a = h.join(1, slave_join_flags::NONE);
        h.counters(&a, i32::from(max_message_id > 0), max_message_id);
        h.mcast(slave(), Event::JoinDecision(decision(1)));
        h
    }
}

fn decision(is_admitted: i32) -> multicast::msg::JoinDecision {
    multicast::msg::JoinDecision {
        peer: PeerIdentity([5; 32]),
        member_pub_key: slave_key().public_key(),
        decision: multicast::msg::Decision {
            is_admitted,
            relays: vec![],
            response: None,
        },
        admitted_after: None,
    }
}

/// The psycstore requests among `actions`.
fn store_ops(actions: &[Action]) -> Vec<StoreRequest> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Store { request } => Some(request.clone()),
            _ => None,
        })
        .collect()
}

/// The op id of the counters lookup among `actions`.
fn counters_op(actions: &[Action]) -> u64 {
    store_ops(actions)
        .into_iter()
        .find_map(|r| match r {
            StoreRequest::CountersGet(c) => Some(c.head.op_id),
            _ => None,
        })
        .expect("a counters lookup")
}

/// The multicast messages among `actions`.
fn mcast_msgs(actions: &[Action]) -> Vec<Any> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Multicast { msg, .. } => Some(msg.clone()),
            _ => None,
        })
        .collect()
}

/// What client `c` got among `actions`.
fn replies_to(actions: &[Action], c: u64) -> Vec<Reply> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendClient { client, reply } if *client == ClientId(c) => Some(reply.clone()),
            _ => None,
        })
        .collect()
}

/// Whether client `c` was dropped among `actions`.
fn dropped(actions: &[Action], c: u64) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::DropClient { client, .. } if *client == ClientId(c)))
}

/// The (message id, offset) of every delivery to client `c`.
fn deliveries(actions: &[Action], c: u64) -> Vec<(u64, u64)> {
    replies_to(actions, c)
        .into_iter()
        .filter_map(|r| match r {
            Reply::Message(d) => Some((d.header.message_id, d.header.fragment_offset)),
            _ => None,
        })
        .collect()
}
