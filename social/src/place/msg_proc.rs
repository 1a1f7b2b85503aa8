//! Message processing a place's clients ask for with MSG_PROC_SET (spec §5.8, §8): relaying
//! guest requests to the place (RELAY, host places) and keeping message bodies on disk
//! (SAVE). Rules match a message's method by PSYC family, as C's slicer did: prefix
//! `_converse` covers `_converse`, `_converse_guest`, …; the empty prefix covers every method.
//! A prefix set twice is one rule (its flags combined; C added duplicate handlers, G15); rules
//! live in memory only (as in C); CLEAR removes them, messages already being relayed or saved
//! run to their end.
//!
//! # RELAY (gap G2 fixed)
//!
//! A guest request (delivered to the host with the REQUEST flag) whose method matches a RELAY
//! rule is sent again, as a master message, to the whole place, through the place's queue
//! like a client's message (but without MESSAGE_ACKs). It is gathered until its END and
//! queued whole, so that a guest that never finishes its request cannot hold up the place's
//! queue; a cancelled request is not relayed. Its first container is the METHOD
//! followed by a modifier **`:_nym`** whose value is the 32-byte ECDSA key of the guest that
//! sent the request (the transient operator `:`, as the C library's `_notice_place_leave`
//! uses for `_nym`); the request's own parts follow unchanged in the next containers, except
//! any `_nym` / `_nym_*` modifiers of the guest's, which are dropped so that a guest cannot
//! claim to be someone else. The METHOD's flags are cleared: a relayed message is stateless,
//! so guests cannot change the channel state through a relay. A guest's new request while its
//! previous one is still being gathered drops the previous one (C logged a FIXME). At most
//! [`LogicConfig::max_relays`](super::LogicConfig::max_relays) requests are gathered at once,
//! all together at most the place's queue bytes; one beyond, or one that does not fit the
//! place's queue, is not relayed (logged). A complete relay joins the place's queue after the
//! privacy response delay ([`Social::set_response_delay`](super::Social::set_response_delay)).
//! Turned off by [`LogicConfig::relay`](super::LogicConfig::relay) (C never relayed on
//! little-endian hosts, spec checklist 7).
//!
//! # SAVE
//!
//! For a channel message whose method matches a SAVE rule: [`StoreOp::SaveMessageStart`] at
//! its METHOD, [`StoreOp::SaveMessageData`] per DATA part, [`StoreOp::SaveMessageEnd`] at its
//! END or CANCEL (the store keeps a cancelled message's bytes apart, G15). Requests (REQUEST
//! flag) are not saved: their ids are the guest's request counter and would collide with
//! channel message ids in `files/<place>/<message_id>`. At most
//! [`LogicConfig::max_saves`](super::LogicConfig::max_saves) messages of a place are saved at
//! once.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use gnunet_service::crypto::ecdsa;
use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use psyc::format::names::is_in_family;
use psyc::format::parts::{MethodPart, ModifierPart, Part, Parts};
use tracing::{debug, warn};

use super::action::PlaceId;
use super::transmit::QueueLimits;
use super::Social;
use crate::msg::{msg_proc_flags, Delivery};
use crate::store::StoreOp;

/// The modifier a relayed message names its guest with.
pub const NYM_MODIFIER: &[u8] = b"_nym";
/// The operator of [`NYM_MODIFIER`]: `:`, set for this message only.
pub const NYM_OPERATOR: u8 = b':';

/// A guest request being gathered for relaying.
#[derive(Debug, Clone)]
struct Relaying {
    request_id: u64,
    /// A dropped `_nym` modifier's MOD_CONT parts may follow.
    skipping: bool,
    /// The containers to queue once the request is complete.
    containers: Vec<Vec<u8>>,
    bytes: usize,
}

/// A place's rules and the messages they act on.
#[derive(Debug, Default)]
pub(super) struct MsgProcs {
    rules: BTreeMap<Vec<u8>, u32>,
    relaying: BTreeMap<ecdsa::PublicKey, Relaying>,
    /// Bytes gathered by all relays (bounded by the place's queue bytes).
    relay_bytes: usize,
    saving: BTreeSet<u64>,
}

/// Whether `method` is in the family of `prefix` (the empty prefix covers all).
fn method_matches(method: &[u8], prefix: &[u8]) -> bool {
    if prefix.is_empty() {
        return true;
    }
    match (std::str::from_utf8(method), std::str::from_utf8(prefix)) {
        (Ok(m), Ok(p)) => is_in_family(m, p),
        _ => false,
    }
}

impl MsgProcs {
    /// MSG_PROC_SET: adds `flags` to the rule of `prefix`. `false` if the place has `max`
    /// rules and this is a new one.
    pub fn set(&mut self, prefix: Vec<u8>, flags: u32, max: usize) -> bool {
        if !self.rules.contains_key(&prefix) && self.rules.len() >= max {
            return false;
        }
        *self.rules.entry(prefix).or_insert(0) |= flags;
        true
    }

    /// MSG_PROC_CLEAR.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The psyc connection broke: requests being gathered will not continue.
    pub fn forget_relays(&mut self) {
        self.relaying.clear();
        self.relay_bytes = 0;
    }

    /// The messages being saved, now forgotten.
    fn take_saves(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.saving).into_iter().collect()
    }

    fn take_relay(&mut self, nym: &ecdsa::PublicKey) -> Option<Relaying> {
        let r = self.relaying.remove(nym)?;
        self.relay_bytes = self.relay_bytes.saturating_sub(r.bytes);
        Some(r)
    }

    /// Forgets a request being gathered; whether there was one.
    fn drop_relay(&mut self, nym: &ecdsa::PublicKey) -> bool {
        self.take_relay(nym).is_some()
    }

    fn matches(&self, method: &[u8], flag: u32) -> bool {
        self.rules
            .iter()
            .any(|(prefix, flags)| flags & flag != 0 && method_matches(method, prefix))
    }
}

/// The parts of `parts` without `_nym` / `_nym_*` modifiers (and their MOD_CONTs), emitted
/// again; `skipping` carries a dropped modifier's continuation across containers.
fn without_nym(parts: &[Part<'_>], skipping: &mut bool) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Modifier(m) => {
                *skipping = m.name.as_ref() == NYM_MODIFIER || m.name.starts_with(b"_nym_");
                if *skipping {
                    continue;
                }
            }
            Part::ModCont(_) if *skipping => continue,
            _ => *skipping = false,
        }
        part.emit(&mut out);
    }
    out
}

impl Social {
    /// A message psyc delivered to place `id`: relay and save by the place's rules.
    pub(super) fn process_delivery(&mut self, now: Instant, id: PlaceId, d: &Delivery) {
        if d.header.flags & DELIVERY_HISTORIC != 0 {
            return;
        }
        if d.header.flags & DELIVERY_REQUEST != 0 {
            if id.is_host() {
                self.forget_leaving_member(id, d);
            }
            if id.is_host() && self.cfg.relay {
                self.relay(now, id, d);
            }
        } else {
            self.save(id, d);
        }
    }

    /// A guest's `_notice_place_leave` request (its library sends it before PLACE_LEAVE): the
    /// guest is no longer a stored member, so entering again needs a host decision again
    /// (leaving is permanent, gap G6).
    fn forget_leaving_member(&mut self, id: PlaceId, d: &Delivery) {
        let Some(Ok(Part::Method(m))) = Parts::new(&d.parts).next() else {
            return;
        };
        if !m
            .name
            .starts_with(crate::client::METHOD_NOTICE_PLACE_LEAVE.as_bytes())
        {
            return;
        }
        let nym = ecdsa::PublicKey(d.header.slave_pub_key);
        let at = self.places.get(&id).map_or(0, |p| p.max_message_id);
        debug!(?id, ?nym, "a guest leaves: its membership is removed");
        self.out.psyc(id, super::host::membership(nym, at, false));
    }

    /// MSG_PROC RELAY of one request fragment: gathered until the request's END, then
    /// queued whole.
    fn relay(&mut self, now: Instant, id: PlaceId, d: &Delivery) {
        let limits = self.queue_limits();
        let max_relays = self.cfg.max_relays;
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let procs = &mut place.procs;
        let nym = ecdsa::PublicKey(d.header.slave_pub_key);
        let request_id = d.header.message_id;
        let Ok(parts) = Parts::new(&d.parts).collect::<Result<Vec<_>, _>>() else {
            procs.drop_relay(&nym);
            return;
        };
        let rest = match parts.split_first() {
            Some((Part::Method(m), rest)) => {
                if procs.drop_relay(&nym) {
                    debug!(
                        ?id,
                        "a guest's new request drops its unfinished one from relaying"
                    );
                }
                if !procs.matches(&m.name, msg_proc_flags::RELAY) {
                    return;
                }
                if procs.relaying.len() >= max_relays {
                    warn!(
                        ?id,
                        "guest request not relayed: {max_relays} relays under way"
                    );
                    return;
                }
                let mut first = Vec::new();
                Part::Method(MethodPart {
                    flags: 0,
                    state_delta: 0,
                    name: m.name.clone(),
                })
                .emit(&mut first);
                Part::Modifier(ModifierPart {
                    value_size: 32,
                    oper: NYM_OPERATOR,
                    name: Cow::Borrowed(NYM_MODIFIER),
                    value: Cow::Borrowed(&nym.0),
                })
                .emit(&mut first);
                procs.relay_bytes += first.len();
                procs.relaying.insert(
                    nym,
                    Relaying {
                        request_id,
                        skipping: false,
                        bytes: first.len(),
                        containers: vec![first],
                    },
                );
                rest
            }
            _ => match procs.relaying.get(&nym) {
                Some(r) if r.request_id == request_id => &parts[..],
                _ => return,
            },
        };
        let Some(r) = procs.relaying.get_mut(&nym) else {
            return;
        };
        let container = without_nym(rest, &mut r.skipping);
        if !container.is_empty() {
            r.bytes += container.len();
            procs.relay_bytes += container.len();
            r.containers.push(container);
        }
        if procs.relay_bytes > limits.bytes {
            warn!(
                ?id,
                "guest request not relayed: more than {} bytes gathered", limits.bytes
            );
            procs.drop_relay(&nym);
            return;
        }
        if parts.iter().any(|p| matches!(p, Part::Cancel)) {
            procs.drop_relay(&nym);
            return;
        }
        if !parts.iter().any(|p| matches!(p, Part::End)) {
            return;
        }
        let Some(r) = procs.take_relay(&nym) else {
            return;
        };
        // The host's own re-announcement: after the response delay (`relay_delay`).
        self.relay_later(now, id, nym, r.containers);
    }

    /// MSG_PROC SAVE of one channel message fragment.
    fn save(&mut self, id: PlaceId, d: &Delivery) {
        let max_saves = self.cfg.max_saves;
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let message_id = d.header.message_id;
        let key = id.place();
        for part in Parts::new(&d.parts) {
            let Ok(part) = part else {
                break;
            };
            match part {
                Part::Method(m) => {
                    if place.procs.saving.contains(&message_id)
                        || !place.procs.matches(&m.name, msg_proc_flags::SAVE)
                    {
                        continue;
                    }
                    if place.procs.saving.len() >= max_saves {
                        warn!(
                            ?id,
                            message_id, "message not saved: {max_saves} saves under way"
                        );
                        continue;
                    }
                    place.procs.saving.insert(message_id);
                    self.out.store(StoreOp::SaveMessageStart {
                        place: key,
                        message_id,
                    });
                }
                Part::Data(data) if place.procs.saving.contains(&message_id) => {
                    self.out.store(StoreOp::SaveMessageData {
                        place: key,
                        message_id,
                        data: data.into_owned(),
                    });
                }
                Part::End | Part::Cancel if place.procs.saving.remove(&message_id) => {
                    self.out.store(StoreOp::SaveMessageEnd {
                        place: key,
                        message_id,
                        cancelled: matches!(part, Part::Cancel),
                    });
                }
                _ => {}
            }
        }
    }

    /// Messages of place `id` being saved will get no more parts (its psyc connection
    /// broke, or it is left): their `.part` files are closed as cancelled.
    pub(super) fn cancel_saves(&mut self, id: PlaceId) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        for message_id in place.procs.take_saves() {
            self.out.store(StoreOp::SaveMessageEnd {
                place: id.place(),
                message_id,
                cancelled: true,
            });
        }
    }

    /// The queue bounds of a place.
    pub(super) fn queue_limits(&self) -> QueueLimits {
        QueueLimits {
            entries: self.cfg.max_transmit_entries,
            bytes: self.cfg.max_transmit_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_family_and_do_not_duplicate() {
        let mut p = MsgProcs::default();
        assert!(p.set(b"_converse".to_vec(), msg_proc_flags::RELAY, 2));
        assert!(p.set(b"_converse".to_vec(), msg_proc_flags::SAVE, 2));
        assert_eq!(p.rules.len(), 1);
        assert!(p.matches(b"_converse_guest", msg_proc_flags::RELAY));
        assert!(p.matches(b"_converse", msg_proc_flags::SAVE));
        assert!(!p.matches(b"_conversely", msg_proc_flags::RELAY));
        assert!(!p.matches(b"_notice", msg_proc_flags::RELAY));
        assert!(p.set(b"".to_vec(), msg_proc_flags::SAVE, 2));
        assert!(p.matches(b"_notice", msg_proc_flags::SAVE));
        assert!(!p.set(b"_third".to_vec(), msg_proc_flags::SAVE, 2));
        p.clear();
        assert!(!p.matches(b"_converse", msg_proc_flags::RELAY));
    }

    #[test]
    fn a_guests_own_nym_modifiers_are_dropped() {
        let parts = vec![
            Part::Modifier(ModifierPart {
                value_size: 3,
                oper: b':',
                name: Cow::Borrowed(b"_nym"),
                value: Cow::Borrowed(b"ab"),
            }),
            Part::ModCont(Cow::Borrowed(b"c")),
            Part::Modifier(ModifierPart {
                value_size: 1,
                oper: b'=',
                name: Cow::Borrowed(b"_nymph"),
                value: Cow::Borrowed(b"x"),
            }),
            Part::Modifier(ModifierPart {
                value_size: 1,
                oper: b':',
                name: Cow::Borrowed(b"_nym_name"),
                value: Cow::Borrowed(b"y"),
            }),
            Part::Data(Cow::Borrowed(b"d")),
        ];
        let mut skipping = false;
        let out = without_nym(&parts, &mut skipping);
        let kept: Vec<_> = Parts::new(&out).map(|p| p.unwrap().into_owned()).collect();
        assert_eq!(kept, vec![parts[2].clone(), parts[4].clone()]);
        assert!(!skipping);
        // A dropped modifier's continuation in the next container is dropped too.
        let mut skipping = false;
        without_nym(&parts[..1], &mut skipping);
        assert!(skipping);
        assert!(without_nym(&parts[1..2], &mut skipping).is_empty());
    }
}
