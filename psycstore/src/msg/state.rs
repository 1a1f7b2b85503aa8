//! The state requests: STATE_MODIFY (668), STATE_SYNC (669), STATE_RESET (670),
//! STATE_HASH_UPDATE (671), STATE_GET (672), STATE_GET_PREFIX (673).
//!
//! Names in STATE_SYNC, STATE_GET and STATE_GET_PREFIX are kept as the raw bytes that came in:
//! the C service answers a bad name with result −1 instead of dropping the client, so a bad
//! name must survive decoding. The `name*` accessors apply the C service's checks.

use gnunet_service::crypto::HashCode;
use gnunet_service::wire::{CString, Rest};
use gnunet_service::wire_layout;

use super::head::{operation, RequestHead};
use super::{
    TYPE_STATE_GET, TYPE_STATE_GET_PREFIX, TYPE_STATE_HASH_UPDATE, TYPE_STATE_MODIFY,
    TYPE_STATE_RESET, TYPE_STATE_SYNC,
};
use crate::keys::ChannelKey;

/// STATE_SYNC flag: first variable of a snapshot (clears the staging area).
pub const STATE_OP_FIRST: u8 = 1;
/// STATE_SYNC flag: last variable of a snapshot (installs the staged snapshot).
pub const STATE_OP_LAST: u8 = 2;

/// STATE_MODIFY (668), fixed 60 bytes: apply the state modifiers of a stored message.
/// `op_id` sits at offset **4**: this struct has no reserved word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateModify {
    /// Operation id (offset 4).
    pub op_id: u64,
    /// Stored message whose modifiers are applied (offset 12).
    pub message_id: u64,
    /// Distance to the previous stateful message; 0 = no ordering check (offset 20).
    pub state_delta: u64,
    /// Channel (offset 28).
    pub channel_key: ChannelKey,
}

wire_layout! {
    impl Message(TYPE_STATE_MODIFY) for StateModify {
        op_id,
        message_id,
        state_delta,
        channel_key,
    }
}

/// STATE_SYNC (669), 64 bytes + name + value: one variable of a full state snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateSync {
    /// Length of the name including its NUL, as sent (offset 4).
    pub name_size: u16,
    /// [`STATE_OP_FIRST`] / [`STATE_OP_LAST`] (offset 6; a reserved byte follows).
    pub flags: u8,
    /// Operation id (offset 8).
    pub op_id: u64,
    /// Message carrying the state hash (offset 16).
    pub state_hash_message_id: u64,
    /// Last stateful message before it (offset 24).
    pub max_state_message_id: u64,
    /// Channel (offset 32).
    pub channel_key: ChannelKey,
    /// Name and value as sent (offset 64).
    pub tail: Vec<u8>,
}

wire_layout! {
    impl Message(TYPE_STATE_SYNC) for StateSync {
        name_size,
        flags,
        padding(1),
        op_id,
        state_hash_message_id,
        max_state_message_id,
        channel_key,
        tail as Rest,
    }
}

impl StateSync {
    /// A well-formed request for variable `name` (without NUL) = `value`.
    pub fn new(
        op_id: u64,
        channel_key: ChannelKey,
        flags: u8,
        max_state_message_id: u64,
        state_hash_message_id: u64,
        name: &[u8],
        value: &[u8],
    ) -> Self {
        let mut tail = Vec::with_capacity(name.len() + 1 + value.len());
        tail.extend_from_slice(name);
        tail.push(0);
        tail.extend_from_slice(value);
        Self {
            name_size: (name.len() + 1).min(u16::MAX as usize) as u16,
            flags,
            op_id,
            state_hash_message_id,
            max_state_message_id,
            channel_key,
            tail,
        }
    }

    /// Name (up to its NUL) and value, if the name passes the C service's check: at least two
    /// characters, NUL-terminated at `name_size − 1`, and (our addition, gap S10) inside the
    /// message.
    pub fn name_and_value(&self) -> Option<(&[u8], &[u8])> {
        let n = self.name_size as usize;
        if n <= 2 || n > self.tail.len() || self.tail[n - 1] != 0 {
            return None;
        }
        Some((CString::as_c_reads(&self.tail[..n]), &self.tail[n..]))
    }
}

/// STATE_RESET (670), fixed 48 bytes: delete all state variables of a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateReset {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
}

wire_layout! {
    impl Message(TYPE_STATE_RESET) for StateReset { head }
}

/// STATE_HASH_UPDATE (671), fixed 112 bytes: the state hash point was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateHashUpdate {
    /// Operation id and channel (offset 4).
    pub head: RequestHead,
    /// Hash of the serialized full state (offset 48; not checked).
    pub hash: HashCode,
}

wire_layout! {
    impl Message(TYPE_STATE_HASH_UPDATE) for StateHashUpdate { head, hash }
}

operation! {
    StateModify: op_id;
    StateSync: op_id;
    StateReset: head.op_id;
    StateHashUpdate: head.op_id;
}

/// A request naming a variable (`struct OperationRequest` and a name): the message, a
/// constructor and the C service's name check, which wants more than `$min_len` bytes.
macro_rules! named_request {
    ($(#[$doc:meta])* $name:ident, $type:expr, $min_len:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            /// Operation id and channel (offset 4).
            pub head: RequestHead,
            /// The name bytes as sent, normally NUL-terminated (offset 48).
            pub name_field: Vec<u8>,
        }

        wire_layout! {
            impl Message($type) for $name { head, name_field as Rest }
        }

        operation! {
            $name: head.op_id;
        }

        impl $name {
            /// A request for `name` (without NUL).
            pub fn new(op_id: u64, channel_key: ChannelKey, name: &[u8]) -> Self {
                let mut name_field = name.to_vec();
                name_field.push(0);
                Self { head: RequestHead::new(op_id, channel_key), name_field }
            }

            /// The name up to its NUL, if it passes the C service's check: NUL-terminated and
            #[doc = concat!("longer than ", stringify!($min_len), " byte(s) including the NUL.")]
            pub fn name(&self) -> Option<&[u8]> {
                match self.name_field.last() {
                    Some(0) if self.name_field.len() > $min_len => Some(CString::as_c_reads(&self.name_field)),
                    _ => None,
                }
            }
        }
    };
}

named_request!(
    /// STATE_GET (672), 48 bytes + name: the best-matching variable of the name's family.
    StateGet,
    TYPE_STATE_GET,
    2
);

named_request!(
    /// STATE_GET_PREFIX (673), 48 bytes + prefix: every variable whose name starts with it.
    StateGetPrefix,
    TYPE_STATE_GET_PREFIX,
    1
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::tests::round_trip;
    use gnunet_service::wire::Message;
    use proptest::prelude::*;

    const K: ChannelKey = ChannelKey([3; 32]);

    fn sync() -> StateSync {
        StateSync::new(
            9,
            K,
            STATE_OP_FIRST | STATE_OP_LAST,
            10,
            11,
            b"_sync_foo",
            b"three two one",
        )
    }

    #[test]
    fn layout_and_round_trip() {
        let b = round_trip(&StateModify {
            op_id: 0x0102,
            message_id: 0x0304,
            state_delta: 0x0506,
            channel_key: K,
        });
        assert_eq!(b.len(), 60);
        assert_eq!(&b[4..12], &0x0102u64.to_be_bytes());
        assert_eq!(&b[12..20], &0x0304u64.to_be_bytes());
        assert_eq!(&b[20..28], &0x0506u64.to_be_bytes());
        assert_eq!(&b[28..60], &[3; 32]);

        let b = round_trip(&sync());
        assert_eq!(b.len(), 64 + 10 + 13);
        assert_eq!(&b[4..6], &10u16.to_be_bytes());
        assert_eq!(b[6], 3);
        assert_eq!(b[7], 0);
        assert_eq!(&b[8..16], &9u64.to_be_bytes());
        assert_eq!(&b[16..24], &11u64.to_be_bytes());
        assert_eq!(&b[24..32], &10u64.to_be_bytes());
        assert_eq!(&b[32..64], &[3; 32]);
        assert_eq!(&b[64..74], b"_sync_foo\0");

        let b = round_trip(&StateReset {
            head: RequestHead::new(4, K),
        });
        assert_eq!(b.len(), 48);
        assert_eq!(&b[2..4], &670u16.to_be_bytes());

        let b = round_trip(&StateHashUpdate {
            head: RequestHead::new(5, K),
            hash: HashCode([0x77; 64]),
        });
        assert_eq!(b.len(), 112);
        assert_eq!(&b[48..112], &[0x77; 64]);

        let b = round_trip(&StateGet::new(6, K, b"_a"));
        assert_eq!(b.len(), 48 + 3);
        assert_eq!(&b[2..4], &672u16.to_be_bytes());
        assert_eq!(&b[48..], b"_a\0");
        round_trip(&StateGet::new(6, K, b"_foo_bar"));
        let b = round_trip(&StateGetPrefix::new(6, K, b"_a"));
        assert_eq!(&b[2..4], &673u16.to_be_bytes());
    }

    #[test]
    fn name_checks_follow_the_c_service() {
        assert_eq!(
            sync().name_and_value(),
            Some((&b"_sync_foo"[..], &b"three two one"[..]))
        );
        // one character is too short for sync and get, enough for a prefix
        assert_eq!(
            StateSync::new(1, K, 0, 0, 0, b"_", b"v").name_and_value(),
            None
        );
        assert_eq!(StateGet::new(1, K, b"_").name(), None);
        assert_eq!(StateGetPrefix::new(1, K, b"_").name(), Some(&b"_"[..]));
        assert_eq!(StateGetPrefix::new(1, K, b"").name(), None);
        // missing NUL
        let mut g = StateGet::new(1, K, b"_foo");
        g.name_field.pop();
        assert_eq!(g.name(), None);
        // name_size beyond the message (gap S10) is refused, not read
        let mut s = sync();
        s.name_size = 500;
        assert_eq!(s.name_and_value(), None);
        s.name_size = 4;
        assert_eq!(s.name_and_value(), None, "byte 3 is not a NUL");
    }

    proptest! {
        #[test]
        fn sync_round_trips_any_name_and_value(
            name in proptest::collection::vec(1u8..=255, 2..40),
            value in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let s = StateSync::new(1, K, STATE_OP_LAST, 2, 3, &name, &value);
            let back = StateSync::from_message(&s.to_message()).unwrap();
            prop_assert_eq!(back.name_and_value(), Some((&name[..], &value[..])));
        }
    }
}
