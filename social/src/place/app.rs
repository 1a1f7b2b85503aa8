//! Applications: APP_CONNECT's ego and place lists, APP_DETACH, and the APP_EGO / APP_PLACE
//! pushes that keep connected apps up to date (spec §5.1, §5.2; gap G5 fixed).

use std::collections::BTreeMap;

use gnunet_service::crypto::ecdsa;

use super::action::{ClientId, PlaceId};
use super::client::{AppClient, DropReason};
use super::ego::EgoChange;
use super::Social;
use tracing::warn;

use crate::msg::{
    app_place_state, AppConnect, AppDetach, AppEgo, AppEgoEnd, AppPlace, AppPlaceEnd, Reply,
};
use crate::store::StoreOp;

/// The key of a request's app id: its directory name under `apps/`
/// ([`app_dir_name`](crate::store::app_dir_name): a plain name stands for itself, anything
/// else — `../x`, `a/b`, control characters — is escaped, so no app id names a path outside
/// its directory; C used it unchecked, a path traversal, gap G8). Only a name too long for a
/// directory is refused.
pub(super) fn app_key(raw: &[u8]) -> Result<String, DropReason> {
    let name = crate::store::app_dir_name(raw).map_err(|e| DropReason::BadAppId(e.to_string()))?;
    if name.as_bytes() != raw {
        warn!(
            app_id = %String::from_utf8_lossy(raw).escape_debug(),
            dir = %name,
            "app id is not a plain name; kept under an escaped directory name"
        );
    }
    Ok(name)
}

impl Social {
    /// APP_CONNECT: the client becomes the app's; it is answered once the ego list is
    /// complete (always the case here: requests are held until then).
    pub(super) fn app_connect(
        &mut self,
        client: ClientId,
        m: AppConnect,
    ) -> Result<(), DropReason> {
        let app_id = app_key(&m.app_id)?;
        let state = self.clients.entry(client).or_default();
        if state.app.is_some() {
            return Err(DropReason::SecondAppConnect);
        }
        state.app = Some(AppClient {
            app_id,
            answered: false,
            told: BTreeMap::new(),
        });
        self.answer_app(client);
        Ok(())
    }

    /// The APP_CONNECT answer (§5.1): every usable ego, APP_EGO_END, every place of the app,
    /// APP_PLACE_END.
    fn answer_app(&mut self, client: ClientId) {
        let Some(app) = self.clients.get_mut(&client).and_then(|c| c.app.as_mut()) else {
            return;
        };
        for (key, ego) in self.egos.iter() {
            app.told.insert(*key, ego.name.clone());
            self.out.send(
                client,
                Reply::AppEgo(AppEgo {
                    ego_pub_key: *key,
                    name: ego.name.clone(),
                }),
            );
        }
        self.out.send(client, Reply::AppEgoEnd(AppEgoEnd));
        app.answered = true;
        for id in self.apps.get(&app.app_id).into_iter().flatten() {
            if let Some(msg) = app_place(&self.places, *id) {
                self.out.send(client, msg);
            }
        }
        self.out.send(client, Reply::AppPlaceEnd(AppPlaceEnd));
    }

    /// APP_DETACH: the app forgets the place (as host and as guest of that ego).
    pub(super) fn app_detach(&mut self, client: ClientId, m: AppDetach) -> Result<(), DropReason> {
        let app_id = self
            .clients
            .get(&client)
            .and_then(|c| c.app.as_ref())
            .map(|a| a.app_id.clone())
            .ok_or(DropReason::NoApp("SOCIAL_APP_DETACH"))?;
        let mut found = false;
        if let Some(places) = self.apps.get_mut(&app_id) {
            let host = PlaceId::Host(m.place_pub_key);
            let hosted_by_ego = self
                .places
                .get(&host)
                .is_some_and(|p| p.ego() == m.ego_pub_key);
            if hosted_by_ego {
                found |= places.remove(&host);
            }
            found |= places.remove(&PlaceId::Guest(m.place_pub_key, m.ego_pub_key));
            if places.is_empty() {
                self.apps.remove(&app_id);
            }
        }
        if found {
            self.out.store(StoreOp::DetachApp {
                app: app_id,
                ego: m.ego_pub_key,
                place: m.place_pub_key,
            });
        }
        self.out
            .result(client, m.op_id, if found { 1 } else { -1 }, "");
        Ok(())
    }

    /// Whether `app` may have one more place (a known app id, or room for a new one).
    pub(super) fn app_has_room(&self, app: &str) -> bool {
        self.apps.contains_key(app) || self.apps.len() < self.cfg.max_apps
    }

    /// Records that `app` entered place `id`; a new association is announced to the app's
    /// connected clients. Returns whether it is new (the caller persists it). Callers check
    /// [`app_has_room`](Self::app_has_room) first.
    pub(super) fn associate(&mut self, app: &str, id: PlaceId) -> bool {
        if !self.app_has_room(app) {
            return false;
        }
        if !self.apps.entry(app.to_string()).or_default().insert(id) {
            return false;
        }
        if let Some(msg) = app_place(&self.places, id) {
            let clients: Vec<ClientId> = self
                .clients
                .iter()
                .filter(|(_, c)| {
                    c.app
                        .as_ref()
                        .is_some_and(|a| a.answered && a.app_id == app)
                })
                .map(|(&id, _)| id)
                .collect();
            self.out.send_all(&sorted(clients), &msg);
        }
        true
    }

    /// Associates `app` with an existing place and persists a new association.
    pub(super) fn attach_app(&mut self, app: &str, id: PlaceId) {
        let ego = match self.places.get(&id) {
            Some(p) => p.ego(),
            None => return,
        };
        if self.associate(app, id) {
            self.out.store(StoreOp::AttachApp {
                app: app.to_string(),
                ego,
                place: id.place(),
            });
        }
    }

    /// Forgets every app's association with place `id` (it was left; the store's
    /// ForgetPlace removes the markers).
    pub(super) fn forget_app_places(&mut self, id: PlaceId) {
        self.apps.retain(|_, places| {
            places.remove(&id);
            !places.is_empty()
        });
    }

    /// Tells connected apps what changed about an ego, each client only what is new to it.
    pub(super) fn ego_changed(&mut self, change: EgoChange) {
        if let EgoChange::Named(key, _) = &change {
            self.join_waiting_guests(*key);
        }
        let (key, name) = match change {
            EgoChange::Named(key, name) => (key, name),
            EgoChange::Deleted(key) => (key, Vec::new()),
            EgoChange::Unseen => return,
        };
        let mut to: Vec<ClientId> = Vec::new();
        for (&id, c) in self.clients.iter_mut() {
            let Some(app) = c.app.as_mut().filter(|a| a.answered) else {
                continue;
            };
            let new = if name.is_empty() {
                app.told.remove(&key).is_some()
            } else {
                app.told.insert(key, name.clone()).as_ref() != Some(&name)
            };
            if new {
                to.push(id);
            }
        }
        let msg = Reply::AppEgo(AppEgo {
            ego_pub_key: key,
            name,
        });
        self.out.send_all(&sorted(to), &msg);
    }
}

/// The APP_PLACE describing place `id`.
pub(super) fn app_place(
    places: &std::collections::HashMap<PlaceId, super::state::Place>,
    id: PlaceId,
) -> Option<Reply> {
    let place = places.get(&id)?;
    let ego: ecdsa::PublicKey = place.ego();
    Some(Reply::AppPlace(AppPlace {
        ego_pub_key: ego,
        place_pub_key: id.place(),
        is_host: u8::from(id.is_host()),
        place_state: app_place_state::ENTERED,
    }))
}

/// Client ids in order, so that the actions do not depend on hash order.
fn sorted(mut clients: Vec<ClientId>) -> Vec<ClientId> {
    clients.sort();
    clients
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_are_their_directory_names_and_unsafe_ones_are_escaped() {
        assert_eq!(app_key(b"test").ok(), Some("test".into()));
        assert_eq!(app_key(b"../x").ok(), Some("%..%2Fx".into()));
        assert_eq!(app_key(b"a/b").ok(), Some("%a%2Fb".into()));
        assert!(app_key(&[b'/'; 200]).is_err());
    }
}
