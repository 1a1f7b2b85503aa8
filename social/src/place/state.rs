//! One place record: what it was entered with, its clients, its psyc connection and the
//! host's or guest's part of it.

use std::collections::VecDeque;

use gnunet_service::crypto::ecdsa;

use super::action::{ClientId, PlaceId};
use super::msg_proc::MsgProcs;
use super::query::Queries;
use super::transmit::Transmit;
use crate::msg::{GuestEnterAck, HostEnterAck, JoinDecision, JoinRequest, Reply};
use crate::store::SavedEnter;

/// The state of a place's psyc connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
    /// No connection (never opened, or closed).
    Closed,
    /// Asked for (`OpenPsyc`), not up yet or broken and being reconnected.
    Down,
    /// Up: MASTER_START / SLAVE_JOIN went first on it.
    Up,
}

/// Why a PART_REQUEST is at psyc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Parting {
    /// PLACE_LEAVE.
    Leave,
    /// The host refused the guest: the decision goes to the clients once parted (§5.4).
    Refused(JoinDecision),
}

/// The host's part of a place.
#[derive(Debug, Default)]
pub(super) struct HostRole {
    /// Entry requests waiting for a client's decision, oldest first, one per guest key.
    pub pending: VecDeque<JoinRequest>,
}

/// The guest's part of a place.
#[derive(Debug, Default)]
pub(super) struct GuestRole {
    /// A PSYC slave is wanted: joining, joined, or waiting for its ego to join (a restored
    /// guest). False after a refusal until a client enters again.
    pub slave: bool,
    /// The ego's private key, taken when the join starts (C copied it likewise).
    pub ego_key: Option<ecdsa::PrivateKey>,
    /// The last entry decision the clients got (also persisted), sent to re-entering clients.
    pub decision: Option<JoinDecision>,
    /// A client entered while the refused slave was parting: join again once parted.
    pub rejoin: bool,
}

/// The host's or the guest's part.
#[derive(Debug)]
pub(super) enum Role {
    /// Hosted here.
    Host(HostRole),
    /// Entered as a guest.
    Guest(GuestRole),
}

/// One place record.
#[derive(Debug)]
pub(super) struct Place {
    /// Which.
    pub id: PlaceId,
    /// The enter request as persisted: HOST_ENTER with the place's private key, or
    /// GUEST_ENTER with origin, relays and join message.
    pub enter: SavedEnter,
    /// Attached clients, in the order they entered.
    pub clients: Vec<ClientId>,
    /// The psyc connection.
    pub link: Link,
    /// psyc answered MASTER_START / SLAVE_JOIN on the current connection.
    pub bound: bool,
    /// psyc takes messages on the current connection: the master started, the slave was
    /// admitted.
    pub ready: bool,
    /// psyc accepted the current MASTER_START / SLAVE_JOIN at least once: a client entering
    /// now gets its ENTER_ACK (result 1, as C) at once; before, it waits for psyc's answer.
    pub started: bool,
    /// The next psyc answer to MASTER_START / SLAVE_JOIN goes to every client, not only to
    /// those still waiting (a join started by a client's request; C sent it to all).
    pub announce: bool,
    /// Last channel message id (from psyc's answers and the messages it delivered).
    pub max_message_id: u64,
    /// PLACE_LEAVE was asked for.
    pub leaving: bool,
    /// A PART_REQUEST is at psyc.
    pub parting: Option<Parting>,
    /// The outgoing queue.
    pub tx: Transmit,
    /// MSG_PROC rules and the messages they act on.
    pub procs: MsgProcs,
    /// History and state queries at psyc.
    pub queries: Queries,
    /// Host or guest.
    pub role: Role,
}

impl Place {
    /// A new record, not connected.
    pub fn new(id: PlaceId, enter: SavedEnter) -> Self {
        let role = match id {
            PlaceId::Host(_) => Role::Host(HostRole::default()),
            PlaceId::Guest(..) => Role::Guest(GuestRole::default()),
        };
        Self {
            id,
            enter,
            clients: Vec::new(),
            link: Link::Closed,
            bound: false,
            ready: false,
            started: false,
            announce: true,
            max_message_id: 0,
            leaving: false,
            parting: None,
            tx: Transmit::default(),
            procs: MsgProcs::default(),
            queries: Queries::default(),
            role,
        }
    }

    /// The ego that entered the place (the recorded host ego, or the guest ego).
    pub fn ego(&self) -> ecdsa::PublicKey {
        match &self.enter {
            SavedEnter::Host(h) => h.ego_pub_key,
            SavedEnter::Guest(g) => g.ego_pub_key,
        }
    }

    /// The guest part, if a guest.
    pub fn guest(&mut self) -> Option<&mut GuestRole> {
        match &mut self.role {
            Role::Guest(g) => Some(g),
            Role::Host(_) => None,
        }
    }

    /// The host part, if a host.
    pub fn host(&mut self) -> Option<&mut HostRole> {
        match &mut self.role {
            Role::Host(h) => Some(h),
            Role::Guest(_) => None,
        }
    }

    /// The place's ENTER_ACK with its last message id.
    pub fn enter_ack(&self, result_code: i32) -> Reply {
        enter_ack(self.id, self.max_message_id, result_code)
    }

    /// A guest's last entry decision, as re-entering clients get it.
    pub fn last_decision(&self) -> Option<Reply> {
        match &self.role {
            Role::Guest(g) => g.decision.clone().map(Reply::JoinDecision),
            Role::Host(_) => None,
        }
    }

    /// Whether a guest's slave is wanted (hosts: always).
    pub fn slave_wanted(&self) -> bool {
        match &self.role {
            Role::Host(_) => true,
            Role::Guest(g) => g.slave,
        }
    }
}

/// The ENTER_ACK of place `id`: HOST_ENTER_ACK (which tells the place key), or
/// GUEST_ENTER_ACK.
pub(super) fn enter_ack(id: PlaceId, max_message_id: u64, result_code: i32) -> Reply {
    match id {
        PlaceId::Host(place_pub_key) => Reply::HostEnterAck(HostEnterAck {
            result_code,
            max_message_id,
            place_pub_key,
        }),
        PlaceId::Guest(..) => Reply::GuestEnterAck(GuestEnterAck {
            result_code,
            max_message_id,
        }),
    }
}
