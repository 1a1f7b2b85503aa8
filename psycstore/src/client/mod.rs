//! The client side of the protocol, without IO: building every request, checking every reply
//! ([`parse_reply`]), and matching replies to requests by operation id in a [`Session`], which
//! the blocking [`Client`](crate::Client) and an in-loop client of the runtime both drive.
//! Mirrors what `psycstore_api.c` puts on the wire (`psycstore.md` §6).
//!
//! Operation ids come from [`OpIds`]: per connection, starting at 1, never 0.
//!
//! One deliberate difference (gap S6): [`state_sync`] marks the last variable LAST even when it
//! is also the first, so a one-variable snapshot is installed.

use gnunet_service::crypto::HashCode;
use gnunet_service::wire::Message;

use crate::fragment::Fragment;
use crate::keys::{ChannelKey, SlaveKey};
use crate::msg::{
    CountersGet, FragmentGet, FragmentStore, MembershipStore, MembershipTest, MessageGet,
    MessageGetFragment, Reply, RequestError, RequestHead, StateGet, StateGetPrefix,
    StateHashUpdate, StateModify, StateReset, StateSync, STATE_OP_FIRST, STATE_OP_LAST,
};

mod session;

pub use session::{Event, Outcome, Reconnect, Session, SessionError, DEFAULT_MAX_PENDING};

/// Why a request could not be built or a reply not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request would exceed the 65535-byte message limit.
    #[error("request of {0} bytes exceeds the message size limit")]
    TooLarge(usize),
    /// A name contains a NUL byte (it is sent as a C string) or is too short.
    #[error("invalid variable name or prefix")]
    InvalidName,
    /// A state sync needs at least one variable.
    #[error("state sync without variables")]
    EmptySync,
    /// The service sent something the C library would reject.
    #[error("bad reply: {0}")]
    BadReply(#[from] RequestError),
    /// A RESULT_STATE whose name is shorter than two characters (the C library rejects it).
    #[error("RESULT_STATE with a name shorter than two characters")]
    ShortStateName,
    /// The session already has this many operations open.
    #[error("{0} operations are open already")]
    TooManyPending(usize),
    /// A builder gave something that is not a PSYCstore request (its type, if any).
    #[error("not a PSYCstore request (type {0:?})")]
    NotARequest(Option<u16>),
}

/// Operation ids of one connection: 1, 2, 3, … (0 is never used).
#[derive(Debug, Clone, Default)]
pub struct OpIds {
    last: u64,
}

impl OpIds {
    /// A fresh sequence.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next id.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.last = self.last.wrapping_add(1);
        if self.last == 0 {
            self.last = 1;
        }
        self.last
    }
}

/// [`ClientError::TooLarge`] if `message` would exceed the size limit.
fn within_limit<M: Message>(message: &M) -> Result<(), ClientError> {
    message
        .checked_size()
        .map(drop)
        .map_err(|e| ClientError::TooLarge(e.size))
}

/// The complete message, if it fits the size limit.
fn checked<M: Message>(message: M) -> Result<Vec<u8>, ClientError> {
    message
        .try_to_message()
        .map_err(|e| ClientError::TooLarge(e.size))
}

fn c_name(name: &[u8], min_len: usize) -> Result<(), ClientError> {
    if name.len() < min_len || name.contains(&0) {
        Err(ClientError::InvalidName)
    } else {
        Ok(())
    }
}

/// The slave key and test flag of a read: no key means no membership test.
fn requester(slave: Option<&SlaveKey>) -> (SlaveKey, u8) {
    match slave {
        Some(key) => (*key, 1),
        None => (SlaveKey::default(), 0),
    }
}

/// MEMBERSHIP_STORE: `slave` joined (`did_join`) or left the channel.
pub fn membership_store(
    op_id: u64,
    channel_key: &ChannelKey,
    slave_key: &SlaveKey,
    did_join: bool,
    announced_at: u64,
    effective_since: u64,
    group_generation: u64,
) -> Vec<u8> {
    MembershipStore {
        head: RequestHead::new(op_id, *channel_key),
        slave_key: *slave_key,
        announced_at,
        effective_since,
        group_generation,
        did_join: u8::from(did_join),
    }
    .to_message()
}

/// MEMBERSHIP_TEST: may `slave` read `message_id`?
pub fn membership_test(
    op_id: u64,
    channel_key: &ChannelKey,
    slave_key: &SlaveKey,
    message_id: u64,
    group_generation: u64,
) -> Vec<u8> {
    MembershipTest {
        head: RequestHead::new(op_id, *channel_key),
        slave_key: *slave_key,
        message_id,
        group_generation,
    }
    .to_message()
}

/// FRAGMENT_STORE of `fragment` with `psycstore_flags`.
pub fn fragment_store(
    op_id: u64,
    channel_key: &ChannelKey,
    fragment: &Fragment,
    psycstore_flags: u32,
) -> Result<Vec<u8>, ClientError> {
    checked(FragmentStore {
        psycstore_flags,
        channel_key: *channel_key,
        op_id,
        fragment: fragment.clone(),
    })
}

/// FRAGMENT_GET of the ids `first..=last`; with `slave`, the service tests its membership.
pub fn fragment_get(
    op_id: u64,
    channel_key: &ChannelKey,
    slave: Option<&SlaveKey>,
    first_fragment_id: u64,
    last_fragment_id: u64,
) -> Vec<u8> {
    fragment_get_request(
        op_id,
        channel_key,
        slave,
        (first_fragment_id, last_fragment_id),
        0,
    )
}

/// FRAGMENT_GET of the `limit` newest fragments (`limit` > 0; 0 would mean the range 0..=0).
pub fn fragment_get_latest(
    op_id: u64,
    channel_key: &ChannelKey,
    slave: Option<&SlaveKey>,
    limit: u64,
) -> Vec<u8> {
    fragment_get_request(op_id, channel_key, slave, (0, 0), limit)
}

/// FRAGMENT_GET of the id range `(first, last)`, or of the `fragment_limit` newest if that is
/// not 0 (the service then ignores the range).
fn fragment_get_request(
    op_id: u64,
    channel_key: &ChannelKey,
    slave: Option<&SlaveKey>,
    (first_fragment_id, last_fragment_id): (u64, u64),
    fragment_limit: u64,
) -> Vec<u8> {
    let (slave_key, do_membership_test) = requester(slave);
    FragmentGet {
        head: RequestHead::new(op_id, *channel_key),
        slave_key,
        first_fragment_id,
        last_fragment_id,
        fragment_limit,
        do_membership_test,
    }
    .to_message()
}

/// MESSAGE_GET of the messages `first..=last`, at most `fragment_limit` fragments (0 = all).
pub fn message_get(
    op_id: u64,
    channel_key: &ChannelKey,
    slave: Option<&SlaveKey>,
    first_message_id: u64,
    last_message_id: u64,
    fragment_limit: u64,
    method_prefix: &[u8],
) -> Result<Vec<u8>, ClientError> {
    message_get_request(
        op_id,
        channel_key,
        slave,
        (first_message_id, last_message_id),
        (0, fragment_limit),
        method_prefix,
    )
}

/// MESSAGE_GET of the `limit` newest messages (`limit` > 0).
pub fn message_get_latest(
    op_id: u64,
    channel_key: &ChannelKey,
    slave: Option<&SlaveKey>,
    limit: u64,
    method_prefix: &[u8],
) -> Result<Vec<u8>, ClientError> {
    message_get_request(op_id, channel_key, slave, (0, 0), (limit, 0), method_prefix)
}

/// MESSAGE_GET of the id range `(first, last)` with `(message_limit, fragment_limit)`; a
/// message limit other than 0 asks for that many newest messages instead of the range.
fn message_get_request(
    op_id: u64,
    channel_key: &ChannelKey,
    slave: Option<&SlaveKey>,
    (first_message_id, last_message_id): (u64, u64),
    (message_limit, fragment_limit): (u64, u64),
    method_prefix: &[u8],
) -> Result<Vec<u8>, ClientError> {
    c_name(method_prefix, 0)?;
    let (slave_key, do_membership_test) = requester(slave);
    checked(MessageGet {
        head: RequestHead::new(op_id, *channel_key),
        slave_key,
        first_message_id,
        last_message_id,
        message_limit,
        fragment_limit,
        do_membership_test,
        method_prefix: method_prefix.to_vec(),
    })
}

/// MESSAGE_GET_FRAGMENT: the fragment of `message_id` at `fragment_offset`.
pub fn message_get_fragment(
    op_id: u64,
    channel_key: &ChannelKey,
    slave: Option<&SlaveKey>,
    message_id: u64,
    fragment_offset: u64,
) -> Vec<u8> {
    let (slave_key, do_membership_test) = requester(slave);
    MessageGetFragment {
        head: RequestHead::new(op_id, *channel_key),
        slave_key,
        message_id,
        fragment_offset,
        do_membership_test,
    }
    .to_message()
}

/// COUNTERS_GET; answered by one RESULT_COUNTERS.
pub fn counters_get(op_id: u64, channel_key: &ChannelKey) -> Vec<u8> {
    CountersGet {
        head: RequestHead::new(op_id, *channel_key),
    }
    .to_message()
}

/// STATE_MODIFY: apply the state modifiers of stored message `message_id`.
pub fn state_modify(
    op_id: u64,
    channel_key: &ChannelKey,
    message_id: u64,
    state_delta: u64,
) -> Vec<u8> {
    StateModify {
        op_id,
        message_id,
        state_delta,
        channel_key: *channel_key,
    }
    .to_message()
}

/// STATE_SYNC of a whole snapshot: one message per variable, each with its own op id taken
/// from `op_ids`; FIRST on the first, LAST on the last. Returns (op id, message) pairs.
pub fn state_sync(
    op_ids: &mut OpIds,
    channel_key: &ChannelKey,
    max_state_message_id: u64,
    state_hash_message_id: u64,
    variables: &[(&[u8], &[u8])],
) -> Result<Vec<(u64, Vec<u8>)>, ClientError> {
    if variables.is_empty() {
        return Err(ClientError::EmptySync);
    }
    let last = variables.len() - 1;
    let mut requests = Vec::with_capacity(variables.len());
    for (i, (name, value)) in variables.iter().enumerate() {
        c_name(name, 2)?;
        let mut flags = 0;
        if i == 0 {
            flags |= STATE_OP_FIRST;
        }
        if i == last {
            flags |= STATE_OP_LAST;
        }
        let request = StateSync::new(
            0,
            *channel_key,
            flags,
            max_state_message_id,
            state_hash_message_id,
            name,
            value,
        );
        // checked before any op id is taken, so a refused snapshot uses none
        within_limit(&request)?;
        requests.push(request);
    }
    Ok(requests
        .into_iter()
        .map(|mut request| {
            request.op_id = op_ids.next();
            (request.op_id, request.to_message())
        })
        .collect())
}

/// STATE_RESET: delete the channel's state.
pub fn state_reset(op_id: u64, channel_key: &ChannelKey) -> Vec<u8> {
    StateReset {
        head: RequestHead::new(op_id, *channel_key),
    }
    .to_message()
}

/// STATE_HASH_UPDATE with the hash of the full state.
pub fn state_hash_update(op_id: u64, channel_key: &ChannelKey, hash: &HashCode) -> Vec<u8> {
    StateHashUpdate {
        head: RequestHead::new(op_id, *channel_key),
        hash: *hash,
    }
    .to_message()
}

/// STATE_GET of the best match for `name` (at least two characters).
pub fn state_get(
    op_id: u64,
    channel_key: &ChannelKey,
    name: &[u8],
) -> Result<Vec<u8>, ClientError> {
    c_name(name, 2)?;
    checked(StateGet::new(op_id, *channel_key, name))
}

/// STATE_GET_PREFIX of every variable starting with `prefix` (at least one character).
pub fn state_get_prefix(
    op_id: u64,
    channel_key: &ChannelKey,
    prefix: &[u8],
) -> Result<Vec<u8>, ClientError> {
    c_name(prefix, 1)?;
    checked(StateGetPrefix::new(op_id, *channel_key, prefix))
}

/// Decodes one message from the service, with the C library's checks.
/// [`Reply::ResultCode`] and [`Reply::Counters`] complete an operation; fragments and states
/// are data for it.
pub fn parse_reply(bytes: &[u8]) -> Result<Reply, ClientError> {
    let reply = Reply::decode(bytes)?;
    if let Reply::State(s) = &reply {
        // name_size (name + NUL) must exceed 2
        if s.name.len() < 2 {
            return Err(ClientError::ShortStateName);
        }
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Request, ResultCode};

    const K: ChannelKey = ChannelKey([1; 32]);
    const S: SlaveKey = SlaveKey([2; 32]);

    #[test]
    fn op_ids_start_at_one() {
        let mut ids = OpIds::new();
        assert_eq!((ids.next(), ids.next()), (1, 2));
    }

    #[test]
    fn requests_decode_as_the_service_sees_them() {
        let m = fragment_get_latest(5, &K, None, 3);
        match Request::decode(&m).unwrap() {
            Request::FragmentGet(r) => {
                assert_eq!((r.fragment_limit, r.do_membership_test), (3, 0));
                assert_eq!(r.slave_key, SlaveKey::default());
            }
            other => panic!("{other:?}"),
        }
        let m = message_get(6, &K, Some(&S), 1, 2, 0, b"").unwrap();
        match Request::decode(&m).unwrap() {
            Request::MessageGet(r) => {
                assert_eq!((r.do_membership_test, r.slave_key), (1, S));
                assert_eq!(m.len(), 114, "an empty prefix is one NUL byte");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn state_sync_marks_first_and_last() {
        let mut ids = OpIds::new();
        let one = state_sync(&mut ids, &K, 1, 2, &[(b"_a", b"1")]).unwrap();
        assert_eq!(one[0].1[6], STATE_OP_FIRST | STATE_OP_LAST);
        let three = state_sync(
            &mut ids,
            &K,
            1,
            2,
            &[(b"_a", b"1"), (b"_b", b"2"), (b"_c", b"3")],
        )
        .unwrap();
        let flags: Vec<u8> = three.iter().map(|(_, m)| m[6]).collect();
        assert_eq!(flags, vec![STATE_OP_FIRST, 0, STATE_OP_LAST]);
        assert_eq!(
            three.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert_eq!(
            state_sync(&mut ids, &K, 1, 2, &[]),
            Err(ClientError::EmptySync)
        );
    }

    #[test]
    fn bad_names_and_sizes_are_refused() {
        assert_eq!(state_get(1, &K, b"_"), Err(ClientError::InvalidName));
        assert_eq!(state_get(1, &K, b"_a\0b"), Err(ClientError::InvalidName));
        assert!(state_get_prefix(1, &K, b"_").is_ok());
        assert!(matches!(
            state_get(1, &K, &vec![b'a'; 70000]),
            Err(ClientError::TooLarge(_))
        ));
    }

    #[test]
    fn replies_are_parsed() {
        let r = parse_reply(&ResultCode::new(9, -2).to_message()).unwrap();
        assert_eq!(r, Reply::ResultCode(ResultCode::new(9, -2)));
        let short = crate::msg::StateResult {
            op_id: 1,
            name: b"_".to_vec(),
            value: vec![],
        }
        .to_message();
        assert_eq!(parse_reply(&short), Err(ClientError::ShortStateName));
    }
}
