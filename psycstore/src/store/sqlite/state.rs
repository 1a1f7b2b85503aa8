//! The state writes of the sqlite store: STATE_MODIFY (applying a stored message's `=`
//! assignments, found by [`Assignments`]), STATE_SYNC (staging and installing a snapshot),
//! STATE_RESET and the signing of current values.

use rusqlite::{params, ErrorCode};

use super::{Context, SqliteStore};
use crate::keys::ChannelKey;
use crate::store::assignments::Assignments;
use crate::store::{Scan, Store, StoreError, WriteResult};

impl SqliteStore {
    /// One variable of a snapshot: `first` clears the staging area, `last` installs it.
    #[allow(clippy::too_many_arguments)] // the fields of one WriteOp::StateSync
    pub(super) fn state_sync(
        &mut self,
        channel: &ChannelKey,
        first: bool,
        last: bool,
        name: &[u8],
        value: &[u8],
        max_state_message_id: u64,
        state_hash_message_id: u64,
    ) -> WriteResult {
        if first {
            self.execute_for_channel(
                "DELETE FROM state_sync \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1)",
                channel,
                "clearing staged state",
            )?;
        }
        // The C plugin fails here for a channel it has never seen; we file the key.
        self.store_channel_key(channel)?;
        let staged = self
            .conn
            .prepare_cached(
                "INSERT INTO state_sync (channel_id, name, value) \
                 VALUES ((SELECT id FROM channels WHERE pub_key = ?1), \
                         CAST(?2 AS TEXT), ?3)",
            )
            .and_then(|mut s| s.execute(params![&channel.0[..], name, value]));
        match staged {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                return Err(StoreError::DuplicateSyncName)
            }
            other => other.ctx("staging a state variable")?,
        };
        if last {
            self.state_sync_end(channel, max_state_message_id, state_hash_message_id)?;
        }
        Ok(true)
    }

    pub(super) fn state_reset(&mut self, channel: &ChannelKey) -> WriteResult {
        self.execute_for_channel(
            "DELETE FROM state \
             WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1)",
            channel,
            "resetting state",
        )?;
        Ok(true)
    }

    pub(super) fn state_update_signed(&mut self, channel: &ChannelKey) -> WriteResult {
        self.execute_for_channel(
            "UPDATE state SET value_signed = value_current \
             WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1)",
            channel,
            "updating signed state",
        )?;
        Ok(true)
    }

    fn state_sync_end(
        &self,
        channel: &ChannelKey,
        max_state_message_id: u64,
        state_hash_message_id: u64,
    ) -> Result<(), StoreError> {
        for (sql, context) in [
            (
                "DELETE FROM state WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1)",
                "replacing state",
            ),
            (
                "INSERT INTO state (channel_id, name, value_current, value_signed) \
                 SELECT channel_id, name, value, value FROM state_sync \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1)",
                "installing staged state",
            ),
            (
                "DELETE FROM state_sync \
                 WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1)",
                "clearing staged state",
            ),
        ] {
            self.execute_for_channel(sql, channel, context)?;
        }
        self.set_channel_counter(
            "UPDATE channels SET state_hash_message_id = ?2 WHERE pub_key = ?1",
            channel,
            state_hash_message_id,
        )?;
        self.set_channel_counter(
            "UPDATE channels SET max_state_message_id = ?2 WHERE pub_key = ?1",
            channel,
            max_state_message_id,
        )
    }

    pub(super) fn state_modify(
        &mut self,
        channel: &ChannelKey,
        message_id: u64,
        state_delta: u64,
    ) -> WriteResult {
        if state_delta > 0 {
            let applied = self.max_state_message_id(channel)?.unwrap_or(0);
            if message_id.wrapping_sub(state_delta) != applied {
                // earlier stateful messages missing, or this one already applied
                return Ok(false);
            }
        }
        let scan = Scan::MessageIds {
            first: message_id,
            last: message_id,
        };
        let mut parser = Assignments::new();
        let mut after = None;
        let mut fragments = 0usize;
        loop {
            let page = self.fragment_page(channel, &scan, after, 64)?;
            let Some(last) = page.last() else { break };
            after = Some(last.position_in(&scan));
            fragments += page.len();
            let mut assignments: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            for stored in &page {
                parser.feed(&stored.fragment.payload, &mut |name, value| {
                    assignments.push((name.to_vec(), value.to_vec()))
                });
            }
            for (name, value) in &assignments {
                self.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO state \
                         (channel_id, name, value_current, value_signed) \
                         VALUES ((SELECT id FROM channels WHERE pub_key = ?1), CAST(?2 AS TEXT), ?3, \
                                 (SELECT value_signed FROM state \
                                  WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
                                  AND name = CAST(?2 AS TEXT)))",
                    )
                    .and_then(|mut s| s.execute(params![&channel.0[..], &name[..], &value[..]]))
                    .ctx("assigning a state variable")?;
            }
        }
        if fragments == 0 {
            return Ok(false);
        }
        self.execute_for_channel(
            "DELETE FROM state \
             WHERE channel_id = (SELECT id FROM channels WHERE pub_key = ?1) \
             AND (value_current IS NULL OR length(value_current) = 0) \
             AND (value_signed IS NULL OR length(value_signed) = 0)",
            channel,
            "deleting emptied state variables",
        )?;
        self.set_channel_counter(
            "UPDATE channels SET max_state_message_id = ?2 WHERE pub_key = ?1",
            channel,
            message_id,
        )?;
        Ok(true)
    }
}
