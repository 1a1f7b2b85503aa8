//! Deniable groups: fragments signed with per-epoch keys that the origin certifies and later
//! publishes (issue 13, point 6; `docs/privacy.md`).
//!
//! In a normal group every fragment carries the origin's group-key signature, which proves to
//! anyone holding a copy who wrote it. In a deniable group the origin signs each fragment with
//! the key of its *epoch* (a run of [`Config::epoch_fragments`](crate::group::Config) fragment
//! ids), and appends an [`EpochCert`] trailer: the epoch's public key, the *private* key of the
//! epoch before, and the group-key signature over both. Members check the certificate with the
//! group key and the fragment with the epoch key at every hop, as before; but once the first
//! fragment of epoch `e + 1` is out, the key of epoch `e` is public, and anyone can make a
//! fragment of epoch `e` that checks out exactly like the real ones. What stays provable is
//! that the origin ran epochs with these keys (membership, not content).
//!
//! On the wire: [`FLAG_DENIABLE`] in the fragment's `flags`, the signature made with the
//! epoch key (purpose 19 as always), and the 140-byte trailer at the end of the payload,
//! inside the signed range:
//!
//! | offset from trailer start | field | size |
//! | --- | --- | --- |
//! | 0 | epoch number, BE | 8 |
//! | 8 | epoch public key (EdDSA) | 32 |
//! | 40 | private key of epoch − 1 (zero for epoch 0) | 32 |
//! | 72 | group-key signature, purpose [`PURPOSE_EPOCH`], over group key ‖ the 72 bytes above | 64 |
//! | 136 | magic `"deny"` | 4 |
//!
//! Clients never see the trailer: the service delivers a deniable fragment without it and
//! with a zeroed signature, so the stores behind it (psycstore) hold nothing that proves
//! authorship. The origin signs such a fragment again when it answers a replay from its store
//! (the epoch keys are derived from the group key, [`epoch_secret`], so none is ever written to
//! disk), and any member may do so for a closed epoch whose key it has seen published.
//!
//! C peers check every fragment against the group key and would drop these; they cannot take
//! part in a deniable group, and an origin refuses their joins (see `group`).

use gnunet_service::crypto::eddsa;
use gnunet_service::crypto::purpose::signed_block;
use gnunet_service::crypto::HashCode;

use crate::crypto::GroupCrypto;
use crate::msg::Fragment;

/// The fragment flag of a deniable fragment (bit 31; `GNUNET_MULTICAST_MessageFlags` uses
/// only the low bits, and C senders leave `flags` zero).
pub const FLAG_DENIABLE: u32 = 0x8000_0000;
/// The signature purpose of an epoch certificate (ours; unassigned in GNUnet 0.19's
/// `gnunet_signatures.h`, whose purposes stay below 1000).
pub const PURPOSE_EPOCH: u32 = 0x7365_6570;
/// Size of the trailer a deniable fragment ends with.
pub const TRAILER_SIZE: usize = 140;
/// The last four bytes of a trailer.
const MAGIC: [u8; 4] = *b"deny";
/// The bytes of a trailer the certificate signature covers (after the group key).
const CERTIFIED_SIZE: usize = 72;

/// The epoch certificate a deniable fragment carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochCert {
    /// The epoch.
    pub epoch: u64,
    /// The key that signs the fragments of the epoch.
    pub epoch_key: eddsa::PublicKey,
    /// The private key of the epoch before (all zero for epoch 0): published here, it makes
    /// the content of the previous epoch deniable.
    pub previous_secret: eddsa::PrivateKey,
    /// The group key's signature over the group key and the three fields above.
    pub signature: eddsa::Signature,
}

impl EpochCert {
    /// The certificate of `epoch` of the group whose private key is `group`: deterministic
    /// (EdDSA signatures are), so the origin makes the same one again whenever it needs it.
    pub fn make<C: GroupCrypto>(
        crypto: &C,
        group_signer: &C::GroupSigner,
        group: &eddsa::PrivateKey,
        epoch: u64,
    ) -> EpochCert {
        let epoch_key = crypto.group_public(&crypto.group_signer(&epoch_secret(group, epoch)));
        let previous_secret = match epoch.checked_sub(1) {
            Some(previous) => epoch_secret(group, previous),
            None => eddsa::PrivateKey([0; 32]),
        };
        let mut cert = EpochCert {
            epoch,
            epoch_key,
            previous_secret,
            signature: eddsa::Signature([0; 64]),
        };
        let group_pub = crypto.group_public(group_signer);
        cert.signature = crypto.sign_group(group_signer, &cert.certified_block(&group_pub));
        cert
    }

    /// The purpose block the group key signs.
    fn certified_block(&self, group: &eddsa::PublicKey) -> Vec<u8> {
        let mut data = Vec::with_capacity(32 + CERTIFIED_SIZE);
        data.extend_from_slice(&group.0);
        data.extend_from_slice(&self.certified_fields());
        // 8 + 104 bytes: far below the purpose size limit.
        signed_block(PURPOSE_EPOCH, &data).unwrap_or_default()
    }

    fn certified_fields(&self) -> [u8; CERTIFIED_SIZE] {
        let mut out = [0; CERTIFIED_SIZE];
        out[..8].copy_from_slice(&self.epoch.to_be_bytes());
        out[8..40].copy_from_slice(&self.epoch_key.0);
        out[40..72].copy_from_slice(&self.previous_secret.0);
        out
    }

    /// Whether the group key of `group` signed this certificate.
    pub fn verify<C: GroupCrypto>(
        &self,
        crypto: &C,
        group_verifier: &C::GroupVerifier,
        group: &eddsa::PublicKey,
    ) -> bool {
        crypto.verify_group(
            group_verifier,
            PURPOSE_EPOCH,
            &self.certified_block(group),
            &self.signature,
        )
    }

    /// The trailer bytes.
    pub fn to_trailer(&self) -> [u8; TRAILER_SIZE] {
        let mut out = [0; TRAILER_SIZE];
        out[..CERTIFIED_SIZE].copy_from_slice(&self.certified_fields());
        out[CERTIFIED_SIZE..CERTIFIED_SIZE + 64].copy_from_slice(&self.signature.0);
        out[TRAILER_SIZE - 4..].copy_from_slice(&MAGIC);
        out
    }

    /// The certificate at the end of `payload`, and the payload before it; `None` if the
    /// payload is too short or does not end with a trailer.
    pub fn split(payload: &[u8]) -> Option<(&[u8], EpochCert)> {
        let body_len = payload.len().checked_sub(TRAILER_SIZE)?;
        let (body, t) = payload.split_at(body_len);
        if t[TRAILER_SIZE - 4..] != MAGIC {
            return None;
        }
        let mut epoch = [0; 8];
        epoch.copy_from_slice(&t[..8]);
        let mut key = [0; 32];
        key.copy_from_slice(&t[8..40]);
        let mut previous = [0; 32];
        previous.copy_from_slice(&t[40..72]);
        let mut signature = [0; 64];
        signature.copy_from_slice(&t[72..136]);
        Some((
            body,
            EpochCert {
                epoch: u64::from_be_bytes(epoch),
                epoch_key: eddsa::PublicKey(key),
                previous_secret: eddsa::PrivateKey(previous),
                signature: eddsa::Signature(signature),
            },
        ))
    }
}

/// The private key of `epoch` of the group whose private key is `group`: the first 32 bytes of
/// SHA-512 over a domain label, the group key and the epoch number. Derived, never stored, so
/// no epoch key outlives its publication on disk.
pub fn epoch_secret(group: &eddsa::PrivateKey, epoch: u64) -> eddsa::PrivateKey {
    let mut input = Vec::with_capacity(64);
    input.extend_from_slice(b"secushare multicast epoch");
    input.extend_from_slice(&group.0);
    input.extend_from_slice(&epoch.to_be_bytes());
    let hash = HashCode::of(&input);
    let mut seed = [0; 32];
    seed.copy_from_slice(&hash.0[..32]);
    eddsa::PrivateKey(seed)
}

/// The epoch of fragment `fragment_id` when epochs are `epoch_fragments` ids long (ids start
/// at 1).
pub fn epoch_of(fragment_id: u64, epoch_fragments: u64) -> u64 {
    fragment_id.saturating_sub(1) / epoch_fragments.max(1)
}

/// Whether `fragment` is marked deniable.
pub fn is_deniable(fragment: &Fragment) -> bool {
    fragment.flags & FLAG_DENIABLE != 0
}

/// Signs `fragment` (id set, payload without a trailer) for a deniable group: sets the flag,
/// appends the certificate `cert` and signs with the key of its epoch, `epoch_signer`.
/// Returns the encoded message.
pub fn sign_deniable<C: GroupCrypto>(
    crypto: &C,
    epoch_signer: &C::GroupSigner,
    cert: &EpochCert,
    fragment: &mut Fragment,
) -> Vec<u8> {
    fragment.flags |= FLAG_DENIABLE;
    fragment.payload.extend_from_slice(&cert.to_trailer());
    crypto.sign_fragment_message(epoch_signer, fragment)
}

/// What a client of the service gets of a fragment message: a deniable fragment without its
/// trailer and with a zeroed signature; with `zero_signature`, any fragment's signature zeroed
/// (stores keep none); else the message as it is. `message` is a well-formed fragment message.
pub fn for_client(message: &[u8], zero_signature: bool, deniable: bool) -> Vec<u8> {
    const SIZE: std::ops::Range<usize> = 0..2;
    const SIGNATURE: std::ops::Range<usize> = 8..72;
    const PURPOSE_SIZE: std::ops::Range<usize> = 72..76;
    let mut out = message.to_vec();
    if deniable && out.len() >= crate::msg::FRAGMENT_HEADER_SIZE + TRAILER_SIZE {
        out.truncate(out.len() - TRAILER_SIZE);
        let size = out.len() as u16; // within the message's own u16 size
        out[SIZE].copy_from_slice(&size.to_be_bytes());
        let signed = (out.len() - PURPOSE_SIZE.start) as u32;
        out[PURPOSE_SIZE].copy_from_slice(&signed.to_be_bytes());
    }
    if (zero_signature || deniable) && out.len() >= SIGNATURE.end {
        out[SIGNATURE].fill(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::GnunetCrypto;
    use gnunet_service::wire::Message;

    const GROUP: eddsa::PrivateKey = eddsa::PrivateKey([7; 32]);

    fn signed(id: u64, body: &[u8], epoch: u64) -> (Fragment, Vec<u8>, EpochCert) {
        let c = GnunetCrypto;
        let group = c.group_signer(&GROUP);
        let cert = EpochCert::make(&c, &group, &GROUP, epoch);
        let mut f = Fragment::unsigned(id, 0, 0, 0, body.to_vec());
        f.fragment_id = id;
        let signer = c.group_signer(&epoch_secret(&GROUP, epoch));
        let bytes = sign_deniable(&c, &signer, &cert, &mut f);
        (f, bytes, cert)
    }

    #[test]
    fn a_deniable_fragment_checks_with_its_certified_epoch_key_only() {
        let c = GnunetCrypto;
        let group_pub = GROUP.public_key();
        let gv = c.group_verifier(&group_pub);
        let (f, bytes, cert) = signed(5, b"hello", 0);
        assert!(is_deniable(&f));
        let (body, parsed) = EpochCert::split(&f.payload).unwrap();
        assert_eq!(body, b"hello");
        assert_eq!(parsed, cert);
        assert!(parsed.verify(&c, &gv, &group_pub));
        let ev = c.group_verifier(&parsed.epoch_key);
        assert!(c.verify_fragment_message(&ev, &f, &bytes));
        // Not a group-key signature: a C peer would drop it.
        assert!(!c.verify_fragment_message(&gv, &f, &bytes));
        // A certificate of another group does not check.
        let other = eddsa::PrivateKey([8; 32]).public_key();
        assert!(!parsed.verify(&c, &c.group_verifier(&other), &other));
    }

    #[test]
    fn the_next_epoch_publishes_the_key_and_anyone_can_forge_the_old_one() {
        let c = GnunetCrypto;
        let group_pub = GROUP.public_key();
        let gv = c.group_verifier(&group_pub);
        let (real, real_bytes, cert0) = signed(1, b"I said this", 0);
        let (_, _, cert1) = signed(17, b"later", 1);
        assert_eq!(cert0.previous_secret, eddsa::PrivateKey([0; 32]));
        // Epoch 1's certificate carries epoch 0's private key, and it matches the certified key.
        let published = cert1.previous_secret.clone();
        assert_eq!(published.public_key(), cert0.epoch_key);
        // A third party forges a fragment of epoch 0 from what was published.
        let mut forged = Fragment::unsigned(1, 0, 0, 0, b"I never said this".to_vec());
        forged.fragment_id = 1;
        let forged_bytes = sign_deniable(&c, &c.group_signer(&published), &cert0, &mut forged);
        for (f, bytes) in [(&real, &real_bytes), (&forged, &forged_bytes)] {
            let (_, cert) = EpochCert::split(&f.payload).unwrap();
            assert!(cert.verify(&c, &gv, &group_pub));
            assert!(c.verify_fragment_message(&c.group_verifier(&cert.epoch_key), f, bytes));
        }
    }

    #[test]
    fn clients_get_no_trailer_and_no_signature() {
        let (f, bytes, _) = signed(3, b"body", 0);
        let out = for_client(&bytes, false, true);
        let back = Fragment::from_message(&out).unwrap();
        assert_eq!(back.payload, b"body");
        assert_eq!(back.signature, eddsa::Signature([0; 64]));
        assert_eq!(back.flags, f.flags);
        assert!(back.purpose_ok());
        // Normal fragments pass unchanged unless signatures are not kept.
        let plain = Fragment::unsigned(1, 0, 0, 0, b"x".to_vec()).to_message();
        assert_eq!(for_client(&plain, false, false), plain);
        let mut signed_plain = Fragment::unsigned(1, 0, 0, 0, b"x".to_vec());
        let plain_bytes = GnunetCrypto
            .sign_fragment_message(&GnunetCrypto.group_signer(&GROUP), &mut signed_plain);
        let zeroed = Fragment::from_message(&for_client(&plain_bytes, true, false)).unwrap();
        assert_eq!(zeroed.signature, eddsa::Signature([0; 64]));
        assert_eq!(zeroed.payload, b"x");
    }

    #[test]
    fn split_refuses_what_is_no_trailer_and_epochs_count_from_one() {
        assert!(EpochCert::split(&[0; 139]).is_none());
        assert!(EpochCert::split(&[0; 200]).is_none());
        assert_eq!(epoch_of(1, 16), 0);
        assert_eq!(epoch_of(16, 16), 0);
        assert_eq!(epoch_of(17, 16), 1);
        assert_eq!(epoch_of(0, 0), 0);
        assert_ne!(epoch_secret(&GROUP, 0), epoch_secret(&GROUP, 1));
    }
}
