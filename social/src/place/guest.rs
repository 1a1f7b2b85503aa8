//! Entering a place as a guest (spec §5.4, §5.5): GUEST_ENTER, GUEST_ENTER_BY_NAME and its GNS
//! lookup, the PSYC slave's join and the host's entry decision.

use std::time::Instant;

use gnunet_service::crypto::identity_key::PublicKey as IdentityPublicKey;
use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::gns::ZoneName;
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use tracing::{info, warn};

use super::action::{record_type, ClientId, GnsAnswer, GnsOpId, PlaceId};
use super::app::{app_key, app_place};
use super::client::DropReason;
use super::state::{Link, Parting, Place};
use super::Social;
use crate::msg::{GuestEnter, GuestEnterByName, JoinDecision, Reply};
use crate::record::PlaceData;
use crate::store::{SavedEnter, StoreOp};

/// A GUEST_ENTER_BY_NAME waiting for its GNS lookup.
#[derive(Debug)]
pub(super) struct ByName {
    client: ClientId,
    ego: ecdsa::PublicKey,
    app_id: Vec<u8>,
    /// The name as looked up, for the log.
    name: String,
    /// Where the name starts and what is left to resolve there (what GNS is asked if the
    /// zones of this node do not lead to the place, see [`super::zone`]).
    pub(super) zone_name: ZoneName,
    /// While [`super::zone`] reads labels from NAMESTORE: the zone of the last lookup and the
    /// labels left to resolve, its own last.
    pub(super) local: Option<(IdentityPublicKey, String)>,
    join_msg: Option<Vec<u8>>,
}

impl Social {
    /// GUEST_ENTER (also what GUEST_ENTER_BY_NAME becomes): join a place as `req`'s ego.
    pub(super) fn guest_enter(
        &mut self,
        client: ClientId,
        req: GuestEnter,
        what: &'static str,
    ) -> Result<(), DropReason> {
        if self.clients.get(&client).is_some_and(|c| c.entering()) {
            return Err(DropReason::SecondEnter(what));
        }
        let app = app_key(&req.app_id)?;
        self.egos.usable(&req.ego_pub_key, what)?;
        let id = PlaceId::Guest(req.place_pub_key, req.ego_pub_key);
        let zero_origin = req.origin == PeerIdentity([0; 32]);
        if !self.places.contains_key(&id) {
            return self.guest_create(client, id, req, &app, zero_origin);
        }
        if !zero_origin && self.places.get(&id).is_some_and(|p| p.leaving) {
            // Entered again while the last leave is under way: once it is done.
            if let Some((earlier, ..)) = self.after_leave.insert(id, (client, req, what)) {
                self.enter_failed(earlier, id, "entered again by another client");
            }
            return Ok(());
        }
        if let Some(why) = self.entry_refusal(id, &app) {
            self.enter_failed(client, id, why);
            return Ok(());
        }
        let Some(place) = self.places.get_mut(&id) else {
            return Ok(());
        };
        let refused_parting = matches!(place.parting, Some(Parting::Refused(_)));
        let active = place.slave_wanted() && !refused_parting;
        let mut persist = false;
        if !active {
            // Join again (after a refusal): with the request's origin, relays and join
            // message, or the stored ones for a reconnect request (zero origin).
            let stored = match &place.enter {
                SavedEnter::Guest(g) => g.clone(),
                SavedEnter::Host(_) => return Ok(()),
            };
            place.enter = SavedEnter::Guest(if zero_origin {
                GuestEnter {
                    origin: stored.origin,
                    relays: stored.relays,
                    join_msg: req.join_msg.or(stored.join_msg),
                    ..req
                }
            } else {
                persist = true;
                req
            });
        }
        if persist {
            if let Some(SavedEnter::Guest(g)) = self.places.get(&id).map(|p| p.enter.clone()) {
                self.associate(&app, id);
                self.out.store(StoreOp::SavePlace {
                    enter: SavedEnter::Guest(g),
                    app: app.clone(),
                });
            }
        } else {
            self.attach_app(&app, id);
        }
        if refused_parting {
            // Joins again once parted; this client waits for that join's ACK.
            if let Some(p) = self.places.get_mut(&id) {
                p.started = false;
                if let Some(g) = p.guest() {
                    g.rejoin = true;
                }
            }
        } else if !active {
            self.start_join(id, true);
        }
        self.attach_client(id, client);
        if !active {
            if let Some(msg) = app_place(&self.places, id) {
                self.out.send(client, msg);
            }
        }
        Ok(())
    }

    /// A guest entry not known yet.
    fn guest_create(
        &mut self,
        client: ClientId,
        id: PlaceId,
        req: GuestEnter,
        app: &str,
        zero_origin: bool,
    ) -> Result<(), DropReason> {
        let why = if zero_origin {
            Some("unknown place and no origin to join through")
        } else {
            self.entry_refusal(id, app)
        };
        if let Some(why) = why {
            self.enter_failed(client, id, why);
            return Ok(());
        }
        info!(place = %req.place_pub_key, ego = %req.ego_pub_key, app, "new guest entry");
        self.places
            .insert(id, Place::new(id, SavedEnter::Guest(req.clone())));
        self.associate(app, id);
        self.out.store(StoreOp::SavePlace {
            enter: SavedEnter::Guest(req),
            app: app.to_string(),
        });
        self.start_join(id, true);
        self.attach_client(id, client);
        if let Some(msg) = app_place(&self.places, id) {
            self.out.send(client, msg);
        }
        Ok(())
    }

    /// GUEST_ENTER_ACK −1 for a GUEST_ENTER_BY_NAME that found no place to enter.
    fn by_name_failed(&mut self, client: ClientId, ego: ecdsa::PublicKey, why: &str) {
        self.enter_failed(client, PlaceId::Guest(eddsa::PublicKey([0; 32]), ego), why);
    }

    /// Starts the PSYC slave of guest place `id` with its ego's key (once IDENTITY knows the
    /// ego). A `fresh` join (a client's request) forgets the last decision: the host decides
    /// again.
    pub(super) fn start_join(&mut self, id: PlaceId, fresh: bool) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let key = self.egos.get(&place.ego()).map(|e| e.key.clone());
        place.started = false;
        place.announce = true;
        let link = place.link;
        let Some(guest) = place.guest() else {
            return;
        };
        guest.slave = true;
        if fresh {
            guest.decision = None;
        }
        let Some(key) = key else {
            return; // joins when IDENTITY reports the ego
        };
        guest.ego_key = Some(key);
        match link {
            Link::Closed => self.open_link(id),
            Link::Up => self.send_binding(id),
            Link::Down => {}
        }
    }

    /// IDENTITY reported an ego: restored guests of it that wait join now.
    pub(super) fn join_waiting_guests(&mut self, ego: ecdsa::PublicKey) {
        let mut waiting: Vec<PlaceId> = self
            .places
            .values()
            .filter(|p| {
                matches!(p.id, PlaceId::Guest(_, e) if e == ego)
                    && p.slave_wanted()
                    && p.link == Link::Closed
                    && !p.leaving
            })
            .map(|p| p.id)
            .collect();
        waiting.sort();
        for id in waiting {
            self.start_join(id, false);
        }
    }

    /// After IDENTITY's list: guests whose ego it does not know cannot join (yet).
    pub(super) fn warn_egoless_guests(&self) {
        for p in self.places.values() {
            if let PlaceId::Guest(place, ego) = p.id {
                if p.slave_wanted() && p.link == Link::Closed && self.egos.get(&ego).is_none() {
                    warn!(%place, %ego, "guest entry waits for its ego, which IDENTITY lacks");
                }
            }
        }
    }

    /// The host's entry decision reached the slave.
    pub(super) fn slave_decision(&mut self, id: PlaceId, d: JoinDecision) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let clients = place.clients.clone();
        let up = place.link == Link::Up;
        let Some(guest) = place.guest() else {
            return;
        };
        let forward = guest.decision.as_ref().map(|c| c.is_admitted) != Some(d.is_admitted);
        if guest.decision.as_ref() != Some(&d) {
            guest.decision = Some(d.clone());
            self.out.store(StoreOp::SaveDecision {
                ego: place.ego(),
                place: id.place(),
                decision: d.clone(),
            });
        }
        match d.is_admitted {
            psyc::msg::status::OK => {
                place.ready = true;
                if forward {
                    self.out.send_all(&clients, &Reply::JoinDecision(d));
                }
                self.kick(id);
                self.try_part(id);
            }
            psyc::msg::status::NO => {
                info!(?id, "entry refused: parting the slave");
                place.ready = false;
                place.tx.clear();
                if up && place.parting.is_none() {
                    place.parting = Some(Parting::Refused(d));
                    self.out
                        .psyc(id, psyc::msg::Request::PartRequest(psyc::msg::PartRequest));
                } else {
                    self.refusal_parted(id, d);
                }
            }
            _ => {
                if forward {
                    self.out.send_all(&clients, &Reply::JoinDecision(d));
                }
            }
        }
    }

    /// The refused slave parted: its clients get the decision, the connection closes; a
    /// client that entered meanwhile makes it join again.
    pub(super) fn refusal_parted(&mut self, id: PlaceId, d: JoinDecision) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let clients = place.clients.clone();
        self.out.send_all(&clients, &Reply::JoinDecision(d));
        self.close_link(id);
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let leaving = place.leaving;
        let Some(guest) = place.guest() else {
            return;
        };
        guest.slave = false;
        let rejoin = std::mem::take(&mut guest.rejoin);
        if leaving {
            self.finish_leave(id);
        } else if rejoin {
            self.start_join(id, true);
        }
    }

    /// GUEST_ENTER_BY_NAME: look the place up in the ego's zone first.
    pub(super) fn guest_enter_by_name(
        &mut self,
        client: ClientId,
        req: GuestEnterByName,
    ) -> Result<(), DropReason> {
        let what = "SOCIAL_GUEST_ENTER_BY_NAME";
        if self.clients.get(&client).is_some_and(|c| c.entering()) {
            return Err(DropReason::SecondEnter(what));
        }
        app_key(&req.app_id)?;
        self.egos.usable(&req.ego_pub_key, what)?;
        let Ok(name) = String::from_utf8(req.gns_name) else {
            self.by_name_failed(client, req.ego_pub_key, "the GNS name is not UTF-8");
            return Ok(());
        };
        if self.gns_ops.len() >= self.cfg.max_name_ops {
            self.by_name_failed(client, req.ego_pub_key, "too many GNS lookups under way");
            return Ok(());
        }
        let op = GnsOpId(self.next_op_id());
        let zone_name = ZoneName::relative_to(&IdentityPublicKey::Ecdsa(req.ego_pub_key), &name);
        self.clients.entry(client).or_default().by_name = Some(op);
        self.gns_ops.insert(
            op,
            ByName {
                client,
                ego: req.ego_pub_key,
                app_id: req.app_id,
                name: name.clone(),
                zone_name: zone_name.clone(),
                local: None,
                join_msg: req.join_msg,
            },
        );
        self.resolve_by_name(op, zone_name);
        Ok(())
    }

    /// The records of a GNS lookup: the records (type, data) of the name, or why the lookup
    /// failed. The first PLACE record with valid data is entered (gap G9: C took the first
    /// record, whatever it held).
    pub fn handle_gns_result(&mut self, now: Instant, op: GnsOpId, result: GnsAnswer) {
        let Some(by) = self.gns_ops.remove(&op) else {
            return;
        };
        let client = by.client;
        match self.clients.get_mut(&client) {
            Some(c) if c.by_name == Some(op) => c.by_name = None,
            _ => return,
        }
        let place = match result {
            Err(e) => Err(format!("GNS lookup of `{}` failed: {e}", by.name)),
            Ok(records) => records
                .iter()
                .filter(|(t, _)| *t == record_type::PLACE)
                .find_map(|(_, data)| PlaceData::decode(data).ok())
                .ok_or_else(|| {
                    format!(
                        "`{}`: no PLACE record with valid data among {} records",
                        by.name,
                        records.len()
                    )
                }),
        };
        let place = match place {
            Ok(p) => p,
            Err(why) => {
                self.by_name_failed(client, by.ego, &why);
                return;
            }
        };
        let req = GuestEnter {
            ego_pub_key: by.ego,
            place_pub_key: place.place_pub_key,
            origin: place.origin,
            flags: 0,
            app_id: by.app_id,
            relays: place.relays,
            join_msg: by.join_msg,
        };
        if req.checked_size().is_err() {
            self.by_name_failed(
                client,
                by.ego,
                "the record's relays and the join message are too large",
            );
            return;
        }
        if let Err(reason) = self.guest_enter(client, req, "SOCIAL_GUEST_ENTER_BY_NAME") {
            self.drop_client(now, client, reason);
        }
    }
}
