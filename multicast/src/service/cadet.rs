//! The cadet side of the driver: sending under credit, closing channels, and what the cadet
//! service sends us (channels created and destroyed, credit, data).

use std::time::Instant;

use gnunet_service::cadet::msg::{
    ChannelCreate, ChannelDestroy, LocalAck, LocalData, LocalDataRef, TYPE_LOCAL_ACK,
    TYPE_LOCAL_CHANNEL_CREATE, TYPE_LOCAL_CHANNEL_DESTROY, TYPE_LOCAL_DATA,
};
use gnunet_service::cadet::FIRST_CLIENT_CCN;
use gnunet_service::server::Verdict;
use gnunet_service::wire::{Message, RawMessage};
use tracing::{debug, warn};

use super::{Ctx, Input, Service};
use crate::group::{ChannelId, PeerMessage};

impl Service {
    /// Queues `msg` for cadet. While cadet is down it is dropped: the channels it was for
    /// went with the connection, and the logic hears so from `cadet_lost`.
    pub(super) fn cadet_send(&mut self, ctx: &mut Ctx, msg: Vec<u8>) {
        let Some(cadet) = self.cadet else {
            return;
        };
        if let Err(e) = ctx.link_send(cadet, msg) {
            debug!(error = %e, "message for cadet dropped");
        }
    }

    /// The cadet connection is gone: every channel with it.
    pub(super) fn cadet_lost(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        for ch in self.channels.clear() {
            self.node.handle_channel_destroyed(now, ch);
        }
        for r in self.holds.release_all() {
            self.release(ctx, r);
        }
        self.run_actions(ctx, Input::Other);
    }

    /// Sends what credit allows on `ch`; finishes a close once the queue is out; releases
    /// holds once it is no longer congested.
    pub(super) fn pump(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        let Some(ccn) = self.channels.get_mut(ch).map(|c| c.ccn) else {
            return;
        };
        for payload in self.channels.sendable(ch) {
            // Header and payload as two buffers of one write: no copy of the payload.
            match LocalData::prefix(ccn, 0, payload.len()) {
                Some(prefix) => {
                    self.cadet_send(ctx, prefix.to_vec());
                    self.cadet_send(ctx, payload);
                }
                None => warn!(
                    channel = ch.0,
                    size = payload.len(),
                    "message too large for CADET dropped"
                ),
            }
        }
        let closing = self.channels.get_mut(ch).is_some_and(|c| c.closing);
        if closing && self.channels.is_idle(ch) {
            self.destroy_now(ctx, ch);
        }
        if !self.channels.congested(ch) {
            self.release_holds(ctx, ch);
        }
    }

    /// The logic closed `ch`: send what credit allows, destroy once the rest is out.
    pub(super) fn close_channel(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        let Some(c) = self.channels.get_mut(ch) else {
            return;
        };
        c.closing = true;
        self.pump(ctx, ch);
        self.release_holds(ctx, ch);
    }

    /// Destroys `ch` at CADET and forgets it (the logic is told by the caller if needed).
    pub(super) fn destroy_now(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        if let Some(c) = self.channels.remove(ch) {
            self.cadet_send(ctx, ChannelDestroy { ccn: c.ccn }.to_message());
        }
        self.release_holds(ctx, ch);
    }

    pub(super) fn receive_done(&mut self, ctx: &mut Ctx, ch: ChannelId) {
        let Some(c) = self.channels.get_mut(ch) else {
            return;
        };
        if c.flow.on_receive_done() {
            let ccn = c.ccn;
            self.cadet_send(ctx, LocalAck { ccn }.to_message());
        }
    }

    pub(super) fn cadet_message(&mut self, ctx: &mut Ctx, msg: RawMessage) -> Verdict {
        let now = ctx.now();
        self.refresh_privacy();
        match msg.msg_type() {
            TYPE_LOCAL_CHANNEL_CREATE => {
                let Ok(c) = ChannelCreate::from_message(msg.bytes()) else {
                    return Verdict::Drop("malformed CHANNEL_CREATE from cadet".into());
                };
                if c.ccn >= FIRST_CLIENT_CCN || self.channels.by_ccn(c.ccn).is_some() {
                    warn!(
                        ccn = c.ccn,
                        "cadet announced a channel number we cannot take"
                    );
                    self.cadet_send(ctx, ChannelDestroy { ccn: c.ccn }.to_message());
                    return Verdict::Continue;
                }
                let ch = self.node.handle_incoming_channel(now, c.peer, c.port);
                self.channels.insert(ch, c.ccn);
                self.run_actions(ctx, Input::Other);
            }
            TYPE_LOCAL_ACK => {
                let Ok(a) = LocalAck::from_message(msg.bytes()) else {
                    return Verdict::Drop("malformed LOCAL_ACK from cadet".into());
                };
                let Some(ch) = self.channels.by_ccn(a.ccn) else {
                    return Verdict::Continue;
                };
                if let Some(c) = self.channels.get_mut(ch) {
                    if let Err(e) = c.flow.on_ack() {
                        warn!(ccn = a.ccn, error = %e, "cadet credit");
                    }
                }
                self.pump(ctx, ch);
            }
            TYPE_LOCAL_DATA => self.cadet_data(ctx, now, msg),
            TYPE_LOCAL_CHANNEL_DESTROY => {
                let Ok(d) = ChannelDestroy::from_message(msg.bytes()) else {
                    return Verdict::Drop("malformed CHANNEL_DESTROY from cadet".into());
                };
                if let Some(ch) = self.channels.by_ccn(d.ccn) {
                    self.channels.remove(ch);
                    self.release_holds(ctx, ch);
                    self.node.handle_channel_destroyed(now, ch);
                    self.run_actions(ctx, Input::Other);
                }
            }
            t => debug!(msg_type = t, "ignoring cadet message"),
        }
        Verdict::Continue
    }

    fn cadet_data(&mut self, ctx: &mut Ctx, now: Instant, msg: RawMessage) {
        // The ccn comes first; read it even if the payload turns out to be bad.
        let Some(ccn) = msg
            .body()
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
        else {
            warn!("LOCAL_DATA from cadet without a channel number");
            return;
        };
        let Some(ch) = self.channels.by_ccn(ccn) else {
            debug!(ccn, "data for a channel that is gone");
            return;
        };
        if let Some(c) = self.channels.get_mut(ch) {
            c.flow.on_receive();
        }
        // CADET holds the channel's next message until we acknowledge this one, and a sender
        // that runs more than a few messages ahead of that acknowledgement has its messages
        // dropped and retransmitted after 75 ms or more. So when no channel is congested (no
        // reason to slow the sender down) acknowledge at once, before the signature check and
        // the fan-out, and put the acknowledgement on the wire right away.
        let input = if self.channels.any_congested() {
            Input::Channel(ch)
        } else {
            self.receive_done(ctx, ch);
            if let Some(cadet) = self.cadet {
                ctx.link_flush_now(cadet);
            }
            Input::Other
        };
        let data = match LocalDataRef::from_message(msg.bytes()) {
            Ok(d) => d,
            Err(e) => {
                warn!(ccn, error = %e, "garbage on a channel; closing it");
                self.close_bad_channel(ctx, now, ch);
                self.run_actions(ctx, Input::Other);
                return;
            }
        };
        // One message per LOCAL_DATA is the rule; take every one that is there.
        let mut rest = data.payload;
        while rest.len() >= 4 {
            let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            let Some(one) = rest.get(..size).filter(|_| size >= 4) else {
                break;
            };
            if !self.channels.contains(ch) {
                break;
            }
            match PeerMessage::decode(one) {
                Ok(m) => self.node.handle_channel_message(now, ch, m),
                Err(e) => {
                    let msg_type = crate::msg::message_type(one).unwrap_or(0);
                    warn!(
                        ccn, msg_type, size, error = %e,
                        "malformed message on a channel; closing it"
                    );
                    self.close_bad_channel(ctx, now, ch);
                    break;
                }
            }
            rest = &rest[size..];
        }
        self.run_actions(ctx, input);
    }

    /// A peer sent bytes that are not multicast's: the channel goes, as if it had died (a
    /// member behind a garbling parent re-attaches elsewhere).
    fn close_bad_channel(&mut self, ctx: &mut Ctx, now: Instant, ch: ChannelId) {
        self.stats
            .add(crate::group::stat::CHANNELS_CLOSED_BAD_INPUT, 1);
        self.destroy_now(ctx, ch);
        self.node.handle_channel_destroyed(now, ch);
    }
}
