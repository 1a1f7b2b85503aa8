use super::*;
use crate::msg::{resized, Reply, Request};
use psyc::msg::{policy, slave_join_flags};

fn peer(b: u8) -> PeerIdentity {
    PeerIdentity([b; 32])
}

const JOIN_MSG: [u8; 8] = [0, 8, 0x02, 0xb3, 0, 4, 0x02, 0xb9];

#[test]
fn host_enter_has_a_host_order_policy_and_a_short_app_id() {
    let m = HostEnter {
        policy: policy::PRIVATE,
        ego_pub_key: ecdsa::PublicKey([1; 32]),
        place_pub_key: eddsa::PublicKey([0; 32]),
        place_key: eddsa::PrivateKey([0; 32]),
        app_id: b"app".to_vec(),
    };
    let mut fixture = vec![0, 108, 0x03, 0x49, 3, 0, 0, 0];
    fixture.extend_from_slice(&[1; 32]);
    fixture.extend_from_slice(&[0; 64]);
    fixture.extend_from_slice(b"app\0");
    assert_eq!(fixture.len(), HOST_ENTER_HEADER_SIZE + 4);
    assert_eq!(m.to_message(), fixture);
    assert_eq!(Request::decode(&fixture), Ok(Request::HostEnter(m.clone())));
    // No app id, an unterminated one, one of 256 bytes with its NUL.
    assert!(HostEnter::from_message(&resized(fixture[..104].to_vec())).is_err());
    assert!(HostEnter::from_message(&resized(fixture[..107].to_vec())).is_err());
    let mut inner_nul = fixture.clone();
    inner_nul[105] = 0;
    assert!(HostEnter::from_message(&inner_nul).is_err());
    let long = HostEnter {
        app_id: vec![b'a'; 255],
        ..m.clone()
    };
    assert!(HostEnter::from_message(&long.to_message()).is_err());
    let longest = HostEnter {
        app_id: vec![b'a'; 254],
        ..m
    };
    assert_eq!(
        HostEnter::from_message(&longest.to_message()),
        Ok(longest.clone())
    );
    assert!(Reply::decode(&longest.to_message()).is_err());
}

#[test]
fn host_enter_ack_is_48_bytes() {
    let m = HostEnterAck {
        result_code: 0,
        max_message_id: 0x0102_0304_0506_0708,
        place_pub_key: eddsa::PublicKey([9; 32]),
    };
    let mut fixture = vec![0, 48, 0x03, 0x4a, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    fixture.extend_from_slice(&[9; 32]);
    assert_eq!(fixture.len(), HOST_ENTER_ACK_SIZE);
    assert_eq!(m.to_message(), fixture);
    assert_eq!(Reply::decode(&fixture), Ok(Reply::HostEnterAck(m)));
    let e = HostEnterAck {
        result_code: -1,
        ..m
    };
    assert_eq!(&e.to_message()[4..8], &[0xff; 4]);
    assert!(HostEnterAck::from_message(&resized(fixture[..47].to_vec())).is_err());
}

fn guest_enter() -> GuestEnter {
    GuestEnter {
        ego_pub_key: ecdsa::PublicKey([1; 32]),
        place_pub_key: eddsa::PublicKey([2; 32]),
        origin: peer(3),
        flags: slave_join_flags::LOCAL,
        app_id: b"ap".to_vec(),
        relays: vec![peer(4), peer(5)],
        join_msg: Some(JOIN_MSG.to_vec()),
    }
}

#[test]
fn guest_enter_layout_and_round_trip() {
    let m = guest_enter();
    let mut fixture = vec![0, 183, 0x03, 0x4b, 0, 0, 0, 2];
    for b in [1, 2, 3] {
        fixture.extend_from_slice(&[b; 32]);
    }
    fixture.extend_from_slice(&[0, 0, 0, 1]);
    fixture.extend_from_slice(b"ap\0");
    fixture.extend_from_slice(&[4; 32]);
    fixture.extend_from_slice(&[5; 32]);
    fixture.extend_from_slice(&JOIN_MSG);
    assert_eq!(m.to_message(), fixture);
    assert_eq!(
        Request::decode(&fixture),
        Ok(Request::GuestEnter(m.clone()))
    );
    let bare = GuestEnter {
        relays: vec![],
        join_msg: None,
        app_id: vec![],
        ..m
    };
    assert_eq!(bare.to_message().len(), GUEST_ENTER_HEADER_SIZE + 1);
    assert_eq!(GuestEnter::from_message(&bare.to_message()), Ok(bare));
}

#[test]
fn guest_enter_rejects_what_the_c_service_refuses() {
    let good = guest_enter().to_message();
    // More relays than bytes, and a count that overflows when multiplied.
    for count in [3u32, u32::MAX] {
        let mut bad = good.clone();
        bad[4..8].copy_from_slice(&count.to_be_bytes());
        assert!(GuestEnter::from_message(&bad).is_err(), "count {count}");
    }
    // A join message that does not fill the rest; 1–3 stray bytes; no app id NUL.
    let mut bad = good.clone();
    bad.push(0);
    assert!(GuestEnter::from_message(&resized(bad)).is_err());
    let mut bad = GuestEnter {
        join_msg: None,
        ..guest_enter()
    }
    .to_message();
    bad.extend_from_slice(&[0, 3, 0]);
    assert!(GuestEnter::from_message(&resized(bad)).is_err());
    let no_nul = resized([&good[..108], b"ap"].concat());
    assert!(GuestEnter::from_message(&no_nul).is_err());
    assert!(GuestEnter::from_message(&resized(good[..100].to_vec())).is_err());
}

#[test]
fn guest_enter_by_name_has_three_strings() {
    let m = GuestEnterByName {
        ego_pub_key: ecdsa::PublicKey([7; 32]),
        app_id: b"a".to_vec(),
        gns_name: b"home.host.gnu".to_vec(),
        password: vec![],
        join_msg: Some(JOIN_MSG.to_vec()),
    };
    let mut fixture = vec![0, 61, 0x03, 0x4c];
    fixture.extend_from_slice(&[7; 32]);
    fixture.extend_from_slice(b"a\0home.host.gnu\0\0");
    fixture.extend_from_slice(&JOIN_MSG);
    assert_eq!(m.to_message(), fixture);
    assert_eq!(
        Request::decode(&fixture),
        Ok(Request::GuestEnterByName(m.clone()))
    );
    let bare = GuestEnterByName {
        join_msg: None,
        ..m
    };
    assert_eq!(
        GuestEnterByName::from_message(&bare.to_message()),
        Ok(bare.clone())
    );
    // Only two strings; stray bytes after the strings.
    let two = resized(fixture[..52].to_vec());
    assert!(GuestEnterByName::from_message(&two).is_err());
    let mut stray = bare.to_message();
    stray.push(1);
    assert!(GuestEnterByName::from_message(&resized(stray)).is_err());
}

#[test]
fn guest_enter_ack_is_psycs_counters_result_under_845() {
    let m = GuestEnterAck {
        result_code: -1,
        max_message_id: 9,
    };
    let fixture = [
        0, 16, 0x03, 0x4d, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 9,
    ];
    assert_eq!(fixture.len(), GUEST_ENTER_ACK_SIZE);
    assert_eq!(m.to_message(), fixture);
    assert_eq!(Reply::decode(&fixture), Ok(Reply::GuestEnterAck(m)));
    // Same body as PSYC's SLAVE_JOIN_ACK.
    let psyc_ack = psyc::msg::SlaveJoinAck {
        result_code: -1,
        max_message_id: 9,
    };
    assert_eq!(psyc_ack.to_message()[4..], fixture[4..]);
    assert_eq!(GuestEnterAck::from(psyc_ack), m);
    assert!(GuestEnterAck::from_message(&resized(fixture[..15].to_vec())).is_err());
}

/// `struct HostEnterRequest` (social.h) as gcc lays it out: every member packed or a byte
/// array, so no padding; `policy` is copied in host order.
#[repr(C, packed)]
struct CHostEnterRequest {
    _header: [u16; 2],
    policy: u32,
    ego_pub_key: [u8; 32],
    place_pub_key: [u8; 32],
    place_key: [u8; 32],
}

/// `struct GuestEnterRequest` (social.h), every member packed or a byte array.
#[repr(C, packed)]
struct CGuestEnterRequest {
    _header: [u16; 2],
    relay_count: u32,
    ego_pub_key: [u8; 32],
    place_pub_key: [u8; 32],
    origin: [u8; 32],
    flags: u32,
}

/// `struct HostEnterAck` (social.h), every member packed or a byte array.
#[repr(C, packed)]
struct CHostEnterAck {
    _header: [u16; 2],
    result_code: u32,
    max_message_id: u64,
    place_pub_key: [u8; 32],
}

#[test]
fn c_struct_sizes_and_offsets() {
    use std::mem::{offset_of, size_of};
    type H = CHostEnterRequest;
    assert_eq!(size_of::<H>(), HOST_ENTER_HEADER_SIZE);
    assert_eq!(offset_of!(H, policy), 4);
    assert_eq!(offset_of!(H, ego_pub_key), 8);
    assert_eq!(offset_of!(H, place_pub_key), 40);
    assert_eq!(offset_of!(H, place_key), 72);
    type G = CGuestEnterRequest;
    assert_eq!(size_of::<G>(), GUEST_ENTER_HEADER_SIZE);
    assert_eq!(offset_of!(G, relay_count), 4);
    assert_eq!(offset_of!(G, ego_pub_key), 8);
    assert_eq!(offset_of!(G, place_pub_key), 40);
    assert_eq!(offset_of!(G, origin), 72);
    assert_eq!(offset_of!(G, flags), 104);
    type A = CHostEnterAck;
    assert_eq!(size_of::<A>(), HOST_ENTER_ACK_SIZE);
    assert_eq!(offset_of!(A, result_code), 4);
    assert_eq!(offset_of!(A, max_message_id), 8);
    assert_eq!(offset_of!(A, place_pub_key), 16);
    // GUEST_ENTER_BY_NAME: header and ego key, then strings.
    assert_eq!(GUEST_ENTER_BY_NAME_HEADER_SIZE, 4 + 32);
}
