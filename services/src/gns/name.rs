//! [`ZoneName`]: which zone a user's name starts in and what is left to resolve there, for
//! names given relative to an ego (social's GUEST_ENTER_BY_NAME).
//!
//! The GNS service strips nothing: it resolves every label of the name, right to left,
//! starting in the zone it is given (spec `social.md` §11.2). A name as a user writes it may
//! end in a "TLD" that only names the starting zone:
//!
//! - a zone key string (`GNUNET_IDENTITY_public_key_to_string`, 58 characters, what
//!   `gnunet-identity -d` prints): the zone is that key, as 0.19's `gns_tld_api.c` does
//!   (`home.<key>` → `home` in the key's zone, `<key>` alone → `@`);
//! - `gnu` (any ASCII case): the legacy pseudo-TLD of "my own zone" that the 2019 social test
//!   uses (`home.host.gnu`); it is dropped and the rest resolved in the ego's zone (spec I9:
//!   without this `gnu` would be looked up as a label and the entry would fail);
//! - anything else: the whole name is resolved in the ego's zone.
//!
//! 0.19's TLD API also maps TLDs through `[gns] .tld = key` options and ego names by suffix;
//! relative to an ego, neither applies.
//!
//! Where the resolver may look matters: a lookup with [`LocalOptions::Default`] asks the DHT
//! for every label its namecache lacks, the first one in a local zone included, and 0.19's
//! resolver puts no time limit on a DHT lookup — a name that does not exist is then never
//! answered. So, as `gns_tld_api.c` does for names in an ego's zone, a name in the ego's zone
//! is looked up with [`LocalOptions::LocalMaster`]: the ego's own zone from the namecache only
//! (ZONEMASTER keeps it there), zones it delegates to also from the DHT. A name under a zone
//! key gets [`LocalOptions::Default`] (that zone may be anyone's).

use super::msg::LocalOptions;
use super::session::Query;
use crate::crypto::identity_key::PublicKey;

/// The legacy pseudo-TLD for "the zone of the ego the name is relative to".
pub const OWN_ZONE_TLD: &str = "gnu";
/// The label of a zone's apex (`GNUNET_GNS_EMPTY_LABEL_AT`): what is left when a name was
/// only a TLD.
pub const APEX_LABEL: &str = "@";

/// A name split into the zone it starts in and the labels to resolve there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneName {
    /// The zone to start in.
    pub zone: PublicKey,
    /// The labels to resolve in it, `@` for its apex.
    pub name: String,
    /// Where the resolver may look (see the module docs).
    pub options: LocalOptions,
}

impl ZoneName {
    /// `name` taken relative to the zone `ego_zone` (see the module docs for the TLDs).
    pub fn relative_to(ego_zone: &PublicKey, name: &str) -> Self {
        let (rest, tld) = match name.rsplit_once('.') {
            Some((rest, tld)) => (Some(rest), tld),
            None => (None, name),
        };
        let rest_or_apex = || rest.unwrap_or(APEX_LABEL).to_string();
        if let Ok(zone) = tld.parse::<PublicKey>() {
            return Self {
                zone,
                name: rest_or_apex(),
                options: LocalOptions::Default,
            };
        }
        let name = if tld.eq_ignore_ascii_case(OWN_ZONE_TLD) {
            rest_or_apex()
        } else {
            name.to_string()
        };
        Self {
            zone: *ego_zone,
            name,
            options: LocalOptions::LocalMaster,
        }
    }

    /// The lookup of records of `record_type` under this name.
    pub fn query(&self, record_type: u32) -> Query {
        Query::new(self.zone, &self.name, record_type).with_options(self.options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{ecdsa, eddsa};

    fn ego() -> PublicKey {
        PublicKey::Ecdsa(ecdsa::PublicKey([1; 32]))
    }

    fn in_ego(name: &str) -> ZoneName {
        ZoneName {
            zone: ego(),
            name: name.into(),
            options: LocalOptions::LocalMaster,
        }
    }

    #[test]
    fn a_trailing_gnu_means_the_ego_s_own_zone() {
        assert_eq!(
            ZoneName::relative_to(&ego(), "home.host.gnu"),
            in_ego("home.host")
        );
        assert_eq!(ZoneName::relative_to(&ego(), "x.GNU"), in_ego("x"));
        assert_eq!(ZoneName::relative_to(&ego(), "gnu"), in_ego("@"));
        // Only the last label is a TLD.
        assert_eq!(
            ZoneName::relative_to(&ego(), "gnu.host"),
            in_ego("gnu.host")
        );
        assert_eq!(
            ZoneName::relative_to(&ego(), "home.host"),
            in_ego("home.host")
        );
        assert_eq!(ZoneName::relative_to(&ego(), "home"), in_ego("home"));
    }

    #[test]
    fn a_trailing_zone_key_names_the_zone() {
        let other = PublicKey::Eddsa(eddsa::PublicKey([9; 32]));
        let key = other.to_string();
        assert_eq!(
            ZoneName::relative_to(&ego(), &format!("home.host.{key}")),
            ZoneName {
                zone: other,
                name: "home.host".into(),
                options: LocalOptions::Default,
            }
        );
        assert_eq!(
            ZoneName::relative_to(&ego(), &key),
            ZoneName {
                zone: other,
                name: "@".into(),
                options: LocalOptions::Default,
            }
        );
        // A key string that does not decode is an ordinary label.
        let broken = format!("home.{}", &key[..57]);
        assert_eq!(ZoneName::relative_to(&ego(), &broken), in_ego(&broken));
    }

    #[test]
    fn the_query_carries_zone_name_and_options() {
        let q = ZoneName::relative_to(&ego(), "home.host.gnu").query(65542);
        assert_eq!(
            (q.zone, q.name.as_str(), q.record_type, q.options),
            (ego(), "home.host", 65542, LocalOptions::LocalMaster)
        );
        assert_eq!(q.recursion_depth_limit, 128);
    }
}
