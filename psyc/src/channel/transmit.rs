//! Transmission: a record's clients' PSYC_MESSAGEs become multicast fragments (master) or
//! request fragments (slave), one container = one fragment (`psyc.md` §5).
//!
//! # What differs from the C service
//!
//! - **No interleaving** (gap P15). A record sends one message at a time: once a client's
//!   METHOD went out, only that client's containers follow until its END or CANCEL; other
//!   clients' containers wait in the queue, in arrival order. If the sending client goes away
//!   mid-message, a CANCEL fragment closes its message for the receivers.
//! - **Part order per client is checked**: a container that starts a message (METHOD first)
//!   while the client's previous message is still open, or continues one (not METHOD first)
//!   when none is open, drops the client. The C service sent the latter as message id 0.
//! - **Message ids are assigned when the message starts going out**, not when it is queued,
//!   so ids grow in the order receivers see the messages.
//! - **State flags are read in network byte order** (gap P1): the master rewrites the METHOD's
//!   `state_delta` from STATE_RESET (0) and STATE_MODIFY (distance to the previous stateful
//!   message), so receivers really apply channel state. A C peer receiving our messages sees
//!   stateful deltas where a C master (on little-endian hosts) always sent NOT_MODIFIED.
//! - **MESSAGE_ACK follows the channel** (gap P14): at most
//!   [`Config::max_fragments_in_flight`](super::Config::max_fragments_in_flight) fragments of a
//!   record are with the multicast service without its FRAGMENT_ACK, and a client gets the
//!   MESSAGE_ACK for its container when the container is handed to multicast within that
//!   window — at once while the window has room, else when multicast acknowledged an earlier
//!   fragment. A client that waits for each MESSAGE_ACK (the C library does) is therefore at
//!   most one container plus the window ahead of what the channel carries (backpressure),
//!   while the window keeps the channel busy between its round trips. The C service
//!   acknowledged when multicast pulled the fragment, with no bound; C clients see only the
//!   timing change.
//! - **Fragments are padded** to a size class of the `[secushare] PADDING` scheme (see
//!   [`pad`](super::pad)); the fragment offsets count the padded fragments.
//! - **Every queued message is sent** regardless of how the previous one completed (gap P23).
//! - **The group generation advances** (gap P16): a master message whose METHOD carries the
//!   flag INC_GROUP_GEN (8, `GNUNET_PSYC_MASTER_TRANSMIT_INC_GROUP_GEN`; the C library puts
//!   the transmit flags into the METHOD part, big-endian) goes out with the current generation,
//!   and the messages after it with the generation one higher ("increment after transmitting
//!   this message"). Every fragment of a message carries the generation it started with, in
//!   multicast's `group_generation` field. The C service ignored the flag and sent its stored
//!   generation forever. After a restart the master resumes at the generation of its newest
//!   stored fragment (psycstore's counters), so an increment asked for by the very last
//!   message before the restart is lost.

use std::collections::{HashSet, VecDeque};

use multicast::msg::{Any, Fragment, Request, FRAGMENT_HEADER_SIZE, REQUEST_HEADER_SIZE};

use super::action::ClientId;
use super::record::{Ctx, Record, Role};
use crate::format::container::check_parts;
use crate::format::parts::{
    PartKind, FRAGMENT_MAX_PAYLOAD, METHOD_INC_GROUP_GEN, METHOD_STATE_MODIFY, METHOD_STATE_RESET,
    STATE_DELTA_NOT_MODIFIED,
};
use crate::msg::{MessageAck, Reply};

/// Where `flags` and `state_delta` sit inside a METHOD part (after its 4-byte header).
const METHOD_FLAGS: std::ops::Range<usize> = 4..8;
const METHOD_STATE_DELTA: std::ops::Range<usize> = 8..16;

/// One container waiting to go out.
#[derive(Debug, Clone)]
struct Entry {
    /// The client that sent it; `None` for a CANCEL the service adds itself.
    client: Option<ClientId>,
    parts: Vec<u8>,
    ends: bool,
}

/// The message going out on multicast.
#[derive(Debug, Clone, Copy)]
struct Current {
    client: Option<ClientId>,
    id: u64,
    /// Offset of the next fragment (sum of the whole sizes of the fragments before).
    offset: u64,
    /// Group generation of its fragments (master).
    generation: u64,
}

/// A record's outgoing queue.
#[derive(Debug, Default)]
pub(super) struct Transmit {
    queue: VecDeque<Entry>,
    /// The message whose fragments are going out, until its END/CANCEL went.
    current: Option<Current>,
    /// The fragments with multicast that have no FRAGMENT_ACK yet, oldest first, to send
    /// again if the multicast connection breaks before their ACK.
    in_flight: VecDeque<Any>,
    /// Clients whose latest queued container left a message open.
    open: HashSet<ClientId>,
}

impl Transmit {
    /// The next container to send: the current message's next one, else the oldest.
    fn take_next(&mut self) -> Option<Entry> {
        let at = match self.current {
            Some(c) => self.queue.iter().position(|e| e.client == c.client)?,
            None => 0,
        };
        self.queue.remove(at)
    }
}

impl Record {
    /// A client's PSYC_MESSAGE: checks it, queues it, sends what can go. `Err` names why the
    /// client must be dropped.
    pub(super) fn accept_message(
        &mut self,
        client: ClientId,
        parts: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), String> {
        if !self.ready {
            return Err("PSYC_MESSAGE before the channel is ready".into());
        }
        if parts.len() > FRAGMENT_MAX_PAYLOAD {
            return Err(format!("PSYC_MESSAGE of {} bytes of parts", parts.len()));
        }
        let summary = check_parts(&parts).map_err(|e| format!("PSYC_MESSAGE: {e}"))?;
        let starts = summary.first == Some(PartKind::Method);
        let ends = matches!(summary.last, Some(PartKind::End | PartKind::Cancel));
        if summary.count == 0 {
            return Err("PSYC_MESSAGE without parts".into());
        }
        let open = self.tx.open.contains(&client);
        if starts == open {
            return Err(if starts {
                "PSYC_MESSAGE starts a message inside another".into()
            } else {
                "PSYC_MESSAGE continues no message".into()
            });
        }
        if self.tx.queue.len() >= ctx.cfg.max_transmit_queue {
            return Err("transmit queue full".into());
        }
        if ends {
            self.tx.open.remove(&client);
        } else {
            self.tx.open.insert(client);
        }
        self.tx.queue.push_back(Entry {
            client: Some(client),
            parts,
            ends,
        });
        self.kick(ctx);
        Ok(())
    }

    /// Multicast acknowledged the oldest fragment in flight: the window has room for the
    /// next.
    pub(super) fn fragment_acked(&mut self, ctx: &mut Ctx<'_>) {
        self.tx.in_flight.pop_front();
        self.kick(ctx);
    }

    /// A client left: its queued containers go; a message of it that is half out is closed
    /// with a CANCEL.
    pub(super) fn transmit_client_gone(&mut self, client: ClientId, ctx: &mut Ctx<'_>) {
        self.tx.queue.retain(|e| e.client != Some(client));
        self.tx.open.remove(&client);
        if let Some(c) = self
            .tx
            .current
            .as_mut()
            .filter(|c| c.client == Some(client))
        {
            c.client = None;
            let mut parts = Vec::new();
            crate::format::parts::Part::Cancel.emit(&mut parts);
            self.tx.queue.push_front(Entry {
                client: None,
                parts,
                ends: true,
            });
            self.kick(ctx);
        }
    }

    /// Hands queued containers to multicast while the window has room, and acknowledges
    /// each to its client.
    pub(super) fn kick(&mut self, ctx: &mut Ctx<'_>) {
        while self.mc_up && self.tx.in_flight.len() < ctx.cfg.max_fragments_in_flight.max(1) {
            let Some(entry) = self.tx.take_next() else {
                return;
            };
            let client = entry.client;
            self.hand_out(entry, ctx);
            if let Some(client) = client.filter(|c| self.clients.contains(c)) {
                ctx.out.send(client, Reply::MessageAck(MessageAck));
            }
        }
    }

    /// Numbers `entry` as the next fragment of the message going out and hands it to
    /// multicast.
    fn hand_out(&mut self, mut entry: Entry, ctx: &mut Ctx<'_>) {
        let mut current = match self.tx.current {
            Some(c) => c,
            None => {
                let (id, generation) = self.start_message(&mut entry.parts);
                Current {
                    client: entry.client,
                    id,
                    offset: 0,
                    generation,
                }
            }
        };
        let header = match &self.role {
            Role::Master(_) if ctx.deniable => {
                FRAGMENT_HEADER_SIZE + multicast::epoch::TRAILER_SIZE
            }
            Role::Master(_) => FRAGMENT_HEADER_SIZE,
            Role::Slave(_) => REQUEST_HEADER_SIZE,
        };
        super::pad::pad_parts(ctx.padding, header, &mut entry.parts);
        let size = entry.parts.len() as u64;
        let msg = match &self.role {
            Role::Master(_) => Any::Fragment(Fragment::unsigned(
                current.id,
                current.offset,
                current.generation,
                0,
                entry.parts,
            )),
            Role::Slave(_) => Any::Request(Request::unsigned(
                current.id,
                current.offset,
                0,
                entry.parts,
            )),
        };
        current.offset += header as u64 + size;
        self.tx.current = (!entry.ends).then_some(current);
        self.tx.in_flight.push_back(msg.clone());
        ctx.out.multicast(self.key, msg);
    }

    /// The multicast connection is up again: the fragments that were with the old one go
    /// again (their FRAGMENT_ACKs never came), then the queue moves on.
    pub(super) fn transmit_resume(&mut self, ctx: &mut Ctx<'_>) {
        for msg in &self.tx.in_flight {
            ctx.out.multicast(self.key, msg.clone());
        }
        self.kick(ctx);
    }

    /// Numbers a message that starts going out and, at the master, fills in its METHOD's
    /// `state_delta` and advances the group generation after it if asked. Returns the message
    /// id (master) or request id (slave) and the group generation of its fragments.
    fn start_message(&mut self, parts: &mut [u8]) -> (u64, u64) {
        match &mut self.role {
            Role::Master(m) => {
                m.max_message_id += 1;
                let id = m.max_message_id;
                let flags = parts
                    .get(METHOD_FLAGS)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u32::from_be_bytes);
                let delta = if flags & METHOD_STATE_RESET != 0 {
                    m.max_state_message_id = id;
                    0
                } else if flags & METHOD_STATE_MODIFY != 0 {
                    let delta = id.wrapping_sub(m.max_state_message_id);
                    m.max_state_message_id = id;
                    delta
                } else {
                    STATE_DELTA_NOT_MODIFIED
                };
                if let Some(field) = parts.get_mut(METHOD_STATE_DELTA) {
                    field.copy_from_slice(&delta.to_be_bytes());
                }
                let generation = m.group_generation;
                if flags & METHOD_INC_GROUP_GEN != 0 {
                    m.group_generation = generation.saturating_add(1);
                }
                (id, generation)
            }
            Role::Slave(s) => {
                s.max_request_id += 1;
                if let Some(field) = parts.get_mut(METHOD_STATE_DELTA) {
                    field.copy_from_slice(&STATE_DELTA_NOT_MODIFIED.to_be_bytes());
                }
                (s.max_request_id, 0)
            }
        }
    }
}
