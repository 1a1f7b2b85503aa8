//! The database schema: the C sqlite plugin's tables, columns, types and index, unchanged, so
//! that a database written by the C service opens and works as is (`psycstore.md` §8.2).
//!
//! Every statement uses `IF NOT EXISTS`; running them against an existing C database changes
//! nothing.

/// `CREATE` statements, in the order the C plugin runs them.
pub const CREATE_STATEMENTS: [&str; 7] = [
    "CREATE TABLE IF NOT EXISTS channels (
        id INTEGER PRIMARY KEY,
        pub_key BLOB(32) UNIQUE,
        max_state_message_id INTEGER,
        state_hash_message_id INTEGER
    )",
    "CREATE TABLE IF NOT EXISTS slaves (
        id INTEGER PRIMARY KEY,
        pub_key BLOB(32) UNIQUE
    )",
    "CREATE TABLE IF NOT EXISTS membership (
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        slave_id INTEGER NOT NULL REFERENCES slaves(id),
        did_join INTEGER NOT NULL,
        announced_at INTEGER NOT NULL,
        effective_since INTEGER NOT NULL,
        group_generation INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS idx_membership_channel_id_slave_id
        ON membership (channel_id, slave_id)",
    "CREATE TABLE IF NOT EXISTS messages (
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        hop_counter INTEGER NOT NULL,
        signature BLOB,
        purpose BLOB,
        fragment_id INTEGER NOT NULL,
        fragment_offset INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        group_generation INTEGER NOT NULL,
        multicast_flags INTEGER NOT NULL,
        psycstore_flags INTEGER NOT NULL,
        data BLOB,
        PRIMARY KEY (channel_id, fragment_id),
        UNIQUE (channel_id, message_id, fragment_offset)
    )",
    "CREATE TABLE IF NOT EXISTS state (
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        name TEXT NOT NULL,
        value_current BLOB,
        value_signed BLOB,
        PRIMARY KEY (channel_id, name)
    )",
    "CREATE TABLE IF NOT EXISTS state_sync (
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        name TEXT NOT NULL,
        value BLOB,
        PRIMARY KEY (channel_id, name)
    )",
];
