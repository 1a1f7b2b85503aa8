//! A database written by the C service opens and works unchanged, and ours is the C schema.
//!
//! The database is created from the C plugin's DDL (`fixtures/c_plugin_schema.sql`, restated
//! from the spec) in the C plugin's default journal mode, filled with rows bound the way the C
//! plugin binds them (keys and values as BLOBs, names as TEXT, ids as int64, the message
//! group generation and flags as host integers), then used through [`SqliteStore`]; the rows
//! our store writes are checked to have the C representation.

mod common;

use common::{channel_key, fragment, slave_key, stateful_payload, top};
use gnunet_service::wire::Codec;
use psycstore::fragment::generation_column;
use psycstore::store::{Scan, SqliteOptions, SqliteStore, StateVar, Store, WriteOp};
use rusqlite::{params, Connection};

const C_SCHEMA: &str = include_str!("fixtures/c_plugin_schema.sql");

/// Everything sqlite reports about the schema: columns, indexes and foreign keys per table.
fn schema_facts(conn: &Connection) -> Vec<String> {
    let mut facts = Vec::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info({table})"))
            .unwrap();
        let cols = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{table} col {} {} notnull={} pk={}",
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(5)?
                ))
            })
            .unwrap();
        facts.extend(cols.map(Result::unwrap));
        let mut stmt = conn
            .prepare(&format!("PRAGMA index_list({table})"))
            .unwrap();
        let indexes: Vec<(String, i64, String)> = stmt
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (index, unique, origin) in indexes {
            let mut stmt = conn
                .prepare(&format!("PRAGMA index_info({index})"))
                .unwrap();
            let cols: Vec<String> = stmt
                .query_map([], |r| r.get(2))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            facts.push(format!(
                "{table} index {index} unique={unique} {origin} {cols:?}"
            ));
        }
        let mut stmt = conn
            .prepare(&format!("PRAGMA foreign_key_list({table})"))
            .unwrap();
        let fks = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{table} fk {} -> {}({})",
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(4)?
                ))
            })
            .unwrap();
        facts.extend(fks.map(Result::unwrap));
    }
    facts.sort();
    facts
}

#[test]
fn our_schema_is_the_c_schema() {
    let dir = tempfile::tempdir().unwrap();
    let c = Connection::open(dir.path().join("c.db")).unwrap();
    c.execute_batch(C_SCHEMA).unwrap();
    let ours = SqliteStore::open(&dir.path().join("ours.db"), &SqliteOptions::default()).unwrap();
    let c_facts = schema_facts(&c);
    assert!(c_facts.len() > 30, "{c_facts:?}");
    assert_eq!(schema_facts(ours.connection()), c_facts);
}

#[test]
fn a_c_written_database_is_read_and_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sqlite.db");
    let channel = channel_key();
    let slave = slave_key();
    let m = top(11);
    let f1 = fragment(top(9), m, 0, b"first fragment");
    let f2 = fragment(top(5), m, 1024, b"second");
    {
        // what the C service leaves behind
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA auto_vacuum=INCREMENTAL; PRAGMA page_size=4096;")
            .unwrap();
        c.execute_batch(C_SCHEMA).unwrap();
        c.execute(
            "INSERT OR IGNORE INTO channels (pub_key) VALUES (?1)",
            params![&channel.0[..]],
        )
        .unwrap();
        c.execute(
            "INSERT OR IGNORE INTO slaves (pub_key) VALUES (?1)",
            params![&slave.0[..]],
        )
        .unwrap();
        c.execute(
            "INSERT INTO membership (channel_id, slave_id, did_join, announced_at, effective_since, group_generation) \
             VALUES ((SELECT id FROM channels WHERE pub_key = ?1), (SELECT id FROM slaves WHERE pub_key = ?2), 1, ?3, ?4, 2)",
            params![&channel.0[..], &slave.0[..], top(6) as i64, m as i64],
        )
        .unwrap();
        for (f, flags) in [(&f1, 1i64), (&f2, 2)] {
            c.execute(
                "INSERT OR IGNORE INTO messages (channel_id, hop_counter, signature, purpose, fragment_id, \
                 fragment_offset, message_id, group_generation, multicast_flags, psycstore_flags, data) \
                 VALUES ((SELECT id FROM channels WHERE pub_key = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    &channel.0[..],
                    f.hop_counter as i64,
                    &f.signature.0[..],
                    f.purpose.to_vec(),
                    f.fragment_id as i64,
                    f.fragment_offset as i64,
                    f.message_id as i64,
                    generation_column(f) as i64,
                    f.flags as i64,
                    flags,
                    &f.payload[..]
                ],
            )
            .unwrap();
        }
        for (name, current, signed) in [
            ("_foo", &b"one two three"[..], Some(&b"one"[..])),
            ("_foo_bar", &b"x"[..], None),
            ("_foobar", &b"y"[..], None),
            ("_fop", &b"z"[..], None),
        ] {
            c.execute(
                "INSERT INTO state (channel_id, name, value_current, value_signed) \
                 VALUES ((SELECT id FROM channels WHERE pub_key = ?1), ?2, ?3, ?4)",
                params![&channel.0[..], name, current, signed],
            )
            .unwrap();
        }
        c.execute(
            "UPDATE channels SET max_state_message_id = ?1 WHERE pub_key = ?2",
            params![(m - 1) as i64, &channel.0[..]],
        )
        .unwrap();
    }

    let mut store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    // reads
    assert!(store.membership_test(&channel, &slave, m).unwrap());
    let got = store
        .fragment_page(&channel, &Scan::MessageIds { first: m, last: m }, None, 10)
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].fragment.clone(), got[0].psycstore_flags),
        (f1.clone(), 1)
    );
    assert_eq!(
        (got[1].fragment.clone(), got[1].psycstore_flags),
        (f2.clone(), 2)
    );
    let names: Vec<Vec<u8>> = store
        .state_prefix_page(&channel, b"_foo", None, 10)
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(
        names,
        vec![b"_foo".to_vec(), b"_foo_bar".to_vec(), b"_foobar".to_vec()]
    );
    assert_eq!(
        store.state_get_best(&channel, b"_foo_bar_baz").unwrap(),
        Some(StateVar {
            name: b"_foo_bar".to_vec(),
            value: b"x".to_vec()
        })
    );
    assert_eq!(store.max_state_message_id(&channel).unwrap(), Some(m - 1));

    // writes on top of the C rows: a stateful message m+1 following m−1 with delta 2
    let f3 = fragment(
        top(4),
        m + 1,
        0,
        &stateful_payload("_s", &[("_foo", b"new"), ("_fop", b"")]),
    );
    let results = store.apply(&[
        WriteOp::FragmentStore {
            channel,
            fragment: f3,
            psycstore_flags: 1,
        },
        WriteOp::StateModify {
            channel,
            message_id: m + 1,
            state_delta: 2,
        },
        WriteOp::MembershipStore {
            channel,
            slave,
            did_join: 0,
            announced_at: m + 1,
            effective_since: 0,
            group_generation: 3,
        },
    ]);
    assert!(results.iter().all(|r| matches!(r, Ok(true))), "{results:?}");
    assert_eq!(
        store.state_get(&channel, b"_foo").unwrap(),
        Some(b"new".to_vec())
    );
    assert_eq!(
        store.state_get(&channel, b"_fop").unwrap(),
        None,
        "emptied and unsigned: deleted"
    );
    drop(store);

    // what the C plugin will find: same representation as its own rows
    let c = Connection::open(&path).unwrap();
    let (name_type, value_type, signed): (String, String, Vec<u8>) = c
        .query_row(
            "SELECT typeof(name), typeof(value_current), value_signed FROM state WHERE name = '_foo'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((name_type.as_str(), value_type.as_str()), ("text", "blob"));
    assert_eq!(signed, b"one", "the signed value survives an assignment");
    let (channels, slaves): (i64, i64) = c
        .query_row(
            "SELECT (SELECT count(*) FROM channels), (SELECT count(*) FROM slaves)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((channels, slaves), (1, 1), "keys are not filed twice");
    let (fid, gen, data_type, sig_type): (i64, i64, String, String) = c
        .query_row(
            "SELECT fragment_id, group_generation, typeof(data), typeof(signature) FROM messages WHERE message_id = ?1",
            params![(m + 1) as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((fid as u64, gen as u64), (top(4), top(4)));
    assert_eq!((data_type.as_str(), sig_type.as_str()), ("blob", "blob"));
    let max_state: i64 = c
        .query_row("SELECT max_state_message_id FROM channels", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(max_state as u64, m + 1);
    let memberships: i64 = c
        .query_row("SELECT count(*) FROM membership", [], |r| r.get(0))
        .unwrap();
    assert_eq!(memberships, 2);
}
