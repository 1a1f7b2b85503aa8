//! Leaving a place for good (spec §5.7; gaps G6, G12 fixed): PLACE_LEAVE lets the complete
//! messages already queued go out, cancels the unfinished ones, stops the master or parts the
//! slave, and when psyc confirmed sends PLACE_LEAVE_ACK to every client of the place and
//! forgets the place in memory and on disk. A second PLACE_LEAVE while leaving is only
//! logged.

use tracing::{debug, info};

use super::action::{ClientId, PlaceId};
use super::client::DropReason;
use super::state::{Link, Parting};
use super::Social;
use crate::msg::{PlaceLeaveAck, Reply};
use crate::store::StoreOp;

impl Social {
    /// PLACE_LEAVE from a client.
    pub(super) fn place_leave(&mut self, client: ClientId) -> Result<(), DropReason> {
        let what = "SOCIAL_PLACE_LEAVE";
        let id = self.client_place(client, what)?;
        let Some(place) = self.places.get_mut(&id) else {
            return Err(DropReason::NoPlace(what));
        };
        if place.leaving {
            info!(?id, "PLACE_LEAVE while the place is being left");
            return Ok(());
        }
        info!(?id, "leaving the place");
        place.leaving = true;
        for sender in place.tx.open_senders() {
            place.tx.abandon(sender);
        }
        self.kick(id);
        self.try_part(id);
        Ok(())
    }

    /// Once a leaving place's queue went out: PART_REQUEST to psyc (or done at once when
    /// psyc has nothing of it).
    pub(super) fn try_part(&mut self, id: PlaceId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        if !place.leaving || place.parting.is_some() {
            return;
        }
        if place.link != Link::Up || !place.bound || !place.slave_wanted() {
            self.finish_leave(id);
            return;
        }
        if !place.ready {
            // A guest not admitted: nothing of the queue can go.
            place.tx.clear();
        }
        if !place.tx.drained() {
            debug!(?id, "leaving once the queue went out");
            return;
        }
        place.parting = Some(Parting::Leave);
        self.out
            .psyc(id, psyc::msg::Request::PartRequest(psyc::msg::PartRequest));
    }

    /// The place is left: PLACE_LEAVE_ACK to its clients, which no longer have a place; the
    /// place, its app associations and its files go.
    pub(super) fn finish_leave(&mut self, id: PlaceId) {
        self.fail_queries(id, "the place was left");
        self.cancel_saves(id);
        self.close_link(id);
        let Some(place) = self.places.remove(&id) else {
            return;
        };
        info!(?id, "place left");
        self.out
            .send_all(&place.clients, &Reply::PlaceLeaveAck(PlaceLeaveAck));
        for client in &place.clients {
            if let Some(state) = self.clients.get_mut(client) {
                state.place = None;
                state.entered = false;
            }
        }
        self.forget_app_places(id);
        self.out.store(StoreOp::ForgetPlace {
            ego: place.ego(),
            place: id.place(),
        });
        if let Some((client, req, what)) = self.after_leave.remove(&id) {
            // Checked when it came; a reason found now fails the entry, not the client.
            if let Err(reason) = self.guest_enter(client, req, what) {
                self.enter_failed(client, id, &reason.to_string());
            }
        }
    }
}
