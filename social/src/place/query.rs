//! History replays and state queries of place clients (spec §5.10, §5.11): passed to the
//! place's psyc connection under the logic's own operation ids, answered to the client that
//! asked with its own.
//!
//! Differences from C, each visible only to a client that looks:
//! - HISTORY_RESULT and STATE_RESULT go to the asking client only (gap G11). The C library
//!   matches them by op id and drops what it did not ask for, so it sees no change.
//! - STATE_RESULT carries result code 1, as the C social service wrote it when it wrapped
//!   psyc's variables again (psyc itself sends 0); HISTORY_RESULT 1, as psyc.
//! - A query on a place without a psyc connection, or more than
//!   [`LogicConfig::max_queries_per_place`](super::LogicConfig::max_queries_per_place) at
//!   once, is answered RESULT_CODE −1 with a text; one whose psyc connection breaks too.

use std::collections::BTreeMap;

use tracing::debug;

use super::action::{ClientId, PlaceId};
use super::client::DropReason;
use super::state::Link;
use super::Social;
use crate::msg::{HistoryResult, Reply, Request, ResultCode, StateResult};

/// One query at psyc.
#[derive(Debug, Clone, Copy)]
struct Query {
    client: ClientId,
    op_id: u64,
}

/// A place's queries at psyc, by the op id psyc knows.
#[derive(Debug, Default)]
pub(super) struct Queries {
    next: u64,
    ops: BTreeMap<u64, Query>,
}

impl Queries {
    /// Forgets the queries of a client that went away; psyc's answers are then ignored.
    pub fn client_gone(&mut self, client: ClientId) {
        self.ops.retain(|_, q| q.client != client);
    }

    /// Takes every query (the psyc connection broke, or the place goes): `(client, op_id)`.
    pub fn take_all(&mut self) -> Vec<(ClientId, u64)> {
        std::mem::take(&mut self.ops)
            .into_values()
            .map(|q| (q.client, q.op_id))
            .collect()
    }
}

impl Social {
    /// HISTORY_REPLAY, STATE_GET or STATE_GET_PREFIX from a client.
    pub(super) fn query(&mut self, client: ClientId, request: Request) -> Result<(), DropReason> {
        let what = match &request {
            Request::HistoryReplay(_) => "PSYC_HISTORY_REPLAY",
            Request::StateGet(_) => "PSYC_STATE_GET",
            _ => "PSYC_STATE_GET_PREFIX",
        };
        let id = self.client_place(client, what)?;
        let client_op = request.op_id().unwrap_or(0);
        let max = self.cfg.max_queries_per_place;
        let Some(place) = self.places.get_mut(&id) else {
            return Err(DropReason::NoPlace(what));
        };
        if place.link != Link::Up || !place.bound {
            self.out.result(
                client,
                client_op,
                -1,
                "the place has no psyc connection right now",
            );
            return Ok(());
        }
        if place.queries.ops.len() >= max {
            self.out
                .result(client, client_op, -1, "too many queries in progress");
            return Ok(());
        }
        place.queries.next += 1;
        let op_id = place.queries.next;
        place.queries.ops.insert(
            op_id,
            Query {
                client,
                op_id: client_op,
            },
        );
        let msg = match request {
            Request::HistoryReplay(h) => {
                psyc::msg::Request::HistoryReplay(psyc::msg::HistoryReplay { op_id, ..h })
            }
            Request::StateGet(g) => {
                psyc::msg::Request::StateGet(psyc::msg::StateGet { op_id, ..g })
            }
            Request::StateGetPrefix(g) => {
                psyc::msg::Request::StateGetPrefix(psyc::msg::StateGetPrefix { op_id, ..g })
            }
            _ => return Ok(()),
        };
        self.out.psyc(id, msg);
        Ok(())
    }

    /// A HISTORY_RESULT, STATE_RESULT or RESULT_CODE from psyc for place `id`.
    pub(super) fn query_answer(&mut self, id: PlaceId, reply: psyc::msg::Reply) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        let op_id = reply.op_id().unwrap_or(0);
        let Some(query) = place.queries.ops.get(&op_id).copied() else {
            debug!(?id, op_id, "psyc answer for no query (its client left)");
            return;
        };
        let reply = match reply {
            psyc::msg::Reply::HistoryResult(h) => {
                Reply::HistoryResult(HistoryResult::new(query.op_id, h.message))
            }
            psyc::msg::Reply::StateResult(s) => Reply::StateResult(StateResult {
                op_id: query.op_id,
                result_code: psyc::msg::status::OK.into(),
                part: s.part,
            }),
            psyc::msg::Reply::ResultCode(r) => {
                place.queries.ops.remove(&op_id);
                Reply::ResultCode(ResultCode {
                    op_id: query.op_id,
                    ..r
                })
            }
            _ => return,
        };
        self.out.send(query.client, reply);
    }

    /// Answers every query of place `id` with −1 and `why` (its psyc connection broke, or
    /// the place goes).
    pub(super) fn fail_queries(&mut self, id: PlaceId, why: &str) {
        let Some(place) = self.places.get_mut(&id) else {
            return;
        };
        for (client, op_id) in place.queries.take_all() {
            self.out.result(client, op_id, -1, why);
        }
    }
}
