//! `gnunet-social --status --gns NAME --ego EGO`: the place a name leads to and the privacy
//! level its host publishes beside it (a TXT record `secushare privacy=<level>`, see
//! [`PlaceLevel`]), before entering it.
//!
//! The name is resolved as the service resolves it to enter ([`ZoneName`]: relative to the
//! ego's zone, `.gnu` and zone-key TLDs), through this node's GNS. Labels of the ego's own
//! zone, private nyms included, are in this node's namecache (0.19's ZONEMASTER signs the
//! whole record set into it and only public records into the DHT), so GNS finds them here.

use std::time::Duration;

use gnunet_service::config::Config;
use gnunet_service::crypto::ecdsa;
use gnunet_service::crypto::identity_key::PublicKey;
use gnunet_service::gns::{GnsClient, ZoneName};
use gnunet_service::gnsrecord::Record;
use gnunet_service::privacy::Level;

use super::run::CliError;
use crate::record::{PlaceData, PlaceLevel, TYPE_PLACE, TYPE_TXT};

/// What a name leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookedUp {
    /// The first PLACE record with valid data.
    pub place: PlaceData,
    /// The host's level, if its zone publishes one beside the place.
    pub level: Option<Level>,
}

fn pairs(records: Vec<Record>) -> Vec<(u32, Vec<u8>)> {
    records
        .into_iter()
        .map(|r| (r.record_type, r.data))
        .collect()
}

/// Looks `name` up relative to `ego`'s zone, waiting at most `timeout` for each answer.
pub fn look_up(
    config: &Config,
    ego: ecdsa::PublicKey,
    name: &str,
    timeout: Duration,
) -> Result<LookedUp, CliError> {
    let failed = |e: &dyn std::fmt::Display| CliError::LookUp(format!("`{name}`: {e}"));
    let zone_name = ZoneName::relative_to(&PublicKey::Ecdsa(ego), name);
    let mut gns = GnsClient::connect(config, timeout).map_err(|e| failed(&e))?;
    let records = pairs(
        gns.lookup(&zone_name.query(TYPE_PLACE), timeout)
            .map_err(|e| failed(&e))?,
    );
    let place = records
        .iter()
        .filter(|(t, _)| *t == TYPE_PLACE)
        .find_map(|(_, data)| PlaceData::decode(data).ok())
        .ok_or_else(|| failed(&"no PLACE record with valid data"))?;
    // GNS 0.19 answers with the label's whole record set; ask for TXT only if it did not.
    let level = match PlaceLevel::find(&records) {
        Some(level) => Some(level),
        None => gns
            .lookup(&zone_name.query(TYPE_TXT), timeout)
            .ok()
            .and_then(|txt| PlaceLevel::find(&pairs(txt))),
    };
    Ok(LookedUp {
        place,
        level: level.map(|l| l.0),
    })
}
