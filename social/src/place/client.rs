//! What the logic keeps per client connection, and why it drops one.

use std::collections::{BTreeMap, VecDeque};

use gnunet_service::crypto::ecdsa;

use super::action::{GnsOpId, PlaceId};
use crate::msg::Request;

/// One client connection.
#[derive(Debug, Default)]
pub(super) struct ClientState {
    /// Set by APP_CONNECT: the client is an application's.
    pub app: Option<AppClient>,
    /// The place the client entered (HOST_ENTER / GUEST_ENTER[_BY_NAME]).
    pub place: Option<PlaceId>,
    /// The client got its ENTER_ACK: it may send messages, and learns of entry requests.
    pub entered: bool,
    /// A GUEST_ENTER_BY_NAME whose GNS lookup runs.
    pub by_name: Option<GnsOpId>,
    /// Requests that came before IDENTITY listed its egos, in order.
    pub held: VecDeque<Request>,
}

impl ClientState {
    /// Whether the client entered a place or is entering one.
    pub fn entering(&self) -> bool {
        self.place.is_some() || self.by_name.is_some()
    }
}

/// An application's client.
#[derive(Debug)]
pub(super) struct AppClient {
    /// The app id, as accepted for a directory name.
    pub app_id: String,
    /// The client got its APP_EGO … APP_PLACE_END answer (it is held until IDENTITY listed
    /// the egos, so that the list is never partial).
    pub answered: bool,
    /// The egos the client was told of, with the name it was told: a later APP_EGO goes
    /// only where it says something new (the C library would call its ego callback again
    /// for a repeat, and `test_social` enters its place once per callback).
    pub told: BTreeMap<ecdsa::PublicKey, Vec<u8>>,
}

/// Why a client is dropped; the text is the log's and the `DropClient` action's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum DropReason {
    /// APP_CONNECT on a connection that already sent one.
    #[error("second APP_CONNECT on one connection")]
    SecondAppConnect,
    /// An enter request on a connection that entered a place (or is entering one).
    #[error("{0} on a connection that already entered a place")]
    SecondEnter(&'static str),
    /// An app id that cannot name a directory.
    #[error("app id refused: {0}")]
    BadAppId(String),
    /// An EdDSA ego's key where social needs an ECDSA one.
    #[error("EdDSA ego `{name}` ({key}) not usable for social: social's keys are ECDSA")]
    EddsaEgo {
        /// The ego's name.
        name: String,
        /// Its key, printed.
        key: String,
    },
    /// An ego IDENTITY does not know.
    #[error("{what}: unknown ego {key}")]
    UnknownEgo {
        /// The request.
        what: &'static str,
        /// The key, printed.
        key: String,
    },
    /// A place request from a client that entered no place (gap G12: C crashed).
    #[error("{0} from a client that entered no place")]
    NoPlace(&'static str),
    /// A request that needs the ENTER_ACK first.
    #[error("{0} before the place was entered (no ENTER_ACK yet)")]
    NotEntered(&'static str),
    /// A host request from a guest's client.
    #[error("{0} from a guest's client")]
    NotHost(&'static str),
    /// APP_DETACH without APP_CONNECT.
    #[error("{0} before APP_CONNECT")]
    NoApp(&'static str),
    /// A PSYC_MESSAGE that breaks the rules of §5.9.
    #[error("PSYC_MESSAGE: {0}")]
    BadMessage(String),
    /// The place's transmit queue is full.
    #[error("PSYC_MESSAGE: the place's transmit queue is full")]
    QueueFull,
    /// Too many requests before IDENTITY listed the egos.
    #[error("more than {0} requests before the ego list arrived")]
    TooManyHeld(usize),
    /// Its message was half sent when the psyc connection broke; the rest cannot follow.
    #[error("the psyc connection broke while the client's message was being sent")]
    MessageLost,
}
