//! Naming in an ego's GNS zone (spec §5.12, §5.13): ZONE_ADD_PLACE stores a PLACE record,
//! ZONE_ADD_NYM a PKEY record, each answered with a RESULT_CODE: 1 when NAMESTORE stored it,
//! else −1 with a readable text. The client is never dropped for a refused request (gap G10:
//! C sent −1 *and* dropped for bad relays, which the decoder now refuses before the logic).
//!
//! Decisions against the 0.19 services:
//! - Records carry GNUnet **0.19 flags** (spec I6) and an **absolute expiration**: the
//!   request's `expiration_time` (an absolute time, as the C library computes it) with no
//!   flag set, so public and expiring when the client asked. C wrote the absolute time with
//!   its RELATIVE_EXPIRATION flag, which made it a duration of decades (G10).
//! - Labels 0.19 NAMESTORE refuses are refused up front (I8): empty, not UTF-8, containing
//!   `.`; a nym (a PKEY delegation) may not sit at the apex `@`.
//! - ZONE_ADD_PLACE's origin is the **request's**, or this peer's when it is all zero (C
//!   always wrote this peer, G10). `test_social` passes this peer, so it sees no change.
//! - The zone must be a known ECDSA ego; an EdDSA ego's is refused with a text saying so.
//! - A non-empty password keeps the place private (below); C ignored it and published the
//!   record in clear, although its API documented the password as "used to encrypt the
//!   record or NULL to keep it cleartext".
//!
//! Records are not refreshed before they expire (C's TODO); the client stores again.
//!
//! # Privacy (issue 13: local contacts, the level told to guests)
//!
//! - A nym (ZONE_ADD_NYM) is stored as a **private** record
//!   ([`Flags::PRIVATE`], 0.19's `GNUNET_GNSRECORD_RF_PRIVATE`) when the knob
//!   `[secushare] PRIVATE_NYMS` says so (balanced and strict): ZONEMASTER never signs it into
//!   the namecache or the DHT, so the contact list stays on this node. A PLACE record
//!   (ZONE_ADD_PLACE, the user's explicit wish to publish) is public unless
//!   `PRIVATE_PLACES` (strict): then it is private too, and found only through this node's
//!   own zone. One place is kept private whatever the level by adding it with a password
//!   (`App::zone_add_place(…, password, …)`, the C API's `password`): GNS cannot encrypt a
//!   record with a password, so a record that is not to be cleartext for everybody is not
//!   published at all.
//! - GNS resolves what ZONEMASTER published: 0.19's ZONEMASTER signs only the public records
//!   into the DHT, so other peers never see a private record. This node's GNS is no better
//!   judge of its own private records: ZONEMASTER caches the whole record set in the
//!   namecache, but a block fetched from the DHT (the public one, possibly empty) may take
//!   its place, and `[namecache] DISABLE = YES` leaves only the DHT; a private PLACE record of
//!   another ego of the same node was not found in trials. So a name that starts in a zone
//!   whose key this node holds (the guest ego's own, `home.alice.gnu`, or another ego's) is
//!   resolved here, label by label from the right, with NAMESTORE ([`Action::ZoneLookup`],
//!   private records included) for as long as the delegations lead through this node's
//!   zones; the rest of the name goes to GNS in the first zone that is not
//!   ([`Social::handle_zone_lookup`]). A label that holds neither the place nor a delegation
//!   falls back to the GNS lookup of the whole name.
//! - A PLACE record of a place **hosted here** gets a TXT record beside it,
//!   `secushare privacy=<level>` ([`PlaceLevel`]), with the same flags and expiration: the
//!   host's level, which applies to its place, told to guests before they enter
//!   (`gnunet-social --status --gns NAME`). GNS lookups of type PLACE (the C service's and
//!   the C acceptance test's) do not return it.

use gnunet_service::crypto::ecdsa;
use gnunet_service::crypto::identity_key::PublicKey as IdentityPublicKey;
use gnunet_service::gns::{Query, ZoneName};
use gnunet_service::gnsrecord::{delegated_zone, Flags};
use std::time::Instant;

use gnunet_service::peer::PeerIdentity;
use tracing::{debug, warn};

use super::action::{
    record_type, Action, ClientId, GnsAnswer, GnsOpId, PlaceId, ZoneError, ZoneOpId, ZoneRecord,
};
use super::client::DropReason;
use super::Social;
use crate::msg::{ZoneAddNym, ZoneAddPlace};
use crate::record::{PlaceData, PlaceLevel, TYPE_TXT};

/// The apex label of a zone.
const APEX: &str = "@";

/// The label as NAMESTORE will take it, or why 0.19 NAMESTORE would refuse it
/// ([`check_label`](gnunet_service::namestore::check_label)'s rules, and no delegation at the
/// apex).
pub fn check_label(label: &[u8], delegation: bool) -> Result<String, String> {
    let text = std::str::from_utf8(label).map_err(|_| "the label is not UTF-8".to_string())?;
    gnunet_service::namestore::check_label(text).map_err(|e| e.to_string())?;
    if delegation && text == APEX {
        return Err("a nym (a zone delegation) cannot be named at the zone apex `@`".into());
    }
    Ok(text.to_string())
}

impl Social {
    /// ZONE_ADD_PLACE: a PLACE record for a place under a label of the ego's zone.
    pub(super) fn zone_add_place(&mut self, client: ClientId, req: ZoneAddPlace) {
        let origin = if req.origin == PeerIdentity([0; 32]) {
            self.cfg.peer
        } else {
            req.origin
        };
        let data = PlaceData {
            place_pub_key: req.place_pub_key,
            origin,
            relays: req.relays,
        }
        .encode();
        // A password asks for a record that is not cleartext for all (the 2019 API: "used
        // to encrypt the record or NULL to keep it cleartext"); GNS has no password
        // encryption, so such a place is kept private, whatever the knob says.
        let flags = if self.privacy.private_places || !req.password.is_empty() {
            Flags::PRIVATE
        } else {
            Flags::NONE
        };
        let mut records = vec![ZoneRecord {
            record_type: record_type::PLACE,
            flags,
            expiration_time: req.expiration_time,
            data,
        }];
        if self.places.contains_key(&PlaceId::Host(req.place_pub_key)) {
            records.push(ZoneRecord {
                record_type: TYPE_TXT,
                flags,
                expiration_time: req.expiration_time,
                data: PlaceLevel(self.privacy.level).encode(),
            });
        }
        self.zone_store(client, req.op_id, &req.ego_pub_key, &req.name, records);
    }

    /// ZONE_ADD_NYM: a PKEY record for a nym under a label of the ego's zone.
    pub(super) fn zone_add_nym(&mut self, client: ClientId, req: ZoneAddNym) {
        let flags = if self.privacy.private_nyms {
            Flags::PRIVATE
        } else {
            Flags::NONE
        };
        let record = ZoneRecord {
            record_type: record_type::PKEY,
            flags,
            expiration_time: req.expiration_time,
            data: req.nym_pub_key.0.to_vec(),
        };
        self.zone_store(client, req.op_id, &req.ego_pub_key, &req.name, vec![record]);
    }

    fn zone_store(
        &mut self,
        client: ClientId,
        op_id: u64,
        ego: &gnunet_service::crypto::ecdsa::PublicKey,
        label: &[u8],
        records: Vec<ZoneRecord>,
    ) {
        let zone = match self.egos.usable(ego, "zone operation") {
            Ok(ego) => ego.key.clone(),
            Err(reason) => {
                if let DropReason::EddsaEgo { .. } = reason {
                    warn!(?client, "zone operation refused: {reason}");
                }
                self.out.result(client, op_id, -1, &reason.to_string());
                return;
            }
        };
        let delegation = records.iter().any(|r| r.record_type == record_type::PKEY);
        let label = match check_label(label, delegation) {
            Ok(label) => label,
            Err(why) => {
                self.out.result(client, op_id, -1, &why);
                return;
            }
        };
        if self.zone_ops.len() >= self.cfg.max_name_ops {
            self.out
                .result(client, op_id, -1, "too many zone operations under way");
            return;
        }
        let op = ZoneOpId(self.next_op_id());
        self.zone_ops.insert(op, (client, op_id));
        self.out.push(Action::ZoneStore {
            op,
            zone,
            label,
            records,
        });
    }

    /// NAMESTORE's answer to an [`Action::ZoneStore`]: RESULT_CODE 1, or −1 with its text
    /// (or the code, if it gave none), to the client that asked, if it is still there.
    pub fn handle_zone_stored(
        &mut self,
        _now: Instant,
        op: ZoneOpId,
        result: Result<(), ZoneError>,
    ) {
        let Some((client, op_id)) = self.zone_ops.remove(&op) else {
            return;
        };
        match result {
            Ok(()) => self.out.result(client, op_id, 1, ""),
            Err(e) if e.text.is_empty() => {
                self.out
                    .result(client, op_id, -1, &format!("NAMESTORE error {}", e.code))
            }
            Err(e) => self.out.result(client, op_id, -1, &e.text),
        }
    }

    /// The first step of entering by `name` (the lookup of GUEST_ENTER_BY_NAME `op`): a name
    /// in a zone this node holds the key of (the ego's own, or another ego's) is read label by
    /// label from NAMESTORE; any other name goes to GNS at once.
    pub(super) fn resolve_by_name(&mut self, op: GnsOpId, name: ZoneName) {
        if !self.read_local_label(op, name.zone, name.name.clone()) {
            self.ask_gns(op, name.query(record_type::PLACE));
        }
    }

    /// The private key of `zone` if it is one of this node's ECDSA egos.
    fn local_zone(&self, zone: &IdentityPublicKey) -> Option<ecdsa::PrivateKey> {
        match zone {
            IdentityPublicKey::Ecdsa(key) => self.egos.usable(key, "").ok().map(|e| e.key.clone()),
            IdentityPublicKey::Eddsa(_) => None,
        }
    }

    /// Asks NAMESTORE for the last label of `labels` in `zone` if this node holds the zone's
    /// key and the label is one NAMESTORE takes; false if not.
    fn read_local_label(&mut self, op: GnsOpId, zone: IdentityPublicKey, labels: String) -> bool {
        let Some(key) = self.local_zone(&zone) else {
            return false;
        };
        let label = labels.rsplit('.').next().unwrap_or(&labels).to_string();
        if gnunet_service::namestore::check_label(&label).is_err() {
            return false;
        }
        let Some(by) = self.gns_ops.get_mut(&op) else {
            return false;
        };
        by.local = Some((zone, labels));
        self.out.push(Action::ZoneLookup {
            op,
            zone: key,
            label,
        });
        true
    }

    fn ask_gns(&mut self, op: GnsOpId, query: Query) {
        self.out.push(Action::GnsLookup { op, query });
    }

    /// NAMESTORE's records of the label an [`Action::ZoneLookup`] read. The last label of the
    /// name is entered with its PLACE record; otherwise the name continues in the zone the
    /// label delegates to: read from NAMESTORE again if that zone is this node's too, else
    /// asked of GNS with the labels left. Without such a record (or if the lookup failed) GNS
    /// is asked for the whole name, as without this step.
    pub fn handle_zone_lookup(&mut self, now: Instant, op: GnsOpId, result: GnsAnswer) {
        let Some(by) = self.gns_ops.get_mut(&op) else {
            return;
        };
        let whole = by.zone_name.query(record_type::PLACE);
        let Some((_, labels)) = by.local.take() else {
            return;
        };
        let records = result.unwrap_or_else(|e| {
            warn!(error = %e, "NAMESTORE lookup failed; asking GNS");
            Vec::new()
        });
        match labels.rsplit_once('.') {
            None if records.iter().any(|(t, _)| *t == record_type::PLACE) => {
                self.handle_gns_result(now, op, Ok(records));
                return;
            }
            Some((rest, _)) => {
                if let Some(zone) = records.iter().find_map(|(t, d)| delegated_zone(*t, d)) {
                    if !self.read_local_label(op, zone, rest.to_string()) {
                        debug!(%rest, "a local label delegates; GNS resolves the rest");
                        self.ask_gns(op, Query::new(zone, rest, record_type::PLACE));
                    }
                    return;
                }
            }
            None => {}
        }
        self.ask_gns(op, whole);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_namestore_refuses_are_refused() {
        assert_eq!(check_label(b"home", false), Ok("home".into()));
        assert_eq!(check_label(b"@", false), Ok("@".into()));
        assert!(check_label(b"@", true).is_err());
        assert!(check_label(b"", false).is_err());
        assert!(check_label(b"home.host", false).is_err());
        assert!(check_label(b"\xff", false).is_err());
    }
}
