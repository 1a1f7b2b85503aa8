//! The driver's links to GNUnet 0.19's IDENTITY, NAMESTORE and GNS services: bytes in and
//! out, the sessions of `gnunet_service` doing the matching, the place logic deciding.
//!
//! - IDENTITY: one link; [`Monitor::connected`]'s START goes first on every connection, each
//!   UPDATE becomes ego events for the logic.
//! - NAMESTORE and GNS: one link each, opened with the IDENTITY link. A request is written
//!   when the link is up; the sessions keep every unanswered one and the driver writes them
//!   again after a reconnect. Each operation gets a timer: one not answered within
//!   [`NAME_OP_TIMEOUT`] is cancelled and its client gets an error, so every operation is
//!   answered exactly once.

use std::collections::HashMap;

use gnunet_service::gns::{LookupId, LookupSession};
use gnunet_service::identity::{EgoEvent, Monitor};
use gnunet_service::namestore::lookup::TYPE_RECORD_LOOKUP_RESPONSE;
use gnunet_service::namestore::{LabelLookupId, LabelLookupSession, StoreId, StoreSession};
use gnunet_service::server::{DisconnectReason, LinkId, Verdict};
use gnunet_service::wire::RawMessage;
use tracing::{debug, info, warn};

use super::driver::{Ctx, DriverTimer, Service, NAME_OP_TIMEOUT};
use crate::place::{Action, GnsOpId, ZoneError, ZoneOpId};

/// Egos the monitor keeps (the logic bounds what it uses on its own).
const MAX_EGOS: usize = 65_536;

/// What the driver holds of the name-system links.
#[derive(Debug, Default)]
pub(super) struct Names {
    identity: Option<LinkId>,
    monitor: Monitor,
    /// The logic was told that the initial ego list is complete.
    pub(super) egos_listed: bool,
    namestore: Option<LinkId>,
    namestore_up: bool,
    stores: StoreSession,
    store_ops: HashMap<StoreId, ZoneOpId>,
    label_lookups: LabelLookupSession,
    label_ops: HashMap<LabelLookupId, GnsOpId>,
    gns: Option<LinkId>,
    gns_up: bool,
    lookups: LookupSession,
    lookup_ops: HashMap<LookupId, GnsOpId>,
}

impl Names {
    pub(super) fn new() -> Self {
        Self {
            monitor: Monitor::new(MAX_EGOS),
            ..Self::default()
        }
    }
}

/// Which name-system operation a timer watches.
#[derive(Debug, Clone, Copy)]
pub enum NameOp {
    /// A NAMESTORE store.
    Store(StoreId),
    /// A GNS lookup.
    Lookup(LookupId),
    /// A NAMESTORE label lookup.
    Label(LabelLookupId),
}

impl Service {
    /// Opens the links to IDENTITY, NAMESTORE and GNS.
    pub(super) fn open_name_links(&mut self, ctx: &mut Ctx) {
        self.names.identity = Some(ctx.open_link(&self.cfg.identity_socket, "identity"));
        self.names.namestore = Some(ctx.open_link(&self.cfg.namestore_socket, "namestore"));
        self.names.gns = Some(ctx.open_link(&self.cfg.gns_socket, "gns"));
    }

    /// Carries out a [`Action::ZoneStore`], [`Action::ZoneLookup`] or [`Action::GnsLookup`].
    pub(super) fn names_action(&mut self, ctx: &mut Ctx, action: Action) {
        match action {
            Action::ZoneStore {
                op,
                zone,
                label,
                records,
            } => {
                let zone = gnunet_service::crypto::identity_key::PrivateKey::Ecdsa(zone);
                match self.names.stores.store(&zone, &label, records) {
                    Ok(req) => {
                        self.names.store_ops.insert(req.id, op);
                        ctx.set_timer(NAME_OP_TIMEOUT, DriverTimer::NameOp(NameOp::Store(req.id)));
                        self.send_namestore(ctx, req.message);
                    }
                    Err(e) => {
                        let text = format!("the record cannot be stored: {e}");
                        self.social.handle_zone_stored(
                            ctx.now(),
                            op,
                            Err(ZoneError { code: 0, text }),
                        );
                    }
                }
            }
            Action::ZoneLookup { op, zone, label } => {
                let zone = gnunet_service::crypto::identity_key::PrivateKey::Ecdsa(zone);
                match self.names.label_lookups.lookup(&zone, &label) {
                    Ok(req) => {
                        self.names.label_ops.insert(req.id, op);
                        ctx.set_timer(NAME_OP_TIMEOUT, DriverTimer::NameOp(NameOp::Label(req.id)));
                        self.send_namestore(ctx, req.message);
                    }
                    Err(e) => {
                        let text = format!("`{label}` cannot be looked up: {e}");
                        self.social.handle_zone_lookup(ctx.now(), op, Err(text));
                    }
                }
            }
            Action::GnsLookup { op, query } => match self.names.lookups.lookup(&query) {
                Ok(req) => {
                    self.names.lookup_ops.insert(req.id, op);
                    ctx.set_timer(NAME_OP_TIMEOUT, DriverTimer::NameOp(NameOp::Lookup(req.id)));
                    if let (Some(link), true) = (self.names.gns, self.names.gns_up) {
                        if let Err(e) = ctx.link_send(link, req.message) {
                            debug!(error = %e, "gns lookup waits for the reconnect");
                        }
                    }
                }
                Err(e) => {
                    let text = format!("`{}` cannot be looked up: {e}", query.name);
                    self.social.handle_gns_result(ctx.now(), op, Err(text));
                }
            },
            _ => {}
        }
    }

    /// Writes a NAMESTORE request if the link is up; otherwise its session sends it again
    /// after the reconnect.
    fn send_namestore(&mut self, ctx: &mut Ctx, message: Vec<u8>) {
        if let (Some(link), true) = (self.names.namestore, self.names.namestore_up) {
            if let Err(e) = ctx.link_send(link, message) {
                debug!(error = %e, "namestore request waits for the reconnect");
            }
        }
    }

    /// A name operation's time is up: if still unanswered, it fails.
    pub(super) fn name_op_timeout(&mut self, ctx: &mut Ctx, op: NameOp) {
        let now = ctx.now();
        match op {
            NameOp::Store(id) => {
                if let Some(op) = self.names.store_ops.remove(&id) {
                    self.names.stores.cancel(id);
                    warn!(?id, "NAMESTORE did not answer a store in time");
                    let text = format!(
                        "NAMESTORE did not answer within {} s",
                        NAME_OP_TIMEOUT.as_secs()
                    );
                    self.social
                        .handle_zone_stored(now, op, Err(ZoneError { code: 0, text }));
                }
            }
            NameOp::Label(id) => {
                if let Some(op) = self.names.label_ops.remove(&id) {
                    self.names.label_lookups.cancel(id);
                    warn!(?id, "NAMESTORE did not answer a lookup in time");
                    let text = format!(
                        "NAMESTORE did not answer within {} s",
                        NAME_OP_TIMEOUT.as_secs()
                    );
                    self.social.handle_gns_result(now, op, Err(text));
                }
            }
            NameOp::Lookup(id) => {
                if let Some(op) = self.names.lookup_ops.remove(&id) {
                    self.names.lookups.cancel(id);
                    warn!(?id, "GNS did not answer a lookup in time");
                    let text = format!("GNS did not answer within {} s", NAME_OP_TIMEOUT.as_secs());
                    self.social.handle_gns_result(now, op, Err(text));
                }
            }
        }
    }

    pub(super) fn name_link_up(&mut self, ctx: &mut Ctx, link: LinkId) {
        if Some(link) == self.names.identity {
            debug!("connected to identity");
            let start = self.names.monitor.connected();
            if let Err(e) = ctx.link_send(link, start) {
                debug!(error = %e, "identity START not sent");
            }
        } else if Some(link) == self.names.namestore {
            self.names.namestore_up = true;
            let open: Vec<Vec<u8>> = (self.names.stores.resend())
                .chain(self.names.label_lookups.resend())
                .map(<[u8]>::to_vec)
                .collect();
            for msg in open {
                let _ = ctx.link_send(link, msg);
            }
        } else if Some(link) == self.names.gns {
            self.names.gns_up = true;
            let open: Vec<Vec<u8>> = self.names.lookups.resend().map(<[u8]>::to_vec).collect();
            for msg in open {
                let _ = ctx.link_send(link, msg);
            }
        }
    }

    pub(super) fn name_link_message(
        &mut self,
        ctx: &mut Ctx,
        link: LinkId,
        msg: RawMessage,
    ) -> Verdict {
        let now = ctx.now();
        if Some(link) == self.names.identity {
            let events = match self.names.monitor.handle_message(msg.bytes()) {
                Ok(events) => events,
                Err(e) => return Verdict::Drop(format!("bad message from identity: {e}")),
            };
            for event in events {
                match event {
                    EgoEvent::Added(ego) => {
                        debug!(name = %ego.name, "ego");
                        self.social.handle_ego(now, &ego.name, ego.key);
                    }
                    EgoEvent::Renamed { ego, old_name } => {
                        info!(%old_name, name = %ego.name, "ego renamed");
                        self.social.handle_ego(now, &ego.name, ego.key);
                    }
                    EgoEvent::Deleted(ego) => {
                        info!(name = %ego.name, "ego deleted");
                        self.social.handle_ego_deleted(now, ego.key.public_key());
                    }
                    EgoEvent::ListComplete => {
                        if !self.names.egos_listed {
                            self.names.egos_listed = true;
                            self.social.handle_egos_listed(now);
                        }
                    }
                }
            }
        } else if Some(link) == self.names.namestore
            && msg.msg_type() == TYPE_RECORD_LOOKUP_RESPONSE
        {
            match self.names.label_lookups.handle_message(msg.bytes()) {
                Ok(Some(answer)) => {
                    if let Some(op) = self.names.label_ops.remove(&answer.id) {
                        let records = answer
                            .records
                            .map(|rs| rs.into_iter().map(|r| (r.record_type, r.data)).collect())
                            .map_err(|()| "NAMESTORE could not read its database".to_string());
                        self.social.handle_zone_lookup(now, op, records);
                    }
                }
                Ok(None) => {}
                Err(e) => return Verdict::Drop(format!("bad message from namestore: {e}")),
            }
        } else if Some(link) == self.names.namestore {
            match self.names.stores.handle_message(msg.bytes()) {
                Ok(Some(outcome)) => {
                    if let Some(op) = self.names.store_ops.remove(&outcome.id) {
                        let result = outcome.result.map_err(|code| ZoneError {
                            code: code.0,
                            text: code.to_string(),
                        });
                        self.social.handle_zone_stored(now, op, result);
                    }
                }
                Ok(None) => {}
                Err(e) => return Verdict::Drop(format!("bad message from namestore: {e}")),
            }
        } else if Some(link) == self.names.gns {
            match self.names.lookups.handle_message(msg.bytes()) {
                Ok(Some(answer)) => {
                    if let Some(op) = self.names.lookup_ops.remove(&answer.id) {
                        let records = answer
                            .records
                            .into_iter()
                            .map(|r| (r.record_type, r.data))
                            .collect();
                        self.social.handle_gns_result(now, op, Ok(records));
                    }
                }
                Ok(None) => {}
                Err(e) => return Verdict::Drop(format!("bad message from gns: {e}")),
            }
        } else {
            return Verdict::unknown(&msg);
        }
        self.run_actions(ctx);
        Verdict::Continue
    }

    pub(super) fn name_link_down(
        &mut self,
        _ctx: &mut Ctx,
        link: LinkId,
        reason: &DisconnectReason,
    ) {
        if Some(link) == self.names.identity {
            warn!(?reason, "lost identity; reconnecting");
            self.names.monitor.disconnected();
        } else if Some(link) == self.names.namestore {
            warn!(
                ?reason,
                "lost namestore; open stores are sent again after the reconnect"
            );
            self.names.namestore_up = false;
        } else if Some(link) == self.names.gns {
            warn!(
                ?reason,
                "lost gns; open lookups are sent again after the reconnect"
            );
            self.names.gns_up = false;
        }
    }
}
