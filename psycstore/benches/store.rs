//! Store-level cost of fragment stores: straight rusqlite inserts (the baseline) against
//! [`Store::apply`] batches of the sizes the service commits, and the whole sans-IO path
//! (decode, plan, commit, encode replies) on top.

mod common;
use common::fragment;
use gnunet_service::wire::Codec;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gnunet_service::wire::Message;
use psycstore::handler::{commit, plan, Job};
use psycstore::keys::ChannelKey;
use psycstore::msg::{FragmentStore, Request};
use psycstore::store::{schema, SqliteOptions, SqliteStore, Store, WriteOp};

const BATCH: u64 = 1000;

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("bench.db"), &SqliteOptions::default()).expect("open")
}

fn inserts(c: &mut Criterion) {
    let mut g = c.benchmark_group("fragment_store");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(20);
    let channel = ChannelKey([7; 32]);

    // baseline: the plugin's INSERT, prepared once, BATCH rows per transaction
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("open");
    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .expect("wal");
    conn.execute_batch("PRAGMA synchronous=FULL").expect("sync");
    for s in schema::CREATE_STATEMENTS {
        conn.execute_batch(s).expect("schema");
    }
    conn.execute(
        "INSERT INTO channels (pub_key) VALUES (?1)",
        [&channel.0[..]],
    )
    .expect("channel");
    let mut next = 0u64;
    g.bench_function("rusqlite_direct", |b| {
        b.iter(|| {
            conn.execute_batch("BEGIN").expect("begin");
            let mut insert = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO messages (channel_id, hop_counter, signature, \
                     purpose, fragment_id, fragment_offset, message_id, group_generation, \
                     multicast_flags, psycstore_flags, data) VALUES ((SELECT id FROM channels \
                     WHERE pub_key = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .expect("prepare");
            for _ in 0..BATCH {
                next += 1;
                let f = fragment(next);
                insert
                    .execute(rusqlite::params![
                        &channel.0[..],
                        f.hop_counter,
                        &f.signature.0[..],
                        f.purpose.to_vec(),
                        next as i64,
                        0i64,
                        next as i64,
                        1i64,
                        f.flags,
                        0i64,
                        &f.payload[..]
                    ])
                    .expect("insert");
            }
            drop(insert);
            conn.execute_batch("COMMIT").expect("commit");
        })
    });

    // Store::apply: savepoint per write, channel key filed per write
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&dir);
    let mut next = 0u64;
    g.bench_function("store_apply", |b| {
        b.iter_batched(
            || {
                (0..BATCH)
                    .map(|_| {
                        next += 1;
                        WriteOp::FragmentStore {
                            channel,
                            fragment: fragment(next),
                            psycstore_flags: 0,
                        }
                    })
                    .collect::<Vec<_>>()
            },
            |ops| {
                let results = store.apply(&ops);
                assert!(results.iter().all(|r| matches!(r, Ok(true))));
            },
            BatchSize::LargeInput,
        )
    });

    // the service's whole sans-IO path: decode requests, plan, commit, encoded replies
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&dir);
    let mut next = 0u64;
    g.bench_function("decode_plan_commit", |b| {
        b.iter_batched(
            || {
                (0..BATCH)
                    .map(|_| {
                        next += 1;
                        FragmentStore {
                            psycstore_flags: 0,
                            channel_key: channel,
                            op_id: next,
                            fragment: fragment(next),
                        }
                        .to_message()
                    })
                    .collect::<Vec<_>>()
            },
            |requests| {
                let writes: Vec<_> = requests
                    .iter()
                    .map(|r| match plan(Request::decode(r).expect("decode")) {
                        Job::Write(w) => w,
                        _ => unreachable!("a fragment store is a write"),
                    })
                    .collect();
                let replies = commit(&mut store, &writes);
                assert_eq!(replies.len(), writes.len());
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, inserts);
criterion_main!(benches);
