//! The client [`Session`] under any sequence of its inputs: requests opened, arbitrary bytes as
//! replies (mostly well-formed ones for open and closed op ids), forgets and reconnects. No
//! panic, never more than its bound open, an event only for an open operation, a final event
//! or an error closes it, and a reconnect re-sends only open operations, keeping them open.
#![no_main]

use std::collections::BTreeSet;

use gnunet_service::wire::Message;
use libfuzzer_sys::fuzz_target;
use psycstore::client::{self, Session};
use psycstore::keys::ChannelKey;
use psycstore::msg::{CountersResult, FragmentResult, ResultCode, StateResult};

const MAX: usize = 8;
const K: ChannelKey = ChannelKey([4; 32]);

fn reply(kind: u8, op_id: u64, arg: u8) -> Vec<u8> {
    match kind % 4 {
        0 => ResultCode::new(op_id, i64::from(arg) - 2).to_message(),
        1 => FragmentResult {
            psycstore_flags: u32::from(arg),
            op_id,
            fragment: multicast::msg::Fragment::unsigned(1, 0, 0, 2, vec![arg; usize::from(arg % 8)]),
        }
        .to_message(),
        2 => StateResult {
            op_id,
            name: b"_name".to_vec(),
            value: vec![arg],
        }
        .to_message(),
        _ => CountersResult {
            result_code: i32::from(arg),
            op_id,
            max_fragment_id: 1,
            max_message_id: 1,
            max_group_generation: 0,
            max_state_message_id: 0,
        }
        .to_message(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = Session::with_max_pending(MAX);
    let mut open = BTreeSet::new();
    let mut rest = data;
    while let [op, a, b, tail @ ..] = rest {
        rest = tail;
        let op_id = u64::from(*a % 16);
        match op % 6 {
            0 => {
                let started = s.start(|id| match b % 5 {
                    0 => Ok(client::fragment_get(id, &K, None, 1, 2)),
                    1 => client::state_get_prefix(id, &K, b"_a"),
                    2 => Ok(client::counters_get(id, &K)),
                    3 => Ok(client::state_modify(id, &K, 1, 0)),
                    _ => Ok(client::state_reset(id, &K)),
                });
                match started {
                    Ok((id, _)) => assert!(open.insert(id)),
                    Err(_) => assert_eq!(open.len(), MAX),
                }
            }
            1 | 2 => {
                let was_open = s.is_open(op_id);
                match s.handle(&reply(*b, op_id, *a)) {
                    Ok(event) => {
                        assert!(was_open);
                        assert_eq!(event.op_id(), op_id);
                        if event.is_final() {
                            open.remove(&op_id);
                        }
                    }
                    Err(_) => {
                        // well-formed replies: only "not open" or "unexpected", which closes
                        assert!(!s.is_open(op_id));
                        open.remove(&op_id);
                    }
                }
            }
            3 => {
                let _ = s.handle(&rest[..rest.len().min(usize::from(*b))]);
                open.retain(|id| s.is_open(*id));
            }
            4 => {
                assert_eq!(s.forget(op_id), open.remove(&op_id));
            }
            _ => {
                let plan = s.reconnected();
                for (id, message) in &plan.resend {
                    assert!(open.contains(id) && s.is_open(*id));
                    assert!(!message.is_empty());
                }
                for id in &plan.lost {
                    assert!(open.remove(id));
                    assert!(!s.is_open(*id));
                }
            }
        }
        assert_eq!(s.pending(), open.len());
        assert!(s.pending() <= MAX);
    }
});
