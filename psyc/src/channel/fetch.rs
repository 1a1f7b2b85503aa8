//! What every way of getting a channel message from the network shares — gap recovery
//! ([`receive`](super::receive)), state catch-up ([`catchup`](super::catchup)) and remote
//! history ([`remote`](super::remote)): the multicast replay request for one fragment of a
//! message, and storing a received fragment in psycstore with the flags the C service's
//! readers expect.

use multicast::msg::{Any, Fragment, ReplayIds, ReplayRequest};
use psycstore::msg::{message_flags, FragmentStore, Request as StoreRequest};

use psycstore::keys::ChannelKey;

use super::action::RecordKey;
use super::record::{Ctx, Op, Record};
use crate::format::parts::{Part, STATE_DELTA_NOT_MODIFIED};

/// The REPLAY_REQUEST for fragment `offset` (offsets count whole fragments, headers
/// included) of message `message_id`. The member key is left zero: multicast fills in the
/// member of the connection, as the C library expects.
pub(super) fn replay_request(message_id: u64, offset: u64) -> Any {
    Any::ReplayRequest(ReplayRequest {
        member_pub_key: gnunet_service::crypto::ecdsa::PublicKey([0; 32]),
        ids: ReplayIds {
            fragment_id: 0,
            message_id,
            fragment_offset: offset,
            flags: 0,
        },
        uid: 0,
    })
}

/// The psycstore flags a fragment is stored with: STATE on a message's first fragment when
/// its METHOD says the message changes channel state (the C service stored 0, so its
/// STATE_MODIFY found nothing to apply).
pub(super) fn store_flags(f: &Fragment) -> u32 {
    if f.fragment_offset != 0 {
        return 0;
    }
    match Part::parse(&f.payload) {
        Ok((Part::Method(m), _)) if m.state_delta != STATE_DELTA_NOT_MODIFIED => {
            message_flags::STATE
        }
        _ => 0,
    }
}

/// Stores fragment `f` of `record`'s channel in psycstore with `flags`; the answer is only
/// logged.
pub(super) fn store_fragment(record: &Record, f: Fragment, flags: u32, ctx: &mut Ctx<'_>) {
    store(record.key, record.store_channel(), f, flags, ctx);
}

/// [`store_fragment`] by the record's key and channel, for callers that hold part of the
/// record borrowed.
pub(super) fn store(
    record: RecordKey,
    channel_key: ChannelKey,
    f: Fragment,
    flags: u32,
    ctx: &mut Ctx<'_>,
) {
    let op_id = ctx.ops.start(Op::FragmentStore(record));
    // psycstore stores multicast's own fragment type: no conversion.
    ctx.out.store(StoreRequest::FragmentStore(FragmentStore {
        psycstore_flags: flags,
        channel_key,
        op_id,
        fragment: f,
    }));
}
