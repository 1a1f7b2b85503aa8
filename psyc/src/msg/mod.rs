//! The psyc service's client↔service messages (types 680–705), one type per message.
//!
//! Layouts are `psyc.md` §2, checked against the 2019 C headers (`psyc.h`,
//! `gnunet_psyc_service.h`). Every integer is big-endian unless a type says otherwise, and
//! every struct is packed, so there is no hidden padding. The quirks a drop-in must keep:
//!
//! - Type 691 has two layouts by direction: client → service it is
//!   [`ClientMessage`] (4-byte header + parts), service → client [`Delivery`] (56-byte header +
//!   parts). Both are defined once, in [`format::container`](crate::format::container);
//!   [`Request`] and [`Reply`] pick the right one.
//! - [`MasterStart::policy`] is little-endian: the C library stores it without `htonl`.
//! - Result codes are plain two's complement, big-endian: 32 bits in MASTER_START_ACK /
//!   SLAVE_JOIN_ACK, 64 bits in RESULT_CODE / HISTORY_RESULT / STATE_RESULT. Unlike
//!   psycstore's RESULT_CODE there is **no 2^63 bias** (`GNUNET_htonll` of the `int64_t` on the
//!   service side, `GNUNET_ntohll` into an `int64_t` in the library).
//! - A client's JOIN_DECISION may end in zero bytes the C library reserves for relays it never
//!   writes (gap P6); they are kept as [`JoinDecision::relay_slots`].
//!
//! `reserved` fields are written as zero and ignored on receipt, so they are not kept. Checks
//! that the C service makes *after* decoding (a client bound to a channel, a ready channel, the
//! payload limit of a PSYC_MESSAGE, which it answers with a CANCEL before dropping the client)
//! are the service's, not the decoder's: a [`MessageError`] means "drop the client" and nothing
//! else.
//!
//! Layouts are declared field by field in wire order with
//! [`wire_layout!`](gnunet_service::wire_layout); SLAVE_JOIN (a relay count apart from its
//! relays) and JOIN_DECISION (a response followed by relay slots) are written by hand.

pub use crate::format::container::{ClientMessage, Delivery, DeliveryHeader};

mod control;
mod join;
mod membership;
mod query;
mod result;
mod start;

pub use control::{MessageAck, PartAck, PartRequest};
pub use join::{JoinDecision, JoinRequest, JOIN_DECISION_HEADER_SIZE, JOIN_REQUEST_HEADER_SIZE};
pub use membership::{MembershipStore, MEMBERSHIP_STORE_SIZE};
pub use query::{HistoryReplay, StateGet, StateGetPrefix, HISTORY_REPLAY_HEADER_SIZE};
pub use result::{HistoryResult, ResultCode, StateResult, OPERATION_RESULT_HEADER_SIZE};
pub use start::{
    MasterStart, MasterStartAck, SlaveJoin, SlaveJoinAck, COUNTERS_RESULT_SIZE, MASTER_START_SIZE,
    SLAVE_JOIN_HEADER_SIZE,
};

/// `GNUNET_MESSAGE_TYPE_PSYC_RESULT_CODE`.
pub const TYPE_RESULT_CODE: u16 = 680;
/// `GNUNET_MESSAGE_TYPE_PSYC_MASTER_START`.
pub const TYPE_MASTER_START: u16 = 681;
/// `GNUNET_MESSAGE_TYPE_PSYC_MASTER_START_ACK`.
pub const TYPE_MASTER_START_ACK: u16 = 682;
/// `GNUNET_MESSAGE_TYPE_PSYC_SLAVE_JOIN`.
pub const TYPE_SLAVE_JOIN: u16 = 683;
/// `GNUNET_MESSAGE_TYPE_PSYC_SLAVE_JOIN_ACK`.
pub const TYPE_SLAVE_JOIN_ACK: u16 = 684;
/// `GNUNET_MESSAGE_TYPE_PSYC_PART_REQUEST`.
pub const TYPE_PART_REQUEST: u16 = 685;
/// `GNUNET_MESSAGE_TYPE_PSYC_PART_ACK`.
pub const TYPE_PART_ACK: u16 = 686;
/// `GNUNET_MESSAGE_TYPE_PSYC_JOIN_REQUEST`.
pub const TYPE_JOIN_REQUEST: u16 = 687;
/// `GNUNET_MESSAGE_TYPE_PSYC_JOIN_DECISION`.
pub const TYPE_JOIN_DECISION: u16 = 688;
/// `GNUNET_MESSAGE_TYPE_PSYC_CHANNEL_MEMBERSHIP_STORE`.
pub const TYPE_CHANNEL_MEMBERSHIP_STORE: u16 = 689;
/// `GNUNET_MESSAGE_TYPE_PSYC_MESSAGE`: both container layouts.
pub const TYPE_MESSAGE: u16 = crate::format::container::TYPE_CONTAINER;
/// `GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_ACK`.
pub const TYPE_MESSAGE_ACK: u16 = 699;
/// `GNUNET_MESSAGE_TYPE_PSYC_HISTORY_REPLAY`.
pub const TYPE_HISTORY_REPLAY: u16 = 701;
/// `GNUNET_MESSAGE_TYPE_PSYC_HISTORY_RESULT`.
pub const TYPE_HISTORY_RESULT: u16 = 702;
/// `GNUNET_MESSAGE_TYPE_PSYC_STATE_GET`.
pub const TYPE_STATE_GET: u16 = 703;
/// `GNUNET_MESSAGE_TYPE_PSYC_STATE_GET_PREFIX`.
pub const TYPE_STATE_GET_PREFIX: u16 = 704;
/// `GNUNET_MESSAGE_TYPE_PSYC_STATE_RESULT`.
pub const TYPE_STATE_RESULT: u16 = 705;

/// Result and decision values on the wire (`GNUNET_YES`, `GNUNET_NO`, `GNUNET_SYSERR`): the
/// result codes of every answer and [`JoinDecision::is_admitted`].
pub mod status {
    /// `GNUNET_OK` / `GNUNET_YES`: success, found, admitted. Also the fixed result code of
    /// every HISTORY_RESULT.
    pub const OK: i32 = 1;
    /// `GNUNET_NO`: nothing found, empty history, refused. Also the result code of every
    /// STATE_RESULT (the C service leaves it unset).
    pub const NO: i32 = 0;
    /// `GNUNET_SYSERR`: the operation failed, or the master cannot answer a join.
    pub const SYSERR: i32 = -1;
}

/// Channel policy bits of [`MasterStart::policy`] (`enum GNUNET_PSYC_Policy`). The C service
/// stores the policy and never reads it (gap P6).
pub mod policy {
    /// Anyone may join and read the history.
    pub const ANONYMOUS: u32 = 0;
    /// The master decides who joins.
    pub const ADMISSION_CONTROL: u32 = 1;
    /// Members read only the history since they joined.
    pub const RESTRICTED_HISTORY: u32 = 2;
    /// Both of the above.
    pub const PRIVATE: u32 = ADMISSION_CONTROL | RESTRICTED_HISTORY;
}

/// [`SlaveJoin::flags`] (`enum GNUNET_PSYC_SlaveJoinFlags`).
pub mod slave_join_flags {
    /// Join the channel on the network.
    pub const NONE: u32 = 0;
    /// Only read the local history; no network join is intended.
    pub const LOCAL: u32 = 1;
}

/// [`HistoryReplay::flags`] (`enum GNUNET_PSYC_HistoryReplayFlags`).
pub mod history_replay_flags {
    /// Replay what the local store holds.
    pub const LOCAL: u32 = 0;
    /// Also ask remote peers for what is missing (never implemented by the C service).
    pub const REMOTE: u32 = 1;
}

/// Why bytes could not be decoded into a [`Request`] or [`Reply`]: the wire crate's
/// [`DispatchError`](gnunet_service::wire::DispatchError). For a request the service drops the
/// client and logs the type and size.
pub use gnunet_service::wire::DispatchError as MessageError;

gnunet_service::message_enum!(
    /// Any client → service message. Type 691 decodes as [`ClientMessage`].
    pub Request {
        MasterStart(MasterStart),
        SlaveJoin(SlaveJoin),
        PartRequest(PartRequest),
        JoinDecision(JoinDecision),
        MembershipStore(MembershipStore),
        Message(ClientMessage),
        HistoryReplay(HistoryReplay),
        StateGet(StateGet),
        StateGetPrefix(StateGetPrefix),
    }
);

gnunet_service::message_enum!(
    /// Any service → client message. Type 691 decodes as [`Delivery`].
    pub Reply {
        ResultCode(ResultCode),
        MasterStartAck(MasterStartAck),
        SlaveJoinAck(SlaveJoinAck),
        PartAck(PartAck),
        JoinRequest(JoinRequest),
        JoinDecision(JoinDecision),
        Message(Delivery),
        MessageAck(MessageAck),
        HistoryResult(HistoryResult),
        StateResult(StateResult),
    }
);

impl Request {
    /// The client's operation id, for the requests that carry one; answers echo it.
    pub fn op_id(&self) -> Option<u64> {
        match self {
            Self::MembershipStore(m) => Some(m.op_id),
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
mod tests {
    use super::*;
    use gnunet_service::wire::Message;

    #[test]
    fn type_numbers_match_gnunet_protocols_h() {
        use gnunet_sys as sys;
        let pairs = [
            (TYPE_RESULT_CODE, sys::GNUNET_MESSAGE_TYPE_PSYC_RESULT_CODE),
            (
                TYPE_MASTER_START,
                sys::GNUNET_MESSAGE_TYPE_PSYC_MASTER_START,
            ),
            (
                TYPE_MASTER_START_ACK,
                sys::GNUNET_MESSAGE_TYPE_PSYC_MASTER_START_ACK,
            ),
            (TYPE_SLAVE_JOIN, sys::GNUNET_MESSAGE_TYPE_PSYC_SLAVE_JOIN),
            (
                TYPE_SLAVE_JOIN_ACK,
                sys::GNUNET_MESSAGE_TYPE_PSYC_SLAVE_JOIN_ACK,
            ),
            (
                TYPE_PART_REQUEST,
                sys::GNUNET_MESSAGE_TYPE_PSYC_PART_REQUEST,
            ),
            (TYPE_PART_ACK, sys::GNUNET_MESSAGE_TYPE_PSYC_PART_ACK),
            (
                TYPE_JOIN_REQUEST,
                sys::GNUNET_MESSAGE_TYPE_PSYC_JOIN_REQUEST,
            ),
            (
                TYPE_JOIN_DECISION,
                sys::GNUNET_MESSAGE_TYPE_PSYC_JOIN_DECISION,
            ),
            (
                TYPE_CHANNEL_MEMBERSHIP_STORE,
                sys::GNUNET_MESSAGE_TYPE_PSYC_CHANNEL_MEMBERSHIP_STORE,
            ),
            (TYPE_MESSAGE, sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE),
            (TYPE_MESSAGE_ACK, sys::GNUNET_MESSAGE_TYPE_PSYC_MESSAGE_ACK),
            (
                TYPE_HISTORY_REPLAY,
                sys::GNUNET_MESSAGE_TYPE_PSYC_HISTORY_REPLAY,
            ),
            (
                TYPE_HISTORY_RESULT,
                sys::GNUNET_MESSAGE_TYPE_PSYC_HISTORY_RESULT,
            ),
            (TYPE_STATE_GET, sys::GNUNET_MESSAGE_TYPE_PSYC_STATE_GET),
            (
                TYPE_STATE_GET_PREFIX,
                sys::GNUNET_MESSAGE_TYPE_PSYC_STATE_GET_PREFIX,
            ),
            (
                TYPE_STATE_RESULT,
                sys::GNUNET_MESSAGE_TYPE_PSYC_STATE_RESULT,
            ),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(u32::from(ours), theirs);
        }
        // Each message type declares the number of its constant.
        assert_eq!(
            [
                ResultCode::TYPE,
                MasterStart::TYPE,
                MasterStartAck::TYPE,
                SlaveJoin::TYPE,
                SlaveJoinAck::TYPE,
                PartRequest::TYPE,
                PartAck::TYPE,
                JoinRequest::TYPE,
                JoinDecision::TYPE,
                MembershipStore::TYPE,
                ClientMessage::TYPE,
                Delivery::TYPE,
                MessageAck::TYPE,
                HistoryReplay::TYPE,
                HistoryResult::TYPE,
                StateGet::TYPE,
                StateGetPrefix::TYPE,
                StateResult::TYPE,
            ],
            [
                680, 681, 682, 683, 684, 685, 686, 687, 688, 689, 691, 691, 699, 701, 702, 703,
                704, 705
            ]
        );
    }

    #[test]
    fn type_691_decodes_by_direction() {
        let client = ClientMessage {
            parts: vec![0, 4, 0x02, 0xb9],
        };
        let bytes = client.to_message();
        assert_eq!(Request::decode(&bytes), Ok(Request::Message(client)));
        // 8 bytes are too short for the 56-byte service → client header.
        assert!(matches!(
            Reply::decode(&bytes),
            Err(MessageError::Malformed {
                msg_type: 691,
                size: 8,
                ..
            })
        ));
        let delivery = Delivery {
            header: DeliveryHeader {
                flags: crate::format::container::DELIVERY_REQUEST,
                message_id: 3,
                fragment_offset: 0,
                slave_pub_key: [5; 32],
            },
            parts: vec![0, 4, 0x02, 0xb9],
        };
        let bytes = delivery.to_message();
        assert_eq!(Reply::decode(&bytes), Ok(Reply::Message(delivery)));
        // A client could send these bytes too: they are then 56 bytes of parts.
        assert!(matches!(Request::decode(&bytes), Ok(Request::Message(m)) if m.parts.len() == 56));
    }

    #[test]
    fn directions_do_not_mix_and_short_input_is_no_header() {
        assert_eq!(Request::decode(&[0, 3, 2]), Err(MessageError::NoHeader(3)));
        assert_eq!(Reply::decode(&[]), Err(MessageError::NoHeader(0)));
        let ack = PartAck.to_message();
        assert_eq!(
            Request::decode(&ack),
            Err(MessageError::UnknownType {
                msg_type: 686,
                size: 4
            })
        );
        assert_eq!(Reply::decode(&ack), Ok(Reply::PartAck(PartAck)));
        let part = PartRequest.to_message();
        assert!(matches!(
            Reply::decode(&part),
            Err(MessageError::UnknownType { msg_type: 685, .. })
        ));
        // Unused and neighbouring numbers are unknown both ways.
        for t in [679u16, 690, 692, 693, 700, 706] {
            let mut m = vec![0, 4];
            m.extend_from_slice(&t.to_be_bytes());
            assert!(matches!(
                Request::decode(&m),
                Err(MessageError::UnknownType { .. })
            ));
            assert!(matches!(
                Reply::decode(&m),
                Err(MessageError::UnknownType { .. })
            ));
        }
    }

    #[test]
    fn helpers_check_what_the_c_code_checks() {
        use gnunet_service::wire::{check_nested, CString, DecodeError, FieldCodec, Reader};
        fn read_c_string(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
            CString::read_field(r, what)
        }
        let c_string = CString::as_c_reads;
        assert!(check_nested(&[0, 4, 0, 1], "x").is_ok());
        assert!(check_nested(&[0, 5, 0, 1], "x").is_err());
        assert!(check_nested(&[0, 4, 0, 1, 9], "x").is_err());
        assert!(check_nested(&[0, 4, 0], "x").is_err());
        assert!(check_nested(&[0, 0, 0, 0], "x").is_err());
        assert_eq!(
            read_c_string(&mut Reader::new(b"ab\0"), "s"),
            Ok(b"ab".to_vec())
        );
        assert_eq!(read_c_string(&mut Reader::new(b"\0"), "s"), Ok(vec![]));
        assert!(read_c_string(&mut Reader::new(b""), "s").is_err());
        assert!(read_c_string(&mut Reader::new(b"ab"), "s").is_err());
        assert_eq!(c_string(b"a\0b"), b"a");
        assert_eq!(c_string(b"ab"), b"ab");
    }
}
