//! A channel record (master or slave), the psycstore operations in flight, and the context
//! record methods work in.

use std::collections::{BTreeMap, HashMap, HashSet};

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use psycstore::keys::{ChannelKey, SlaveKey};
use psycstore::msg::Request as StoreRequest;

use super::action::{ClientId, Config, Outbox, RecordKey};
use super::catchup::CatchUp;
use super::receive::Receive;
use super::remote::{History, Scan};
use super::transmit::Transmit;
use crate::msg::JoinDecision;

/// What a psycstore operation of ours was for; its answers are matched to it by op id.
#[derive(Debug, Clone)]
pub(super) enum Op {
    /// The counters lookup that starts a record.
    Counters(RecordKey),
    /// A received fragment being stored; the answer is only logged.
    FragmentStore(RecordKey),
    /// A join request waiting for the membership test.
    MembershipTest {
        record: RecordKey,
        join: Box<multicast::msg::JoinRequest>,
    },
    /// A client's CHANNEL_MEMBERSHIP_STORE.
    MembershipStore {
        record: RecordKey,
        client: ClientId,
        op_id: u64,
    },
    /// The reset before the state changes of a message sent with STATE_RESET; the answer is
    /// only logged (the STATE_MODIFY after it gates delivery).
    StateReset(RecordKey),
    /// The state changes of a stateful message being applied before its delivery.
    StateModify { record: RecordKey, message_id: u64 },
    /// A client's HISTORY_REPLAY, local part; `fragments` counts the results passed on,
    /// `scan` what they held (for the method filter and the remote part that may follow).
    History {
        record: RecordKey,
        client: ClientId,
        op_id: u64,
        fragments: i64,
        scan: Box<Scan>,
    },
    /// A reread of held-back history for the remote part of a client's HISTORY_REPLAY
    /// (the record's replay `fetch`, see [`super::remote`]).
    HistoryReread {
        record: RecordKey,
        client: ClientId,
        fetch: u64,
    },
    /// A client's STATE_GET or STATE_GET_PREFIX.
    StateGet {
        record: RecordKey,
        client: ClientId,
        op_id: u64,
    },
    /// The counters lookup at the start of a state catch-up for stateful message `target`:
    /// how far psycstore applied the channel state.
    CatchUpBase { record: RecordKey, target: u64 },
    /// The state changes of an earlier message fetched by a state catch-up.
    CatchUpModify { record: RecordKey, message_id: u64 },
    /// A member's replay request the master answers from the store.
    Replay {
        record: RecordKey,
        ids: multicast::msg::ReplayIds,
        found: bool,
    },
}

impl Op {
    /// The record the operation belongs to.
    pub(super) fn record(&self) -> RecordKey {
        match self {
            Op::Counters(r) | Op::FragmentStore(r) | Op::StateReset(r) => *r,
            Op::MembershipTest { record, .. }
            | Op::MembershipStore { record, .. }
            | Op::StateModify { record, .. }
            | Op::CatchUpBase { record, .. }
            | Op::CatchUpModify { record, .. }
            | Op::History { record, .. }
            | Op::HistoryReread { record, .. }
            | Op::StateGet { record, .. }
            | Op::Replay { record, .. } => *record,
        }
    }
}

/// The psycstore operations in flight, by the op id we gave them (from 1), with the request
/// of each as it was handed to the driver: psycstore may restart (or the connection to it
/// break) with operations unanswered, and they are then sent again
/// ([`super::Channels::handle_store_up`]).
#[derive(Debug)]
pub(super) struct Ops {
    /// Most operations kept (see [`Config::max_store_ops`](super::Config::max_store_ops)).
    max_pending: usize,
    last: u64,
    pending: HashMap<u64, Op>,
    /// The request of every pending operation that was handed out, by op id (so in the
    /// order they were first sent).
    requests: BTreeMap<u64, StoreRequest>,
    /// Operations that passed part of their answer on (a history fragment, a state
    /// variable): sending them again would pass it on twice.
    partial: HashSet<u64>,
}

impl Ops {
    /// An empty table keeping at most `max_pending` operations.
    pub(super) fn new(max_pending: usize) -> Self {
        Self {
            max_pending: max_pending.max(1),
            last: 0,
            pending: HashMap::new(),
            requests: BTreeMap::new(),
            partial: HashSet::new(),
        }
    }

    /// Registers `op` and returns its op id. A full table first forgets its oldest fragment
    /// store (the fragment stays out of this peer's history), or else its oldest operation
    /// (whose answer is then ignored): only a psycstore that stopped answering fills it.
    pub(super) fn start(&mut self, op: Op) -> u64 {
        if self.pending.len() >= self.max_pending {
            self.evict_oldest();
        }
        self.last = self.last.wrapping_add(1).max(1);
        self.pending.insert(self.last, op);
        self.last
    }

    fn evict_oldest(&mut self) {
        let oldest_store = self
            .requests
            .keys()
            .copied()
            .find(|id| matches!(self.pending.get(id), Some(Op::FragmentStore(_))));
        let victim = oldest_store.or_else(|| self.pending.keys().min().copied());
        if let Some(op_id) = victim {
            tracing::warn!(
                op_id,
                "too many psycstore operations pending; forgetting the oldest"
            );
            self.finish(op_id);
        }
    }

    /// The operation `op_id` got part of its answer; it stays open.
    pub(super) fn get_mut(&mut self, op_id: u64) -> Option<&mut Op> {
        let op = self.pending.get_mut(&op_id)?;
        self.partial.insert(op_id);
        Some(op)
    }

    pub(super) fn finish(&mut self, op_id: u64) -> Option<Op> {
        self.requests.remove(&op_id);
        self.partial.remove(&op_id);
        self.pending.remove(&op_id)
    }

    /// Keeps the request of a pending operation (as it leaves for psycstore), to send it
    /// again after a reconnect. Requests of operations no longer pending are not kept.
    pub(super) fn sent(&mut self, request: &StoreRequest) {
        let op_id = request.op_id();
        if self.pending.contains_key(&op_id) {
            self.requests.insert(op_id, request.clone());
        }
    }

    /// Operations to send again after psycstore came back, in op-id order; and the ones that
    /// cannot be, because part of their answer was passed on already (removed from the
    /// table, returned for their clients to be told).
    pub(super) fn resend(&mut self) -> (Vec<StoreRequest>, Vec<Op>) {
        let broken: Vec<u64> = self.partial.iter().copied().collect();
        let mut lost = Vec::new();
        for op_id in broken {
            if let Some(op) = self.finish(op_id) {
                lost.push(op);
            }
        }
        (self.requests.values().cloned().collect(), lost)
    }

    /// Forgets every operation of `record` (it is gone); their answers will be ignored.
    pub(super) fn forget_record(&mut self, record: RecordKey) {
        self.pending.retain(|_, op| op.record() != record);
        self.prune();
    }

    /// Drops kept requests of operations that were forgotten.
    fn prune(&mut self) {
        let pending = &self.pending;
        self.requests.retain(|op_id, _| pending.contains_key(op_id));
        self.partial.retain(|op_id| pending.contains_key(op_id));
    }

    /// Forgets the client-facing operations of `client`: answers for them have nobody to go
    /// to (the C service sent them to a stale client, gap P11/P13).
    pub(super) fn forget_client(&mut self, gone: ClientId) {
        self.pending.retain(|_, op| match op {
            Op::MembershipStore { client, .. }
            | Op::History { client, .. }
            | Op::HistoryReread { client, .. }
            | Op::StateGet { client, .. } => *client != gone,
            _ => true,
        });
        self.prune();
    }
}

/// What record methods work with besides the record: where actions go, the psycstore
/// operation table, the knobs.
pub(super) struct Ctx<'a> {
    pub(super) out: &'a mut Outbox,
    pub(super) ops: &'a mut Ops,
    pub(super) cfg: &'a Config,
    /// The padding scheme of messages formed now.
    pub(super) padding: &'a gnunet_service::privacy::Padding,
    /// Fragments get multicast's epoch certificate (see `Channels::set_deniable`).
    pub(super) deniable: bool,
}

/// The master's side of a record.
#[derive(Debug)]
pub(super) struct Master {
    pub(super) channel_key: eddsa::PrivateKey,
    /// Stored, never read (as in C, gap P6).
    pub(super) _policy: u32,
    /// Last message id handed out for transmission.
    pub(super) max_message_id: u64,
    /// Id of the last stateful message sent, the base of the next `state_delta`.
    pub(super) max_state_message_id: u64,
    /// Group generation of the next message sent; advanced after a message with the METHOD
    /// flag INC_GROUP_GEN (gap P16, see [`super::transmit`]).
    pub(super) group_generation: u64,
    /// The highest fragment id of the channel seen: from the counters, then from the
    /// master's own fragments as multicast hands them back. A restarted multicast origin
    /// continues after it.
    pub(super) max_fragment_id: u64,
    /// Join requests waiting for a master client's decision, by slave key.
    pub(super) pending_joins: HashMap<ecdsa::PublicKey, multicast::msg::JoinRequest>,
}

/// Where a slave record stands with the multicast group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SlaveNet {
    /// Not joined (only LOCAL clients so far, or the counters lookup is pending).
    Idle,
    /// MEMBER_JOIN sent, no decision yet.
    Joining,
    /// Admitted.
    Admitted,
    /// Refused and leaving the group: PART_REQUEST sent to multicast. At its PART_ACK the
    /// connection closes and the record is `Idle`; a non-LOCAL SLAVE_JOIN that came
    /// meanwhile then joins again.
    Leaving,
}

/// The slave's side of a record.
#[derive(Debug)]
pub(super) struct Slave {
    pub(super) slave_key: ecdsa::PrivateKey,
    pub(super) origin: PeerIdentity,
    pub(super) relays: Vec<PeerIdentity>,
    /// The join message of the latest non-LOCAL SLAVE_JOIN, handed to multicast.
    pub(super) join_msg: Option<Vec<u8>>,
    /// Whether a client asked to join the network (a SLAVE_JOIN without LOCAL).
    pub(super) wants_network: bool,
    pub(super) net: SlaveNet,
    /// The decision as sent to the clients, for clients that attach later.
    pub(super) decision: Option<JoinDecision>,
    /// Last request id handed out (from 1 for every new record, not persisted; as in C).
    pub(super) max_request_id: u64,
}

/// A record's role.
#[derive(Debug)]
pub(super) enum Role {
    Master(Master),
    Slave(Slave),
}

/// The counters lookup that starts every record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counters {
    /// Asked, not answered.
    Pending,
    /// Answered with this result (1 history, 0 empty, −1 error).
    Done(i32),
}

/// One channel record: a master or a slave of one channel on this peer, with its clients.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) key: RecordKey,
    /// Bound clients, in the order they attached.
    pub(super) clients: Vec<ClientId>,
    pub(super) counters: Counters,
    /// Clients may transmit (master: counters arrived; slave: admitted).
    pub(super) ready: bool,
    /// Clients waiting for PART_ACK.
    pub(super) parting: Vec<ClientId>,
    /// A multicast connection is open (or being opened) for this record.
    pub(super) linked: bool,
    /// That connection is up and the record's ORIGIN_START / MEMBER_JOIN went out on it:
    /// other multicast messages may follow. Cleared when it breaks.
    pub(super) mc_up: bool,
    pub(super) tx: Transmit,
    pub(super) rx: Receive,
    /// The state catch-up of the receive side (slaves only).
    pub(super) catchup: CatchUp,
    /// Clients' history replays being fetched from the channel.
    pub(super) history: History,
    pub(super) role: Role,
}

impl Record {
    pub(super) fn new(key: RecordKey, role: Role) -> Self {
        Self {
            key,
            clients: Vec::new(),
            counters: Counters::Pending,
            ready: false,
            parting: Vec::new(),
            linked: false,
            mc_up: false,
            tx: Transmit::default(),
            rx: Receive::default(),
            catchup: CatchUp::default(),
            history: History::default(),
            role,
        }
    }

    /// The channel key as psycstore files it.
    pub(super) fn store_channel(&self) -> ChannelKey {
        ChannelKey(self.key.channel().0)
    }

    /// A slave key as psycstore files it.
    pub(super) fn store_slave(key: &ecdsa::PublicKey) -> SlaveKey {
        SlaveKey(key.0)
    }

    /// A refused slave leaving the group ([`SlaveNet::Leaving`]).
    pub(super) fn is_leaving(&self) -> bool {
        matches!(&self.role, Role::Slave(s) if s.net == SlaveNet::Leaving)
    }

    pub(super) fn is_master(&self) -> bool {
        matches!(self.role, Role::Master(_))
    }

    /// The group generation memberships are filed and tested with: the master's current one,
    /// a slave's as of the last fragment it delivered (the C service always used 0, gap P16).
    pub(super) fn group_generation(&self) -> u64 {
        match &self.role {
            Role::Master(m) => m.group_generation,
            Role::Slave(_) => self.rx.group_generation(),
        }
    }
}
