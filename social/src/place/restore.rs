//! Start-up: the places the store loaded from `DATA_HOME` (spec §9.3; gap G7 fixed).
//!
//! - A hosted place starts its PSYC master at once with its stored private key; one whose
//!   stored key is zero or does not match its public key is skipped (logged): a master never
//!   starts with a zero key.
//! - A guest entry joins as soon as IDENTITY reported its ego (C tried at once, before the
//!   ego list arrived, and so never re-joined a guest), with its stored origin, relays, join
//!   message and flags; it keeps its last entry decision for clients that reconnect. A guest
//!   whose last decision was a refusal is not re-joined (its slave had parted); a client's
//!   GUEST_ENTER joins it again.
//! - Every place is listed to its apps (their `apps/` markers), host or guest.

use std::time::Instant;

use tracing::warn;

use super::action::PlaceId;
use super::state::Place;
use super::Social;
use crate::store::{SavedEnter, SavedPlace};

impl Social {
    pub(super) fn restore_places(&mut self, _now: Instant, saved: Vec<SavedPlace>) {
        for s in saved {
            let id = match &s.enter {
                SavedEnter::Host(h) => {
                    let key_ok = h.place_key.0 != [0; 32]
                        && h.place_key.public_key() == h.place_pub_key
                        && h.place_pub_key == s.place
                        && h.ego_pub_key == s.ego;
                    if !key_ok {
                        warn!(place = %s.place, "stored hosted place skipped: its key does not match");
                        continue;
                    }
                    PlaceId::Host(s.place)
                }
                SavedEnter::Guest(g) => {
                    if g.place_pub_key != s.place || g.ego_pub_key != s.ego {
                        warn!(place = %s.place, "stored guest entry skipped: keys do not match");
                        continue;
                    }
                    PlaceId::Guest(s.place, s.ego)
                }
            };
            if self.places.contains_key(&id) {
                warn!(?id, "stored place listed twice; the first is kept");
                continue;
            }
            if self.places.len() >= self.cfg.max_places {
                warn!(
                    ?id,
                    "stored place skipped: more than {} places", self.cfg.max_places
                );
                continue;
            }
            let mut place = Place::new(id, s.enter);
            let refused = s
                .decision
                .as_ref()
                .is_some_and(|d| d.is_admitted == psyc::msg::status::NO);
            if let Some(guest) = place.guest() {
                guest.decision = s.decision;
            }
            self.places.insert(id, place);
            for app in s.apps {
                if crate::store::app_id_of_dir_name(&app).is_none() {
                    warn!(?id, app, "stored app skipped: not an app directory name");
                } else if self.app_has_room(&app) {
                    self.associate(&app, id);
                } else {
                    warn!(?id, app, "stored app skipped: too many apps");
                }
            }
            match id {
                PlaceId::Host(_) => self.open_link(id),
                PlaceId::Guest(..) if refused => {}
                PlaceId::Guest(..) => self.start_join(id, false),
            }
        }
    }
}
