//! The client API of the social service (`social_api.c`), in two layers:
//!
//! - Sans-IO sessions, one per connection kind, as the C library opens them (so a C client
//!   and ours are interchangeable on the wire): [`AppSession`] for the application's
//!   connection (APP_CONNECT, the ego and place lists, zone operations, detach) and
//!   [`PlaceSession`] for each place connection (enter as host or guest, admission,
//!   messages, history, state, message processing, leave). A place session is psyc's
//!   channel session [embedded](psyc::client::Session::embedded) in the social socket's
//!   protocol: the social service speaks psyc's message types for everything but entering
//!   and leaving, so transmission (the MESSAGE_ACK window, pipelined and streamed messages),
//!   message assembly, history and state come from [`psyc::client`] unchanged.
//! - Blocking handles for tools, the CLI and tests: [`App`] and [`Place`] over the service's
//!   UNIX socket; [`Place`] is psyc's blocking [`Client`](psyc::client::Client) driving a
//!   [`PlaceSession`].
//!
//! Events of a place are psyc's [`Event`]s: HOST_ENTER_ACK is reported as
//! [`Event::MasterStarted`] (the place's key is then [`PlaceSession::place_pub_key`]),
//! GUEST_ENTER_ACK as [`Event::SlaveConnected`], an entry request as
//! [`Event::JoinRequest`], the entry decision as [`Event::JoinDecision`], PLACE_LEAVE_ACK as
//! [`Event::Parted`].
//!
//! # How it maps to `social_api.c`
//!
//! | C | here |
//! | --- | --- |
//! | `GNUNET_SOCIAL_app_connect` + ego / host / guest / connected callbacks | [`AppSession::new`], [`App::connect`]; [`AppEvent::Ego`], [`AppEvent::Place`], [`AppEvent::Connected`] |
//! | `GNUNET_SOCIAL_app_detach` | [`AppSession::detach`], [`App::detach`] |
//! | `GNUNET_SOCIAL_zone_add_place` / `_add_nym` | [`AppSession::zone_add_place`] / [`AppSession::zone_add_nym`]; [`App`] likewise |
//! | `GNUNET_SOCIAL_host_enter` / `_enter_reconnect` | [`PlaceSession::host_enter`] / [`PlaceSession::host_reconnect`]; [`App::host_enter`] / [`App::host_reconnect`] |
//! | `GNUNET_SOCIAL_guest_enter` / `_enter_by_name` / `_enter_reconnect` | [`PlaceSession::guest_enter`] / [`PlaceSession::guest_enter_by_name`] / [`PlaceSession::guest_reconnect`]; [`App`] likewise |
//! | answer-door callback, `GNUNET_SOCIAL_host_entry_decision` | [`Event::JoinRequest`], [`PlaceSession::entry_decision`] |
//! | entry-decision callback | [`Event::JoinDecision`], [`Place::wait_entry_decision`] |
//! | `GNUNET_SOCIAL_host_announce` / `guest_talk` (+ notify-data callbacks) | [`PlaceSession::announce`] / [`PlaceSession::talk`]; [`Place::announce`], [`Place::talk`], streamed: [`Place::announce_chunks`], [`Place::talk_chunks`] |
//! | farewell callback | [`Event::Message`] of a guest's `_notice_place_leave`, read with [`Farewell::from_message`] |
//! | `GNUNET_SOCIAL_host_eject` | [`PlaceSession::eject`], [`Place::eject`] |
//! | `GNUNET_SOCIAL_host_leave` / `guest_leave` | [`PlaceSession::leave`], [`Place::leave`] |
//! | `GNUNET_SOCIAL_place_history_replay` / `_latest` | [`PlaceSession::history_replay`] / [`PlaceSession::history_latest`]; [`Event::HistoryMessage`] |
//! | `GNUNET_SOCIAL_place_look_at` / `_look_for` | [`PlaceSession::look_at`] / [`PlaceSession::look_for`]; [`Event::StateVar`] |
//! | `GNUNET_SOCIAL_place_msg_proc_set` / `_clear` | [`PlaceSession::msg_proc_set`] / [`PlaceSession::msg_proc_clear`] |
//! | result callbacks | [`Event::OperationDone`], [`AppEvent::OperationDone`] |
//!
//! # Where it differs
//!
//! - **Eject and farewell put the 32-byte nym key into `:_nym`** (gap G14: C's farewell
//!   re-announcement put its 96-byte internal nym structure there).
//! - **A new place survives a reconnect.** C resent the original HOST_ENTER (all-zero place
//!   key) after a lost connection, which creates another place; once the place's key is
//!   known, the session re-enters that place instead.
//! - **Leaving waits for the notice.** PLACE_LEAVE goes out once the `_notice_place_closing`
//!   / `_notice_place_leave` message is acknowledged (C queued both at once), and without
//!   the notice when the session cannot transmit (a guest not admitted).
//! - **Operations have op ids** on the app connection too (C sent detach with op id 0 and
//!   dropped its result); operations written on a lost connection are reported lost.
//! - **Every APP_PLACE is reported**, also for egos not (yet) listed (C skipped those), and
//!   egos and places the service announces after the listing (the Rust service pushes new
//!   egos) are events like the first ones. APP_PLACE on a place connection (C ignored it)
//!   tells the session the place's key, which is how a guest entering by name learns it.
//! - What [`psyc::client`] changes against `psyc_api.c` (a window of containers in flight,
//!   pipelined messages, whole messages validated per stream, state results decoded right)
//!   holds for places.

mod app;
mod blocking;
mod notice;
mod place;

pub use app::{AppError, AppEvent, AppLimits, AppSession, Ego, PlaceInfo};
pub use blocking::{App, Entered, EntryDecision, Error, OpResult, Place};
pub use notice::{
    with_nym, Farewell, METHOD_NOTICE_PLACE_CLOSING, METHOD_NOTICE_PLACE_LEAVE, VAR_NYM,
};
pub use place::PlaceSession;
pub use psyc::client::{
    ChannelSession, DropReason, Event, History, Limits, ReceivedMessage, Role, SessionError,
    StateVars, TransmitReport, DEFAULT_TIMEOUT,
};

/// The longest application id: HOST_ENTER carries it in a tail the C service reads as at most
/// 255 bytes including its NUL.
pub const APP_ID_MAX: usize = crate::msg::HOST_APP_ID_MAX - 1;

/// An application id as the service takes it: at most [`APP_ID_MAX`] bytes, no NUL.
fn check_app_id(app_id: &str) -> Result<Vec<u8>, &'static str> {
    if app_id.len() > APP_ID_MAX {
        return Err("application id longer than 254 bytes");
    }
    c_string(app_id).ok_or("application id contains a NUL byte")
}

/// A string for a NUL-terminated wire field: it must not contain NUL itself.
fn c_string(s: &str) -> Option<Vec<u8>> {
    (!s.as_bytes().contains(&0)).then(|| s.as_bytes().to_vec())
}
