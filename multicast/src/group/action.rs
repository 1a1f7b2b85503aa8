//! What the logic asks its driver to do, and the handles it names things by.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use gnunet_service::crypto::{ecdsa, HashCode};
use gnunet_service::peer::PeerIdentity;

use crate::msg::ReplayIds;

/// A client connection, numbered by the driver (any unique number per connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// A CADET channel, numbered by the logic: outgoing ones in [`Action::OpenChannel`], incoming
/// ones as returned by [`Node::handle_incoming_channel`](super::Node::handle_incoming_channel).
/// The driver maps them to CADET channel numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u64);

/// One thing for the driver to carry out, in the order returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a complete message to a client.
    SendClient {
        /// The client.
        client: ClientId,
        /// The message, header included.
        msg: Vec<u8>,
    },
    /// Disconnect a client that broke the protocol; log the reason.
    DropClient {
        /// The client.
        client: ClientId,
        /// Why (names the message type and size where one is at fault).
        reason: String,
    },
    /// Open a CADET port (`LOCAL_PORT_OPEN`).
    OpenPort {
        /// The port hash.
        port: HashCode,
    },
    /// Close a CADET port (`LOCAL_PORT_CLOSE`).
    ClosePort {
        /// The port hash.
        port: HashCode,
    },
    /// Create a channel to `peer` on `port` (`LOCAL_CHANNEL_CREATE`). Messages for it may
    /// follow at once; the driver holds them until CADET grants credit.
    OpenChannel {
        /// The logic's handle for the new channel.
        channel: ChannelId,
        /// Destination peer.
        peer: PeerIdentity,
        /// Port at the destination.
        port: HashCode,
    },
    /// Send one complete message on a channel (one message per `LOCAL_DATA`). Never larger
    /// than `MAX_CADET_MESSAGE_SIZE`.
    SendChannel {
        /// The channel.
        channel: ChannelId,
        /// The message, header included.
        msg: Vec<u8>,
    },
    /// Destroy a channel (`LOCAL_CHANNEL_DESTROY`); log the reason. The logic has forgotten
    /// it already: no `handle_channel_destroyed` is expected for it.
    CloseChannel {
        /// The channel.
        channel: ChannelId,
        /// Why.
        reason: &'static str,
    },
    /// Call [`Node::handle_timeout`](super::Node::handle_timeout) with `timer` at `at`.
    /// Timers are never cancelled; stale ones are ignored when they fire.
    SetTimer {
        /// When.
        at: Instant,
        /// What to hand back.
        timer: Timer,
    },
    /// Add `delta` to the statistic `name` of subsystem `multicast`.
    Statistic {
        /// Statistic name, GNUnet style (`# ...`).
        name: &'static str,
        /// Change.
        delta: i64,
    },
}

/// The actions produced and not yet handed to the driver, in order, with shorthands for the
/// common ones.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    actions: VecDeque<Action>,
}

impl Outbox {
    pub(super) fn push(&mut self, a: Action) {
        self.actions.push_back(a);
    }

    pub(super) fn pop(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub(super) fn drain(&mut self) -> Vec<Action> {
        self.actions.drain(..).collect()
    }

    pub(super) fn stat(&mut self, name: &'static str, delta: i64) {
        self.push(Action::Statistic { name, delta });
    }

    pub(super) fn send_client(&mut self, client: ClientId, msg: Vec<u8>) {
        self.push(Action::SendClient { client, msg });
    }

    pub(super) fn send_channel(&mut self, channel: ChannelId, msg: Vec<u8>) {
        self.push(Action::SendChannel { channel, msg });
    }

    /// Sends `msg` to every client: a clone each, the original to the last.
    pub(super) fn send_clients(&mut self, clients: Vec<ClientId>, msg: Vec<u8>) {
        send_to_each(clients, msg, |client, msg| {
            self.push(Action::SendClient { client, msg })
        });
    }

    /// Sends `msg` on every channel: a clone each, the original to the last.
    pub(super) fn send_channels(&mut self, channels: Vec<ChannelId>, msg: Vec<u8>) {
        send_to_each(channels, msg, |channel, msg| {
            self.push(Action::SendChannel { channel, msg })
        });
    }

    /// Asks for `timer` to fire `after` from `now`.
    pub(super) fn set_timer(&mut self, now: Instant, after: Duration, timer: Timer) {
        self.push(Action::SetTimer {
            at: now + after,
            timer,
        });
    }
}

/// Hands `msg` to every receiver: a clone each, the original to the last.
fn send_to_each<T>(receivers: Vec<T>, msg: Vec<u8>, mut send: impl FnMut(T, Vec<u8>)) {
    let mut receivers = receivers.into_iter().peekable();
    while let Some(r) = receivers.next() {
        if receivers.peek().is_some() {
            send(r, msg.clone());
        } else {
            send(r, msg);
            return;
        }
    }
}

/// A timer the logic asked for, handed back when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    /// A join attempt of a local member got no decision in time.
    JoinTimeout {
        /// Group id.
        group: HashCode,
        /// The member.
        member: ecdsa::PublicKey,
        /// Attempt number it belongs to.
        attempt: u64,
    },
    /// A member that lost its parent (or ran out of targets) attaches again.
    Reattach {
        /// Group id.
        group: HashCode,
        /// The member.
        member: ecdsa::PublicKey,
        /// Attempt number it belongs to.
        attempt: u64,
    },
    /// A pending replay request expires.
    ReplayExpire {
        /// Group id.
        group: HashCode,
        /// The request.
        ids: ReplayIds,
        /// Generation of the pending entry it belongs to.
        generation: u64,
    },
    /// A response held for its privacy delay is due (see [`Privacy`](super::Privacy)).
    Respond {
        /// The held response's number.
        seq: u64,
    },
    /// Fragments held for a child's hop delay may be due.
    HopRelease {
        /// The child's channel.
        channel: ChannelId,
        /// The release time it was armed for: what is due by then goes, even if the timer
        /// fires a little early (a driver's clock rounding).
        at: Instant,
    },
}

/// Names of the statistics the logic reports.
pub mod stat {
    /// Fragments the origin signed and sent.
    pub const FRAGMENTS_ORIGINATED: &str = "# fragments originated";
    /// New fragments received from a parent.
    pub const FRAGMENTS_RECEIVED: &str = "# fragments received";
    /// Fragments received again (tree repair, replay races).
    pub const DUPLICATE_FRAGMENTS: &str = "# duplicate fragments";
    /// Fragments sent to children.
    pub const FRAGMENTS_FORWARDED: &str = "# fragments forwarded";
    /// Fragments larger than a CADET message, delivered locally only.
    pub const FRAGMENTS_TOO_LARGE: &str = "# fragments too large for CADET";
    /// Messages dropped because a signature did not verify.
    pub const INVALID_SIGNATURES: &str = "# invalid signatures";
    /// Traffic dropped because its sender is not admitted.
    pub const UNADMITTED_TRAFFIC: &str = "# messages from unadmitted members";
    /// Channels closed because of malformed or unexpected messages.
    pub const CHANNELS_CLOSED_BAD_INPUT: &str = "# channels closed for bad input";
    /// Clients dropped for breaking the protocol.
    pub const CLIENTS_DROPPED: &str = "# clients dropped";
    /// Join requests handed to origin clients.
    pub const JOIN_REQUESTS: &str = "# join requests";
    /// Join requests forwarded towards the origin by a relay.
    pub const JOINS_FORWARDED: &str = "# join requests forwarded";
    /// Joins answered from a stored decision (re-attaching members).
    pub const JOINS_READMITTED: &str = "# join requests answered from stored decisions";
    /// Joins of C peers refused because the group is deniable.
    pub const JOINS_REFUSED_DENIABLE: &str = "# join requests refused: deniable group";
    /// Tree-capable joiners sent on to a child.
    pub const JOINS_REDIRECTED: &str = "# joins redirected";
    /// Redirects this peer followed.
    pub const REDIRECTS_FOLLOWED: &str = "# redirects followed";
    /// Children currently attached.
    pub const CHILDREN: &str = "# children";
    /// Parents lost (channel gone) by admitted members.
    pub const PARENTS_LOST: &str = "# parents lost";
    /// Requests sent or forwarded towards the origin.
    pub const REQUESTS_UP: &str = "# requests sent towards the origin";
    /// Requests dropped for lack of a way up.
    pub const REQUESTS_DROPPED: &str = "# requests dropped while detached";
    /// Replay requests answered from the local cache.
    pub const REPLAYS_FROM_CACHE: &str = "# replays answered from cache";
    /// Replay requests passed on (upwards or to an origin client).
    pub const REPLAYS_FORWARDED: &str = "# replay requests forwarded";
    /// Cached fragments not served because they predate the requester's admission (the
    /// request went on towards the origin instead).
    pub const REPLAYS_BEFORE_ADMISSION: &str = "# replays of fragments from before admission";
    /// Missing fragments asked for by this peer itself.
    pub const GAP_REQUESTS: &str = "# missing fragments requested";
    /// Replay requests that got an error or no answer.
    pub const REPLAYS_FAILED: &str = "# replay requests failed";
    /// MEMBER_JOINs refused at once because their member key is not a valid GNUnet key.
    pub const INVALID_MEMBER_KEYS: &str = "# joins with invalid member keys";
    /// MEMBER_JOINs refused at once because their join request could not cross CADET.
    pub const JOINS_TOO_LARGE: &str = "# joins too large for CADET";
    /// MEMBER_JOINs refused at once because their join message does not fit a JOIN_REQUEST
    /// at all (a local origin needs no CADET, but still a GNUnet message).
    pub const JOINS_TOO_LARGE_FOR_REQUEST: &str = "# joins too large for a join request";
    /// Join decisions too large for a CADET message even without the admission point: the
    /// joiner is told the origin could not answer.
    pub const DECISIONS_TOO_LARGE: &str = "# join decisions too large for CADET";
}
