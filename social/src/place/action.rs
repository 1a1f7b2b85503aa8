//! What the place logic asks its driver to do, the handles it names things by, and its knobs.

use std::collections::VecDeque;

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;

use crate::msg::Reply;
use crate::store::StoreOp;

/// A client connection of the social service, numbered by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// A place record, and the one psyc connection it owns: the host of a place (the PSYC master,
/// keyed by the place key), or one ego's guest entry (a PSYC slave, keyed by place and ego). A
/// peer may be host and guest of the same place (the acceptance test is); those are two
/// records with two psyc connections, as psyc's own records are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlaceId {
    /// The place hosted here.
    Host(eddsa::PublicKey),
    /// The place entered here as a guest with this ego.
    Guest(eddsa::PublicKey, ecdsa::PublicKey),
}

impl PlaceId {
    /// The place's public key.
    pub fn place(&self) -> eddsa::PublicKey {
        match self {
            Self::Host(p) | Self::Guest(p, _) => *p,
        }
    }

    /// Whether this is a host record.
    pub fn is_host(&self) -> bool {
        matches!(self, Self::Host(_))
    }
}

/// Names one NAMESTORE store the logic asked for; handed back with its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZoneOpId(pub u64);

/// Names one GNS lookup the logic asked for; handed back with its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GnsOpId(pub u64);

/// GNS record types social writes and reads (`gnu_name_system_record_types.h`, unchanged
/// since 2019).
pub mod record_type {
    pub use crate::record::{TYPE_PKEY as PKEY, TYPE_PLACE as PLACE};
}

/// One record of a [`Action::ZoneStore`]: a 0.19 GNS record (flags with their 0.19 values,
/// spec I6).
pub use gnunet_service::gnsrecord::Record as ZoneRecord;

/// Why NAMESTORE did not store a record set: its `GNUNET_ErrorCode` (never 0, which is
/// success) and a text for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneError {
    /// The 0.19 error code (e.g. 5015 `NAMESTORE_LABEL_INVALID`).
    pub code: u32,
    /// A readable description; may be empty, then the logic names the code.
    pub text: String,
}

/// What a GNS lookup returned: every record of the answer as (record type, data), none if
/// the name does not exist; or why the lookup failed.
pub type GnsAnswer = Result<Vec<(u32, Vec<u8>)>, String>;

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
    /// Disconnect a client that broke the protocol (or asked for what cannot be); log the
    /// reason. The logic has already forgotten the client: do not report it gone, nor pass
    /// on messages of it that were read already.
    DropClient {
        /// The client.
        client: ClientId,
        /// Why, in words for the log.
        reason: String,
    },
    /// Open the place's own connection to the psyc service (psyc binds one connection to one
    /// channel record), reconnect it whenever it breaks, and report
    /// [`Social::handle_psyc_up`](super::Social::handle_psyc_up) each time it is up and
    /// [`Social::handle_psyc_down`](super::Social::handle_psyc_down) each time it broke, until
    /// [`Action::ClosePsyc`]. After a `ClosePsyc` a later `OpenPsyc` of the same place is a
    /// new connection: nothing of the old one may be reported any more.
    OpenPsyc {
        /// The place.
        place: PlaceId,
    },
    /// Send a request to the psyc service on the place's connection. Only asked for while
    /// the connection is up; should it have broken meanwhile, drop the message (after the
    /// next `handle_psyc_up` the logic sends what matters again: MASTER_START / SLAVE_JOIN
    /// first). Hand every reply to [`Social::handle_psyc`](super::Social::handle_psyc).
    Psyc {
        /// The place.
        place: PlaceId,
        /// The request (MASTER_START, SLAVE_JOIN, JOIN_DECISION, MESSAGE, HISTORY_REPLAY,
        /// STATE_GET(_PREFIX), PART_REQUEST).
        msg: psyc::msg::Request,
    },
    /// Close the place's psyc connection (psyc then stops the master or parts the slave if
    /// it has not yet). Nothing more is reported for it.
    ClosePsyc {
        /// The place.
        place: PlaceId,
    },
    /// Store the record set `records` under `label` in the zone of `zone` (NAMESTORE
    /// RECORD_STORE, replacing what the label held) and report the outcome with
    /// [`Social::handle_zone_stored`](super::Social::handle_zone_stored): `Ok` for error code
    /// 0, else the code and a text. A store that cannot be tried (NAMESTORE unreachable) is
    /// reported as an error too, so the client gets its answer.
    ZoneStore {
        /// Handed back with the result.
        op: ZoneOpId,
        /// The zone's private key (an ECDSA ego's).
        zone: ecdsa::PrivateKey,
        /// The label, checked against what 0.19 NAMESTORE refuses (no `.`, not empty).
        label: String,
        /// The records.
        records: Vec<ZoneRecord>,
    },
    /// Look `name` up in the zone of `zone` (GNS LOOKUP with default options, the name
    /// relative to the zone, as given) and report the records with
    /// [`Social::handle_gns_result`](super::Social::handle_gns_result): `Ok` with every
    /// record of the answer (0 records = the name does not exist), `Err` with a text if the
    /// lookup failed.
    GnsLookup {
        /// Handed back with the result.
        op: GnsOpId,
        /// The lookup: a name relative to the guest ego's zone, with a trailing `.gnu`
        /// stripped (spec I9) or a zone key as its TLD
        /// ([`ZoneName`](gnunet_service::gns::ZoneName)), for records of type PLACE.
        query: gnunet_service::gns::Query,
    },
    /// Read every record under `label` in the zone of `zone` from NAMESTORE (RECORD_LOOKUP,
    /// private records included: GNS cannot see those) and report them with
    /// [`Social::handle_zone_lookup`](super::Social::handle_zone_lookup): `Ok` with every
    /// record (none if the label holds none), `Err` with a text if the lookup failed. The
    /// first step of entering by a name in the guest's own zone.
    ZoneLookup {
        /// Handed back with the result (the same op as the GNS lookup that may follow).
        op: GnsOpId,
        /// The zone's private key (the guest ego's).
        zone: ecdsa::PrivateKey,
        /// The label, checked against what 0.19 NAMESTORE refuses.
        label: String,
    },
    /// Change `DATA_HOME` (the store helper carries these out in order).
    Store(StoreOp),
    /// Call [`Social::handle_timeout`](super::Social::handle_timeout) at `at` (relays held
    /// for their privacy delay). Timers are never cancelled; one with nothing due does
    /// nothing.
    SetTimer {
        /// When.
        at: std::time::Instant,
    },
}

/// The knobs of the place logic. Every map and queue is bounded by one of them (clients by
/// the driver's connection limit).
#[derive(Debug, Clone)]
pub struct LogicConfig {
    /// This peer: the origin written into PLACE records whose request names none.
    pub peer: PeerIdentity,
    /// Relay guest requests whose method a host client set MSG_PROC RELAY for (gap G2
    /// fixed). The C service never relayed on little-endian hosts, and `test_social` was
    /// written against that (spec checklist 7, §15 note): a run of that test must turn this
    /// off.
    pub relay: bool,
    /// Clients attached to one place; one more gets a failed ENTER_ACK.
    pub max_clients_per_place: usize,
    /// Entry requests a host place keeps waiting for its clients' decision; beyond it new
    /// requests are refused at once.
    pub max_pending_entries: usize,
    /// Client containers (PSYC_MESSAGEs) one place holds for transmission, all clients
    /// together; a client that sends beyond it is dropped.
    pub max_transmit_entries: usize,
    /// Bytes of parts one place holds for transmission; a client that sends beyond it is
    /// dropped.
    pub max_transmit_bytes: usize,
    /// Containers one place has at psyc without their MESSAGE_ACK. Must stay below psyc's
    /// own transmit queue bound (256 by default), which drops a client that exceeds it.
    pub psyc_window: usize,
    /// Places in memory (hosted and entered); more are refused.
    pub max_places: usize,
    /// Distinct app ids with places; entering with a further app id is refused.
    pub max_apps: usize,
    /// Egos kept from IDENTITY (ECDSA and EdDSA); further ones are ignored and logged.
    pub max_egos: usize,
    /// History and state queries of one place waiting for psyc's answer.
    pub max_queries_per_place: usize,
    /// NAMESTORE stores and GNS lookups waiting for their answer (each kind).
    pub max_name_ops: usize,
    /// Requests a client may send before IDENTITY listed its egos (they are held until then).
    pub max_held_requests: usize,
    /// MSG_PROC prefixes of one place.
    pub max_msg_proc_rules: usize,
    /// Guest requests one host place relays at the same time.
    pub max_relays: usize,
    /// Messages one place saves (MSG_PROC SAVE) at the same time.
    pub max_saves: usize,
}

impl LogicConfig {
    /// The defaults, for this peer.
    pub fn new(peer: PeerIdentity) -> Self {
        Self {
            peer,
            relay: true,
            max_clients_per_place: 64,
            max_pending_entries: 64,
            max_transmit_entries: 256,
            max_transmit_bytes: 4 << 20,
            psyc_window: 8,
            max_places: 4096,
            max_apps: 1024,
            max_egos: 4096,
            max_queries_per_place: 64,
            max_name_ops: 256,
            max_held_requests: 32,
            max_msg_proc_rules: 64,
            max_relays: 64,
            max_saves: 16,
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

    pub(super) fn psyc(&mut self, place: PlaceId, msg: psyc::msg::Request) {
        self.push(Action::Psyc { place, msg });
    }

    pub(super) fn store(&mut self, op: StoreOp) {
        self.push(Action::Store(op));
    }

    /// RESULT_CODE (680) with an optional text (not NUL-terminated, as C sends it).
    pub(super) fn result(&mut self, client: ClientId, op_id: u64, code: i64, text: &str) {
        self.send(
            client,
            Reply::ResultCode(crate::msg::ResultCode {
                op_id,
                result_code: code,
                data: text.as_bytes().to_vec(),
            }),
        );
    }
}
