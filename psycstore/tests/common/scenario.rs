//! The C tests' scenarios as calls of the blocking [`Client`] against a running service, so
//! that the same steps run in-process, against a hand-started binary and under ARM.

use psycstore::blocking::{Fetched, Outcome};
use psycstore::fragment::Fragment;
use psycstore::msg::message_flags::{STATE, STATE_APPLIED, STATE_HASH};
use psycstore::msg::CountersResult;
use psycstore::store::{StateVar, StoredFragment};
use psycstore::Client;

use super::{channel_key, fragment, slave_key, stateful_payload, top};

fn ok(outcome: Outcome) -> i64 {
    assert_eq!(outcome.error, None, "no error text on success");
    outcome.result
}

fn frags(f: &Fetched<StoredFragment>) -> Vec<(Fragment, u32)> {
    f.items
        .iter()
        .map(|s| (s.fragment.clone(), s.psycstore_flags))
        .collect()
}

fn vars(f: &Fetched<StateVar>) -> Vec<(Vec<u8>, Vec<u8>)> {
    f.items
        .iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect()
}

/// `test_psycstore.c` (`psycstore.md` §11.1), steps 1–14, each result checked.
pub fn c_test_psycstore(c: &mut Client) {
    let channel = channel_key();
    let slave = slave_key();
    let m = top(11);

    // (1) membership store, (2) membership test
    assert_eq!(
        ok(c.membership_store(&channel, &slave, true, top(6), m, 2)
            .unwrap()),
        1
    );
    assert_eq!(ok(c.membership_test(&channel, &slave, m, 2).unwrap()), 1);

    // (3) three fragments of message m, payload = the channel key
    let stored = [
        (fragment(top(9), m, 0, &channel.0), STATE),
        (fragment(top(5), m, 1024, &channel.0), STATE_APPLIED),
        (fragment(top(1), m, 16384, &channel.0), STATE_HASH),
    ];
    for (f, flags) in &stored {
        assert_eq!(ok(c.fragment_store(&channel, f, *flags).unwrap()), 1);
    }

    // (4) one fragment by id with the slave key
    let got = c
        .fragment_get(&channel, Some(&slave), top(9), top(9))
        .unwrap();
    assert_eq!(frags(&got), vec![stored[0].clone()]);
    assert!(ok(got.outcome) > 0);

    // (5) latest three, ascending
    let got = c.fragment_get_latest(&channel, Some(&slave), 3).unwrap();
    assert_eq!(frags(&got), stored.to_vec());
    assert!(ok(got.outcome) > 0);

    // (6) by message id and offset
    let got = c
        .message_get_fragment(&channel, Some(&slave), m, 1024)
        .unwrap();
    assert_eq!(frags(&got), vec![stored[1].clone()]);
    assert!(ok(got.outcome) > 0);

    // (7) message range [m, m], (8) latest message
    let got = c.message_get(&channel, Some(&slave), m, m, 0, b"").unwrap();
    assert_eq!(frags(&got), stored.to_vec());
    assert!(ok(got.outcome) > 0);
    let got = c
        .message_get_latest(&channel, Some(&slave), 1, b"")
        .unwrap();
    assert_eq!(frags(&got), stored.to_vec());
    assert!(ok(got.outcome) > 0);

    // (9) state sync of two variables
    let sync: [(&[u8], &[u8]); 2] = [
        (b"_sync_foo", b"three two one"),
        (b"_sync_bar", b"ten eleven twelve"),
    ];
    assert_eq!(ok(c.state_sync(&channel, m + 1, m + 2, &sync).unwrap()), 1);

    // (10) state modify of m (its payloads are no PSYC parts: only the counter moves)
    assert_eq!(ok(c.state_modify(&channel, m, 0).unwrap()), 1);

    // (11) counters
    let counters = c.counters_get(&channel).unwrap();
    assert_eq!(
        counters,
        CountersResult {
            result_code: 1,
            op_id: counters.op_id,
            max_fragment_id: top(1),
            max_message_id: m,
            max_group_generation: top(4),
            max_state_message_id: m,
        }
    );

    // (12) best match, (13) prefix in name order
    let got = c.state_get(&channel, b"_sync_bar_x_yy_zzz").unwrap();
    assert_eq!(
        vars(&got),
        vec![(b"_sync_bar".to_vec(), b"ten eleven twelve".to_vec())]
    );
    assert_eq!(ok(got.outcome), 1);
    let got = c.state_get_prefix(&channel, b"_sync").unwrap();
    assert_eq!(
        vars(&got),
        vec![
            (b"_sync_bar".to_vec(), b"ten eleven twelve".to_vec()),
            (b"_sync_foo".to_vec(), b"three two one".to_vec()),
        ]
    );
    assert_eq!(ok(got.outcome), 1);

    // (14) reset; the C test's second, cancelled reset becomes a plain one here
    assert_eq!(ok(c.state_reset(&channel).unwrap()), 1);
    assert_eq!(ok(c.state_reset(&channel).unwrap()), 1);
    let got = c.state_get_prefix(&channel, b"_sync").unwrap();
    assert_eq!((got.items.len(), ok(got.outcome)), (0, 0));
}

/// The steps of `test_plugin_psycstore.c` (`psycstore.md` §11.2) that IPC can reach, on a
/// channel of their own. `message_add_flags` and `state_get_signed` have no message type; the
/// signed values show through STATE_SYNC and STATE_HASH_UPDATE instead.
pub fn c_test_plugin_over_ipc(c: &mut Client) {
    let channel = psycstore::keys::ChannelKey([0x77; 32]);
    let slave = slave_key();

    // membership: join announced at 4, effective from 2
    assert_eq!(
        ok(c.membership_store(&channel, &slave, true, 4, 2, 1).unwrap()),
        1
    );
    assert_eq!(ok(c.membership_test(&channel, &slave, 4, 1).unwrap()), 1);
    assert_eq!(ok(c.membership_test(&channel, &slave, 2, 1).unwrap()), 1);
    assert_eq!(ok(c.membership_test(&channel, &slave, 1, 1).unwrap()), 0);

    // a fragment with state flags, read back by id and by message/offset
    let message = top(11);
    let key_bytes = channel.0;
    let first = fragment(top(2), message, 0, &key_bytes);
    assert_eq!(ok(c.fragment_store(&channel, &first, STATE).unwrap()), 1);
    let got = c.fragment_get(&channel, None, top(2), top(2)).unwrap();
    assert_eq!(frags(&got), vec![(first.clone(), STATE)]);
    assert_eq!(ok(got.outcome), 1);
    let got = c.message_get_fragment(&channel, None, message, 0).unwrap();
    assert_eq!(frags(&got), vec![(first.clone(), STATE)]);

    // a second fragment; the message has both, in order
    let second = fragment(top(1), message, 32768, &key_bytes);
    assert_eq!(
        ok(c.fragment_store(&channel, &second, STATE_HASH).unwrap()),
        1
    );
    let got = c
        .message_get(&channel, None, message, message, 0, b"")
        .unwrap();
    assert_eq!(
        frags(&got),
        vec![(first.clone(), STATE), (second.clone(), STATE_HASH)]
    );
    assert_eq!(ok(got.outcome), 2);
    let counters = c.counters_get(&channel).unwrap();
    assert_eq!(
        (
            counters.max_fragment_id,
            counters.max_message_id,
            counters.max_group_generation
        ),
        (top(1), message, top(4))
    );

    // state: a stored stateful message m+1 assigns _foo and _foo_bar
    let foo_bar: &[u8] = &key_bytes;
    let payload = stateful_payload("_set", &[("_foo", b"one two three"), ("_foo_bar", foo_bar)]);
    let stateful = fragment(10, message + 1, 0, &payload);
    assert_eq!(ok(c.fragment_store(&channel, &stateful, STATE).unwrap()), 1);
    assert_eq!(ok(c.state_modify(&channel, message + 1, 0).unwrap()), 1);
    let got = c.state_get(&channel, b"_foo").unwrap();
    assert_eq!(
        vars(&got),
        vec![(b"_foo".to_vec(), b"one two three".to_vec())]
    );
    let got = c.state_get_prefix(&channel, b"_foo").unwrap();
    assert_eq!(
        vars(&got),
        vec![
            (b"_foo".to_vec(), b"one two three".to_vec()),
            (b"_foo_bar".to_vec(), foo_bar.to_vec()),
        ]
    );
    assert_eq!(ok(got.outcome), 1);
    assert_eq!(
        ok(
            c.state_hash_update(&channel, &gnunet_service::crypto::HashCode([0; 64]))
                .unwrap()
        ),
        1
    );
    assert_eq!(
        c.counters_get(&channel).unwrap().max_state_message_id,
        message + 1
    );

    // sync replaces the state: _foo is gone, _sync_* are there
    let sync: [(&[u8], &[u8]); 2] = [(b"_sync_bar", foo_bar), (b"_sync_foo", b"three two one")];
    assert_eq!(
        ok(c.state_sync(&channel, message + 1, top(6), &sync).unwrap()),
        1
    );
    let got = c.state_get_prefix(&channel, b"_foo").unwrap();
    assert_eq!((got.items.len(), ok(got.outcome)), (0, 0));
    let got = c.state_get_prefix(&channel, b"_sync").unwrap();
    assert_eq!(got.items.len(), 2);
    assert_eq!(ok(got.outcome), 1);

    // modify after sync, with the ordering check: message+6 with delta 5 follows message+1
    let payload = stateful_payload("_set", &[("_sync_foo", b"five six seven")]);
    let later = fragment(11, message + 6, 0, &payload);
    assert_eq!(ok(c.fragment_store(&channel, &later, STATE).unwrap()), 1);
    assert_eq!(ok(c.state_modify(&channel, message + 6, 5).unwrap()), 1);
    let got = c.state_get(&channel, b"_sync_foo").unwrap();
    assert_eq!(
        vars(&got),
        vec![(b"_sync_foo".to_vec(), b"five six seven".to_vec())]
    );
    // the same message again is out of order: 0, nothing changes
    assert_eq!(ok(c.state_modify(&channel, message + 6, 5).unwrap()), 0);
    assert_eq!(ok(c.state_reset(&channel).unwrap()), 1);
    let got = c.state_get_prefix(&channel, b"_").unwrap();
    assert_eq!((got.items.len(), ok(got.outcome)), (0, 0));
}
