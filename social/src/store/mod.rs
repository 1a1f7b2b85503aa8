//! What the social service keeps on disk, in `DATA_HOME` (`social.md` §9): the data types the
//! sans-IO place logic hands its driver ([`StoreOp`]) and gets back at start-up
//! ([`SavedPlace`]).
//!
//! The layout is the C service's, so a C-era `DATA_HOME` loads:
//! - `places/<ego_pub_52>/<place_pub_52>`: the complete enter request (HOST_ENTER with the
//!   place's private key, or GUEST_ENTER), mode 0600;
//! - `apps/<app_id>/<ego_pub_52>/<place_pub_52>`: an empty marker per app that entered the
//!   place;
//! - `files/<place_pub_52>/<message_id>[.part]`: the data of messages kept by MSG_PROC SAVE.
//!
//! Additions of ours, which a C service ignores: the last entry decision a guest received
//! (so a guest reconnecting after a restart gets it again, §5.4) and the places left for good
//! (leaving removes the place's files, gap G6).

use gnunet_service::crypto::{ecdsa, eddsa};

use crate::msg::{GuestEnter, HostEnter, JoinDecision};

/// A place as the store holds it: the enter request it was entered with and the apps that
/// entered it, plus what the store kept about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPlace {
    /// The entering ego.
    pub ego: ecdsa::PublicKey,
    /// The place.
    pub place: eddsa::PublicKey,
    /// The enter request, as stored.
    pub enter: SavedEnter,
    /// Every app id (sanitised, as on disk) with a marker for this place.
    pub apps: Vec<String>,
    /// A guest's last entry decision (PSYC_JOIN_DECISION as the guest's clients got it).
    pub decision: Option<JoinDecision>,
}

/// The enter request a place was saved with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavedEnter {
    /// A hosted place: the HOST_ENTER with the place's private key filled in.
    Host(HostEnter),
    /// An entered place: the GUEST_ENTER (origin, relays, join message).
    Guest(GuestEnter),
}

/// One change to the store, in the order the logic asks for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOp {
    /// Write `places/<ego>/<place>` with the enter request (a new hosted place, or a new guest
    /// entry), then the `apps/` marker of `app`.
    SavePlace {
        /// The request.
        enter: SavedEnter,
        /// The app that entered.
        app: String,
    },
    /// Add the `apps/<app>/<ego>/<place>` marker (an app enters a place already saved).
    AttachApp {
        /// The app id.
        app: String,
        /// The ego.
        ego: ecdsa::PublicKey,
        /// The place.
        place: eddsa::PublicKey,
    },
    /// Remove the `apps/<app>/<ego>/<place>` marker (APP_DETACH); the place stays.
    DetachApp {
        /// The app id.
        app: String,
        /// The ego.
        ego: ecdsa::PublicKey,
        /// The place.
        place: eddsa::PublicKey,
    },
    /// Keep the last entry decision of a guest place.
    SaveDecision {
        /// The guest ego.
        ego: ecdsa::PublicKey,
        /// The place.
        place: eddsa::PublicKey,
        /// The decision.
        decision: JoinDecision,
    },
    /// The place was left for good: remove its `places/` file, every `apps/` marker of it and
    /// its kept decision (its saved `files/` stay: they are the user's data).
    ForgetPlace {
        /// The ego.
        ego: ecdsa::PublicKey,
        /// The place.
        place: eddsa::PublicKey,
    },
    /// MSG_PROC SAVE, a message's METHOD: start `files/<place>/<message_id>.part` unless it
    /// already exists (then nothing is kept for that message).
    SaveMessageStart {
        /// The place.
        place: eddsa::PublicKey,
        /// The message.
        message_id: u64,
    },
    /// MSG_PROC SAVE: append a DATA part to the message's `.part` file.
    SaveMessageData {
        /// The place.
        place: eddsa::PublicKey,
        /// The message.
        message_id: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// MSG_PROC SAVE: the message ended; rename `<message_id>.part` to `<message_id>`. A
    /// cancelled message's `.part` file is removed instead (gap G15).
    SaveMessageEnd {
        /// The place.
        place: eddsa::PublicKey,
        /// The message.
        message_id: u64,
        /// The message was cancelled.
        cancelled: bool,
    },
}
