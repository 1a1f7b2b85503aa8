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
            };
        }
        if tld.eq_ignore_ascii_case(OWN_ZONE_TLD) {
            return Self {
                zone: *ego_zone,
                name: rest_or_apex(),
            };
        }
        Self {
            zone: *ego_zone,
            name: name.to_string(),
        }
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
                name: "home.host".into()
            }
        );
        assert_eq!(
            ZoneName::relative_to(&ego(), &key),
            ZoneName {
                zone: other,
                name: "@".into()
            }
        );
        // A key string that does not decode is an ordinary label.
        let broken = format!("home.{}", &key[..57]);
        assert_eq!(ZoneName::relative_to(&ego(), &broken), in_ego(&broken));
    }
}
