//! What the social service keeps on disk, in `DATA_HOME` (`social.md` §9): the data types the
//! sans-IO place logic hands its driver ([`StoreOp`]) and gets back at start-up
//! ([`SavedPlace`]), and [`DataHome`], which carries them out on the disk.
//!
//! The layout is the C service's, so a C-era `DATA_HOME` loads:
//! - `places/<ego_pub_52>/<place_pub_52>`: the complete enter request (HOST_ENTER with the
//!   place's private key, or GUEST_ENTER), mode 0600;
//! - `apps/<app_dir>/<ego_pub_52>/<place_pub_52>`: an empty marker per app that entered the
//!   place; `<app_dir>` is the app id mapped by [`app_dir_name`] (plain names unchanged,
//!   anything else escaped, gap G8);
//! - `files/<place_pub_52>/<message_id>[.part]`: the data of messages kept by MSG_PROC SAVE.
//!
//! Additions of ours, which a C service ignores: `decisions/<ego_pub_52>/<place_pub_52>`, the
//! last entry decision a guest received as a PSYC_JOIN_DECISION message (so a guest
//! reconnecting after a restart gets it again, §5.4); and leaving for good removes the place's
//! `places/`, `apps/` and `decisions/` entries (gap G6), so a place left is not loaded again.
//! Every write of `places/` and `decisions/` replaces the file atomically; see [`DataHome`].

use gnunet_service::crypto::{ecdsa, eddsa};
use gnunet_service::wire::{Message, TooLarge};

use crate::msg::{GuestEnter, HostEnter, JoinDecision};

mod app_dir;
mod disk;
mod error;
mod home;
mod layout;
mod load;

pub use app_dir::{app_dir_name, app_id_of_dir_name, AppIdError, APP_DIR_MAX};
pub use error::{LoadProblem, ProblemKind, StoreError};
pub use home::DataHome;

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
    /// Every app with a marker for this place, as its directory name ([`app_dir_name`]).
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

impl SavedEnter {
    /// The entering ego.
    pub fn ego(&self) -> ecdsa::PublicKey {
        match self {
            Self::Host(h) => h.ego_pub_key,
            Self::Guest(g) => g.ego_pub_key,
        }
    }

    /// The place.
    pub fn place(&self) -> eddsa::PublicKey {
        match self {
            Self::Host(h) => h.place_pub_key,
            Self::Guest(g) => g.place_pub_key,
        }
    }

    /// The request as the message the `places/` file holds.
    pub fn to_message(&self) -> Result<Vec<u8>, TooLarge> {
        match self {
            Self::Host(h) => h.try_to_message(),
            Self::Guest(g) => g.try_to_message(),
        }
    }
}

/// One change to the store, in the order the logic asks for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOp {
    /// Write `places/<ego>/<place>` with the enter request (a new hosted place, or a new guest
    /// entry), then the `apps/` marker of `app`.
    SavePlace {
        /// The request.
        enter: SavedEnter,
        /// The app that entered, as its directory name ([`app_dir_name`]).
        app: String,
    },
    /// Add the `apps/<app>/<ego>/<place>` marker (an app enters a place already saved).
    AttachApp {
        /// The app, as its directory name ([`app_dir_name`]).
        app: String,
        /// The ego.
        ego: ecdsa::PublicKey,
        /// The place.
        place: eddsa::PublicKey,
    },
    /// Remove the `apps/<app>/<ego>/<place>` marker (APP_DETACH); the place stays.
    DetachApp {
        /// The app, as its directory name ([`app_dir_name`]).
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
    /// already exists (then nothing is kept for that message, as in C) or the message's
    /// complete file does. The store remembers the message being saved, one per place: DATA
    /// and END of other messages are ignored.
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
