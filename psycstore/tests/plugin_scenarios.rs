//! The scenario of the C `test_plugin_psycstore.c` (`psycstore.md` §11.2) against the sqlite
//! store on a temporary file. Unlike the C test, names and values are checked too.

mod common;

use common::{channel_key, fragment, slave_key, stateful_payload, top};
use psycstore::msg::message_flags::{STATE, STATE_APPLIED, STATE_HASH};
use psycstore::store::{
    Scan, SqliteOptions, SqliteStore, StateVar, Store, StoreError, StoredFragment, WriteOp,
};

fn ok(store: &mut SqliteStore, op: WriteOp) -> bool {
    let mut results = store.apply(&[op]);
    assert_eq!(results.len(), 1);
    results.remove(0).expect("write failed")
}

fn all_fragments(store: &mut SqliteStore, scan: Scan) -> Vec<StoredFragment> {
    store
        .fragment_page(&channel_key(), &scan, None, 1000)
        .unwrap()
}

fn var(name: &str, value: &[u8]) -> StateVar {
    StateVar {
        name: name.as_bytes().to_vec(),
        value: value.to_vec(),
    }
}

#[test]
fn c_plugin_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("gnunet-test-plugin-psycstore-sqlite/sqlite.db");
    let mut store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let channel = channel_key();
    let slave = slave_key();

    // membership
    assert!(ok(
        &mut store,
        WriteOp::MembershipStore {
            channel,
            slave,
            did_join: 1,
            announced_at: 4,
            effective_since: 2,
            group_generation: 1,
        }
    ));
    assert!(store.membership_test(&channel, &slave, 4).unwrap());
    assert!(store.membership_test(&channel, &slave, 2).unwrap());
    assert!(!store.membership_test(&channel, &slave, 1).unwrap());
    // A part announced later revokes it (gap S4: C kept every past member a member), and a
    // later join, even announced at the same message, restores it.
    let event = |did_join, announced_at, effective_since| WriteOp::MembershipStore {
        channel,
        slave,
        did_join,
        announced_at,
        effective_since,
        group_generation: 1,
    };
    assert!(ok(&mut store, event(0, 6, 0)));
    assert!(!store.membership_test(&channel, &slave, 4).unwrap());
    assert!(!store.membership_test(&channel, &slave, 9).unwrap());
    assert!(ok(&mut store, event(1, 6, 0)));
    assert!(store.membership_test(&channel, &slave, 9).unwrap());

    // one fragment, read back by id and by message/offset
    let message_id = top(11);
    let first = fragment(top(2), message_id, 0, &channel.0);
    assert!(ok(
        &mut store,
        WriteOp::FragmentStore {
            channel,
            fragment: first.clone(),
            psycstore_flags: STATE,
        }
    ));
    let got = all_fragments(
        &mut store,
        Scan::FragmentIds {
            first: top(2),
            last: top(2),
        },
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].fragment, first);
    assert_eq!(got[0].psycstore_flags, STATE);
    let got = store
        .message_fragment(&channel, message_id, 0)
        .unwrap()
        .unwrap();
    assert_eq!((got.fragment, got.psycstore_flags), (first.clone(), STATE));

    // flags added to the first fragment of the message
    assert!(ok(
        &mut store,
        WriteOp::MessageAddFlags {
            channel,
            message_id,
            flags: STATE_APPLIED,
        }
    ));
    let got = all_fragments(
        &mut store,
        Scan::FragmentIds {
            first: top(2),
            last: top(2),
        },
    );
    assert_eq!(got[0].psycstore_flags, STATE | STATE_APPLIED);
    assert!(!ok(
        &mut store,
        WriteOp::MessageAddFlags {
            channel,
            message_id: 12345,
            flags: STATE_APPLIED,
        }
    ));

    // a second fragment of the same message; the message comes back whole, in order
    let mut second = first.clone();
    second.fragment_id = top(1);
    second.fragment_offset = 32768;
    assert!(ok(
        &mut store,
        WriteOp::FragmentStore {
            channel,
            fragment: second.clone(),
            psycstore_flags: STATE_HASH,
        }
    ));
    let got = all_fragments(
        &mut store,
        Scan::MessageIds {
            first: message_id,
            last: message_id,
        },
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].fragment, first);
    assert_eq!(got[1].fragment, second);
    assert_eq!(got[1].psycstore_flags, STATE_HASH);

    let counters = store.message_counters(&channel).unwrap().unwrap();
    assert_eq!(
        (
            counters.max_fragment_id,
            counters.max_message_id,
            counters.max_group_generation
        ),
        (top(1), message_id, top(4))
    );

    // state modification: message+1 assigns _foo and _foo_bar
    let key_bytes = channel.0;
    let modifying = fragment(
        top(3),
        message_id + 1,
        0,
        &stateful_payload(
            "_test",
            &[("_foo", b"one two three"), ("_foo_bar", &key_bytes)],
        ),
    );
    assert!(ok(
        &mut store,
        WriteOp::FragmentStore {
            channel,
            fragment: modifying,
            psycstore_flags: STATE,
        }
    ));
    assert!(ok(
        &mut store,
        WriteOp::StateModify {
            channel,
            message_id: message_id + 1,
            state_delta: 0,
        }
    ));
    assert_eq!(
        store.state_get(&channel, b"_foo").unwrap(),
        Some(b"one two three".to_vec())
    );
    assert_eq!(
        store
            .state_prefix_page(&channel, b"_foo", None, 100)
            .unwrap(),
        vec![var("_foo", b"one two three"), var("_foo_bar", &key_bytes)]
    );
    assert_eq!(
        store.state_signed_page(&channel, None, 100).unwrap(),
        vec![]
    );
    assert!(ok(&mut store, WriteOp::StateUpdateSigned { channel }));
    assert_eq!(
        store.state_signed_page(&channel, None, 100).unwrap(),
        vec![var("_foo", b"one two three"), var("_foo_bar", &key_bytes)]
    );
    assert_eq!(
        store.max_state_message_id(&channel).unwrap(),
        Some(message_id + 1)
    );

    // state sync replaces the state
    let max_state = message_id + 1;
    let sync = |first, last, name: &str, value: &[u8]| WriteOp::StateSync {
        channel,
        first,
        last,
        name: name.as_bytes().to_vec(),
        value: value.to_vec(),
        max_state_message_id: max_state,
        state_hash_message_id: top(6),
    };
    let results = store.apply(&[
        sync(true, false, "_sync_bar", b"ten eleven twelve"),
        sync(false, true, "_sync_foo", b"three two one"),
    ]);
    assert!(results.iter().all(|r| matches!(r, Ok(true))), "{results:?}");
    assert_eq!(
        store
            .state_prefix_page(&channel, b"_foo", None, 100)
            .unwrap(),
        vec![]
    );
    let synced = vec![
        var("_sync_bar", b"ten eleven twelve"),
        var("_sync_foo", b"three two one"),
    ];
    assert_eq!(
        store
            .state_prefix_page(&channel, b"_sync", None, 100)
            .unwrap(),
        synced
    );
    assert_eq!(
        store.state_signed_page(&channel, None, 100).unwrap(),
        synced
    );
    let hash_id: i64 = store
        .connection()
        .query_row("SELECT state_hash_message_id FROM channels", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(hash_id as u64, top(6));

    // modification after the sync: message+6 with state_delta 5 follows message+1
    let later = fragment(
        top(5),
        message_id + 6,
        0,
        &stateful_payload("_test", &[("_sync_foo", b"five six seven")]),
    );
    assert!(ok(
        &mut store,
        WriteOp::FragmentStore {
            channel,
            fragment: later,
            psycstore_flags: STATE,
        }
    ));
    // a wrong distance is refused (0) and changes nothing
    assert!(!ok(
        &mut store,
        WriteOp::StateModify {
            channel,
            message_id: message_id + 6,
            state_delta: 4,
        }
    ));
    assert_eq!(
        store.state_get(&channel, b"_sync_foo").unwrap(),
        Some(b"three two one".to_vec())
    );
    assert!(ok(
        &mut store,
        WriteOp::StateModify {
            channel,
            message_id: message_id + 6,
            state_delta: 5,
        }
    ));
    assert_eq!(
        store.state_get(&channel, b"_sync_foo").unwrap(),
        Some(b"five six seven".to_vec())
    );
    // the signed value stays the synced one
    assert_eq!(
        store
            .state_signed_page(&channel, Some(b"_sync_bar"), 100)
            .unwrap(),
        vec![var("_sync_foo", b"three two one")]
    );
    // applying it again is "already applied"
    assert!(!ok(
        &mut store,
        WriteOp::StateModify {
            channel,
            message_id: message_id + 6,
            state_delta: 5,
        }
    ));

    assert!(ok(&mut store, WriteOp::StateReset { channel }));
    assert_eq!(
        store.state_prefix_page(&channel, b"_", None, 100).unwrap(),
        vec![]
    );

    // the database survives a reopen
    drop(store);
    let mut store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(
        store
            .message_counters(&channel)
            .unwrap()
            .unwrap()
            .max_fragment_id,
        top(1)
    );
    let journal: String = store
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
}

#[test]
fn ids_beyond_63_bits_are_refused_without_failing_the_batch() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let channel = channel_key();
    let results = store.apply(&[
        WriteOp::FragmentStore {
            channel,
            fragment: fragment(1, 1, 0, b"a"),
            psycstore_flags: 0,
        },
        WriteOp::FragmentStore {
            channel,
            fragment: fragment(1 << 63, 2, 0, b"b"),
            psycstore_flags: 0,
        },
        WriteOp::MembershipStore {
            channel,
            slave: slave_key(),
            did_join: 1,
            announced_at: u64::MAX,
            effective_since: 0,
            group_generation: 0,
        },
        WriteOp::FragmentStore {
            channel,
            fragment: fragment(3, 3, 0, b"c"),
            psycstore_flags: 0,
        },
    ]);
    assert!(matches!(results[0], Ok(true)));
    assert!(matches!(
        results[1],
        Err(StoreError::OutOfRange {
            field: "fragment_id",
            ..
        })
    ));
    assert!(matches!(
        results[2],
        Err(StoreError::OutOfRange {
            field: "announced_at",
            ..
        })
    ));
    assert!(matches!(results[3], Ok(true)));
    let ids: Vec<u64> = store
        .fragment_page(
            &channel,
            &Scan::FragmentIds {
                first: 0,
                last: u64::MAX,
            },
            None,
            10,
        )
        .unwrap()
        .iter()
        .map(|f| f.fragment.fragment_id)
        .collect();
    assert_eq!(ids, vec![1, 3]);
}

#[test]
fn duplicate_fragments_are_kept_once_and_still_succeed() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let channel = channel_key();
    let f = fragment(7, 70, 0, b"first");
    let mut same_slot = fragment(8, 70, 0, b"other id, same message and offset");
    same_slot.fragment_offset = 0;
    let results = store.apply(&[
        WriteOp::FragmentStore {
            channel,
            fragment: f.clone(),
            psycstore_flags: 1,
        },
        WriteOp::FragmentStore {
            channel,
            fragment: fragment(7, 71, 5, b"same id"),
            psycstore_flags: 2,
        },
        WriteOp::FragmentStore {
            channel,
            fragment: same_slot,
            psycstore_flags: 3,
        },
    ]);
    assert!(results.iter().all(|r| matches!(r, Ok(true))), "{results:?}");
    let all = store
        .fragment_page(
            &channel,
            &Scan::FragmentIds {
                first: 0,
                last: 100,
            },
            None,
            10,
        )
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].fragment, f);
}

#[test]
fn a_failed_sync_variable_does_not_undo_its_batch() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let channel = channel_key();
    let sync = |first, last, name: &str| WriteOp::StateSync {
        channel,
        first,
        last,
        name: name.as_bytes().to_vec(),
        value: b"v".to_vec(),
        max_state_message_id: 1,
        state_hash_message_id: 2,
    };
    let results = store.apply(&[
        sync(true, false, "_a"),
        sync(false, false, "_a"),
        sync(false, true, "_b"),
    ]);
    assert!(matches!(results[0], Ok(true)));
    assert!(matches!(results[1], Err(StoreError::DuplicateSyncName)));
    assert!(matches!(results[2], Ok(true)));
    assert_eq!(
        store.state_prefix_page(&channel, b"_", None, 10).unwrap(),
        vec![var("_a", b"v"), var("_b", b"v")]
    );
    assert_eq!(store.max_state_message_id(&channel).unwrap(), Some(1));
}
