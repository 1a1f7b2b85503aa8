//! Hosting a place (spec §5.3, §5.6): HOST_ENTER, the PSYC master's start, entry requests and
//! the host clients' decisions.

use gnunet_service::crypto::eddsa;
use tracing::{debug, info, warn};

use super::action::{ClientId, PlaceId};
use super::app::{app_key, app_place};
use super::client::DropReason;
use super::state::{Link, Place};
use super::Social;
use crate::msg::{HostEnter, JoinDecision, JoinRequest, Reply};
use crate::store::{SavedEnter, StoreOp};

impl Social {
    /// HOST_ENTER: create a place (all-zero key) or enter a hosted one.
    pub(super) fn host_enter(
        &mut self,
        client: ClientId,
        req: HostEnter,
    ) -> Result<(), DropReason> {
        if self.clients.get(&client).is_some_and(|c| c.entering()) {
            return Err(DropReason::SecondEnter("SOCIAL_HOST_ENTER"));
        }
        let app = app_key(&req.app_id)?;
        if let Some(name) = self.egos.eddsa_name(&req.ego_pub_key) {
            return Err(DropReason::EddsaEgo {
                name,
                key: eddsa::PublicKey(req.ego_pub_key.0).to_string(),
            });
        }
        let zero = eddsa::PublicKey([0; 32]);
        let importing = req.place_pub_key != zero
            && !self.places.contains_key(&PlaceId::Host(req.place_pub_key))
            && req.place_key.0 != [0; 32]
            && req.place_key.public_key() == req.place_pub_key;
        let id = if req.place_pub_key == zero || importing {
            let Some(id) = self.host_create(client, req, &app) else {
                return Ok(());
            };
            id
        } else {
            let id = PlaceId::Host(req.place_pub_key);
            let why = match self.places.get(&id) {
                None => Some("no such hosted place"),
                Some(_) => self.entry_refusal(id, &app),
            };
            if let Some(why) = why {
                self.enter_failed(client, id, why);
                return Ok(());
            }
            self.attach_app(&app, id);
            if self.places.get(&id).is_some_and(|p| p.link == Link::Closed) {
                // Its master failed to start before: try again.
                self.open_link(id);
            }
            id
        };
        self.attach_client(id, client);
        // After the ACK, as C (the C place library ignores it).
        if let Some(msg) = app_place(&self.places, id) {
            self.out.send(client, msg);
        }
        Ok(())
    }

    /// A new hosted place (or one whose private key the client brought): persisted, master
    /// started. `None` if refused (the client got its failed ACK).
    fn host_create(&mut self, client: ClientId, req: HostEnter, app: &str) -> Option<PlaceId> {
        let place_key = if req.place_pub_key == eddsa::PublicKey([0; 32]) {
            (self.new_place_key)()
        } else {
            req.place_key.clone()
        };
        let place_pub_key = place_key.public_key();
        let id = PlaceId::Host(place_pub_key);
        let why = if self.places.contains_key(&id) {
            Some("the place exists")
        } else {
            self.entry_refusal(id, app)
        };
        if let Some(why) = why {
            self.enter_failed(client, id, why);
            return None;
        }
        let enter = HostEnter {
            place_pub_key,
            place_key,
            ..req
        };
        info!(place = %place_pub_key, app, "new hosted place");
        self.places
            .insert(id, Place::new(id, SavedEnter::Host(enter.clone())));
        self.associate(app, id);
        self.out.store(StoreOp::SavePlace {
            enter: SavedEnter::Host(enter),
            app: app.to_string(),
        });
        self.open_link(id);
        Some(id)
    }

    /// JOIN_REQUEST from psyc: kept until a client decides, and shown to the clients.
    pub(super) fn join_request(&mut self, id: PlaceId, req: JoinRequest) {
        let max = self.cfg.max_pending_entries;
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let Some(host) = place.host() else {
            return;
        };
        let key = req.slave_pub_key;
        if let Some(old) = host.pending.iter_mut().find(|r| r.slave_pub_key == key) {
            *old = req.clone();
        } else if host.pending.len() >= max {
            warn!(?id, nym = %key, "entry request refused: {max} requests wait already");
            self.out.psyc(
                id,
                psyc::msg::Request::JoinDecision(JoinDecision::new(0, key)),
            );
            return;
        } else {
            host.pending.push_back(req.clone());
        }
        let clients = self.entered_clients(id);
        self.out.send_all(&clients, &Reply::JoinRequest(req));
    }

    /// JOIN_DECISION from a host client: passed to psyc for the pending request of that
    /// guest; unknown guests are ignored (as C).
    pub(super) fn client_join_decision(
        &mut self,
        client: ClientId,
        d: JoinDecision,
    ) -> Result<(), DropReason> {
        let what = "PSYC_JOIN_DECISION";
        let id = self.client_place(client, what)?;
        let Some(place) = self.places.get_mut(&id) else {
            return Err(DropReason::NoPlace(what));
        };
        let up = place.link == Link::Up && place.bound;
        let Some(host) = place.host() else {
            return Err(DropReason::NotHost(what));
        };
        let Some(at) = host
            .pending
            .iter()
            .position(|r| r.slave_pub_key == d.slave_pub_key)
        else {
            debug!(?id, "JOIN_DECISION for no pending entry request ignored");
            return Ok(());
        };
        host.pending.remove(at);
        let d = super::level::told_level(d, self.privacy.level);
        if up {
            let admitted = d.is_admitted == psyc::msg::status::OK;
            let slave = d.slave_pub_key;
            self.out.psyc(
                id,
                psyc::msg::Request::JoinDecision(JoinDecision {
                    relay_slots: 0,
                    ..d
                }),
            );
            if admitted {
                self.out
                    .psyc(id, membership(slave, place.max_message_id, true));
            }
        }
        Ok(())
    }

    /// The clients of a place that got their ENTER_ACK.
    pub(super) fn entered_clients(&self, id: PlaceId) -> Vec<ClientId> {
        let Some(place) = self.places.get(&id) else {
            return Vec::new();
        };
        place
            .clients
            .iter()
            .copied()
            .filter(|c| self.clients.get(c).is_some_and(|s| s.entered))
            .collect()
    }
}

/// Op id of the membership stores the logic asks psyc for: above every query op id
/// ([`super::query`] counts from 1), so psyc's RESULT_CODE for it reaches no client.
pub(super) const MEMBERSHIP_OP_ID: u64 = 1 << 63;

/// CHANNEL_MEMBERSHIP_STORE for a guest the host admitted (`joined`), or that left. The C
/// service stored none: psyc answers the channel's replay requests, a late guest's catch-up
/// with the channel state and a re-join only for stored members, so without it an admitted
/// guest that missed messages (re-attaching after the host's service restarted, entering
/// late) could not fetch them. An admission is effective from the first message: an admitted
/// guest may read the place's history. A guest that left needs a new decision to come back.
pub(super) fn membership(
    slave: gnunet_service::crypto::ecdsa::PublicKey,
    announced_at: u64,
    joined: bool,
) -> psyc::msg::Request {
    psyc::msg::Request::MembershipStore(psyc::msg::MembershipStore {
        op_id: MEMBERSHIP_OP_ID,
        slave_pub_key: slave,
        announced_at,
        effective_since: 0,
        did_join: u8::from(joined),
    })
}
