//! A place's connection to the psyc service: opening and closing it, what goes first on it
//! (MASTER_START / SLAVE_JOIN), psyc's answers, and what a broken connection takes with it.

use std::time::Instant;

use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use tracing::{debug, warn};

use super::action::{Action, PlaceId};
use super::client::DropReason;
use super::state::{Link, Parting, Role};
use super::transmit::Sender;
use super::Social;
use crate::msg::{Delivery, MessageAck, Reply};
use crate::store::SavedEnter;

impl Social {
    /// Asks the driver for the place's psyc connection.
    pub(super) fn open_link(&mut self, id: PlaceId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        place.link = Link::Down;
        place.bound = false;
        place.ready = false;
        place.announce = true;
        self.out.push(Action::OpenPsyc { place: id });
    }

    /// Closes the place's psyc connection, if open.
    pub(super) fn close_link(&mut self, id: PlaceId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        if place.link != Link::Closed {
            self.out.push(Action::ClosePsyc { place: id });
        }
        place.link = Link::Closed;
        place.bound = false;
        place.ready = false;
        place.parting = None;
        if let Some(host) = place.host() {
            host.pending.clear();
        }
    }

    /// MASTER_START with the place's key, or SLAVE_JOIN with the guest's ego key, origin,
    /// relays and join message: the first message on every (re)opened connection.
    pub(super) fn send_binding(&mut self, id: PlaceId) {
        let Some(place) = self.places.get(&id) else {
            return;
        };
        let msg = match (&place.enter, &place.role) {
            (SavedEnter::Host(h), Role::Host(_)) => {
                psyc::msg::Request::MasterStart(psyc::msg::MasterStart {
                    policy: h.policy,
                    channel_key: h.place_key.clone(),
                })
            }
            (SavedEnter::Guest(g), Role::Guest(role)) => {
                let Some(slave_key) = role.ego_key.clone() else {
                    warn!(?id, "no ego key to join with");
                    return;
                };
                psyc::msg::Request::SlaveJoin(psyc::msg::SlaveJoin {
                    channel_pub_key: g.place_pub_key,
                    slave_key,
                    origin: g.origin,
                    flags: g.flags,
                    relays: g.relays.clone(),
                    join_msg: g.join_msg.clone(),
                })
            }
            _ => return,
        };
        self.out.psyc(id, msg);
    }

    /// The place's psyc connection is up (first time, or again after psyc restarted): the
    /// master starts, the slave joins, with what they were entered with.
    pub fn handle_psyc_up(&mut self, _now: Instant, id: PlaceId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        if place.link != Link::Down {
            return;
        }
        place.link = Link::Up;
        place.bound = false;
        place.ready = false;
        self.send_binding(id);
    }

    /// The place's psyc connection broke (the driver reconnects it): what was at psyc is
    /// gone. Queries are answered −1, containers handed over get their MESSAGE_ACK, the
    /// client whose message was half out is dropped, a part in progress is done.
    pub fn handle_psyc_down(&mut self, now: Instant, id: PlaceId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        if place.link != Link::Up {
            return;
        }
        warn!(?id, "psyc connection broke");
        place.link = Link::Down;
        place.bound = false;
        place.ready = false;
        if let Some(host) = place.host() {
            host.pending.clear();
        }
        place.procs.forget_relays();
        let lost = place.tx.lost();
        let clients = place.clients.clone();
        for client in lost.acks.into_iter().filter(|c| clients.contains(c)) {
            self.out.send(client, Reply::MessageAck(MessageAck));
        }
        self.fail_queries(id, "the psyc connection broke");
        self.cancel_saves(id);
        let parting = self.places.get_mut(&id).and_then(|p| p.parting.take());
        match parting {
            Some(Parting::Refused(d)) => self.refusal_parted(id, d),
            Some(Parting::Leave) => self.finish_leave(id),
            None if self.places.get(&id).is_some_and(|p| p.leaving) => self.finish_leave(id),
            None => {}
        }
        if let Some(Sender::Client(client)) = lost.broken {
            self.drop_client(now, client, DropReason::MessageLost);
        }
    }

    /// A message from psyc on the place's connection.
    pub fn handle_psyc(&mut self, now: Instant, id: PlaceId, reply: psyc::msg::Reply) {
        let Some(place) = self.places.get(&id) else {
            debug!(?id, "psyc message for a place that is gone");
            return;
        };
        if place.link != Link::Up {
            debug!(?id, "psyc message on a connection that is not up");
            return;
        }
        use psyc::msg::Reply as P;
        match (reply, id.is_host()) {
            (P::MasterStartAck(a), true) => self.started(id, a.result_code, a.max_message_id),
            (P::SlaveJoinAck(a), false) => self.started(id, a.result_code, a.max_message_id),
            (P::PartAck(_), _) => self.part_acked(id),
            (P::JoinRequest(r), true) => self.join_request(id, r),
            (P::JoinDecision(d), false) => self.slave_decision(id, d),
            (P::Message(d), _) => self.deliver(now, id, d),
            (P::MessageAck(_), _) => self.message_acked(id),
            (r @ (P::HistoryResult(_) | P::StateResult(_) | P::ResultCode(_)), _) => {
                self.query_answer(id, r)
            }
            (other, _) => debug!(?id, ?other, "unexpected psyc message ignored"),
        }
    }

    /// psyc confirmed a PART_REQUEST.
    fn part_acked(&mut self, id: PlaceId) {
        match self.places.get_mut(&id).and_then(|p| p.parting.take()) {
            Some(Parting::Leave) => self.finish_leave(id),
            Some(Parting::Refused(d)) => self.refusal_parted(id, d),
            None => debug!(?id, "PART_ACK without a part"),
        }
    }

    /// MASTER_START_ACK or SLAVE_JOIN_ACK: the master runs, the slave's record exists (its
    /// admission comes separately), or psyc failed to start it. The clients waiting (all
    /// after a start a client asked for) get their ENTER_ACK: a host's with psyc's result, a
    /// guest's with 1 and the last entry decision, if any.
    fn started(&mut self, id: PlaceId, result_code: i32, max_message_id: u64) {
        if result_code < 0 {
            self.start_failed(id, result_code);
            return;
        }
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        place.bound = true;
        place.ready = id.is_host();
        place.max_message_id = place.max_message_id.max(max_message_id);
        let ack = place.enter_ack(if id.is_host() { result_code } else { 1 });
        let decision = place.last_decision();
        for client in self.take_ack_targets(id) {
            self.out.send(client, ack.clone());
            if let Some(d) = &decision {
                self.out.send(client, d.clone());
            }
        }
        self.kick(id);
        self.try_part(id);
    }

    /// psyc refused MASTER_START / SLAVE_JOIN (its record is gone): the clients waiting for
    /// their ACK get −1 and leave the place; the connection closes. A later enter tries
    /// again.
    pub(super) fn start_failed(&mut self, id: PlaceId, result_code: i32) {
        warn!(?id, result_code, "psyc did not start the place");
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let announce = std::mem::replace(&mut place.announce, true);
        place.started = false;
        // C reported any failure of a slave as −1, a master's as psyc said.
        let reply = place.enter_ack(if id.is_host() {
            result_code
        } else {
            psyc::msg::status::SYSERR
        });
        if let Some(guest) = place.guest() {
            guest.slave = false;
        }
        let all = place.clients.clone();
        let mut waiting = Vec::new();
        for client in &all {
            let Some(state) = self.clients.get_mut(client) else {
                continue;
            };
            if !state.entered {
                state.place = None;
                waiting.push(*client);
            }
        }
        if let Some(place) = self.places.get_mut(&id) {
            place.clients.retain(|c| !waiting.contains(c));
        }
        self.out
            .send_all(if announce { &all } else { &waiting }, &reply);
        self.close_link(id);
        if self.places.get(&id).is_some_and(|p| p.leaving) {
            self.finish_leave(id);
        }
    }

    /// A channel message (or a guest's request, at the host) psyc delivered: to every client
    /// of the place, and through the place's MSG_PROC rules.
    fn deliver(&mut self, now: Instant, id: PlaceId, d: Delivery) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        if d.header.flags & (DELIVERY_REQUEST | DELIVERY_HISTORIC) == 0 {
            place.max_message_id = place.max_message_id.max(d.header.message_id);
        }
        let clients = place.clients.clone();
        self.process_delivery(now, id, &d);
        self.out.send_all(&clients, &Reply::Message(d));
    }

    /// psyc's MESSAGE_ACK: to the client whose container it is; the queue moves on.
    fn message_acked(&mut self, id: PlaceId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        match place.tx.acked() {
            Ok(Some(client)) if place.clients.contains(&client) => {
                self.out.send(client, Reply::MessageAck(MessageAck));
            }
            Ok(_) => {}
            Err(()) => debug!(?id, "MESSAGE_ACK with nothing at psyc"),
        }
        self.kick(id);
        self.try_part(id);
    }

    /// Hands queued containers to psyc, when it takes them.
    pub(super) fn kick(&mut self, id: PlaceId) {
        let window = self.cfg.psyc_window;
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        if place.link == Link::Up && place.ready && place.parting.is_none() {
            place.tx.kick(id, window, &mut self.out);
        }
    }
}
