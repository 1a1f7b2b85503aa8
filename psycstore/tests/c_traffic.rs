//! Bytes the C services and libraries really send, decoded with our one fragment type and
//! stored and read back through our store: pins the byte order of `group_generation`.
//!
//! Captured (strace of our services' reads) during `scripts/dropin-check.sh`:
//! - FRAGMENT_STOREs the C psyc service sends to our psycstore in the C `test_psyc`. Real psyc
//!   traffic only ever carries group generation 0 (`gnunet-service-psyc.c` passes 0, "FIXME:
//!   group_generation"), which reads the same in either byte order.
//! - A MESSAGE the C multicast client library sends to our multicast service in the C
//!   `test_multicast`, which calls `GNUNET_MULTICAST_origin_to_all (origin, 1, 1, …)`:
//!   message id 1, group generation 1, and `multicast_api.c` copies the generation in host
//!   order (`msg->group_generation = tmit->group_generation`), so its bytes are `01 00 … 00`.
//! - A FRAGMENT_STORE of the C `test_psycstore`, whose fragment carries
//!   `GNUNET_htonll (INT64_MAX - 3)` as generation and which expects the C service to report
//!   `INT64_MAX - 3` back in RESULT_COUNTERS: the C plugin files the field read big-endian.

use gnunet_service::wire::Message;
use multicast::msg::Fragment;
use psyc_format::parts::{Part, Parts};
use psycstore::fragment::generation_column;
use psycstore::handler::handle_now;
use psycstore::keys::ChannelKey;
use psycstore::msg::{CountersGet, FragmentGet, Reply, Request, RequestHead};
use psycstore::store::SqliteStore;

/// test_psyc, FRAGMENT_STORE op 8: fragment 1 of message 1, the METHOD `_notice_test`.
const PSYC_METHOD: &str = "00c1029600000000906f6a255bd1cb9810bf6c0a8b9e875e13bdebfca5f329816599157d65e2b1c70000000000000008009102f500000000564c3b1c89391377d1894b906e40280888e09528cce11031bcf3d615920395204bf251352c8bcd8a3a891deb347699666a5f739db79af736dbc63ef260a7500c0000004900000013000000000000000100000000000000000000000000000001000000000000000000000000001d02b500000008ffffffffffffffff5f6e6f746963655f7465737400";
/// test_psyc, FRAGMENT_STORE op 12: fragment 3, the MODIFIER `=_foo_bar` (11 zero bytes).
const PSYC_MODIFIER: &str = "00c3029600000000906f6a255bd1cb9810bf6c0a8b9e875e13bdebfca5f329816599157d65e2b1c7000000000000000c009302f5000000004d59cac622cc0df4fdaaac0e71ba4c2f92ff0adb36756a172385f757422114e2b2d9707b290e9bc84b2dc9c3d4cb9507e554ba08a21da7c7540b550f8ed3220b0000004b000000130000000000000003000000000000fc910000000000000001000000000000000000000000001f02b60000000b00093d5f666f6f5f626172000000000000000000000000";
/// test_psyc, FRAGMENT_STORE op 24: fragment 9, the last DATA `foo bar baz` and END.
const PSYC_END: &str = "00b7029600000000906f6a255bd1cb9810bf6c0a8b9e875e13bdebfca5f329816599157d65e2b1c70000000000000018008702f5000000001324cddc941a31eddfc7251c33faf24aa07ca384be7281694545cc0ab49bd94438cd971c6bbc24f9518d87f7aa00e47f14b1375644911535dd79d2db9aa8a80e0000003f000000130000000000000009000000000003f21e0000000000000001000000000000000000000000000f02b8666f6f206261722062617a000402b9";
/// test_multicast: the first MESSAGE from the origin's C client library, unsigned.
const MULTICAST_MESSAGE: &str = "007b02f50000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000101000000000000000000000041424320444546";
/// test_psycstore: the first FRAGMENT_STORE (op 3).
const PSYCSTORE_TEST: &str = "00c4029600000001a283903b03c1f55f3beb2cc591434574032f38bb0a8fab5e661ae35875db8adf0000000000000003009402f5000000097e79d4ce5e5e549c1c373c815e130e1b09e7bf4ff3519292f33aa3e338cf410ad7f457fe67010435ebf7beadee9eb52986234843e9b62db2c3d73f62ac8ffc0f0000004c000000ea7ffffffffffffff700000000000000007ffffffffffffff57ffffffffffffffc00000002a283903b03c1f55f3beb2cc591434574032f38bb0a8fab5e661ae35875db8adf";

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The FRAGMENT_STORE in `hex`, decoded as the service decodes it.
fn store_request(hex: &str) -> (Vec<u8>, psycstore::msg::FragmentStore) {
    let raw = bytes(hex);
    match Request::decode(&raw).unwrap() {
        Request::FragmentStore(r) => (raw, r),
        other => panic!("not a FRAGMENT_STORE: {other:?}"),
    }
}

/// Stores the fragment of `request` in a fresh store, then reads it back by id and asks for
/// the counters: returns the read-back reply bytes and the reported max group generation.
fn store_and_read_back(raw_request: &[u8]) -> (Fragment, Vec<u8>, u64) {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let request = Request::decode(raw_request).unwrap();
    let Request::FragmentStore(stored) = &request else {
        panic!("not a FRAGMENT_STORE");
    };
    let (channel, id) = (stored.channel_key, stored.fragment.fragment_id);
    let replies = handle_now(&mut store, request.clone());
    assert!(matches!(
        Reply::decode(&replies[0]).unwrap(),
        Reply::ResultCode(c) if c.result_code == 1
    ));
    let get = FragmentGet {
        head: RequestHead::new(2, channel),
        slave_key: Default::default(),
        first_fragment_id: id,
        last_fragment_id: id,
        fragment_limit: 0,
        do_membership_test: 0,
    };
    let replies = handle_now(&mut store, Request::FragmentGet(get));
    let Reply::Fragment(back) = Reply::decode(&replies[0]).unwrap() else {
        panic!("no fragment read back: {replies:?}");
    };
    let counters = CountersGet {
        head: RequestHead::new(3, channel),
    };
    let replies = handle_now(&mut store, Request::CountersGet(counters));
    let Reply::Counters(counters) = Reply::decode(&replies[0]).unwrap() else {
        panic!("no counters: {replies:?}");
    };
    let encoded = back.fragment.to_message();
    (back.fragment, encoded, counters.max_group_generation)
}

#[test]
fn fragments_the_c_psyc_service_stores_decode_and_come_back_byte_identical() {
    let mut method = None;
    for (hex, op_id, fragment_id, fragment_offset) in [
        (PSYC_METHOD, 8, 1, 0),
        (PSYC_MODIFIER, 12, 3, 64657),
        (PSYC_END, 24, 9, 258590),
    ] {
        let (raw, r) = store_request(hex);
        assert_eq!((r.op_id, r.psycstore_flags), (op_id, 0));
        assert_eq!(r.channel_key, ChannelKey(raw[8..40].try_into().unwrap()));
        let f = &r.fragment;
        assert_eq!(
            (f.fragment_id, f.fragment_offset),
            (fragment_id, fragment_offset)
        );
        assert_eq!((f.message_id, f.group_generation, f.flags), (1, 0, 0));
        assert_eq!(f.hop_counter, 0);
        // signed by the origin's service: purpose 19 over everything from offset 72
        assert!(f.purpose_ok(), "{:?}", f.purpose);
        assert_eq!(f.wire_size(), raw.len() - 48);
        assert_eq!(r.to_message(), raw, "re-encodes to the same bytes");

        let (back, encoded, max_generation) = store_and_read_back(&raw);
        assert_eq!(&back, f);
        assert_eq!(encoded, raw[48..], "read back byte-identical");
        assert_eq!(max_generation, 0);
        if fragment_id == 1 {
            method = Parts::new(&f.payload)
                .next()
                .map(|p| p.map(Part::into_owned));
        }
    }
    let Some(Ok(Part::Method(m))) = method else {
        panic!("the first fragment starts with a METHOD: {method:?}");
    };
    assert_eq!(&m.name[..], b"_notice_test");
}

#[test]
fn the_c_multicast_library_writes_the_generation_little_endian() {
    let raw = bytes(MULTICAST_MESSAGE);
    assert_eq!(&raw[104..112], &[1, 0, 0, 0, 0, 0, 0, 0]);
    let f = Fragment::from_message(&raw).unwrap();
    assert_eq!((f.message_id, f.group_generation), (1, 1));
    assert_eq!((f.fragment_id, f.fragment_offset, f.flags), (0, 0, 0));
    assert_eq!(f.payload, b"ABC DEF");
    assert_eq!(f.to_message(), raw);

    // stored as the C plugin would file it: the 8 bytes read big-endian, 2^56
    assert_eq!(generation_column(&f), 1 << 56);
    let mut f = f;
    f.fragment_id = 1;
    let request = psycstore::client::fragment_store(1, &ChannelKey([5; 32]), &f, 0).unwrap();
    let (back, encoded, max_generation) = store_and_read_back(&request);
    assert_eq!(back.group_generation, 1);
    assert_eq!(&encoded[104..112], &[1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(max_generation, 1 << 56);
}

#[test]
fn the_c_psycstore_test_gets_its_generation_back_in_the_counters() {
    let (raw, r) = store_request(PSYCSTORE_TEST);
    assert_eq!((r.op_id, r.psycstore_flags), (3, 1));
    let f = &r.fragment;
    let top = |n: u64| (1u64 << 63) - n;
    assert_eq!((f.fragment_id, f.message_id), (top(9), top(11)));
    assert_eq!((f.hop_counter, f.flags), (9, 2));
    assert_eq!(&raw[48 + 104..48 + 112], &top(4).to_be_bytes());
    assert_eq!(generation_column(f), top(4));
    assert_eq!(f.group_generation, u64::from_le_bytes(top(4).to_be_bytes()));
    let (back, encoded, max_generation) = store_and_read_back(&raw);
    assert_eq!(&back, f);
    assert_eq!(encoded, raw[48..]);
    assert_eq!(
        max_generation,
        top(4),
        "INT64_MAX - 3, as test_psycstore.c expects"
    );
}
