//! Multicast's hashes and signatures checked by libgnunetutil 0.19.3 itself (through
//! gnunet-sys): the CADET port, and group and member signatures on real wire messages.

use std::ptr;

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::Message;
use gnunet_sys as sys;
use multicast::crypto::{GnunetCrypto, GroupCrypto};
use multicast::msg::{Fragment, JoinRequest, Request, PURPOSE_MESSAGE, PURPOSE_REQUEST};
use multicast::port::port_of_group;

const GNUNET_OK: i32 = sys::GNUNET_GenericReturnValue_GNUNET_OK;

fn c_struct<T: Default>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>());
    let mut value = T::default();
    // SAFETY: T is a plain C struct of exactly bytes.len() bytes.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), (&mut value as *mut T).cast(), bytes.len()) };
    value
}

fn c_eddsa_verify(
    purpose: u32,
    block: &[u8],
    sig: &eddsa::Signature,
    key: &eddsa::PublicKey,
) -> bool {
    let c_sig: sys::GNUNET_CRYPTO_EddsaSignature = c_struct(&sig.0);
    let c_key = sys::GNUNET_CRYPTO_EddsaPublicKey { q_y: key.0 };
    // SAFETY: the purpose struct is packed; block holds purpose.size bytes.
    unsafe {
        sys::GNUNET_CRYPTO_eddsa_verify_(purpose, block.as_ptr().cast(), &c_sig, &c_key)
            == GNUNET_OK
    }
}

fn c_ecdsa_verify(
    purpose: u32,
    block: &[u8],
    sig: &ecdsa::Signature,
    key: &ecdsa::PublicKey,
) -> bool {
    let c_sig: sys::GNUNET_CRYPTO_EcdsaSignature = c_struct(&sig.0);
    let c_key = sys::GNUNET_CRYPTO_EcdsaPublicKey { q_y: key.0 };
    // SAFETY: as above.
    unsafe {
        sys::GNUNET_CRYPTO_ecdsa_verify_(purpose, block.as_ptr().cast(), &c_sig, &c_key)
            == GNUNET_OK
    }
}

#[test]
fn port_is_gnunet_hash_of_key_and_little_endian_app_type() {
    let key = eddsa::PrivateKey([0x17; 32]).public_key();
    let mut input = key.0.to_vec();
    input.extend_from_slice(&26u32.to_le_bytes());
    let mut out = sys::GNUNET_HashCode { bits: [0; 16] };
    // SAFETY: input and out are valid for the sizes given.
    unsafe { sys::GNUNET_CRYPTO_hash(input.as_ptr().cast(), input.len(), &mut out) };
    let mut bytes = [0u8; 64];
    for (i, w) in out.bits.iter().enumerate() {
        bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
    }
    assert_eq!(port_of_group(&key).0, bytes);
}

#[test]
fn signatures_on_wire_messages_verify_in_libgnunetutil() {
    let c = GnunetCrypto;
    for i in 0..8u8 {
        let group = eddsa::PrivateKey([i.wrapping_mul(31).wrapping_add(1); 32]);
        let mut f = Fragment::unsigned(
            u64::from(i),
            116 * u64::from(i),
            3,
            0,
            vec![i; 50 * i as usize],
        );
        f.fragment_id = u64::from(i) + 1;
        c.sign_fragment(&c.group_signer(&group), &mut f);
        let bytes = f.to_message();
        assert!(c_eddsa_verify(
            PURPOSE_MESSAGE,
            &bytes[72..],
            &f.signature,
            &group.public_key()
        ));
        assert!(!c_eddsa_verify(
            PURPOSE_REQUEST,
            &bytes[72..],
            &f.signature,
            &group.public_key()
        ));

        let member = ecdsa::PrivateKey::clamped([i.wrapping_add(100); 32]);
        let mut q = Request::unsigned(7, 0, 0, vec![i; 10 + i as usize]);
        q.fragment_id = 1;
        c.sign_request(&member, &mut q);
        let bytes = q.to_message();
        assert!(c_ecdsa_verify(
            PURPOSE_REQUEST,
            &bytes[100..],
            &q.signature,
            &member.public_key()
        ));

        let mut j = JoinRequest::unsigned(
            group.public_key(),
            member.public_key(),
            PeerIdentity([i; 32]),
            (i % 2 == 0).then(|| vec![0, 6, 0, 123, b'h', b'i']),
        );
        c.sign_join(&member, &mut j);
        let bytes = j.to_message();
        assert!(c_ecdsa_verify(
            PURPOSE_REQUEST,
            &bytes[72..],
            &j.signature,
            &member.public_key()
        ));
    }
}
