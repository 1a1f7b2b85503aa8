//! The sqlite backend, on the C plugin's schema ([`super::schema`]).
//!
//! One connection, WAL journal, cached prepared statements, and one transaction per
//! [`Store::apply`] batch. Names are bound as TEXT (built from raw bytes with `CAST(? AS TEXT)`
//! so that non-UTF-8 names survive), values and keys as BLOBs, integers as signed 64-bit —
//! exactly the representation the C plugin writes, so either can read the other's rows.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};
use tracing::warn;

use super::{
    schema, MessageCounters, Position, Scan, StateVar, Store, StoreError, StoredFragment, WriteOp,
    WriteResult, MAX_STORABLE_ID,
};
use crate::fragment::{generation_column, generation_from_column, Fragment, MAX_PAYLOAD};
use crate::keys::{ChannelKey, SlaveKey};
use gnunet_service::crypto::eddsa::Signature;
use gnunet_service::crypto::purpose::SignaturePurpose;
use gnunet_service::wire::Codec;

mod state;

/// How hard sqlite pushes commits to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// `synchronous=NORMAL` (the C plugin's setting): in WAL mode a power loss may undo the
    /// last commits, never corrupt the database.
    Normal,
    /// `synchronous=FULL`: a committed batch survives a power loss. With group commit the
    /// fsync is paid once per batch.
    Full,
}

/// Options for [`SqliteStore::open`].
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Durability of commits.
    pub synchronous: Synchronous,
    /// `locking_mode=EXCLUSIVE`, as the C plugin does: no other process may open the database
    /// while the service runs.
    pub exclusive: bool,
    /// How long to wait for a lock held by someone else.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            exclusive: true,
            busy_timeout: Duration::from_millis(1000),
        }
    }
}

/// PSYCstore on an sqlite database.
pub struct SqliteStore {
    conn: Connection,
    /// The channel key last filed in the current batch's transaction.
    channel_filed: Option<ChannelKey>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.conn.path())
            .finish()
    }
}

trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite { context, source })
    }
}

/// `value` as a database integer, or [`StoreError::OutOfRange`].
fn storable(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field, value })
}

/// `value` clamped to the storable ids, for the upper end of a range.
fn clamp(value: u64) -> i64 {
    value.min(MAX_STORABLE_ID) as i64
}

/// The smallest byte string greater than every string starting with `prefix`, if any.
fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last < u8::MAX {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}

/// Reads a TEXT or BLOB column as bytes (NULL = empty).
fn bytes_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Vec<u8>> {
    use rusqlite::types::ValueRef;
    Ok(match row.get_ref(idx)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
        _ => Vec::new(),
    })
}

/// Copies up to `N` bytes of a BLOB column into a zeroed array (the C plugin copies the
/// column as is; a shorter or missing blob leaves zeros).
fn array_at<const N: usize>(row: &Row<'_>, idx: usize) -> rusqlite::Result<[u8; N]> {
    let bytes = bytes_at(row, idx)?;
    let mut out = [0u8; N];
    let n = bytes.len().min(N);
    out[..n].copy_from_slice(&bytes[..n]);
    Ok(out)
}

/// Columns selected for a fragment, in the order [`fragment_from_row`] reads them.
const FRAGMENT_COLUMNS: &str = "hop_counter, signature, purpose, fragment_id, fragment_offset, \
     message_id, group_generation, multicast_flags, psycstore_flags, data";

/// The id of channel `?1`, as the C plugin's statements look it up.
const CHANNEL_ID: &str = "(SELECT id FROM channels WHERE pub_key = ?1)";

/// Largest payload a stored fragment may have to be sent back in a RESULT_FRAGMENT.
const MAX_RESULT_PAYLOAD: usize =
    gnunet_service::wire::MAX_MESSAGE_SIZE - 16 - crate::fragment::FRAGMENT_HEADER_SIZE;

struct RawFragment(Result<StoredFragment, StoreError>);

fn fragment_from_row(row: &Row<'_>) -> rusqlite::Result<RawFragment> {
    let payload = bytes_at(row, 9)?;
    if payload.len() > MAX_RESULT_PAYLOAD {
        return Ok(RawFragment(Err(StoreError::Corrupt(
            "fragment payload too large for a RESULT_FRAGMENT",
        ))));
    }
    let purpose: [u8; 8] = array_at(row, 2)?;
    let [s0, s1, s2, s3, p0, p1, p2, p3] = purpose;
    let fragment = Fragment {
        hop_counter: row.get::<_, i64>(0)? as u32,
        signature: Signature(array_at(row, 1)?),
        // kept verbatim, as the C plugin copies the blob
        purpose: SignaturePurpose {
            size: u32::from_be_bytes([s0, s1, s2, s3]),
            purpose: u32::from_be_bytes([p0, p1, p2, p3]),
        },
        fragment_id: row.get::<_, i64>(3)? as u64,
        fragment_offset: row.get::<_, i64>(4)? as u64,
        message_id: row.get::<_, i64>(5)? as u64,
        group_generation: generation_from_column(row.get::<_, i64>(6)? as u64),
        flags: row.get::<_, i64>(7)? as u32,
        payload,
    };
    Ok(RawFragment(Ok(StoredFragment {
        fragment,
        psycstore_flags: row.get::<_, i64>(8)? as u32,
    })))
}

impl SqliteStore {
    /// Opens (creating if needed, with its directory) the database at `path`.
    pub fn open(path: &Path, options: &SqliteOptions) -> Result<Self, StoreError> {
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let conn = Connection::open(path).ctx("opening the database")?;
        Self::setup(conn, options)
    }

    /// A private in-memory database (tests, tools).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().ctx("opening an in-memory database")?;
        Self::setup(conn, &SqliteOptions::default())
    }

    fn setup(conn: Connection, options: &SqliteOptions) -> Result<Self, StoreError> {
        conn.busy_timeout(options.busy_timeout)
            .ctx("setting the busy timeout")?;
        conn.set_prepared_statement_cache_capacity(64);
        // Settings of the C plugin; the file-format ones only matter for a new database.
        for pragma in [
            "PRAGMA temp_store=MEMORY",
            "PRAGMA auto_vacuum=INCREMENTAL",
            "PRAGMA encoding=\"UTF-8\"",
            "PRAGMA page_size=4096",
        ] {
            if let Err(e) = conn.execute_batch(pragma) {
                warn!("{pragma} failed: {e}");
            }
        }
        if options.exclusive {
            conn.query_row("PRAGMA locking_mode=EXCLUSIVE", [], |_| Ok(()))
                .ctx("setting the locking mode")?;
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .ctx("switching to WAL")?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            warn!("database journal mode is {mode}, not WAL");
        }
        let sync = match options.synchronous {
            Synchronous::Normal => "PRAGMA synchronous=NORMAL",
            Synchronous::Full => "PRAGMA synchronous=FULL",
        };
        conn.execute_batch(sync).ctx("setting synchronous")?;
        for statement in schema::CREATE_STATEMENTS {
            conn.execute_batch(statement).ctx("creating the schema")?;
        }
        Ok(Self {
            conn,
            channel_filed: None,
        })
    }

    /// The underlying connection, for inspection (tests, maintenance tools). Writing through
    /// it bypasses the batching rules.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn run(&self, sql: &'static str, context: &'static str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
            .ctx(context)
    }

    fn store_channel_key(&mut self, channel: &ChannelKey) -> Result<(), StoreError> {
        // Consecutive writes of a batch are mostly for one channel; rows of `channels` are
        // never deleted, so once filed in this transaction it stays filed.
        if self.channel_filed == Some(*channel) {
            return Ok(());
        }
        self.execute_for_channel(
            "INSERT OR IGNORE INTO channels (pub_key) VALUES (?1)",
            channel,
            "storing a channel key",
        )?;
        self.channel_filed = Some(*channel);
        Ok(())
    }

    fn store_slave_key(&self, slave: &SlaveKey) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO slaves (pub_key) VALUES (?1)")
            .and_then(|mut s| s.execute(params![&slave.0[..]]))
            .map(|_| ())
            .ctx("storing a slave key")
    }

    fn write(&mut self, op: &WriteOp) -> WriteResult {
        match op {
            WriteOp::MembershipStore {
                channel,
                slave,
                did_join,
                announced_at,
                effective_since,
                group_generation,
            } => {
                let announced_at = storable("announced_at", *announced_at)?;
                let effective_since = storable("effective_since", *effective_since)?;
                let group_generation = storable("group_generation", *group_generation)?;
                self.store_channel_key(channel)?;
                self.store_slave_key(slave)?;
                self.conn
                    .prepare_cached(
                        "INSERT INTO membership (channel_id, slave_id, did_join, announced_at, \
                         effective_since, group_generation) \
                         VALUES ((SELECT id FROM channels WHERE pub_key = ?1), \
                                 (SELECT id FROM slaves WHERE pub_key = ?2), ?3, ?4, ?5, ?6)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            &channel.0[..],
                            &slave.0[..],
                            i64::from(*did_join),
                            announced_at,
                            effective_since,
                            group_generation
                        ])
                    })
                    .ctx("storing membership")?;
                Ok(true)
            }
            WriteOp::FragmentStore {
                channel,
                fragment,
                psycstore_flags,
            } => {
                let f = fragment;
                let fragment_id = storable("fragment_id", f.fragment_id)?;
                let fragment_offset = storable("fragment_offset", f.fragment_offset)?;
                let message_id = storable("message_id", f.message_id)?;
                // the C plugin files the generation read big-endian, and refuses it above 2^63−1
                let group_generation = storable("group_generation", generation_column(f))?;
                if f.payload.len() > MAX_PAYLOAD {
                    return Err(StoreError::OutOfRange {
                        field: "fragment payload length",
                        value: f.payload.len() as u64,
                    });
                }
                self.store_channel_key(channel)?;
                self.conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO messages (channel_id, hop_counter, signature, \
                         purpose, fragment_id, fragment_offset, message_id, group_generation, \
                         multicast_flags, psycstore_flags, data) \
                         VALUES ((SELECT id FROM channels WHERE pub_key = ?1), \
                                 ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            &channel.0[..],
                            i64::from(f.hop_counter),
                            &f.signature.0[..],
                            f.purpose.to_vec(),
                            fragment_id,
                            fragment_offset,
                            message_id,
                            group_generation,
                            i64::from(f.flags),
                            i64::from(*psycstore_flags),
                            &f.payload[..]
                        ])
                    })
                    .ctx("storing a fragment")?;
                Ok(true)
            }
            WriteOp::MessageAddFlags {
                channel,
                message_id,
                flags,
            } => {
                let Ok(message_id) = i64::try_from(*message_id) else {
                    return Ok(false);
                };
                let changed = self
                    .conn
                    .prepare_cached(
                        "UPDATE messages SET psycstore_flags = psycstore_flags | ?2 \
                         WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                         AND message_id = ?3 AND fragment_offset = 0",
                    )
                    .and_then(|mut s| {
                        s.execute(params![&channel.0[..], i64::from(*flags), message_id])
                    })
                    .ctx("adding message flags")?;
                Ok(changed > 0)
            }
            WriteOp::StateModify {
                channel,
                message_id,
                state_delta,
            } => self.state_modify(channel, *message_id, *state_delta),
            WriteOp::StateSync {
                channel,
                first,
                last,
                name,
                value,
                max_state_message_id,
                state_hash_message_id,
            } => self.state_sync(
                channel,
                *first,
                *last,
                name,
                value,
                *max_state_message_id,
                *state_hash_message_id,
            ),
            WriteOp::StateReset { channel } => self.state_reset(channel),
            WriteOp::StateUpdateSigned { channel } => self.state_update_signed(channel),
        }
    }

    fn set_channel_counter(
        &self,
        sql: &'static str,
        channel: &ChannelKey,
        value: u64,
    ) -> Result<(), StoreError> {
        // Stored bit for bit, as the C plugin binds the u64 as int64 and reads it back.
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params![&channel.0[..], value as i64]))
            .map(|_| ())
            .ctx("updating channel counters")
    }

    fn query_fragments(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredFragment>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .ctx("preparing a fragment query")?;
        let rows = stmt
            .query_map(params, fragment_from_row)
            .ctx("querying fragments")?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.ctx("reading a fragment")?.0?);
        }
        Ok(out)
    }

    /// Runs `sql`, whose one parameter `?1` is `channel`'s key.
    fn execute_for_channel(
        &self,
        sql: &str,
        channel: &ChannelKey,
        context: &'static str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params![&channel.0[..]]))
            .map(drop)
            .ctx(context)
    }

    /// Where a scan of the `n` latest fragments or messages of channel `key` ends: its highest
    /// fragment id; `None` if there is nothing to scan (`n` is 0 or the channel has no
    /// fragments).
    fn latest_scan_end(&self, key: &[u8], n: u64) -> Result<Option<i64>, StoreError> {
        if n == 0 {
            return Ok(None);
        }
        self.optional_i64(
            "SELECT max(fragment_id) FROM messages \
             WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1)",
            params![key],
            "finding the newest fragment",
        )
    }

    fn optional_i64(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        context: &'static str,
    ) -> Result<Option<i64>, StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_row(params, |r| r.get::<_, Option<i64>>(0))
                    .optional()
            })
            .map(Option::flatten)
            .ctx(context)
    }
}

impl Store for SqliteStore {
    fn apply(&mut self, batch: &[WriteOp]) -> Vec<WriteResult> {
        if batch.is_empty() {
            return Vec::new();
        }
        let all_failed = |why: String| {
            batch
                .iter()
                .map(|_| Err(StoreError::Commit(why.clone())))
                .collect()
        };
        if let Err(e) = self.run("BEGIN IMMEDIATE", "beginning a batch") {
            return all_failed(e.to_string());
        }
        let mut results = Vec::with_capacity(batch.len());
        self.channel_filed = None;
        for op in batch {
            // A fragment store needs no savepoint: its checks run before any statement, and of
            // its two statements the first (filing the channel key) is harmless on its own.
            // Skipping it nearly doubles the throughput of fragment batches.
            if let WriteOp::FragmentStore { .. } = op {
                let result = self.write(op);
                if let Err(e) = &result {
                    warn!("psycstore write failed: {e}");
                }
                results.push(result);
                continue;
            }
            let result = match self.run("SAVEPOINT write", "opening a savepoint") {
                Err(e) => Err(e),
                Ok(()) => {
                    let result = self.write(op);
                    let undo = if result.is_err() {
                        // the undone write may have filed the channel key
                        self.channel_filed = None;
                        self.run("ROLLBACK TO write", "undoing a failed write")
                    } else {
                        Ok(())
                    };
                    match (undo, self.run("RELEASE write", "closing a savepoint")) {
                        (Err(e), _) | (Ok(()), Err(e)) => {
                            let _ = self.run("ROLLBACK", "abandoning the batch");
                            return all_failed(e.to_string());
                        }
                        _ => result,
                    }
                }
            };
            if let Err(e) = &result {
                warn!("psycstore write failed: {e}");
            }
            results.push(result);
        }
        if let Err(e) = self.run("COMMIT", "committing a batch") {
            let _ = self.run("ROLLBACK", "abandoning the batch");
            return all_failed(e.to_string());
        }
        results
    }

    fn membership_test(
        &mut self,
        channel: &ChannelKey,
        slave: &SlaveKey,
        message_id: u64,
    ) -> Result<bool, StoreError> {
        // The latest event in force decides: a part (did_join 0) announced after the join
        // revokes it (gap S4: C looked at join events only, so nobody ever left).
        self.conn
            .prepare_cached(
                "SELECT did_join FROM membership \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 AND slave_id = (SELECT id FROM slaves WHERE pub_key = ?2) \
                 AND (effective_since <= ?3 OR did_join = 0) \
                 ORDER BY announced_at DESC, rowid DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![&channel.0[..], &slave.0[..], clamp(message_id)],
                    |row| row.get::<_, i64>(0),
                )
                .optional()
            })
            .map(|did_join| did_join.is_some_and(|d| d != 0))
            .ctx("testing membership")
    }

    fn fragment_page(
        &mut self,
        channel: &ChannelKey,
        scan: &Scan,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Vec<StoredFragment>, StoreError> {
        let limit = limit.min(i64::MAX as usize) as i64;
        let key = &channel.0[..];
        match *scan {
            Scan::FragmentIds { first, last } => {
                let start = match after {
                    Some(Position::FragmentId(id)) => id.checked_add(1),
                    _ => Some(first),
                };
                let Some(start) = start.filter(|s| *s <= MAX_STORABLE_ID) else {
                    return Ok(Vec::new());
                };
                let sql = format!(
                    "SELECT {FRAGMENT_COLUMNS} FROM messages WHERE channel_id = {CHANNEL_ID} \
                     AND fragment_id >= ?2 AND fragment_id <= ?3 ORDER BY fragment_id LIMIT ?4"
                );
                self.query_fragments(&sql, params![key, start as i64, clamp(last), limit])
            }
            Scan::MessageIds { first, last } => {
                if first > MAX_STORABLE_ID {
                    return Ok(Vec::new());
                }
                // fragment offsets are never negative, so (first, -1) starts at `first`
                let (message, offset) = match after {
                    Some(Position::MessageOffset(m, o)) => (clamp(m), clamp(o)),
                    _ => (first as i64, -1),
                };
                let sql = format!(
                    "SELECT {FRAGMENT_COLUMNS} FROM messages WHERE channel_id = {CHANNEL_ID} \
                     AND (message_id, fragment_offset) > (?2, ?3) AND message_id <= ?4 \
                     ORDER BY message_id, fragment_offset LIMIT ?5"
                );
                self.query_fragments(&sql, params![key, message, offset, clamp(last), limit])
            }
            Scan::MessagesFrom {
                min_message_id,
                first_fragment_id,
                last_fragment_id,
            } => {
                let start = match after {
                    Some(Position::FragmentId(id)) => id.checked_add(1),
                    _ => Some(first_fragment_id),
                };
                let Some(start) = start.filter(|s| *s <= MAX_STORABLE_ID) else {
                    return Ok(Vec::new());
                };
                if min_message_id > MAX_STORABLE_ID {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {FRAGMENT_COLUMNS} FROM messages WHERE channel_id = {CHANNEL_ID} \
                     AND message_id >= ?2 AND fragment_id >= ?3 AND fragment_id <= ?4 \
                     ORDER BY fragment_id LIMIT ?5"
                );
                self.query_fragments(
                    &sql,
                    params![
                        key,
                        min_message_id as i64,
                        start as i64,
                        clamp(last_fragment_id),
                        limit
                    ],
                )
            }
        }
    }

    fn latest_fragments_scan(
        &mut self,
        channel: &ChannelKey,
        n: u64,
    ) -> Result<Option<Scan>, StoreError> {
        let key = &channel.0[..];
        let Some(last) = self.latest_scan_end(key, n)? else {
            return Ok(None);
        };
        let first = self
            .optional_i64(
                "SELECT fragment_id FROM messages \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 ORDER BY fragment_id DESC LIMIT 1 OFFSET ?2",
                params![key, clamp(n - 1)],
                "finding the oldest of the latest fragments",
            )?
            .unwrap_or(0);
        Ok(Some(Scan::FragmentIds {
            first: first.max(0) as u64,
            last: last.max(0) as u64,
        }))
    }

    fn latest_messages_scan(
        &mut self,
        channel: &ChannelKey,
        n: u64,
    ) -> Result<Option<Scan>, StoreError> {
        let key = &channel.0[..];
        let Some(last) = self.latest_scan_end(key, n)? else {
            return Ok(None);
        };
        let min_message_id = self
            .optional_i64(
                "SELECT message_id FROM messages \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 GROUP BY message_id ORDER BY message_id DESC LIMIT 1 OFFSET ?2",
                params![key, clamp(n - 1)],
                "finding the oldest of the latest messages",
            )?
            .unwrap_or(0)
            .max(0);
        let first = self
            .optional_i64(
                "SELECT min(fragment_id) FROM messages \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 AND message_id >= ?2",
                params![key, min_message_id],
                "finding the first fragment of the latest messages",
            )?
            .unwrap_or(0);
        Ok(Some(Scan::MessagesFrom {
            min_message_id: min_message_id as u64,
            first_fragment_id: first.max(0) as u64,
            last_fragment_id: last.max(0) as u64,
        }))
    }

    fn message_fragment(
        &mut self,
        channel: &ChannelKey,
        message_id: u64,
        fragment_offset: u64,
    ) -> Result<Option<StoredFragment>, StoreError> {
        let (Ok(message_id), Ok(fragment_offset)) =
            (i64::try_from(message_id), i64::try_from(fragment_offset))
        else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {FRAGMENT_COLUMNS} FROM messages WHERE channel_id = {CHANNEL_ID} \
             AND message_id = ?2 AND fragment_offset = ?3"
        );
        Ok(self
            .query_fragments(&sql, params![&channel.0[..], message_id, fragment_offset])?
            .into_iter()
            .next())
    }

    fn message_counters(
        &mut self,
        channel: &ChannelKey,
    ) -> Result<Option<MessageCounters>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT fragment_id, message_id, group_generation FROM messages \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 ORDER BY fragment_id DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![&channel.0[..]], |r| {
                    Ok(MessageCounters {
                        max_fragment_id: r.get::<_, i64>(0)? as u64,
                        max_message_id: r.get::<_, i64>(1)? as u64,
                        max_group_generation: r.get::<_, i64>(2)? as u64,
                    })
                })
                .optional()
            })
            .ctx("reading message counters")
    }

    fn max_state_message_id(&mut self, channel: &ChannelKey) -> Result<Option<u64>, StoreError> {
        Ok(self
            .optional_i64(
                "SELECT max_state_message_id FROM channels \
                 WHERE pub_key = ?1 AND max_state_message_id IS NOT NULL",
                params![&channel.0[..]],
                "reading the state counter",
            )?
            .map(|v| v as u64))
    }

    fn state_get(
        &mut self,
        channel: &ChannelKey,
        name: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT value_current FROM state \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 AND name = CAST(?2 AS TEXT)",
            )
            .and_then(|mut s| {
                s.query_row(params![&channel.0[..], name], |r| bytes_at(r, 0))
                    .optional()
            })
            .ctx("reading a state variable")
    }

    fn state_prefix_page(
        &mut self,
        channel: &ChannelKey,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StateVar>, StoreError> {
        let upper = prefix_upper_bound(prefix);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, value_current FROM state \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 AND name >= CAST(?2 AS TEXT) \
                 AND (?3 IS NULL OR name > CAST(?3 AS TEXT)) \
                 AND (?4 IS NULL OR name < CAST(?4 AS TEXT)) \
                 ORDER BY name LIMIT ?5",
            )
            .ctx("preparing a state prefix query")?;
        let rows = stmt
            .query_map(
                params![
                    &channel.0[..],
                    prefix,
                    after,
                    upper.as_deref(),
                    limit.min(i64::MAX as usize) as i64
                ],
                |r| {
                    Ok(StateVar {
                        name: bytes_at(r, 0)?,
                        value: bytes_at(r, 1)?,
                    })
                },
            )
            .ctx("querying state by prefix")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading state variables")
    }

    fn state_signed_page(
        &mut self,
        channel: &ChannelKey,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StateVar>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, value_signed FROM state \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                 AND value_signed IS NOT NULL \
                 AND (?2 IS NULL OR name > CAST(?2 AS TEXT)) \
                 ORDER BY name LIMIT ?3",
            )
            .ctx("preparing a signed state query")?;
        let rows = stmt
            .query_map(
                params![&channel.0[..], after, limit.min(i64::MAX as usize) as i64],
                |r| {
                    Ok(StateVar {
                        name: bytes_at(r, 0)?,
                        value: bytes_at(r, 1)?,
                    })
                },
            )
            .ctx("querying signed state")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading signed state variables")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_bounds() {
        assert_eq!(prefix_upper_bound(b"_foo"), Some(b"_fop".to_vec()));
        assert_eq!(prefix_upper_bound(&[b'a', 0xff]), Some(vec![b'b']));
        assert_eq!(prefix_upper_bound(&[0xff, 0xff]), None);
        assert_eq!(prefix_upper_bound(b""), None);
    }
}
