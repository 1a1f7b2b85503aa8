//! MSG_PROC relays held for their privacy delay (issue 13, point 4).
//!
//! A host that re-announces a guest's request at once links the two messages for anyone who
//! watches the host's peer: the request comes in, the announcement goes out right after. So
//! a gathered relay waits for the response delay of `[secushare] RESPONSE_DELAY` before it
//! joins the place's queue. The driver draws the delay before each psyc message it hands in
//! ([`Social::set_response_delay`]); the logic holds the relay and asks for an
//! [`Action::SetTimer`], and [`Social::handle_timeout`] queues what is due.
//!
//! The relays of one guest keep their order (each one's release is at least the previous
//! one's); different guests' relays do not wait for each other.

use std::time::{Duration, Instant};

use gnunet_service::crypto::ecdsa;
use gnunet_service::privacy::{Hold, OrderedDelays};
use tracing::warn;

use super::action::{Action, PlaceId};
use super::transmit::Sender;
use super::Social;

/// Relays held at once, all places together; past it a relay of a guest with none held is
/// queued without delay.
const MAX_HELD_RELAYS: usize = 1024;

/// Relays held per guest; past it the guest's oldest goes early (in order).
const MAX_HELD_PER_GUEST: usize = 64;

/// Relays waiting for their delay per (place, guest), and the delay for those the next
/// input completes.
#[derive(Debug)]
pub(super) struct HeldRelays {
    delay: Duration,
    queues: OrderedDelays<(PlaceId, ecdsa::PublicKey), Vec<Vec<u8>>>,
}

impl Default for HeldRelays {
    fn default() -> Self {
        HeldRelays {
            delay: Duration::ZERO,
            queues: OrderedDelays::new(MAX_HELD_PER_GUEST),
        }
    }
}

impl Social {
    /// The delay of the MSG_PROC relays the next inputs complete; the driver draws a fresh
    /// one from the privacy knobs before each psyc message. Zero (the default): at once.
    pub fn set_response_delay(&mut self, delay: Duration) {
        self.held_relays.delay = delay;
    }

    /// A timer asked for with [`Action::SetTimer`] fired: the relays due join their places'
    /// queues.
    pub fn handle_timeout(&mut self, now: Instant) {
        for ((id, nym), containers) in self.held_relays.queues.due_all(now) {
            self.queue_relay(id, nym, containers);
        }
    }

    /// A gathered relay of `nym`'s request in place `id`: queued after the response delay.
    pub(super) fn relay_later(
        &mut self,
        now: Instant,
        id: PlaceId,
        nym: ecdsa::PublicKey,
        containers: Vec<Vec<u8>>,
    ) {
        let held = &mut self.held_relays;
        if held.queues.len() >= MAX_HELD_RELAYS && !held.queues.is_holding((id, nym)) {
            self.queue_relay(id, nym, containers);
            return;
        }
        match held.queues.hold((id, nym), now, held.delay, containers) {
            Hold::Now(containers) => self.queue_relay(id, nym, containers),
            Hold::Held { release, early } => {
                if let Some(containers) = early {
                    self.queue_relay(id, nym, containers);
                }
                self.out.push(Action::SetTimer { at: release });
            }
        }
    }

    /// Puts a relay into the place's queue, whole, and moves the queue on.
    fn queue_relay(&mut self, id: PlaceId, nym: ecdsa::PublicKey, containers: Vec<Vec<u8>>) {
        let limits = self.queue_limits();
        let Some(place) = self.places.get_mut(&id) else {
            return; // the place is gone
        };
        for container in containers {
            if let Err(e) = place.tx.accept(Sender::Relay(nym), container, limits) {
                warn!(?id, "relayed guest request dropped: {e}");
                place.tx.abandon(Sender::Relay(nym));
                return;
            }
        }
        self.kick(id);
    }
}
