//! `--json`: one JSON object per line on stdout for every event and result, for scripts and
//! user interfaces. Every object has an `"event"` field naming its kind; keys are the
//! 52-character strings the text output prints. Byte strings (message bodies, modifier and
//! state values) are given as `"data"` / `"value"` when they are valid UTF-8 (NUL bytes
//! included, escaped as `\u0000`), else as `"data_hex"` / `"value_hex"` in lower-case hex.

use serde::Serialize;

use psyc::client::ReceivedMessage;
use psyc::format::container::{DELIVERY_HISTORIC, DELIVERY_REQUEST};
use psyc::format::env::Environment;
use psyc::format::message::PsycMessage;

/// A body: text if it is UTF-8, else hex.
#[derive(Debug, Serialize)]
pub enum Data {
    /// Valid UTF-8.
    #[serde(rename = "data")]
    Text(String),
    /// Anything else, hex.
    #[serde(rename = "data_hex")]
    Hex(String),
}

/// A modifier or state value: text if it is UTF-8, else hex.
#[derive(Debug, Serialize)]
pub enum Value {
    /// Valid UTF-8.
    #[serde(rename = "value")]
    Text(String),
    /// Anything else, hex.
    #[serde(rename = "value_hex")]
    Hex(String),
}

fn text_or_hex(bytes: &[u8]) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => Err(bytes.iter().map(|b| format!("{b:02x}")).collect()),
    }
}

impl Data {
    /// The body `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        text_or_hex(bytes).map_or_else(Data::Hex, Data::Text)
    }
}

impl Value {
    /// The value `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        text_or_hex(bytes).map_or_else(Value::Hex, Value::Text)
    }
}

/// One modifier.
#[derive(Debug, Serialize)]
pub struct Modifier {
    /// The operator character (`:`, `=`, `+`, `-`, `@`).
    pub oper: String,
    /// The variable name.
    pub name: String,
    /// The value.
    #[serde(flatten)]
    pub value: Value,
}

/// The modifiers of an environment.
pub fn modifiers(env: &Environment) -> Vec<Modifier> {
    env.iter()
        .map(|m| Modifier {
            oper: char::from(m.oper.byte()).to_string(),
            name: m.name.clone(),
            value: Value::of(&m.value),
        })
        .collect()
}

/// A message's method, modifiers and body.
#[derive(Debug, Serialize)]
pub struct Message {
    /// The method.
    pub method: String,
    /// The METHOD part's flags.
    pub method_flags: u32,
    /// The modifiers, in order.
    pub modifiers: Vec<Modifier>,
    /// The body.
    #[serde(flatten)]
    pub data: Data,
}

impl Message {
    /// The parts of `m`.
    pub fn of(m: &PsycMessage) -> Self {
        Message {
            method: m.method.clone(),
            method_flags: m.flags,
            modifiers: modifiers(&m.env),
            data: Data::of(&m.data),
        }
    }
}

/// Every line `--json` prints.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An ego of the user.
    Ego {
        /// Its public key.
        key: String,
        /// Its name.
        name: String,
    },
    /// A place of the application.
    Place {
        /// `host` or `guest`.
        role: &'static str,
        /// The place's key.
        key: String,
        /// The ego it was entered with.
        ego: String,
    },
    /// The lists of egos and places are complete (the text output's `.`).
    Listed,
    /// A place was entered (or entered again).
    Entered {
        /// `host` or `guest`.
        role: &'static str,
        /// Entered again (an existing place of the application).
        reconnect: bool,
        /// The place's key, if known.
        place: Option<String>,
        /// The ACK's result code.
        result: i32,
        /// Last message id of the place.
        max_message_id: u64,
    },
    /// Host: somebody asks to enter.
    EntryRequest {
        /// Who.
        nym: String,
        /// The entry request message, if valid.
        message: Option<Message>,
    },
    /// Host: the answer given to an entry request (`--welcome` / `--deny`).
    EntryAnswered {
        /// Whom.
        nym: String,
        /// Admitted (else refused).
        admitted: bool,
    },
    /// Guest: the host's entry decision.
    Decision {
        /// Admitted.
        admitted: bool,
        /// The raw decision: 1 admitted, 0 refused, −1 the host could not answer.
        is_admitted: i32,
        /// The host's response message.
        response: Option<Message>,
        /// The host's privacy level, if its response names it (`_privacy_level`, sent by a
        /// host at balanced or strict); absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        level: Option<&'static str>,
    },
    /// A message of the place (live or replayed).
    Message {
        /// Message id (request id for a guest's request at the host).
        id: u64,
        /// Delivery flags.
        flags: u32,
        /// Replayed from history.
        historic: bool,
        /// A guest's request (host).
        request: bool,
        /// The requesting guest, for requests.
        nym: Option<String>,
        /// Method, modifiers, body.
        #[serde(flatten)]
        message: Message,
    },
    /// A message its sender cancelled.
    Cancelled {
        /// Its id.
        id: u64,
    },
    /// An incoming message that was dropped as invalid.
    Dropped {
        /// Its id.
        id: u64,
        /// Why.
        reason: String,
    },
    /// Host: a guest left (its `_notice_place_leave`).
    Farewell {
        /// The guest.
        nym: String,
        /// The modifiers of its notice.
        modifiers: Vec<Modifier>,
    },
    /// A state variable.
    Var {
        /// Its name.
        name: String,
        /// Its value.
        #[serde(flatten)]
        value: Value,
    },
    /// The result of an operation (replay, look-at, look-for).
    Result {
        /// The operation's long option.
        op: &'static str,
        /// The result code.
        result: i64,
        /// Error text, if any.
        error: Option<String>,
    },
    /// A message was sent (announce, assign, talk).
    Transmitted {
        /// Its method.
        method: String,
        /// It ended cancelled.
        cancelled: bool,
    },
    /// The place was left.
    Left {
        /// `host` or `guest`.
        role: &'static str,
    },
    /// The tool failed.
    Error {
        /// What went wrong.
        message: String,
    },
    /// `--privacy`: the effective privacy knobs of the configuration.
    Privacy {
        /// `[secushare] PRIVACY`: `convenient`, `balanced` or `strict`.
        level: &'static str,
        /// Every knob, in the order of `conf/secushare.conf`.
        knobs: Vec<Knob>,
    },
    /// `--status --gns NAME`: the place a name leads to, before entering it.
    LookedUp {
        /// The name as given.
        name: String,
        /// The place's key.
        place: String,
        /// The host's peer.
        origin: String,
        /// Peers to enter through.
        relays: Vec<String>,
        /// The host's privacy level, as its zone publishes it beside the place; `null` if it
        /// publishes none (a C host, or a place published for a host elsewhere).
        level: Option<&'static str>,
    },
}

/// One knob of [`Event::Privacy`].
#[derive(Debug, Serialize)]
pub struct Knob {
    /// The option of `[secushare]` that sets it.
    pub knob: &'static str,
    /// Its effective value.
    pub value: String,
    /// `level` (the level's table) or `option` (its own option wins).
    pub from: &'static str,
}

impl Event {
    /// A received message.
    pub fn message(m: &ReceivedMessage) -> Self {
        let request = m.flags & DELIVERY_REQUEST != 0;
        Event::Message {
            id: m.message_id,
            flags: m.flags,
            historic: m.flags & DELIVERY_HISTORIC != 0,
            request,
            nym: (m.slave_pub_key.0 != [0; 32]).then(|| m.slave_pub_key.to_string()),
            message: Message::of(&m.message),
        }
    }
}

/// The role name of a place.
pub fn role(is_host: bool) -> &'static str {
    if is_host {
        "host"
    } else {
        "guest"
    }
}
