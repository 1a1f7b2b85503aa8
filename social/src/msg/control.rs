//! Leaving a place and message processing: PLACE_LEAVE (848), PLACE_LEAVE_ACK (849),
//! MSG_PROC_SET (858) and MSG_PROC_CLEAR (859).

use gnunet_service::header_only_message;

use super::strings::Token;
use gnunet_service::wire_layout;

header_only_message!(
    /// PLACE_LEAVE (848), client → service: leave the place the client entered.
    pub PlaceLeave = super::TYPE_PLACE_LEAVE
);
header_only_message!(
    /// PLACE_LEAVE_ACK (849), service → client: the place was left.
    pub PlaceLeaveAck = super::TYPE_PLACE_LEAVE_ACK
);
header_only_message!(
    /// MSG_PROC_CLEAR (859), client → service: forget every message processing rule.
    pub MsgProcClear = super::TYPE_MSG_PROC_CLEAR
);

/// MSG_PROC_SET (858), 8 bytes + method prefix: how the service processes messages whose
/// method starts with the prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgProcSet {
    /// [`msg_proc_flags`](super::msg_proc_flags) (offset 4), big-endian.
    pub flags: u32,
    /// Method prefix without its NUL (offset 8): one string filling the rest, no inner NUL
    /// ([`Token`](super::Token)).
    pub method_prefix: Vec<u8>,
}

wire_layout! {
    impl Message(super::TYPE_MSG_PROC_SET) for MsgProcSet {
        flags,
        method_prefix as Token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{msg_proc_flags, resized, Reply, Request};
    use gnunet_service::wire::Message;

    #[test]
    fn header_only_messages_are_exactly_four_bytes() {
        assert_eq!(PlaceLeave.to_message(), [0, 4, 0x03, 0x50]);
        assert_eq!(PlaceLeaveAck.to_message(), [0, 4, 0x03, 0x51]);
        assert_eq!(MsgProcClear.to_message(), [0, 4, 0x03, 0x5b]);
        assert_eq!(
            Request::decode(&[0, 4, 0x03, 0x50]),
            Ok(Request::PlaceLeave(PlaceLeave))
        );
        assert_eq!(
            Reply::decode(&[0, 4, 0x03, 0x51]),
            Ok(Reply::PlaceLeaveAck(PlaceLeaveAck))
        );
        assert_eq!(
            Request::decode(&[0, 4, 0x03, 0x5b]),
            Ok(Request::MsgProcClear(MsgProcClear))
        );
        for bytes in [PlaceLeave.to_message(), MsgProcClear.to_message()] {
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(Request::decode(&resized(longer)).is_err());
        }
    }

    /// `struct MsgProcRequest` (social.h): `flags` is not packed but aligned, so no padding.
    #[repr(C)]
    struct CMsgProcRequest {
        _header: [u16; 2],
        flags: u32,
    }

    #[test]
    fn c_struct_size_and_offset() {
        assert_eq!(std::mem::size_of::<CMsgProcRequest>(), 8);
        assert_eq!(std::mem::offset_of!(CMsgProcRequest, flags), 4);
    }

    #[test]
    fn msg_proc_set_layout() {
        let m = MsgProcSet {
            flags: msg_proc_flags::RELAY | msg_proc_flags::SAVE,
            method_prefix: b"_m".to_vec(),
        };
        let fixture = [0, 11, 0x03, 0x5a, 0, 0, 0, 3, b'_', b'm', 0];
        assert_eq!(m.to_message(), fixture);
        assert_eq!(Request::decode(&fixture), Ok(Request::MsgProcSet(m)));
        assert!(MsgProcSet::from_message(&resized(fixture[..8].to_vec())).is_err());
        assert!(MsgProcSet::from_message(&resized(fixture[..10].to_vec())).is_err());
        let mut inner_nul = fixture;
        inner_nul[8] = 0;
        assert!(MsgProcSet::from_message(&inner_nul).is_err());
        assert!(Reply::decode(&fixture).is_err());
    }
}
