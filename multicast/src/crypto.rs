//! The signatures multicast makes and checks, behind a trait so the simulator can swap in a
//! cheap stand-in.
//!
//! [`GnunetCrypto`] is the real thing (libgnunetutil 0.19.3's EdDSA and ECDSA through
//! `gnunet_service::crypto`), used by the service and the unit tests. The simulator uses
//! [`crate::sim::InsecureSimCrypto`], which must never be used anywhere else.

use gnunet_service::crypto::{ecdsa, eddsa};

use gnunet_service::wire::Message;

use crate::msg::{Fragment, JoinRequest, Request, PURPOSE_MESSAGE, PURPOSE_REQUEST};

/// Key derivation, signing and verification for group keys (EdDSA) and member keys (ECDSA).
pub trait GroupCrypto {
    /// A group private key made ready to sign many fragments (an origin keeps one).
    type GroupSigner: std::fmt::Debug;
    /// A group public key made ready to check many fragments (every node of a group keeps
    /// one).
    type GroupVerifier: std::fmt::Debug;

    /// Prepares a group private key for signing.
    fn group_signer(&self, key: &eddsa::PrivateKey) -> Self::GroupSigner;
    /// Prepares a group public key for checking; a key that is no valid point yields a
    /// verifier that accepts nothing.
    fn group_verifier(&self, key: &eddsa::PublicKey) -> Self::GroupVerifier;
    /// The public key of a group signer.
    fn group_public(&self, key: &Self::GroupSigner) -> eddsa::PublicKey;
    /// The public key of a member private key.
    fn member_public(&self, key: &ecdsa::PrivateKey) -> ecdsa::PublicKey;
    /// Signs a purpose block with a group key.
    fn sign_group(&self, key: &Self::GroupSigner, block: &[u8]) -> eddsa::Signature;
    /// Signs a purpose block with a member key.
    fn sign_member(&self, key: &ecdsa::PrivateKey, block: &[u8]) -> ecdsa::Signature;
    /// Whether `sig` is a group-key signature over `block` for `purpose`.
    fn verify_group(
        &self,
        key: &Self::GroupVerifier,
        purpose: u32,
        block: &[u8],
        sig: &eddsa::Signature,
    ) -> bool;
    /// Whether `sig` is a member-key signature over `block` for `purpose`.
    fn verify_member(
        &self,
        key: &ecdsa::PublicKey,
        purpose: u32,
        block: &[u8],
        sig: &ecdsa::Signature,
    ) -> bool;

    /// Sets the purpose of `fragment` and signs it with the group key (purpose 19).
    fn sign_fragment(&self, key: &Self::GroupSigner, fragment: &mut Fragment) {
        self.sign_fragment_message(key, fragment);
    }

    /// Like [`GroupCrypto::sign_fragment`], and returns the signed fragment encoded: the
    /// signature is made over the encoding itself, with no separate copy of the signed range.
    fn sign_fragment_message(&self, key: &Self::GroupSigner, fragment: &mut Fragment) -> Vec<u8> {
        fragment.set_purpose();
        let mut message = fragment.to_message();
        if let Some(signed) = Fragment::signed_part(&message) {
            fragment.signature = self.sign_group(key, signed);
        }
        Fragment::set_signature(&mut message, &fragment.signature);
        message
    }

    /// Whether `fragment` carries a valid group signature with the exact purpose block.
    fn verify_fragment(&self, group: &Self::GroupVerifier, fragment: &Fragment) -> bool {
        self.verify_fragment_message(group, fragment, &fragment.to_message())
    }

    /// [`GroupCrypto::verify_fragment`] over `message`, the bytes `fragment` was decoded
    /// from, so the signed range is not built again.
    fn verify_fragment_message(
        &self,
        group: &Self::GroupVerifier,
        fragment: &Fragment,
        message: &[u8],
    ) -> bool {
        fragment.purpose_ok()
            && Fragment::signed_part(message).is_some_and(|signed| {
                self.verify_group(group, PURPOSE_MESSAGE, signed, &fragment.signature)
            })
    }

    /// Sets key and purpose of `request` and signs it with the member key (purpose 24).
    fn sign_request(&self, key: &ecdsa::PrivateKey, request: &mut Request) {
        request.member_pub_key = self.member_public(key);
        request.set_purpose();
        request.signature = self.sign_member(key, &request.signed_block());
    }

    /// Whether `request` is validly signed by the key it carries.
    fn verify_request(&self, request: &Request) -> bool {
        request.purpose_ok()
            && self.verify_member(
                &request.member_pub_key,
                PURPOSE_REQUEST,
                &request.signed_block(),
                &request.signature,
            )
    }

    /// Sets purpose and signs `join` with the member key (purpose 24, as the C original).
    fn sign_join(&self, key: &ecdsa::PrivateKey, join: &mut JoinRequest) {
        join.set_purpose();
        join.signature = self.sign_member(key, &join.signed_block());
    }

    /// Whether `join` is validly signed by the member key it names.
    fn verify_join(&self, join: &JoinRequest) -> bool {
        join.purpose_ok()
            && self.verify_member(
                &join.member_pub_key,
                PURPOSE_REQUEST,
                &join.signed_block(),
                &join.signature,
            )
    }
}

/// The signatures of libgnunetutil 0.19.3: Ed25519 over the purpose block for group keys,
/// libgcrypt-style ECDSA with RFC 6979 nonces for member keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct GnunetCrypto;

impl GroupCrypto for GnunetCrypto {
    type GroupSigner = eddsa::SigningKey;
    /// `None` for a key that is no valid point.
    type GroupVerifier = Option<eddsa::VerifyingKey>;

    fn group_signer(&self, key: &eddsa::PrivateKey) -> eddsa::SigningKey {
        eddsa::SigningKey::new(key)
    }
    fn group_verifier(&self, key: &eddsa::PublicKey) -> Option<eddsa::VerifyingKey> {
        key.prepare().ok()
    }
    fn group_public(&self, key: &eddsa::SigningKey) -> eddsa::PublicKey {
        key.public_key()
    }
    fn member_public(&self, key: &ecdsa::PrivateKey) -> ecdsa::PublicKey {
        key.public_key()
    }
    fn sign_group(&self, key: &eddsa::SigningKey, block: &[u8]) -> eddsa::Signature {
        // Our own blocks always start with a valid purpose header.
        key.sign(block).unwrap_or(eddsa::Signature([0; 64]))
    }
    fn sign_member(&self, key: &ecdsa::PrivateKey, block: &[u8]) -> ecdsa::Signature {
        key.sign(block).unwrap_or(ecdsa::Signature([0; 64]))
    }
    fn verify_group(
        &self,
        key: &Option<eddsa::VerifyingKey>,
        purpose: u32,
        block: &[u8],
        sig: &eddsa::Signature,
    ) -> bool {
        key.as_ref()
            .is_some_and(|k| k.verify(purpose, block, sig).is_ok())
    }
    fn verify_member(
        &self,
        key: &ecdsa::PublicKey,
        purpose: u32,
        block: &[u8],
        sig: &ecdsa::Signature,
    ) -> bool {
        key.verify(purpose, block, sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnunet_service::peer::PeerIdentity;

    #[test]
    fn signed_fragment_verifies_and_tampering_breaks_it() {
        let c = GnunetCrypto;
        let key = eddsa::PrivateKey([3; 32]);
        let signer = c.group_signer(&key);
        assert_eq!(c.group_public(&signer), key.public_key());
        let verifier = c.group_verifier(&key.public_key());
        let mut f = Fragment::unsigned(1, 0, 1, 0, b"hello".to_vec());
        f.fragment_id = 1;
        c.sign_fragment(&signer, &mut f);
        assert!(c.verify_fragment(&verifier, &f));
        // hop_counter is outside the signed range.
        f.hop_counter = 5;
        assert!(c.verify_fragment(&verifier, &f));
        let mut t = f.clone();
        t.payload[0] ^= 1;
        assert!(!c.verify_fragment(&verifier, &t));
        let mut t = f.clone();
        t.purpose.purpose = 24;
        assert!(!c.verify_fragment(&verifier, &t));
        let wire = t.to_message();
        assert!(!c.verify_fragment_message(&verifier, &t, &wire));
        let mut g = Fragment::unsigned(1, 0, 1, 0, b"hello".to_vec());
        g.fragment_id = 1;
        let encoded = c.sign_fragment_message(&signer, &mut g);
        f.hop_counter = 0;
        assert_eq!(g.signature, f.signature);
        assert_eq!(encoded, g.to_message());
        let wire = f.to_message();
        assert!(c.verify_fragment_message(&verifier, &f, &wire));
        let other = c.group_verifier(&eddsa::PrivateKey([4; 32]).public_key());
        assert!(!c.verify_fragment(&other, &f));
        // A key that is no point accepts nothing.
        let mut p_plus_one = [0xffu8; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        let invalid = c.group_verifier(&eddsa::PublicKey(p_plus_one));
        assert!(invalid.is_none());
        assert!(!c.verify_fragment(&invalid, &f));
    }

    #[test]
    fn signed_request_and_join_verify() {
        let c = GnunetCrypto;
        let key = ecdsa::PrivateKey::clamped([5; 32]);
        let mut q = Request::unsigned(1, 0, 0, b"ping".to_vec());
        q.fragment_id = 1;
        c.sign_request(&key, &mut q);
        assert!(c.verify_request(&q));
        q.request_id = 2;
        assert!(!c.verify_request(&q));

        let mut j = JoinRequest::unsigned(
            eddsa::PrivateKey([1; 32]).public_key(),
            key.public_key(),
            PeerIdentity([9; 32]),
            None,
        );
        c.sign_join(&key, &mut j);
        assert!(c.verify_join(&j));
        // reserved is outside the signed range: the tree flag does not break the signature.
        j.reserved = crate::msg::TREE_CAPABLE;
        assert!(c.verify_join(&j));
        j.peer = PeerIdentity([8; 32]);
        assert!(!c.verify_join(&j));
    }
}
