//! A place's clients: attaching one (with its ENTER_ACK when the place runs), letting it go,
//! and what an attached client may ask of the place (messages, MSG_PROC rules).

use tracing::{debug, warn};

use super::action::{ClientId, PlaceId};
use super::client::DropReason;
use super::state::enter_ack;
use super::transmit::Sender;
use super::Social;
use crate::msg::{MsgProcSet, Reply};

impl Social {
    /// The place client `client` entered; `what` names the request for the reason.
    pub(super) fn client_place(
        &self,
        client: ClientId,
        what: &'static str,
    ) -> Result<PlaceId, DropReason> {
        self.clients
            .get(&client)
            .and_then(|c| c.place)
            .filter(|id| self.places.contains_key(id))
            .ok_or(DropReason::NoPlace(what))
    }

    /// Attaches `client` to place `id`. If psyc started the place it gets its ENTER_ACK (1)
    /// at once, a guest's client also the last entry decision, a host's client the open
    /// entry requests; else it waits for psyc's answer.
    pub(super) fn attach_client(&mut self, id: PlaceId, client: ClientId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        if !place.clients.contains(&client) {
            place.clients.push(client);
        }
        let started = place.started;
        let ack = place.enter_ack(1);
        let decision = place.last_decision();
        let pending: Vec<Reply> = place
            .host()
            .map(|h| h.pending.iter().cloned().map(Reply::JoinRequest).collect())
            .unwrap_or_default();
        let state = self.clients.entry(client).or_default();
        state.place = Some(id);
        state.entered = started;
        if !started {
            return;
        }
        self.out.send(client, ack);
        for reply in decision.into_iter().chain(pending) {
            self.out.send(client, reply);
        }
    }

    /// Why a client cannot enter place `id` (known or new) for `app`, if it cannot.
    pub(super) fn entry_refusal(&self, id: PlaceId, app: &str) -> Option<&'static str> {
        match self.places.get(&id) {
            Some(p) if p.leaving => Some("the place is being left"),
            Some(p) if p.clients.len() >= self.cfg.max_clients_per_place => {
                Some("too many clients")
            }
            None if self.places.len() >= self.cfg.max_places => Some("too many places"),
            _ if !self.app_has_room(app) => Some("too many apps"),
            _ => None,
        }
    }

    /// A failed ENTER_ACK (−1): the client stays connected, without a place.
    pub(super) fn enter_failed(&mut self, client: ClientId, id: PlaceId, why: &str) {
        warn!(?client, ?id, "enter refused: {why}");
        self.out.send(client, enter_ack(id, 0, -1));
    }

    /// `client` left place `id` (disconnected): its unfinished message is cancelled, its
    /// queries forgotten; the place stays.
    pub(super) fn detach_client(&mut self, id: PlaceId, client: ClientId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        place.clients.retain(|&c| c != client);
        place.tx.abandon(Sender::Client(client));
        place.queries.client_gone(client);
        self.kick(id);
        self.try_part(id);
    }

    /// The clients to tell psyc's (first) answer to MASTER_START / SLAVE_JOIN: all of them
    /// after a start a client asked for, else those still waiting. They count as entered
    /// now, and the place as started.
    pub(super) fn take_ack_targets(&mut self, id: PlaceId) -> Vec<ClientId> {
        let Some(place) = self.places.get_mut(&id) else {
            return Vec::new();
        };
        let announce = std::mem::replace(&mut place.announce, false);
        place.started = true;
        let mut targets = Vec::new();
        for client in &place.clients {
            if let Some(state) = self.clients.get_mut(client) {
                if announce || !state.entered {
                    state.entered = true;
                    targets.push(*client);
                }
            }
        }
        targets
    }

    /// PSYC_MESSAGE from a client: queued for the place's psyc connection (see
    /// [`transmit`](super::transmit)).
    pub(super) fn client_message(
        &mut self,
        client: ClientId,
        parts: Vec<u8>,
    ) -> Result<(), DropReason> {
        let what = "PSYC_MESSAGE";
        let id = self.client_place(client, what)?;
        if !self.clients.get(&client).is_some_and(|c| c.entered) {
            return Err(DropReason::NotEntered(what));
        }
        let limits = self.queue_limits();
        let Some(place) = self.places.get_mut(&id) else {
            return Err(DropReason::NoPlace(what));
        };
        if place.leaving {
            debug!(?id, ?client, "PSYC_MESSAGE after PLACE_LEAVE ignored");
            return Ok(());
        }
        place.tx.accept(Sender::Client(client), parts, limits)?;
        self.kick(id);
        Ok(())
    }

    /// MSG_PROC_SET from a place client.
    pub(super) fn msg_proc_set(
        &mut self,
        client: ClientId,
        m: MsgProcSet,
    ) -> Result<(), DropReason> {
        let id = self.client_place(client, "SOCIAL_MSG_PROC_SET")?;
        let max = self.cfg.max_msg_proc_rules;
        let Some(place) = self.places.get_mut(&id) else {
            return Ok(());
        };
        if !place.procs.set(m.method_prefix, m.flags, max) {
            warn!(?id, "MSG_PROC_SET ignored: the place has {max} rules");
        }
        Ok(())
    }

    /// MSG_PROC_CLEAR from a place client.
    pub(super) fn msg_proc_clear(&mut self, client: ClientId) -> Result<(), DropReason> {
        let id = self.client_place(client, "SOCIAL_MSG_PROC_CLEAR")?;
        if let Some(place) = self.places.get_mut(&id) {
            place.procs.clear();
        }
        Ok(())
    }
}
