//! What psycstore answers for clients and members: membership store, history replay, state
//! queries (`psyc.md` §8–§10), and the master's answers to members' replay requests.
//!
//! Results go only to the client that asked (the C service sent history results to every
//! client of the record, gap P11). History replays are filtered by method and may go on
//! from the channel: [`super::remote`]. State results keep the C service's wire form: a MODIFIER
//! part with operator byte 0 (gap P10) and result code 0.

use std::borrow::Cow;
use std::time::Instant;

use gnunet_service::wire::{Message, MAX_MESSAGE_SIZE};
use multicast::msg::{
    Any, Fragment, ReplayError, ReplayRequest, ReplayResponse, ReplayResponseEnd,
};
use psycstore::keys::ChannelKey;
use psycstore::msg::{
    FragmentGet, FragmentResult, MembershipStore as StoreMembership, MessageGet,
    MessageGetFragment, Request as StoreRequest, RequestHead, ResultCode as StoreResultCode,
    StateGet, StateGetPrefix, StateResult as StoreStateResult,
};

use super::action::{ClientId, RecordKey};
use super::record::{Op, Record};
use super::remote::Scan;
use super::Channels;
use crate::format::container::{Delivery, DeliveryHeader, DELIVERY_HISTORIC};
use crate::format::parts::{ModifierPart, Part, MODIFIER_HEADER_SIZE};
use crate::msg::{
    HistoryReplay, HistoryResult, MembershipStore, Reply, ResultCode, StateResult,
    OPERATION_RESULT_HEADER_SIZE,
};

impl Channels {
    /// CHANNEL_MEMBERSHIP_STORE: passed to psycstore, RESULT_CODE back.
    pub(super) fn membership_store(
        &mut self,
        client: ClientId,
        key: RecordKey,
        m: MembershipStore,
    ) {
        let Some(record) = self.records.get(&key) else {
            return;
        };
        let channel_key = record.store_channel();
        let op_id = self.ops.start(Op::MembershipStore {
            record: key,
            client,
            op_id: m.op_id,
        });
        self.out
            .store(StoreRequest::MembershipStore(StoreMembership {
                head: RequestHead::new(op_id, channel_key),
                slave_key: Record::store_slave(&m.slave_pub_key),
                announced_at: m.announced_at,
                effective_since: m.effective_since,
                group_generation: record.group_generation(),
                did_join: m.did_join,
            }));
    }

    /// HISTORY_REPLAY: the stored fragments from this peer's psycstore, filtered by method;
    /// what they lack may then be fetched from the channel ([`super::remote`]).
    pub(super) fn history_replay(&mut self, client: ClientId, key: RecordKey, h: HistoryReplay) {
        let Some(record) = self.records.get(&key) else {
            return;
        };
        let channel_key = record.store_channel();
        let (scan, query) = Scan::new(&h, record.fetch_newest(), self.cfg.max_history_span);
        let op_id = self.ops.start(Op::History {
            record: key,
            client,
            op_id: h.op_id,
            fragments: 0,
            scan,
        });
        self.out.store(message_get(
            op_id,
            channel_key,
            (query.first, query.last, query.limit),
            h.method_prefix_c(),
        ));
    }

    /// STATE_GET / STATE_GET_PREFIX for `name` (as C reads it, up to its first NUL).
    pub(super) fn state_get(
        &mut self,
        client: ClientId,
        key: RecordKey,
        client_op: u64,
        name: &[u8],
        prefix: bool,
    ) {
        let Some(record) = self.records.get(&key) else {
            return;
        };
        let channel_key = record.store_channel();
        let op_id = self.ops.start(Op::StateGet {
            record: key,
            client,
            op_id: client_op,
        });
        self.out.store(if prefix {
            StoreRequest::StateGetPrefix(StateGetPrefix::new(op_id, channel_key, name))
        } else {
            StoreRequest::StateGet(StateGet::new(op_id, channel_key, name))
        });
    }

    /// A member asks the master for a fragment again: answered from psycstore, with the
    /// member's membership tested there.
    pub(super) fn replay_request(&mut self, key: RecordKey, r: ReplayRequest) {
        let Some(record) = self.records.get(&key).filter(|r| r.is_master()) else {
            // Only the master answers; a slave says it has nothing.
            self.out.multicast(
                key,
                Any::ReplayResponse(ReplayResponse {
                    ids: r.ids,
                    error_code: ReplayError::NotFound,
                    fragment: None,
                }),
            );
            return;
        };
        let channel_key = record.store_channel();
        let slave_key = Record::store_slave(&r.member_pub_key);
        tracing::debug!(
            message_id = r.ids.message_id,
            fragment_id = r.ids.fragment_id,
            offset = r.ids.fragment_offset,
            member = %gnunet_service::logging::short_hex(&r.member_pub_key.0),
            "replay request from a member"
        );
        let op_id = self.ops.start(Op::Replay {
            record: key,
            ids: r.ids,
            found: false,
        });
        self.out.store(if r.ids.fragment_id != 0 {
            StoreRequest::FragmentGet(FragmentGet {
                head: RequestHead::new(op_id, channel_key),
                slave_key,
                first_fragment_id: r.ids.fragment_id,
                last_fragment_id: r.ids.fragment_id,
                fragment_limit: 1,
                do_membership_test: 1,
            })
        } else {
            StoreRequest::MessageGetFragment(MessageGetFragment {
                head: RequestHead::new(op_id, channel_key),
                slave_key,
                message_id: r.ids.message_id,
                fragment_offset: r.ids.fragment_offset,
                do_membership_test: 1,
            })
        });
    }

    /// One fragment of a history replay or a member's replay.
    pub(super) fn store_fragment_result(&mut self, now: Instant, op_id: u64, f: FragmentResult) {
        match self.ops.get_mut(op_id) {
            Some(Op::History {
                client,
                op_id: client_op,
                fragments,
                scan,
                ..
            }) => {
                let (cancel, pass) = scan.local(&f.fragment);
                let (client, client_op) = (*client, *client_op);
                if let Some((id, offset)) = cancel {
                    *fragments += 1;
                    self.out.send(client, cancel_result(client_op, id, offset));
                }
                if pass {
                    *fragments += 1;
                    self.out.send(
                        client,
                        history_result(client_op, f.psycstore_flags, f.fragment),
                    );
                }
            }
            Some(Op::HistoryReread { record, fetch, .. }) => {
                let (record, fetch) = (*record, *fetch);
                if let Some((rec, mut ctx)) = self.record_ctx(record) {
                    rec.history_reread_fragment(fetch, f, &mut ctx);
                }
            }
            Some(Op::Replay {
                record, ids, found, ..
            }) => {
                if *found {
                    return; // one fragment per replay request
                }
                // The fragment goes nested as a complete MESSAGE, header included, as
                // multicast decodes it. A stored fragment always fits; should one not, the
                // replay ends with an error.
                let Ok(bytes) = f.fragment.try_to_message() else {
                    return;
                };
                *found = true;
                let answer = Any::ReplayResponse(ReplayResponse {
                    ids: *ids,
                    error_code: ReplayError::Ok,
                    fragment: Some(bytes),
                });
                let record = *record;
                self.answer_later(now, record, answer);
            }
            _ => {}
        }
    }

    /// One variable of a state query.
    pub(super) fn store_state_result(&mut self, op_id: u64, s: StoreStateResult) {
        let Some(Op::StateGet {
            client,
            op_id: client_op,
            ..
        }) = self.ops.get_mut(op_id)
        else {
            return;
        };
        let size = OPERATION_RESULT_HEADER_SIZE + MODIFIER_HEADER_SIZE + s.name.len() + 1;
        if size + s.value.len() > MAX_MESSAGE_SIZE {
            return; // cannot be sent in one STATE_RESULT (as in C)
        }
        let mut part = Vec::new();
        Part::Modifier(ModifierPart {
            value_size: s.value.len() as u32,
            oper: 0,
            name: Cow::Owned(s.name),
            value: Cow::Owned(s.value),
        })
        .emit(&mut part);
        let (client, client_op) = (*client, *client_op);
        self.out.send(
            client,
            Reply::StateResult(StateResult::new(client_op, part)),
        );
    }

    /// The final RESULT_CODE of a client's operation or a member's replay. A history replay
    /// that went well goes on with its remote part, if any.
    pub(super) fn query_done(&mut self, now: Instant, op: Op, r: StoreResultCode) {
        let (client, client_op) = match op {
            Op::History {
                record,
                client,
                op_id,
                fragments,
                scan,
            } if r.result_code >= 0 => {
                self.history_local_done(now, record, client, op_id, fragments, *scan);
                return;
            }
            Op::HistoryReread { record, fetch, .. } => {
                if let Some((rec, mut ctx)) = self.record_ctx(record) {
                    rec.history_reread_done(now, fetch, r.result_code, &mut ctx);
                }
                return;
            }
            Op::MembershipStore { client, op_id, .. }
            | Op::History { client, op_id, .. }
            | Op::StateGet { client, op_id, .. } => (client, op_id),
            Op::Replay {
                record, ids, found, ..
            } => {
                tracing::debug!(
                    message_id = ids.message_id,
                    found,
                    result = r.result_code,
                    "replay request answered"
                );
                let answer = if found {
                    Any::ReplayResponseEnd(ReplayResponseEnd { ids, error_code: 0 })
                } else {
                    Any::ReplayResponse(ReplayResponse {
                        ids,
                        error_code: match r.result_code {
                            psycstore::msg::status::NO => ReplayError::NotFound,
                            psycstore::msg::status::MEMBERSHIP_TEST_FAILED => {
                                ReplayError::AccessDenied
                            }
                            _ => ReplayError::InternalError,
                        },
                        fragment: None,
                    })
                };
                self.answer_later(now, record, answer);
                return;
            }
            _ => return,
        };
        self.out.send(
            client,
            Reply::ResultCode(ResultCode {
                op_id: client_op,
                result_code: r.result_code,
                data: r.error.unwrap_or_default(),
            }),
        );
    }
}

/// The MESSAGE_GET of history replay operation `op_id`: messages `(first, last, limit)` of
/// channel `channel_key` as psycstore takes them (a range, or the latest `limit`), without
/// membership test.
pub(super) fn message_get(
    op_id: u64,
    channel_key: ChannelKey,
    (first, last, limit): (u64, u64, u64),
    method_prefix: &[u8],
) -> StoreRequest {
    StoreRequest::MessageGet(MessageGet {
        head: RequestHead::new(op_id, channel_key),
        slave_key: psycstore::keys::SlaveKey([0; 32]),
        first_message_id: first,
        last_message_id: last,
        message_limit: limit,
        fragment_limit: 0,
        do_membership_test: 0,
        method_prefix: method_prefix.to_vec(),
    })
}

/// A HISTORY_RESULT for client operation `client_op`: `fragment` as a PSYC_MESSAGE with
/// psycstore `flags` and the HISTORIC flag.
pub(super) fn history_result(client_op: u64, flags: u32, mut fragment: Fragment) -> Reply {
    // Stored fragments keep their padding; clients never see it (a malformed one was never
    // stored: receivers check it first).
    super::pad::strip_in_place(&mut fragment.payload);
    historic(
        client_op,
        flags,
        fragment.message_id,
        fragment.fragment_offset,
        fragment.payload,
    )
}

/// A HISTORY_RESULT with a CANCEL part at `offset` of message `message_id`: the message went
/// to the client in part only.
pub(super) fn cancel_result(client_op: u64, message_id: u64, offset: u64) -> Reply {
    let mut parts = Vec::new();
    Part::Cancel.emit(&mut parts);
    historic(client_op, 0, message_id, offset, parts)
}

fn historic(client_op: u64, flags: u32, message_id: u64, offset: u64, parts: Vec<u8>) -> Reply {
    let delivery = Delivery {
        header: DeliveryHeader {
            flags: flags | DELIVERY_HISTORIC,
            message_id,
            fragment_offset: offset,
            slave_pub_key: [0; 32],
        },
        parts,
    };
    Reply::HistoryResult(HistoryResult::new(client_op, delivery))
}
