//! The user's egos as IDENTITY reports them.
//!
//! Social's wire keys are untyped 32-byte ECDSA keys (spec §11, I2): a guest's PSYC slave key,
//! the zone key of ZONE_ADD_*, the `ego_pub_key` of every request. So only ECDSA egos are
//! usable. EdDSA egos (GNUnet 0.19's `gnunet-identity -X`) are remembered by their public key
//! only to refuse them with a clear reason when a request names one, and are **not listed**
//! to apps: APP_EGO cannot say an ego's key type, and an app that picked one could do nothing
//! with it.

use std::collections::BTreeMap;

use gnunet_service::crypto::identity_key::{PrivateKey, PublicKey};
use gnunet_service::crypto::{ecdsa, eddsa};
use tracing::{info, warn};

use super::client::DropReason;

/// One usable (ECDSA) ego.
#[derive(Debug, Clone)]
pub(super) struct Ego {
    /// Its private key: a guest's PSYC slave key, the zone key of its records.
    pub key: ecdsa::PrivateKey,
    /// Its name as IDENTITY spells it (lower-cased by IDENTITY, spec I14), without a NUL.
    pub name: Vec<u8>,
}

/// What a change of IDENTITY's list means for apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EgoChange {
    /// An ECDSA ego appeared or was renamed.
    Named(ecdsa::PublicKey, Vec<u8>),
    /// An ECDSA ego was deleted.
    Deleted(ecdsa::PublicKey),
    /// Nothing apps see.
    Unseen,
}

/// The egos, keyed by public key.
#[derive(Debug, Default)]
pub(super) struct Egos {
    /// IDENTITY's initial list is complete.
    pub listed: bool,
    ecdsa: BTreeMap<ecdsa::PublicKey, Ego>,
    /// EdDSA egos' public keys (as the 32 bytes a wire field would carry) and names.
    eddsa: BTreeMap<[u8; 32], Vec<u8>>,
}

/// An ego name as bytes for APP_EGO: up to its first NUL (the wire string ends there).
fn name_bytes(name: &str) -> Vec<u8> {
    let bytes = name.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or_default().to_vec()
}

impl Egos {
    /// IDENTITY reported an ego (new, or renamed: the same key). `max` bounds how many are
    /// kept.
    pub fn update(&mut self, name: &str, key: PrivateKey, max: usize) -> EgoChange {
        let full = self.ecdsa.len() + self.eddsa.len() >= max;
        match key {
            PrivateKey::Ecdsa(key) => {
                let public = key.public_key();
                if full && !self.ecdsa.contains_key(&public) {
                    warn!(name, "ego ignored: more than {max} egos");
                    return EgoChange::Unseen;
                }
                let name = name_bytes(name);
                let ego = Ego {
                    key,
                    name: name.clone(),
                };
                match self.ecdsa.insert(public, ego) {
                    Some(old) if old.name == name => EgoChange::Unseen,
                    _ => EgoChange::Named(public, name),
                }
            }
            PrivateKey::Eddsa(key) => {
                let public = key.public_key();
                if full && !self.eddsa.contains_key(&public.0) {
                    warn!(name, "ego ignored: more than {max} egos");
                    return EgoChange::Unseen;
                }
                info!(
                    name,
                    key = %public,
                    "EdDSA ego not usable for social (social's keys are ECDSA); not listed to apps"
                );
                self.eddsa.insert(public.0, name_bytes(name));
                EgoChange::Unseen
            }
        }
    }

    /// IDENTITY deleted an ego.
    pub fn remove(&mut self, key: &PublicKey) -> EgoChange {
        match key {
            PublicKey::Ecdsa(k) => match self.ecdsa.remove(k) {
                Some(_) => EgoChange::Deleted(*k),
                None => EgoChange::Unseen,
            },
            PublicKey::Eddsa(k) => {
                self.eddsa.remove(&k.0);
                EgoChange::Unseen
            }
        }
    }

    /// The usable ego with this public key, or why a request naming it is refused: an EdDSA
    /// ego's key (logged by the caller through the reason), or an unknown key.
    pub fn usable(&self, key: &ecdsa::PublicKey, what: &'static str) -> Result<&Ego, DropReason> {
        if let Some(ego) = self.ecdsa.get(key) {
            return Ok(ego);
        }
        match self.eddsa.get(&key.0) {
            Some(name) => Err(DropReason::EddsaEgo {
                name: String::from_utf8_lossy(name).into_owned(),
                key: eddsa::PublicKey(key.0).to_string(),
            }),
            None => Err(DropReason::UnknownEgo {
                what,
                key: key.to_string(),
            }),
        }
    }

    /// Whether `key` is an EdDSA ego's: refused as a host ego too.
    pub fn eddsa_name(&self, key: &ecdsa::PublicKey) -> Option<String> {
        self.eddsa
            .get(&key.0)
            .map(|n| String::from_utf8_lossy(n).into_owned())
    }

    /// The usable ego with this public key.
    pub fn get(&self, key: &ecdsa::PublicKey) -> Option<&Ego> {
        self.ecdsa.get(key)
    }

    /// Every usable ego, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&ecdsa::PublicKey, &Ego)> {
        self.ecdsa.iter()
    }
}
