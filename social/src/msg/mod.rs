//! The social service's client↔service messages, one type per message: SOCIAL types 841–859
//! and the PSYC types the social socket reuses (re-exported from [`psyc::msg`], one definition
//! per wire format).
//!
//! Layouts are `social.md` §2–3, checked against the 2019 C header `social.h`. Every integer
//! is big-endian unless a type says otherwise. The quirks a drop-in must keep:
//!
//! - [`HostEnter::policy`] is in host order (little-endian), as in PSYC's MASTER_START.
//! - [`ZoneAddNym`] has a 4-byte hole at offset 4 (its `op_id` is not packed);
//!   [`ZoneAddPlace`]'s unpacked fields are aligned and leave none.
//! - Results of app detach, zone adds, history replays and state gets are PSYC's RESULT_CODE
//!   (680, [`ResultCode`]: plain two's complement i64, error text not NUL-terminated); SOCIAL's
//!   own RESULT_CODE (840), ENTRY_REQUEST (846) and ENTRY_DECISION (847) are defined but never
//!   sent, so they are unknown types here. Admission uses PSYC's JOIN_REQUEST (687) and
//!   JOIN_DECISION (688).
//! - GUEST_ENTER_ACK (845) has PSYC's `CountersResultMessage` layout.
//! - Type 691 is [`ClientMessage`] client → service and [`Delivery`] service → client.
//! - Strings as the C service tokenizes them: a client's single string filling the rest has
//!   its only NUL at the end ([`Token`]; HOST_ENTER's at most 255 bytes, [`ShortToken`]);
//!   strings followed by more fields end at their first NUL ([`Terminated`]). The PSYC
//!   requests keep [`psyc::msg`]'s rule (the last byte a NUL, inner NULs kept).
//!
//! A [`MessageError`] from [`Request::decode`] means "drop the client"; checks the C service
//! makes after decoding (a known ego, an entered place, HOST_ENTER's 8-bit app id length apart
//! from the 255-byte bound here) are the service's.

pub use psyc::msg::{
    ClientMessage, Delivery, DeliveryHeader, HistoryReplay, HistoryResult, JoinDecision,
    JoinRequest, MessageAck, ResultCode, StateGet, StateGetPrefix, StateResult,
};
pub use psyc::msg::{
    TYPE_HISTORY_REPLAY, TYPE_HISTORY_RESULT, TYPE_JOIN_DECISION, TYPE_JOIN_REQUEST, TYPE_MESSAGE,
    TYPE_MESSAGE_ACK, TYPE_RESULT_CODE, TYPE_STATE_GET, TYPE_STATE_GET_PREFIX, TYPE_STATE_RESULT,
};

mod app;
mod control;
mod enter;
mod strings;
mod zone;

pub use app::{
    AppConnect, AppDetach, AppEgo, AppEgoEnd, AppPlace, AppPlaceEnd, APP_DETACH_SIZE,
    APP_EGO_HEADER_SIZE, APP_PLACE_SIZE,
};
pub use control::{MsgProcClear, MsgProcSet, PlaceLeave, PlaceLeaveAck};
pub use enter::{
    GuestEnter, GuestEnterAck, GuestEnterByName, HostEnter, HostEnterAck, GUEST_ENTER_ACK_SIZE,
    GUEST_ENTER_BY_NAME_HEADER_SIZE, GUEST_ENTER_HEADER_SIZE, HOST_ENTER_ACK_SIZE,
    HOST_ENTER_HEADER_SIZE,
};
pub use strings::{ShortToken, Terminated, Token, HOST_APP_ID_MAX};
pub use zone::{ZoneAddNym, ZoneAddPlace, ZONE_ADD_NYM_HEADER_SIZE, ZONE_ADD_PLACE_HEADER_SIZE};

/// `GNUNET_MESSAGE_TYPE_SOCIAL_RESULT_CODE`: defined, never sent (680 is used).
pub const TYPE_SOCIAL_RESULT_CODE: u16 = 840;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_HOST_ENTER`.
pub const TYPE_HOST_ENTER: u16 = 841;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_HOST_ENTER_ACK`.
pub const TYPE_HOST_ENTER_ACK: u16 = 842;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_GUEST_ENTER`.
pub const TYPE_GUEST_ENTER: u16 = 843;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_GUEST_ENTER_BY_NAME`.
pub const TYPE_GUEST_ENTER_BY_NAME: u16 = 844;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_GUEST_ENTER_ACK`.
pub const TYPE_GUEST_ENTER_ACK: u16 = 845;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_ENTRY_REQUEST`: defined, never sent (687 is used).
pub const TYPE_ENTRY_REQUEST: u16 = 846;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_ENTRY_DECISION`: defined, never sent (688 is used).
pub const TYPE_ENTRY_DECISION: u16 = 847;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_PLACE_LEAVE`.
pub const TYPE_PLACE_LEAVE: u16 = 848;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_PLACE_LEAVE_ACK`.
pub const TYPE_PLACE_LEAVE_ACK: u16 = 849;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_ZONE_ADD_PLACE`.
pub const TYPE_ZONE_ADD_PLACE: u16 = 850;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_ZONE_ADD_NYM`.
pub const TYPE_ZONE_ADD_NYM: u16 = 851;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_APP_CONNECT`.
pub const TYPE_APP_CONNECT: u16 = 852;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_APP_DETACH`.
pub const TYPE_APP_DETACH: u16 = 853;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_APP_EGO`.
pub const TYPE_APP_EGO: u16 = 854;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_APP_EGO_END`.
pub const TYPE_APP_EGO_END: u16 = 855;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_APP_PLACE`.
pub const TYPE_APP_PLACE: u16 = 856;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_APP_PLACE_END`.
pub const TYPE_APP_PLACE_END: u16 = 857;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_MSG_PROC_SET`.
pub const TYPE_MSG_PROC_SET: u16 = 858;
/// `GNUNET_MESSAGE_TYPE_SOCIAL_MSG_PROC_CLEAR`.
pub const TYPE_MSG_PROC_CLEAR: u16 = 859;

/// [`MsgProcSet::flags`] (`enum GNUNET_SOCIAL_MsgProcFlags`).
pub mod msg_proc_flags {
    /// No processing.
    pub const NONE: u32 = 0;
    /// Relay guest messages to the place (host places).
    pub const RELAY: u32 = 1;
    /// Save the message's modifiers in the place's state.
    pub const SAVE: u32 = 2;
}

/// [`AppPlace::place_state`] (`enum GNUNET_SOCIAL_AppPlaceState`).
pub mod app_place_state {
    /// The place is archived.
    pub const ARCHIVED: u8 = 0;
    /// The place is entered: the only value the C service sends.
    pub const ENTERED: u8 = 1;
    /// The place is subscribed to.
    pub const SUBSCRIBED: u8 = 2;
}

/// Why bytes could not be decoded into a [`Request`] or [`Reply`]: the wire crate's
/// [`DispatchError`](gnunet_service::wire::DispatchError). For a request the service drops the
/// client and logs the type and size.
pub use gnunet_service::wire::DispatchError as MessageError;

gnunet_service::message_enum!(
    /// Any client → service message on the social socket. Type 691 decodes as
    /// [`ClientMessage`].
    pub Request {
        HostEnter(HostEnter),
        GuestEnter(GuestEnter),
        GuestEnterByName(GuestEnterByName),
        PlaceLeave(PlaceLeave),
        ZoneAddPlace(ZoneAddPlace),
        ZoneAddNym(ZoneAddNym),
        AppConnect(AppConnect),
        AppDetach(AppDetach),
        MsgProcSet(MsgProcSet),
        MsgProcClear(MsgProcClear),
        JoinDecision(JoinDecision),
        Message(ClientMessage),
        HistoryReplay(HistoryReplay),
        StateGet(StateGet),
        StateGetPrefix(StateGetPrefix),
    }
);

gnunet_service::message_enum!(
    /// Any service → client message on the social socket. Type 691 decodes as [`Delivery`].
    pub Reply {
        HostEnterAck(HostEnterAck),
        GuestEnterAck(GuestEnterAck),
        PlaceLeaveAck(PlaceLeaveAck),
        AppEgo(AppEgo),
        AppEgoEnd(AppEgoEnd),
        AppPlace(AppPlace),
        AppPlaceEnd(AppPlaceEnd),
        ResultCode(ResultCode),
        JoinRequest(JoinRequest),
        JoinDecision(JoinDecision),
        Message(Delivery),
        MessageAck(MessageAck),
        HistoryResult(HistoryResult),
        StateResult(StateResult),
    }
);

impl Request {
    /// The client's operation id, for the requests that carry one; the RESULT_CODE echoes it.
    pub fn op_id(&self) -> Option<u64> {
        match self {
            Self::ZoneAddPlace(m) => Some(m.op_id),
            Self::ZoneAddNym(m) => Some(m.op_id),
            Self::AppDetach(m) => Some(m.op_id),
            Self::HistoryReplay(m) => Some(m.op_id),
            Self::StateGet(m) => Some(m.op_id),
            Self::StateGetPrefix(m) => Some(m.op_id),
            _ => None,
        }
    }
}

impl Reply {
    /// The operation id an answer belongs to, for the answers that carry one.
    pub fn op_id(&self) -> Option<u64> {
        match self {
            Self::ResultCode(m) => Some(m.op_id),
            Self::HistoryResult(m) => Some(m.op_id),
            Self::StateResult(m) => Some(m.op_id),
            _ => None,
        }
    }
}

/// Test helper: `bytes` with the header's size set to their length, for building truncated or
/// extended variants of a fixture.
#[cfg(test)]
fn resized(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Ok(n) = u16::try_from(bytes.len()) {
        if let Some(size) = bytes.get_mut(0..2) {
            size.copy_from_slice(&n.to_be_bytes());
        }
    }
    bytes
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
