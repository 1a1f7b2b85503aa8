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
//! - The password is ignored, as in C (PLACE records are stored in clear).
//!
//! Records are not refreshed before they expire (C's TODO); the client stores again.

use gnunet_service::gnsrecord::Flags;
use std::time::Instant;

use gnunet_service::peer::PeerIdentity;
use tracing::warn;

use super::action::{record_type, Action, ClientId, ZoneError, ZoneOpId, ZoneRecord};
use super::client::DropReason;
use super::Social;
use crate::msg::{ZoneAddNym, ZoneAddPlace};
use crate::record::PlaceData;

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
        self.zone_store(
            client,
            req.op_id,
            &req.ego_pub_key,
            &req.name,
            ZoneRecord {
                record_type: record_type::PLACE,
                flags: Flags::NONE,
                expiration_time: req.expiration_time,
                data,
            },
        );
    }

    /// ZONE_ADD_NYM: a PKEY record for a nym under a label of the ego's zone.
    pub(super) fn zone_add_nym(&mut self, client: ClientId, req: ZoneAddNym) {
        self.zone_store(
            client,
            req.op_id,
            &req.ego_pub_key,
            &req.name,
            ZoneRecord {
                record_type: record_type::PKEY,
                flags: Flags::NONE,
                expiration_time: req.expiration_time,
                data: req.nym_pub_key.0.to_vec(),
            },
        );
    }

    fn zone_store(
        &mut self,
        client: ClientId,
        op_id: u64,
        ego: &gnunet_service::crypto::ecdsa::PublicKey,
        label: &[u8],
        record: ZoneRecord,
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
        let label = match check_label(label, record.record_type == record_type::PKEY) {
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
            records: vec![record],
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
