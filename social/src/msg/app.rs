//! An application's view of its egos and places: APP_CONNECT (852), APP_DETACH (853), and the
//! lists the service answers a connect with, APP_EGO (854) … APP_EGO_END (855) and APP_PLACE
//! (856) … APP_PLACE_END (857).

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::header_only_message;
use gnunet_service::wire::CString;
use gnunet_service::wire_layout;

use super::strings::Token;

/// Size of APP_DETACH (`struct AppDetachRequest`), header included.
pub const APP_DETACH_SIZE: usize = 76;
/// Fixed part of APP_EGO (`struct AppEgoMessage`), header included.
pub const APP_EGO_HEADER_SIZE: usize = 36;
/// Size of APP_PLACE (`struct AppPlaceMessage`), header included.
pub const APP_PLACE_SIZE: usize = 70;

/// APP_CONNECT (852), 4 bytes + app id: the first message of an application's client; the
/// service answers with its egos and the app's places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppConnect {
    /// The application id without its NUL (offset 4): exactly one NUL-terminated string
    /// filling the rest, no inner NUL ([`Token`](super::Token)); an empty tail is an error.
    pub app_id: Vec<u8>,
}

wire_layout! {
    impl Message(super::TYPE_APP_CONNECT) for AppConnect {
        app_id as Token,
    }
}

/// APP_DETACH (853), 76 bytes: the app forgets a place of an ego; answered with a RESULT_CODE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppDetach {
    /// The place (offset 4).
    pub place_pub_key: eddsa::PublicKey,
    /// The ego that entered it (offset 36).
    pub ego_pub_key: ecdsa::PublicKey,
    /// Operation id, echoed in the RESULT_CODE (offset 68); the C library leaves it 0.
    pub op_id: u64,
}

wire_layout! {
    impl Message(super::TYPE_APP_DETACH) for AppDetach {
        place_pub_key,
        ego_pub_key,
        op_id,
    }
}

/// APP_EGO (854), 36 bytes + name: one ego of the user, as IDENTITY knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppEgo {
    /// Public key of the ego (offset 4).
    pub ego_pub_key: ecdsa::PublicKey,
    /// The ego's name without its NUL (offset 36), filling the rest.
    pub name: Vec<u8>,
}

wire_layout! {
    impl Message(super::TYPE_APP_EGO) for AppEgo {
        ego_pub_key,
        name as CString,
    }
}

/// APP_PLACE (856), 70 bytes: one place the app entered with one of its egos.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPlace {
    /// The ego that entered the place (offset 4).
    pub ego_pub_key: ecdsa::PublicKey,
    /// The place (offset 36).
    pub place_pub_key: eddsa::PublicKey,
    /// 1 host, 0 guest (offset 68).
    pub is_host: u8,
    /// [`app_place_state`](super::app_place_state) (offset 69); the C service always sends
    /// ENTERED.
    pub place_state: u8,
}

wire_layout! {
    impl Message(super::TYPE_APP_PLACE) for AppPlace {
        ego_pub_key,
        place_pub_key,
        is_host,
        place_state,
    }
}

header_only_message!(
    /// APP_EGO_END (855), service → client: the ego list is complete.
    pub AppEgoEnd = super::TYPE_APP_EGO_END
);
header_only_message!(
    /// APP_PLACE_END (857), service → client: the place list is complete.
    pub AppPlaceEnd = super::TYPE_APP_PLACE_END
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{app_place_state, resized, Reply, Request};
    use gnunet_service::wire::Message;

    /// `struct AppDetachRequest` (social.h): `op_id` packed, the rest byte arrays.
    #[repr(C, packed)]
    struct CAppDetachRequest {
        _header: [u16; 2],
        place_pub_key: [u8; 32],
        ego_pub_key: [u8; 32],
        op_id: u64,
    }

    /// `struct AppPlaceMessage` (social.h): byte arrays and bytes, alignment 2 from the
    /// header, so no padding at the end (70 is even).
    #[repr(C)]
    struct CAppPlaceMessage {
        _header: [u16; 2],
        ego_pub_key: [u8; 32],
        place_pub_key: [u8; 32],
        is_host: u8,
        place_state: u8,
    }

    /// `struct AppEgoMessage` (social.h).
    #[repr(C)]
    struct CAppEgoMessage {
        _header: [u16; 2],
        ego_pub_key: [u8; 32],
    }

    #[test]
    fn c_struct_sizes_and_offsets() {
        use std::mem::{offset_of, size_of};
        type D = CAppDetachRequest;
        assert_eq!(size_of::<D>(), APP_DETACH_SIZE);
        assert_eq!(offset_of!(D, place_pub_key), 4);
        assert_eq!(offset_of!(D, ego_pub_key), 36);
        assert_eq!(offset_of!(D, op_id), 68);
        type P = CAppPlaceMessage;
        assert_eq!(size_of::<P>(), APP_PLACE_SIZE);
        assert_eq!(offset_of!(P, ego_pub_key), 4);
        assert_eq!(offset_of!(P, place_pub_key), 36);
        assert_eq!(offset_of!(P, is_host), 68);
        assert_eq!(offset_of!(P, place_state), 69);
        assert_eq!(size_of::<CAppEgoMessage>(), APP_EGO_HEADER_SIZE);
        assert_eq!(offset_of!(CAppEgoMessage, ego_pub_key), 4);
    }

    #[test]
    fn app_connect_is_one_c_string() {
        let m = AppConnect {
            app_id: b"test".to_vec(),
        };
        let fixture = [0, 9, 0x03, 0x54, b't', b'e', b's', b't', 0];
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Request::decode(&fixture), Ok(Request::AppConnect(m)));
        // No tail, no NUL at the end.
        assert!(AppConnect::from_message(&[0, 4, 0x03, 0x54]).is_err());
        assert!(AppConnect::from_message(&resized(fixture[..8].to_vec())).is_err());
        // An inner NUL: the C service's tokenizer stops before the end and drops the client.
        assert!(AppConnect::from_message(&[0, 7, 0x03, 0x54, b'a', 0, 0]).is_err());
        assert!(Reply::decode(&fixture).is_err());
    }

    #[test]
    fn app_detach_is_76_bytes() {
        let m = AppDetach {
            place_pub_key: eddsa::PublicKey([1; 32]),
            ego_pub_key: ecdsa::PublicKey([2; 32]),
            op_id: 0x0102,
        };
        let mut fixture = vec![0, 76, 0x03, 0x55];
        fixture.extend_from_slice(&[1; 32]);
        fixture.extend_from_slice(&[2; 32]);
        fixture.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(fixture.len(), APP_DETACH_SIZE);
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Request::decode(&fixture), Ok(Request::AppDetach(m)));
        // Fixed size: the C handler needs exactly 76 bytes.
        let mut long = fixture.clone();
        long.push(0);
        assert!(AppDetach::from_message(&resized(long)).is_err());
        assert!(AppDetach::from_message(&resized(fixture[..75].to_vec())).is_err());
    }

    #[test]
    fn app_ego_and_place_layouts() {
        let ego = AppEgo {
            ego_pub_key: ecdsa::PublicKey([3; 32]),
            name: b"me".to_vec(),
        };
        let mut fixture = vec![0, 39, 0x03, 0x56];
        fixture.extend_from_slice(&[3; 32]);
        fixture.extend_from_slice(b"me\0");
        assert_eq!(ego.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::AppEgo(ego)));
        assert!(AppEgo::from_message(&resized(fixture[..APP_EGO_HEADER_SIZE].to_vec())).is_err());

        let place = AppPlace {
            ego_pub_key: ecdsa::PublicKey([4; 32]),
            place_pub_key: eddsa::PublicKey([5; 32]),
            is_host: 1,
            place_state: app_place_state::ENTERED,
        };
        let mut fixture = vec![0, 70, 0x03, 0x58];
        fixture.extend_from_slice(&[4; 32]);
        fixture.extend_from_slice(&[5; 32]);
        fixture.extend_from_slice(&[1, 1]);
        assert_eq!(fixture.len(), APP_PLACE_SIZE);
        assert_eq!(place.to_message(), fixture);
        assert_eq!(Reply::decode(&fixture), Ok(Reply::AppPlace(place)));
        assert!(AppPlace::from_message(&resized(fixture[..69].to_vec())).is_err());

        assert_eq!(AppEgoEnd.to_message(), [0, 4, 0x03, 0x57]);
        assert_eq!(AppPlaceEnd.to_message(), [0, 4, 0x03, 0x59]);
        assert_eq!(
            Reply::decode(&[0, 4, 0x03, 0x57]),
            Ok(Reply::AppEgoEnd(AppEgoEnd))
        );
        assert!(Reply::decode(&[0, 5, 0x03, 0x59, 0]).is_err());
    }
}
