//! Master start, slave join, admission and part (`psyc.md` §4, §7).

use std::collections::HashMap;
use std::time::Instant;

use gnunet_service::privacy::Padding;
use multicast::msg::{Any, Decision, JoinDecision as McastDecision, MemberJoin, OriginStart};
use psycstore::msg::{
    CountersGet, CountersResult, MembershipTest, Request as StoreRequest, RequestHead,
};
use tracing::{debug, warn};

use super::action::{ClientId, RecordKey};
use super::record::{Counters, Master, Op, Record, Role, Slave, SlaveNet};
use super::Channels;
use crate::format::container::TYPE_CONTAINER;
use crate::msg::{
    slave_join_flags, status, JoinDecision, JoinRequest, MasterStart, MasterStartAck, PartAck,
    Reply, SlaveJoin, SlaveJoinAck,
};

impl Channels {
    /// MASTER_START from an unbound client.
    pub(super) fn master_start(&mut self, client: ClientId, m: MasterStart) {
        let key = RecordKey::Master(m.channel_key.public_key());
        self.clients.insert(client, key);
        if let Some(record) = self.records.get_mut(&key) {
            record.clients.push(client);
            match record.counters {
                // Stopped (PART_ACK) but still held by a client, typically the stopping one
                // whose disconnect is not seen yet: the channel starts again, as a new
                // record would, from fresh counters (the old ones predate its messages).
                Counters::Done(_) if !record.linked => {
                    record.counters = Counters::Pending;
                    let channel = record.store_channel();
                    self.request_counters(key, channel);
                }
                Counters::Done(result) => {
                    let ack = start_ack(record, result);
                    self.out.send(client, ack);
                }
                Counters::Pending => {}
            }
            return;
        }
        let mut record = Record::new(
            key,
            Role::Master(Master {
                channel_key: m.channel_key,
                _policy: m.policy,
                max_message_id: 0,
                max_state_message_id: 0,
                group_generation: 0,
                max_fragment_id: 0,
                pending_joins: HashMap::new(),
            }),
        );
        record.clients.push(client);
        self.lookup_counters(record);
    }

    /// SLAVE_JOIN from an unbound client.
    pub(super) fn slave_join(&mut self, client: ClientId, j: SlaveJoin) {
        let key = RecordKey::Slave(j.channel_pub_key, j.slave_key.public_key());
        let local = j.flags & slave_join_flags::LOCAL != 0;
        self.clients.insert(client, key);
        if let Some(record) = self.records.get_mut(&key) {
            record.clients.push(client);
            if let Role::Slave(s) = &mut record.role {
                if !local {
                    s.wants_network = true;
                    s.origin = j.origin;
                    s.relays = j.relays;
                    s.join_msg = j.join_msg;
                }
            }
            if let Counters::Done(result) = record.counters {
                let ack = start_ack(record, result);
                self.out.send(client, ack);
                self.after_slave_ack(key, client, local);
            }
            return;
        }
        let mut record = Record::new(
            key,
            Role::Slave(Slave {
                slave_key: j.slave_key,
                origin: j.origin,
                relays: j.relays,
                join_msg: j.join_msg,
                wants_network: !local,
                net: SlaveNet::Idle,
                decision: None,
                max_request_id: 0,
            }),
        );
        record.clients.push(client);
        self.lookup_counters(record);
    }

    fn lookup_counters(&mut self, record: Record) {
        self.request_counters(record.key, record.store_channel());
        self.records.insert(record.key, record);
    }

    /// Asks psycstore for the counters of record `key`'s channel.
    fn request_counters(&mut self, key: RecordKey, channel: psycstore::keys::ChannelKey) {
        let op_id = self.ops.start(Op::Counters(key));
        self.out.store(StoreRequest::CountersGet(CountersGet {
            head: RequestHead::new(op_id, channel),
        }));
    }

    /// psycstore's counters for a new record: start the origin or join, ACK every client.
    pub(super) fn counters_result(&mut self, key: RecordKey, c: CountersResult) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        record.counters = Counters::Done(c.result_code);
        let ok = c.result_code == status::OK || c.result_code == status::NO;
        if ok {
            let has_history = c.result_code == status::OK && c.max_message_id > 0;
            match &mut record.role {
                Role::Master(m) => {
                    m.max_message_id = c.max_message_id;
                    m.max_state_message_id = c.max_state_message_id;
                    m.group_generation = c.max_group_generation;
                    record
                        .rx
                        .start_after(Some(c.max_message_id), c.max_state_message_id);
                    m.max_fragment_id = c.max_fragment_id;
                    record.ready = true;
                    record.linked = true;
                    self.out.push(super::Action::OpenMulticast { record: key });
                }
                Role::Slave(_) => {
                    // Without history of its own a slave starts at the master's numbering:
                    // the first message that arrives (gap P4).
                    let after = has_history.then_some(c.max_message_id);
                    record.rx.start_after(after, c.max_state_message_id);
                    record.rx.set_group_generation(c.max_group_generation);
                }
            }
        } else {
            warn!(?key, result = c.result_code, "counters lookup failed");
        }
        let clients = record.clients.clone();
        let ack = start_ack(record, c.result_code);
        self.out.send_all(&clients, &ack);
        if !ok {
            // Nothing to run: the clients are told, the record goes.
            for client in &clients {
                self.clients.remove(client);
            }
            self.records.remove(&key);
            self.ops.forget_record(key);
            return;
        }
        if matches!(key, RecordKey::Slave(..)) {
            self.slave_network_step(key, &clients, true);
        }
    }

    /// What a slave client gets after its SLAVE_JOIN_ACK on an existing record.
    fn after_slave_ack(&mut self, key: RecordKey, client: ClientId, local: bool) {
        let Some(Role::Slave(s)) = self.records.get(&key).map(|r| &r.role) else {
            return;
        };
        if local && s.decision.is_none() {
            let decision = JoinDecision::new(status::OK, zero_slave_key());
            self.out.send(client, Reply::JoinDecision(decision));
            return;
        }
        self.slave_network_step(key, &[client], false);
    }

    /// Joins the network if a client wants it and the record is not in the group; LOCAL-only
    /// clients get an admitting decision; a stored decision goes to `clients`.
    fn slave_network_step(&mut self, key: RecordKey, clients: &[ClientId], fresh: bool) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        let Role::Slave(s) = &mut record.role else {
            return;
        };
        if s.wants_network && s.net == SlaveNet::Idle {
            s.net = SlaveNet::Joining;
            s.decision = None;
            record.linked = true;
            // MEMBER_JOIN goes once the connection is up (`multicast_start`).
            self.out.push(super::Action::OpenMulticast { record: key });
        } else if s.net == SlaveNet::Leaving && s.wants_network {
            // Joins again once multicast confirmed the refused member's part.
        } else if let Some(d) = &s.decision {
            let reply = Reply::JoinDecision(d.clone());
            self.out.send_all(clients, &reply);
        } else if fresh && !s.wants_network {
            let reply = Reply::JoinDecision(JoinDecision::new(status::OK, zero_slave_key()));
            self.out.send_all(clients, &reply);
        }
    }

    /// A member asks to join the master's channel: membership test first (`psyc.md` §4.3).
    pub(super) fn join_request(&mut self, key: RecordKey, j: multicast::msg::JoinRequest) {
        let Some(record) = self.records.get(&key).filter(|r| r.is_master()) else {
            debug!(?key, "join request at a slave record ignored (gap P7)");
            return;
        };
        let channel_key = record.store_channel();
        let test = MembershipTest {
            head: RequestHead::new(0, channel_key),
            slave_key: Record::store_slave(&j.member_pub_key),
            message_id: record.rx.max_message_id(),
            group_generation: record.group_generation(),
        };
        let op_id = self.ops.start(Op::MembershipTest {
            record: key,
            join: Box::new(j),
        });
        self.out.store(StoreRequest::MembershipTest(MembershipTest {
            head: RequestHead::new(op_id, channel_key),
            ..test
        }));
    }

    /// The membership test of a join request answered: a non-member goes to the master's
    /// clients, anything else is decided at once.
    pub(super) fn membership_tested(
        &mut self,
        now: Instant,
        key: RecordKey,
        j: multicast::msg::JoinRequest,
        r: psycstore::msg::ResultCode,
    ) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        let Role::Master(m) = &mut record.role else {
            return;
        };
        if r.result_code == psycstore::msg::status::NO {
            let join_msg = super::pad::unpadded_container(j.join_msg.clone())
                .filter(|msg| matches!(msg.as_slice(), [_, _, hi, lo, ..] if u16::from_be_bytes([*hi, *lo]) == TYPE_CONTAINER));
            let request = Reply::JoinRequest(JoinRequest {
                slave_pub_key: j.member_pub_key,
                join_msg,
            });
            m.pending_joins.insert(j.member_pub_key, j);
            let clients = record.clients.clone();
            self.out.send_all(&clients, &request);
        } else {
            // Decided by membership, without a client: after the response delay.
            let is_admitted = i32::try_from(r.result_code).unwrap_or(status::SYSERR);
            let padding = self.padding.clone();
            self.answer_later(now, key, decide(&j, is_admitted, None, &padding));
        }
    }

    /// A master client's JOIN_DECISION. `Err` if the client is a slave's.
    pub(super) fn join_decision(
        &mut self,
        key: RecordKey,
        d: JoinDecision,
    ) -> Result<(), &'static str> {
        let Some(record) = self.records.get_mut(&key) else {
            return Ok(());
        };
        let Role::Master(m) = &mut record.role else {
            return Err("JOIN_DECISION from a slave client");
        };
        match m.pending_joins.remove(&d.slave_pub_key) {
            Some(j) => self
                .out
                .multicast(key, decide(&j, d.is_admitted, d.response, &self.padding)),
            None => debug!("JOIN_DECISION for an unknown slave ignored"),
        }
        Ok(())
    }

    /// The master's decision reached a slave record.
    pub(super) fn slave_decision(&mut self, key: RecordKey, d: McastDecision) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        let Role::Slave(s) = &mut record.role else {
            return;
        };
        let admitted = d.decision.is_admitted == multicast::msg::ADMITTED;
        match s.net {
            SlaveNet::Joining => {}
            // Joined again after multicast restarted: the clients know they are in.
            SlaveNet::Admitted if admitted => return,
            SlaveNet::Admitted => {}
            SlaveNet::Idle | SlaveNet::Leaving => return,
        }
        let decision = JoinDecision {
            response: super::pad::unpadded_container(d.decision.response),
            ..JoinDecision::new(d.decision.is_admitted, zero_slave_key())
        };
        s.decision = Some(decision.clone());
        let clients = record.clients.clone();
        if admitted {
            s.net = SlaveNet::Admitted;
            record.ready = true;
        } else {
            // A refused slave leaves the group (gap P21): PART_REQUEST, and the connection
            // closes at multicast's PART_ACK. Closing at once would race a quick join again:
            // multicast could take the new connection's MEMBER_JOIN before it saw the old
            // one close, and answer it with this refusal.
            s.net = SlaveNet::Leaving;
            s.wants_network = false;
            record.ready = false;
            self.out
                .multicast(key, Any::PartRequest(multicast::msg::PartRequest));
        }
        self.out.send_all(&clients, &Reply::JoinDecision(decision));
    }

    /// PART_REQUEST: stop the origin or part the member; PART_ACK to the asking client when
    /// multicast confirms, or at once when the record is not in a group.
    pub(super) fn part(&mut self, client: ClientId, key: RecordKey) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        if !record.linked {
            self.out.send(client, Reply::PartAck(PartAck));
            return;
        }
        if !record.mc_up {
            // Not in a group right now (multicast is reconnecting): nothing to leave.
            record.parting.push(client);
            self.part_acked(key);
            return;
        }
        if record.parting.is_empty() && !record.is_leaving() {
            self.out
                .multicast(key, Any::PartRequest(multicast::msg::PartRequest));
        }
        record.parting.push(client);
    }

    /// Multicast confirmed the part.
    pub(super) fn part_acked(&mut self, key: RecordKey) {
        let Some(record) = self.records.get_mut(&key) else {
            return;
        };
        record.ready = false;
        record.linked = false;
        record.mc_up = false;
        // A SLAVE_JOIN that came while a refused slave was leaving joins now.
        let mut rejoin = false;
        if let Role::Slave(s) = &mut record.role {
            rejoin = s.net == SlaveNet::Leaving && s.wants_network;
            s.net = SlaveNet::Idle;
            s.wants_network = rejoin;
        }
        for client in std::mem::take(&mut record.parting) {
            self.out.send(client, Reply::PartAck(PartAck));
        }
        self.out.push(super::Action::CloseMulticast { record: key });
        if rejoin {
            let clients = self.records.get(&key).map(|r| r.clients.clone());
            self.slave_network_step(key, &clients.unwrap_or_default(), false);
        }
    }
}

impl Record {
    /// What opens the record's multicast connection: ORIGIN_START after the highest fragment
    /// id of the channel seen, or MEMBER_JOIN with the latest join's origin, relays and
    /// join message.
    pub(super) fn multicast_start(&self, padding: &Padding) -> Any {
        match &self.role {
            Role::Master(m) => Any::OriginStart(OriginStart {
                group_key: m.channel_key.clone(),
                max_fragment_id: m.max_fragment_id,
            }),
            Role::Slave(s) => Any::MemberJoin(MemberJoin {
                group_pub_key: self.key.channel(),
                member_key: s.slave_key.clone(),
                origin: s.origin,
                relays: s.relays.clone(),
                join_msg: super::pad::pad_join_message(padding, s.join_msg.clone()),
            }),
        }
    }

    /// A fragment of the channel came from multicast: the master remembers the highest
    /// fragment id (its own fragments come back to it).
    pub(super) fn saw_fragment_id(&mut self, fragment_id: u64) {
        if let Role::Master(m) = &mut self.role {
            m.max_fragment_id = m.max_fragment_id.max(fragment_id);
        }
    }
}

/// MASTER_START_ACK or SLAVE_JOIN_ACK with the record's last message id.
fn start_ack(record: &Record, result_code: i32) -> Reply {
    let max_message_id = match &record.role {
        Role::Master(m) => m.max_message_id,
        Role::Slave(_) => record.rx.max_message_id(),
    };
    match record.role {
        Role::Master(_) => Reply::MasterStartAck(MasterStartAck {
            result_code,
            max_message_id,
        }),
        Role::Slave(_) => Reply::SlaveJoinAck(SlaveJoinAck {
            result_code,
            max_message_id,
        }),
    }
}

/// The multicast JOIN_DECISION for `j`: no relays (as in C), optional response, padded.
fn decide(
    j: &multicast::msg::JoinRequest,
    is_admitted: i32,
    response: Option<Vec<u8>>,
    padding: &Padding,
) -> Any {
    let mut d = McastDecision {
        peer: j.peer,
        member_pub_key: j.member_pub_key,
        decision: Decision {
            is_admitted,
            relays: Vec::new(),
            response,
        },
        admitted_after: None,
    };
    super::pad::pad_decision(padding, &mut d);
    Any::JoinDecision(d)
}

fn zero_slave_key() -> gnunet_service::crypto::ecdsa::PublicKey {
    gnunet_service::crypto::ecdsa::PublicKey([0; 32])
}
