//! Fixtures shared by the `DATA_HOME` tests: keys, enter requests, and the path and mode
//! checks they make on real files.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::peer::PeerIdentity;
use social::msg::{GuestEnter, HostEnter, JoinDecision};
use social::store::{SavedEnter, StoreOp};

/// A PSYC_MESSAGE-like nested message as the C library puts into GUEST_ENTER (type 691).
pub const JOIN_MSG: [u8; 8] = [0, 8, 0x02, 0xb3, 0, 4, 0x02, 0xb9];

pub fn ego(n: u8) -> ecdsa::PublicKey {
    ecdsa::PublicKey([n; 32])
}

/// A host place with a real key pair (loading checks the private key is the place's).
pub fn host_enter(ego_n: u8, seed: u8, app: &[u8]) -> HostEnter {
    let place_key = eddsa::PrivateKey::from_bytes([seed; 32]);
    HostEnter {
        policy: 3,
        ego_pub_key: ego(ego_n),
        place_pub_key: place_key.public_key(),
        place_key,
        app_id: app.to_vec(),
    }
}

pub fn guest_enter(ego_n: u8, place_n: u8, app: &[u8]) -> GuestEnter {
    GuestEnter {
        ego_pub_key: ego(ego_n),
        place_pub_key: eddsa::PublicKey([place_n; 32]),
        origin: PeerIdentity([0x51; 32]),
        flags: 0,
        app_id: app.to_vec(),
        relays: vec![PeerIdentity([0x61; 32]), PeerIdentity([0x62; 32])],
        join_msg: Some(JOIN_MSG.to_vec()),
    }
}

pub fn save(enter: SavedEnter, app: &str) -> StoreOp {
    StoreOp::SavePlace {
        enter,
        app: app.to_owned(),
    }
}

pub fn decision(admitted: i32) -> JoinDecision {
    JoinDecision {
        is_admitted: admitted,
        slave_pub_key: ecdsa::PublicKey([0; 32]),
        response: Some(JOIN_MSG.to_vec()),
        relay_slots: 0,
    }
}

pub fn places_file(root: &Path, ego: &ecdsa::PublicKey, place: &eddsa::PublicKey) -> PathBuf {
    root.join("places")
        .join(ego.to_string())
        .join(place.to_string())
}

pub fn marker(root: &Path, app: &str, ego: &ecdsa::PublicKey, place: &eddsa::PublicKey) -> PathBuf {
    root.join("apps")
        .join(app)
        .join(ego.to_string())
        .join(place.to_string())
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}
