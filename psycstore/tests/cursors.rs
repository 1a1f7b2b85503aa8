//! Chunked reads: every query walked in small chunks yields exactly what one big read yields,
//! in the C plugin's order.

mod common;

use common::{channel_key, fragment};
use psycstore::cursor::{FragmentCursor, FragmentQuery, StatePrefixCursor};
use psycstore::store::{SqliteStore, Store, WriteOp};

/// (fragment_id, message_id, offset): message 20's offsets run against its fragment ids.
const ROWS: [(u64, u64, u64); 9] = [
    (1, 10, 0),
    (2, 10, 1),
    (3, 20, 9),
    (4, 20, 5),
    (5, 20, 7),
    (6, 30, 0),
    (7, 40, 0),
    (8, 40, 1),
    (9, 50, 0),
];

fn store() -> SqliteStore {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let ops: Vec<WriteOp> = ROWS
        .iter()
        .map(|&(fid, mid, off)| WriteOp::FragmentStore {
            channel: channel_key(),
            fragment: fragment(fid, mid, off, &[fid as u8]),
            psycstore_flags: 0,
        })
        .collect();
    assert!(store.apply(&ops).iter().all(|r| matches!(r, Ok(true))));
    store
}

fn walk(store: &mut SqliteStore, query: FragmentQuery, chunk: usize) -> Vec<u64> {
    let mut cursor = FragmentCursor::new(channel_key(), query);
    let mut ids = Vec::new();
    for _ in 0..100 {
        let page = cursor.next_chunk(store, chunk).unwrap();
        assert!(page.len() <= chunk.max(1));
        if page.is_empty() {
            assert!(cursor.is_done());
            return ids;
        }
        ids.extend(page.iter().map(|f| f.fragment.fragment_id));
    }
    panic!("cursor never finished");
}

#[test]
fn every_query_gives_the_same_rows_in_any_chunk_size() {
    let mut store = store();
    let cases: Vec<(FragmentQuery, Vec<u64>)> = vec![
        (
            FragmentQuery::FragmentRange { first: 2, last: 7 },
            vec![2, 3, 4, 5, 6, 7],
        ),
        (
            FragmentQuery::FragmentRange {
                first: 0,
                last: u64::MAX,
            },
            (1..=9).collect(),
        ),
        (
            FragmentQuery::FragmentRange {
                first: u64::MAX,
                last: u64::MAX,
            },
            vec![],
        ),
        (FragmentQuery::FragmentRange { first: 7, last: 3 }, vec![]),
        (FragmentQuery::LatestFragments { n: 4 }, vec![6, 7, 8, 9]),
        (
            FragmentQuery::LatestFragments { n: u64::MAX },
            (1..=9).collect(),
        ),
        // (message_id, fragment_offset) order, as the C plugin's unique index yields
        (
            FragmentQuery::MessageRange {
                first: 10,
                last: 30,
                fragment_limit: 0,
            },
            vec![1, 2, 4, 5, 3, 6],
        ),
        (
            FragmentQuery::MessageRange {
                first: 10,
                last: 30,
                fragment_limit: 4,
            },
            vec![1, 2, 4, 5],
        ),
        (
            FragmentQuery::MessageRange {
                first: 20,
                last: 20,
                fragment_limit: 0,
            },
            vec![4, 5, 3],
        ),
        (FragmentQuery::LatestMessages { n: 2 }, vec![7, 8, 9]),
        (
            FragmentQuery::LatestMessages { n: 4 },
            vec![3, 4, 5, 6, 7, 8, 9],
        ),
        (FragmentQuery::LatestMessages { n: 100 }, (1..=9).collect()),
    ];
    for (query, expected) in cases {
        for chunk in [1, 2, 3, 100] {
            assert_eq!(
                walk(&mut store, query, chunk),
                expected,
                "{query:?} in chunks of {chunk}"
            );
        }
    }
}

#[test]
fn latest_n_is_fixed_when_the_walk_starts() {
    let mut store = store();
    let mut cursor = FragmentCursor::new(channel_key(), FragmentQuery::LatestFragments { n: 3 });
    let first = cursor.next_chunk(&mut store, 1).unwrap();
    assert_eq!(first[0].fragment.fragment_id, 7);
    store.apply(&[WriteOp::FragmentStore {
        channel: channel_key(),
        fragment: fragment(10, 60, 0, b"new"),
        psycstore_flags: 0,
    }]);
    let mut rest = Vec::new();
    loop {
        let page = cursor.next_chunk(&mut store, 1).unwrap();
        if page.is_empty() {
            break;
        }
        rest.extend(page.iter().map(|f| f.fragment.fragment_id));
    }
    assert_eq!(rest, vec![8, 9]);
}

#[test]
fn state_prefix_is_byte_wise_and_chunked() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let channel = channel_key();
    let names: [&[u8]; 8] = [
        b"_foo",
        b"_foo2_bar",
        b"_foo_bar",
        b"_foobar",
        b"_fop",
        b"_fo",
        b"_foo\xff\xff",
        b"_zzz",
    ];
    let ops: Vec<WriteOp> = names
        .iter()
        .enumerate()
        .map(|(i, name)| WriteOp::StateSync {
            channel,
            first: i == 0,
            last: i == names.len() - 1,
            name: name.to_vec(),
            value: vec![i as u8],
            max_state_message_id: 0,
            state_hash_message_id: 0,
        })
        .collect();
    assert!(store.apply(&ops).iter().all(|r| matches!(r, Ok(true))));
    let expected: Vec<&[u8]> = vec![
        b"_foo",
        b"_foo2_bar",
        b"_foo_bar",
        b"_foobar",
        b"_foo\xff\xff",
    ];
    for chunk in [1, 2, 10] {
        let mut cursor = StatePrefixCursor::new(channel, b"_foo");
        let mut got = Vec::new();
        loop {
            let page = cursor.next_chunk(&mut store, chunk).unwrap();
            if page.is_empty() {
                break;
            }
            got.extend(page.into_iter().map(|v| v.name));
        }
        assert_eq!(got, expected, "chunks of {chunk}");
    }
    assert_eq!(
        store.state_get(&channel, b"_foo\xff\xff").unwrap(),
        Some(vec![6]),
        "non-UTF-8 names survive"
    );
}
