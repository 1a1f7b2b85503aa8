//! [`Monitor`]: the egos of the IDENTITY service as a stream of changes, kept over a
//! reconnecting connection, without I/O.
//!
//! On every connection the owner writes [`Monitor::connected`]'s START; the service answers
//! with one UPDATE per ego, an end-of-list UPDATE, and then an UPDATE for every change (a new
//! ego, a rename: same key, new name; a deletion: the key without a name). The owner hands
//! each of them to [`Monitor::handle_message`] and gets [`EgoEvent`]s back.
//!
//! Egos are told apart by their private key, as `identity_api.c` does. After a reconnect the
//! service lists every ego again: the monitor reports only what changed meanwhile — new egos
//! as added, known keys under a new name as renamed, and at the end of the list the egos that
//! were not listed as deleted — and nothing for egos that stayed as they were. (The C library
//! instead reports every ego as deleted and added again.)
//!
//! The monitor takes egos of both key types; which ones a service can use is its decision
//! (social uses ECDSA egos only, spec I2).

use std::collections::{HashMap, HashSet};

use super::client::Ego;
use super::msg::{Start, Update};
use crate::crypto::identity_key::PrivateKey;
use crate::wire::{Codec, DecodeError, DispatchError, Message};

/// A change of the service's egos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EgoEvent {
    /// An ego the monitor did not know: created, or listed for the first time.
    Added(Ego),
    /// A known key under a new name.
    Renamed {
        /// The ego, with its new name.
        ego: Ego,
        /// The name it had.
        old_name: String,
    },
    /// An ego is gone (deleted, or no longer listed after a reconnect); its last name and key.
    Deleted(Ego),
    /// The service finished listing its egos after a (re)connect: the monitor's egos are the
    /// service's now. Comes once per connection.
    ListComplete,
}

/// Why an UPDATE was not taken; the monitor is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// Not a well-formed UPDATE.
    #[error(transparent)]
    Malformed(#[from] DispatchError),
    /// An ego's key blob is not a key of a known type.
    #[error("ego {name:?} has an unreadable key: {source}")]
    BadKey {
        /// The ego's name (empty for a deletion).
        name: String,
        /// What is wrong.
        source: DecodeError,
    },
    /// More egos than the monitor keeps.
    #[error("more than {0} egos")]
    TooManyEgos(usize),
}

/// The egos as last heard from the service (see the module docs).
#[derive(Debug)]
pub struct Monitor {
    max_egos: usize,
    /// Every known ego by its private key blob.
    egos: HashMap<Vec<u8>, Ego>,
    /// While the service lists its egos after START: the keys listed so far.
    listing: Option<HashSet<Vec<u8>>>,
}

impl Default for Monitor {
    /// Keeps at most 65 536 egos.
    fn default() -> Self {
        Self::new(65_536)
    }
}

impl Monitor {
    /// No ego known yet; at most `max_egos` are kept.
    pub fn new(max_egos: usize) -> Self {
        Self {
            max_egos,
            egos: HashMap::new(),
            listing: None,
        }
    }

    /// A new connection stands: the START message to write first on it. The listing that
    /// follows is compared with the egos known from before.
    pub fn connected(&mut self) -> Vec<u8> {
        self.listing = Some(HashSet::new());
        Start.to_message()
    }

    /// The connection is gone; a listing it was in the middle of is forgotten (the egos stay
    /// known until the next listing says otherwise).
    pub fn disconnected(&mut self) {
        self.listing = None;
    }

    /// Whether the service's listing on the current connection is complete.
    pub fn is_synced(&self) -> bool {
        self.listing.is_none()
    }

    /// The egos known now.
    pub fn egos(&self) -> impl Iterator<Item = &Ego> {
        self.egos.values()
    }

    /// Takes one message from IDENTITY (only UPDATEs come on a monitoring connection).
    pub fn handle_message(&mut self, msg: &[u8]) -> Result<Vec<EgoEvent>, MonitorError> {
        let msg_type = DispatchError::header_type(msg)?;
        if msg_type != Update::TYPE {
            return Err(DispatchError::unknown(msg_type, msg).into());
        }
        self.handle_update(DispatchError::decode_as(msg)?)
    }

    /// Takes one decoded UPDATE.
    pub fn handle_update(&mut self, update: Update) -> Result<Vec<EgoEvent>, MonitorError> {
        if update.end_of_list {
            return Ok(self.end_of_list());
        }
        let key = PrivateKey::decode_exact(&update.key).map_err(|source| MonitorError::BadKey {
            name: update.name.clone().unwrap_or_default(),
            source,
        })?;
        let blob = update.key;
        let Some(name) = update.name else {
            if let Some(listing) = &mut self.listing {
                listing.remove(&blob);
            }
            return Ok(self
                .egos
                .remove(&blob)
                .map(EgoEvent::Deleted)
                .into_iter()
                .collect());
        };
        let full = self.egos.len() >= self.max_egos;
        let event = match self.egos.get_mut(&blob) {
            Some(ego) if ego.name == name => None,
            Some(ego) => {
                let old_name = std::mem::replace(&mut ego.name, name);
                Some(EgoEvent::Renamed {
                    ego: ego.clone(),
                    old_name,
                })
            }
            None if full => return Err(MonitorError::TooManyEgos(self.max_egos)),
            None => {
                let ego = Ego { name, key };
                self.egos.insert(blob.clone(), ego.clone());
                Some(EgoEvent::Added(ego))
            }
        };
        if let Some(listing) = &mut self.listing {
            listing.insert(blob);
        }
        Ok(event.into_iter().collect())
    }

    /// The end of a listing: egos it did not name are gone (by name, for a stable order).
    fn end_of_list(&mut self) -> Vec<EgoEvent> {
        let mut events = Vec::new();
        if let Some(listed) = self.listing.take() {
            let mut gone: Vec<Ego> = Vec::new();
            self.egos.retain(|blob, ego| {
                let keep = listed.contains(blob);
                if !keep {
                    gone.push(ego.clone());
                }
                keep
            });
            gone.sort_by(|a, b| a.name.cmp(&b.name));
            events.extend(gone.into_iter().map(EgoEvent::Deleted));
        }
        events.push(EgoEvent::ListComplete);
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::identity_key::KeyType;
    use crate::crypto::{ecdsa, eddsa};

    fn key(n: u8) -> PrivateKey {
        if n & 1 == 0 {
            PrivateKey::Ecdsa(ecdsa::PrivateKey([n; 32]))
        } else {
            PrivateKey::Eddsa(eddsa::PrivateKey([n; 32]))
        }
    }

    fn update(name: Option<&str>, n: u8) -> Vec<u8> {
        Update {
            name: name.map(str::to_string),
            end_of_list: false,
            key: key(n).to_vec(),
        }
        .to_message()
    }

    fn end() -> Vec<u8> {
        Update {
            name: None,
            end_of_list: true,
            key: vec![],
        }
        .to_message()
    }

    fn ego(name: &str, n: u8) -> Ego {
        Ego {
            name: name.into(),
            key: key(n),
        }
    }

    fn feed(m: &mut Monitor, msgs: &[Vec<u8>]) -> Vec<EgoEvent> {
        msgs.iter()
            .flat_map(|msg| m.handle_message(msg).unwrap())
            .collect()
    }

    #[test]
    fn listing_then_live_changes() {
        let mut m = Monitor::default();
        assert_eq!(m.connected(), [0, 4, 2, 112]);
        assert!(!m.is_synced());
        let events = feed(&mut m, &[update(Some("a"), 2), update(Some("b"), 3), end()]);
        assert_eq!(
            events,
            [
                EgoEvent::Added(ego("a", 2)),
                EgoEvent::Added(ego("b", 3)),
                EgoEvent::ListComplete
            ]
        );
        assert!(m.is_synced());
        assert_eq!(
            m.egos()
                .filter(|e| e.key.key_type() == KeyType::Eddsa)
                .count(),
            1
        );
        let events = feed(
            &mut m,
            &[
                update(Some("c"), 4),
                update(Some("a2"), 2),
                update(None, 3),
                update(None, 9),
            ],
        );
        assert_eq!(
            events,
            [
                EgoEvent::Added(ego("c", 4)),
                EgoEvent::Renamed {
                    ego: ego("a2", 2),
                    old_name: "a".into()
                },
                EgoEvent::Deleted(ego("b", 3)),
            ]
        );
        assert_eq!(m.egos().count(), 2);
    }

    #[test]
    fn a_reconnect_reports_only_what_changed_meanwhile() {
        let mut m = Monitor::default();
        m.connected();
        feed(
            &mut m,
            &[
                update(Some("a"), 2),
                update(Some("b"), 3),
                update(Some("c"), 4),
                end(),
            ],
        );
        m.disconnected();
        m.connected();
        // Meanwhile: b was deleted, c renamed, d created; a unchanged.
        let events = feed(
            &mut m,
            &[
                update(Some("a"), 2),
                update(Some("c2"), 4),
                update(Some("d"), 5),
                end(),
            ],
        );
        assert_eq!(
            events,
            [
                EgoEvent::Renamed {
                    ego: ego("c2", 4),
                    old_name: "c".into()
                },
                EgoEvent::Added(ego("d", 5)),
                EgoEvent::Deleted(ego("b", 3)),
                EgoEvent::ListComplete,
            ]
        );
        // A listing cut short by another disconnect deletes nothing.
        m.disconnected();
        m.connected();
        assert!(feed(&mut m, &[update(Some("a"), 2)]).is_empty());
        m.disconnected();
        m.connected();
        let events = feed(&mut m, &[end()]);
        assert_eq!(events.len(), 4, "all three gone, then complete: {events:?}");
        assert_eq!(m.egos().count(), 0);
    }

    #[test]
    fn bad_input_leaves_the_monitor_unchanged() {
        let mut m = Monitor::new(1);
        m.connected();
        let mut bad_key = key(2).to_vec();
        bad_key[3] = 7;
        let msg = Update {
            name: Some("x".into()),
            end_of_list: false,
            key: bad_key,
        }
        .to_message();
        assert!(matches!(
            m.handle_message(&msg),
            Err(MonitorError::BadKey { .. })
        ));
        assert!(matches!(
            m.handle_message(&[0, 8, 2, 113, 0, 0, 0, 0]),
            Err(MonitorError::Malformed(DispatchError::UnknownType { .. }))
        ));
        assert!(m
            .handle_message(&[0, 12, 2, 114, 0, 9, 0, 0, 0, 0, 0, 0])
            .is_err());
        feed(&mut m, &[update(Some("a"), 2)]);
        assert_eq!(
            m.handle_message(&update(Some("b"), 3)),
            Err(MonitorError::TooManyEgos(1))
        );
        assert_eq!(m.egos().count(), 1);
    }
}
