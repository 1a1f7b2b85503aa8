//! Our fixed-size wire types have the size of GNUnet 0.19's C types, and the message types we
//! speak are the numbers GNUnet's headers assign.

use std::mem::size_of;

use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::crypto::{ecdsa, eddsa, HashCode};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::wire::{Codec, MessageHeader, HEADER_SIZE, MAX_MESSAGE_SIZE};
use gnunet_service::{cadet, core, gns, identity, namestore, statistics};
use gnunet_sys as sys;

/// Rust type size, encoded size and C `sizeof` all agree.
macro_rules! same_size {
    ($ours:ty, $value:expr, $theirs:ty) => {{
        let value: $ours = $value;
        assert_eq!(
            value.encoded_len(),
            size_of::<$theirs>(),
            "encoded {} vs sizeof {}",
            stringify!($ours),
            stringify!($theirs)
        );
        assert_eq!(value.to_vec().len(), size_of::<$theirs>());
    }};
}

#[test]
fn fixed_types_match_c_sizes() {
    same_size!(
        MessageHeader,
        MessageHeader {
            size: 4,
            msg_type: 1
        },
        sys::GNUNET_MessageHeader
    );
    assert_eq!(HEADER_SIZE, size_of::<sys::GNUNET_MessageHeader>());
    assert_eq!(MAX_MESSAGE_SIZE + 1, sys::GNUNET_MAX_MESSAGE_SIZE as usize);
    same_size!(HashCode, HashCode::ZERO, sys::GNUNET_HashCode);
    assert_eq!(size_of::<HashCode>(), size_of::<sys::GNUNET_HashCode>());
    same_size!(
        PeerIdentity,
        PeerIdentity([0; 32]),
        sys::GNUNET_PeerIdentity
    );
    assert_eq!(
        size_of::<PeerIdentity>(),
        size_of::<sys::GNUNET_PeerIdentity>()
    );
    same_size!(
        eddsa::PublicKey,
        eddsa::PublicKey([0; 32]),
        sys::GNUNET_CRYPTO_EddsaPublicKey
    );
    same_size!(
        eddsa::PrivateKey,
        eddsa::PrivateKey([0; 32]),
        sys::GNUNET_CRYPTO_EddsaPrivateKey
    );
    same_size!(
        eddsa::Signature,
        eddsa::Signature([0; 64]),
        sys::GNUNET_CRYPTO_EddsaSignature
    );
    same_size!(
        ecdsa::PublicKey,
        ecdsa::PublicKey([0; 32]),
        sys::GNUNET_CRYPTO_EcdsaPublicKey
    );
    same_size!(
        ecdsa::PrivateKey,
        ecdsa::PrivateKey([0; 32]),
        sys::GNUNET_CRYPTO_EcdsaPrivateKey
    );
    same_size!(
        ecdsa::Signature,
        ecdsa::Signature([0; 64]),
        sys::GNUNET_CRYPTO_EcdsaSignature
    );
    same_size!(
        SignaturePurpose,
        SignaturePurpose {
            size: 8,
            purpose: 0
        },
        sys::GNUNET_CRYPTO_EccSignaturePurpose
    );
}

#[test]
fn message_types_match_gnunet_protocols_h() {
    let pairs: &[(u16, u32)] = &[
        (
            cadet::msg::TYPE_LOCAL_DATA,
            sys::GNUNET_MESSAGE_TYPE_CADET_LOCAL_DATA,
        ),
        (
            cadet::msg::TYPE_LOCAL_ACK,
            sys::GNUNET_MESSAGE_TYPE_CADET_LOCAL_ACK,
        ),
        (
            cadet::msg::TYPE_LOCAL_PORT_OPEN,
            sys::GNUNET_MESSAGE_TYPE_CADET_LOCAL_PORT_OPEN,
        ),
        (
            cadet::msg::TYPE_LOCAL_PORT_CLOSE,
            sys::GNUNET_MESSAGE_TYPE_CADET_LOCAL_PORT_CLOSE,
        ),
        (
            cadet::msg::TYPE_LOCAL_CHANNEL_CREATE,
            sys::GNUNET_MESSAGE_TYPE_CADET_LOCAL_CHANNEL_CREATE,
        ),
        (
            cadet::msg::TYPE_LOCAL_CHANNEL_DESTROY,
            sys::GNUNET_MESSAGE_TYPE_CADET_LOCAL_CHANNEL_DESTROY,
        ),
        (
            cadet::msg::TYPE_CADET_CLI,
            sys::GNUNET_MESSAGE_TYPE_CADET_CLI,
        ),
        (core::msg::TYPE_INIT, sys::GNUNET_MESSAGE_TYPE_CORE_INIT),
        (
            core::msg::TYPE_INIT_REPLY,
            sys::GNUNET_MESSAGE_TYPE_CORE_INIT_REPLY,
        ),
        (
            core::msg::TYPE_NOTIFY_CONNECT,
            sys::GNUNET_MESSAGE_TYPE_CORE_NOTIFY_CONNECT,
        ),
        (
            core::msg::TYPE_NOTIFY_DISCONNECT,
            sys::GNUNET_MESSAGE_TYPE_CORE_NOTIFY_DISCONNECT,
        ),
        (
            identity::msg::TYPE_START,
            sys::GNUNET_MESSAGE_TYPE_IDENTITY_START,
        ),
        (
            identity::msg::TYPE_RESULT_CODE,
            sys::GNUNET_MESSAGE_TYPE_IDENTITY_RESULT_CODE,
        ),
        (
            identity::msg::TYPE_UPDATE,
            sys::GNUNET_MESSAGE_TYPE_IDENTITY_UPDATE,
        ),
        (
            identity::msg::TYPE_CREATE,
            sys::GNUNET_MESSAGE_TYPE_IDENTITY_CREATE,
        ),
        (
            identity::msg::TYPE_LOOKUP,
            sys::GNUNET_MESSAGE_TYPE_IDENTITY_LOOKUP,
        ),
        (
            identity::msg::TYPE_RENAME,
            sys::GNUNET_MESSAGE_TYPE_IDENTITY_RENAME,
        ),
        (
            identity::msg::TYPE_DELETE,
            sys::GNUNET_MESSAGE_TYPE_IDENTITY_DELETE,
        ),
        (
            namestore::msg::TYPE_RECORD_STORE,
            sys::GNUNET_MESSAGE_TYPE_NAMESTORE_RECORD_STORE,
        ),
        (
            namestore::msg::TYPE_RECORD_STORE_RESPONSE,
            sys::GNUNET_MESSAGE_TYPE_NAMESTORE_RECORD_STORE_RESPONSE,
        ),
        (gns::msg::TYPE_LOOKUP, sys::GNUNET_MESSAGE_TYPE_GNS_LOOKUP),
        (
            gns::msg::TYPE_LOOKUP_RESULT,
            sys::GNUNET_MESSAGE_TYPE_GNS_LOOKUP_RESULT,
        ),
        (
            statistics::msg::TYPE_SET,
            sys::GNUNET_MESSAGE_TYPE_STATISTICS_SET,
        ),
        (
            statistics::msg::TYPE_GET,
            sys::GNUNET_MESSAGE_TYPE_STATISTICS_GET,
        ),
        (
            statistics::msg::TYPE_VALUE,
            sys::GNUNET_MESSAGE_TYPE_STATISTICS_VALUE,
        ),
        (
            statistics::msg::TYPE_END,
            sys::GNUNET_MESSAGE_TYPE_STATISTICS_END,
        ),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(u32::from(*ours), *theirs);
    }
}
