//! Deniable groups inside the group logic (the wire and the crypto are in [`crate::epoch`]):
//! the origin signs with epoch keys when [`Privacy::deniable`](super::Privacy) is set, every
//! hop checks epoch certificates, clients get fragments without trailer and signature, and the
//! origin signs a fragment again when it answers a replay from its store.
//!
//! `deniable` and `keep_signatures` may change while the service runs
//! ([`Node::set_privacy`]); each fragment says by its flag how it was signed, so a group may
//! hold both kinds and members check each by its own rule.

use std::collections::BTreeMap;

use gnunet_service::crypto::eddsa;
use gnunet_service::crypto::HashCode;
use rand_core::RngCore;
use tracing::debug;

use super::action::stat;
use super::node::Node;
use crate::crypto::GroupCrypto;
use crate::epoch::{self, EpochCert};
use crate::msg::{Decision, Fragment, JoinDecision, JoinRequest, REFUSED};
use gnunet_service::wire::Message;

/// Epoch keys a node has checked, per group (bounded: the newest ones).
const MAX_KNOWN_EPOCHS: usize = 64;

/// What one group holds for deniable fragments.
#[derive(Debug)]
pub(super) struct Epochs<C: GroupCrypto> {
    /// The group's private key, at an origin (epoch keys are derived from it).
    secret: Option<eddsa::PrivateKey>,
    /// The origin's current epoch: its number, signer and certificate.
    current: Option<(u64, C::GroupSigner, EpochCert)>,
    /// Checked certificates: epoch → (epoch key, prepared for checking).
    known: BTreeMap<u64, (eddsa::PublicKey, C::GroupVerifier)>,
}

impl<C: GroupCrypto> Default for Epochs<C> {
    fn default() -> Self {
        Self {
            secret: None,
            current: None,
            known: BTreeMap::new(),
        }
    }
}

impl<C: GroupCrypto> Epochs<C> {
    /// Called when this peer becomes the group's origin.
    pub(super) fn set_secret(&mut self, secret: eddsa::PrivateKey) {
        self.secret = Some(secret);
    }
}

impl<C: GroupCrypto, R: RngCore> Node<C, R> {
    /// Signs a fragment of the origin's (id set) as the group's settings say, and returns the
    /// encoded message; `None` if this peer is not the group's origin.
    pub(super) fn sign_origin_fragment(
        &mut self,
        gid: HashCode,
        f: &mut Fragment,
    ) -> Option<Vec<u8>> {
        let deniable = self.privacy.deniable;
        let epoch_fragments = self.cfg.epoch_fragments;
        let crypto = &self.crypto;
        let g = self.groups.get_mut(&gid)?;
        let o = g.origin.as_ref()?;
        // A client cannot choose the scheme: the flag is ours.
        f.flags &= !epoch::FLAG_DENIABLE;
        if !deniable {
            return Some(crypto.sign_fragment_message(&o.key, f));
        }
        let secret = g.epochs.secret.as_ref()?;
        let e = epoch::epoch_of(f.fragment_id, epoch_fragments);
        if g.epochs
            .current
            .as_ref()
            .is_none_or(|(current, _, _)| *current != e)
        {
            let cert = EpochCert::make(crypto, &o.key, secret, e);
            let signer = crypto.group_signer(&epoch::epoch_secret(secret, e));
            debug!(epoch = e, "new epoch of a deniable group");
            g.epochs.current = Some((e, signer, cert));
        }
        let (_, signer, cert) = g.epochs.current.as_ref()?;
        Some(epoch::sign_deniable(crypto, signer, cert, f))
    }

    /// Whether `f` (decoded from `bytes`) is validly signed for group `gid`: by the group key,
    /// or, when marked deniable, by an epoch key the group key certified.
    pub(super) fn fragment_signed(&mut self, gid: HashCode, f: &Fragment, bytes: &[u8]) -> bool {
        let crypto = &self.crypto;
        let Some(g) = self.groups.get_mut(&gid) else {
            return false;
        };
        if !epoch::is_deniable(f) {
            return crypto.verify_fragment_message(&g.verifier, f, bytes);
        }
        let Some((_, cert)) = EpochCert::split(&f.payload) else {
            return false;
        };
        let known = g
            .epochs
            .known
            .get(&cert.epoch)
            .filter(|(key, _)| *key == cert.epoch_key);
        if known.is_none() {
            if !cert.verify(crypto, &g.verifier, &g.pub_key) {
                return false;
            }
            if g.epochs.known.len() >= MAX_KNOWN_EPOCHS {
                g.epochs.known.pop_first();
            }
            let verifier = crypto.group_verifier(&cert.epoch_key);
            g.epochs
                .known
                .insert(cert.epoch, (cert.epoch_key, verifier));
        }
        g.epochs
            .known
            .get(&cert.epoch)
            .is_some_and(|(_, verifier)| crypto.verify_fragment_message(verifier, f, bytes))
    }

    /// What a local client gets of fragment `f` encoded as `bytes` (see
    /// [`epoch::for_client`]).
    pub(super) fn client_copy(&self, f: &Fragment, bytes: &[u8]) -> Vec<u8> {
        epoch::for_client(bytes, !self.privacy.keep_signatures, epoch::is_deniable(f))
    }

    /// A peer that is not ours (a C peer: its join request lacks our tree flag) asks to join
    /// while the group is deniable: it could check no fragment, so it is refused at once,
    /// with a PSYC message that says why (every C client of multicast is PSYC, and the C
    /// library hands the response to the application).
    pub(super) fn refuse_for_deniability(&mut self, gid: HashCode, j: &JoinRequest) {
        debug!(peer = %j.peer, "join of a C peer refused: the group is deniable");
        self.out.stat(stat::JOINS_REFUSED_DENIABLE, 1);
        let d = JoinDecision {
            peer: j.peer,
            member_pub_key: j.member_pub_key,
            decision: Decision {
                is_admitted: REFUSED,
                relays: Vec::new(),
                response: deniable_refusal(),
            },
            admitted_after: None,
        };
        self.route_decision(gid, d);
    }

    /// An origin client answered a replay with a fragment that carries no valid signature
    /// because the store keeps none (deniable, or signatures not kept): the origin signs it
    /// again, as it was signed (the flag says how), and returns it with its encoding. `None`
    /// if this peer is not the group's origin or the fragment was never one that had its
    /// signature removed.
    pub(super) fn sign_again(
        &mut self,
        gid: HashCode,
        f: &Fragment,
    ) -> Option<(Fragment, Vec<u8>)> {
        let deniable = epoch::is_deniable(f);
        if !deniable && self.privacy.keep_signatures {
            return None;
        }
        let crypto = &self.crypto;
        let g = self.groups.get(&gid)?;
        let o = g.origin.as_ref()?;
        if f.fragment_id == 0 || f.fragment_id > o.last_fragment_id() {
            return None;
        }
        let mut again = f.clone();
        again.hop_counter = 0;
        let bytes = if deniable {
            let secret = g.epochs.secret.as_ref()?;
            let e = epoch::epoch_of(f.fragment_id, self.cfg.epoch_fragments);
            let cert = EpochCert::make(crypto, &o.key, secret, e);
            let signer = crypto.group_signer(&epoch::epoch_secret(secret, e));
            // The store's copy has no trailer (clients never get one).
            epoch::sign_deniable(crypto, &signer, &cert, &mut again)
        } else {
            crypto.sign_fragment_message(&o.key, &mut again)
        };
        Some((again, bytes))
    }
}

/// The method of the refusal a C peer gets when it asks to join a deniable group.
pub const REFUSAL_METHOD: &str = "_notice_place_refused_deniable";

/// The text of that refusal.
pub const REFUSAL_TEXT: &str = "This place is deniable: its messages are signed with epoch keys \
that only secushare peers check. A GNUnet C peer cannot take part; use the secushare services.";

/// The refusal as a PSYC message (4-byte header, type 691, then its parts).
fn deniable_refusal() -> Option<Vec<u8>> {
    let mut m = psyc_format::message::PsycMessage::new(REFUSAL_METHOD);
    m.data = REFUSAL_TEXT.as_bytes().to_vec();
    m.to_client_message().ok().map(|c| c.to_message())
}
