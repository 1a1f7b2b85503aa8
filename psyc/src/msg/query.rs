//! Reading a channel's past: HISTORY_REPLAY (701), STATE_GET (703) and STATE_GET_PREFIX
//! (704). Each ends in a NUL-terminated string that must fill the rest of the message; the C
//! service drops a client whose string is empty or unterminated.

use gnunet_service::wire::CString;
use gnunet_service::wire_layout;

/// Fixed part of HISTORY_REPLAY (`struct GNUNET_PSYC_HistoryRequestMessage`), header included.
pub const HISTORY_REPLAY_HEADER_SIZE: usize = 40;

/// HISTORY_REPLAY (701), 40 bytes + method prefix: replay stored messages to the client as
/// HISTORY_RESULTs, then a RESULT_CODE with the number of fragments.
///
/// This is the public `GNUNET_PSYC_HistoryRequestMessage`, which the library writes and the
/// service reads; `psyc.h` also declares a `HistoryRequest` with a reserved word in place of
/// `flags`, which nothing uses (gap P19).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryReplay {
    /// [`history_replay_flags`](super::history_replay_flags) (offset 4).
    pub flags: u32,
    /// Operation id (offset 8).
    pub op_id: u64,
    /// First message id of the range (offset 16).
    pub start_message_id: u64,
    /// Last message id of the range, inclusive (offset 24).
    pub end_message_id: u64,
    /// 0 = the range above; N > 0 = the latest N messages instead (offset 32).
    pub message_limit: u64,
    /// Method prefix as sent, without its terminating NUL (offset 40). C reads it only up to
    /// its first NUL: [`method_prefix_c`](Self::method_prefix_c).
    pub method_prefix: Vec<u8>,
}

impl HistoryReplay {
    /// The method prefix as C reads it: up to the first NUL.
    pub fn method_prefix_c(&self) -> &[u8] {
        CString::as_c_reads(&self.method_prefix)
    }
}

wire_layout! {
    impl Message(super::TYPE_HISTORY_REPLAY) for HistoryReplay {
        flags,
        op_id,
        start_message_id,
        end_message_id,
        message_limit,
        method_prefix as CString,
    }
}

/// Declares a `struct StateRequest` type: 16 bytes + NUL-terminated name.
macro_rules! state_request {
    ($(#[$doc:meta])* $name:ident = $type:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            /// Operation id (offset 8).
            pub op_id: u64,
            /// The name as sent, without its terminating NUL (offset 16). C reads it only up
            /// to its first NUL: [`name_c`](Self::name_c).
            pub name: Vec<u8>,
        }

        impl $name {
            /// The name as C reads it: up to the first NUL.
            pub fn name_c(&self) -> &[u8] {
                CString::as_c_reads(&self.name)
            }
        }

        wire_layout! {
            impl Message($type) for $name {
                padding(4),
                op_id,
                name as CString,
            }
        }
    };
}

state_request!(
    /// STATE_GET (703), 16 bytes + name: the variable of that name, or of the nearest shorter
    /// name of its family, as STATE_RESULTs, then a RESULT_CODE (1 found, 0 not found, −1
    /// error; names under 2 characters are an error).
    StateGet = super::TYPE_STATE_GET
);
state_request!(
    /// STATE_GET_PREFIX (704), 16 bytes + prefix: every variable whose name starts with the
    /// prefix as a plain string, as STATE_RESULTs, then a RESULT_CODE.
    StateGetPrefix = super::TYPE_STATE_GET_PREFIX
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{history_replay_flags, resized, Request};
    use gnunet_service::wire::Message;

    /// Fixed part of STATE_GET / STATE_GET_PREFIX (`struct StateRequest`), header included.
    const STATE_REQUEST_HEADER_SIZE: usize = 16;

    /// `struct GNUNET_PSYC_HistoryRequestMessage` (gnunet_psyc_service.h), every field packed.
    #[repr(C, packed)]
    struct CHistoryRequestMessage {
        _header: [u16; 2],
        flags: u32,
        op_id: u64,
        start_message_id: u64,
        end_message_id: u64,
        message_limit: u64,
    }

    /// `struct StateRequest` (psyc.h), every field packed.
    #[repr(C, packed)]
    struct CStateRequest {
        _header: [u16; 2],
        _reserved: u32,
        op_id: u64,
    }

    #[test]
    fn c_struct_sizes_and_offsets() {
        use std::mem::{offset_of, size_of};
        type H = CHistoryRequestMessage;
        assert_eq!(size_of::<H>(), HISTORY_REPLAY_HEADER_SIZE);
        assert_eq!(offset_of!(H, flags), 4);
        assert_eq!(offset_of!(H, op_id), 8);
        assert_eq!(offset_of!(H, start_message_id), 16);
        assert_eq!(offset_of!(H, end_message_id), 24);
        assert_eq!(offset_of!(H, message_limit), 32);
        assert_eq!(size_of::<CStateRequest>(), STATE_REQUEST_HEADER_SIZE);
        assert_eq!(offset_of!(CStateRequest, op_id), 8);
    }

    #[test]
    fn history_replay_layout_and_round_trip() {
        let m = HistoryReplay {
            flags: history_replay_flags::REMOTE,
            op_id: 1,
            start_message_id: 2,
            end_message_id: 3,
            message_limit: 4,
            method_prefix: b"_m".to_vec(),
        };
        let mut fixture = vec![0, 43, 0x02, 0xbd, 0, 0, 0, 1];
        for n in 1..=4u8 {
            fixture.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, n]);
        }
        fixture.extend_from_slice(b"_m\0");
        assert_eq!(m.to_message(), fixture);
        assert_eq!(
            Request::decode(&fixture),
            Ok(Request::HistoryReplay(m.clone()))
        );
        assert_eq!(Request::decode(&fixture).map(|r| r.op_id()), Ok(Some(1)));
        // The empty prefix is one NUL byte: 41 bytes, the smallest the C service accepts.
        let all = HistoryReplay {
            method_prefix: vec![],
            ..m
        };
        assert_eq!(all.to_message().len(), HISTORY_REPLAY_HEADER_SIZE + 1);
        assert_eq!(HistoryReplay::from_message(&all.to_message()), Ok(all));
        // No prefix byte at all, or no final NUL: the C service drops the client.
        assert!(HistoryReplay::from_message(&resized(fixture[..40].to_vec())).is_err());
        assert!(HistoryReplay::from_message(&resized(fixture[..42].to_vec())).is_err());
        assert!(HistoryReplay::from_message(&resized(fixture[..30].to_vec())).is_err());
    }

    #[test]
    fn state_requests_layout_and_round_trip() {
        let get = StateGet {
            op_id: 0x0a0b,
            name: b"_foo_bar".to_vec(),
        };
        let mut fixture = vec![0, 25, 0x02, 0xbf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0x0b];
        fixture.extend_from_slice(b"_foo_bar\0");
        assert_eq!(get.to_message(), fixture);
        assert_eq!(
            Request::decode(&fixture),
            Ok(Request::StateGet(get.clone()))
        );
        // The same bytes with type 704 are a prefix request.
        fixture[3] = 0xc0;
        let prefix = StateGetPrefix {
            op_id: 0x0a0b,
            name: b"_foo_bar".to_vec(),
        };
        assert_eq!(prefix.to_message(), fixture);
        assert_eq!(
            Request::decode(&fixture),
            Ok(Request::StateGetPrefix(prefix))
        );
        assert!(StateGet::from_message(&fixture).is_err());
        // Empty name field, missing NUL, truncated fixed part.
        assert!(StateGetPrefix::from_message(&resized(fixture[..16].to_vec())).is_err());
        assert!(StateGetPrefix::from_message(&resized(fixture[..24].to_vec())).is_err());
        assert!(StateGetPrefix::from_message(&resized(fixture[..12].to_vec())).is_err());
    }

    #[test]
    fn inner_nul_is_kept_but_ends_the_c_string() {
        let bytes = StateGet {
            op_id: 1,
            name: b"_a\0junk".to_vec(),
        }
        .to_message();
        let back = StateGet::from_message(&bytes).unwrap();
        assert_eq!(back.name, b"_a\0junk");
        assert_eq!(back.name_c(), b"_a");
        assert_eq!(back.to_message(), bytes);
        let h = HistoryReplay {
            flags: 0,
            op_id: 1,
            start_message_id: 0,
            end_message_id: 0,
            message_limit: 1,
            method_prefix: b"_x\0y".to_vec(),
        };
        assert_eq!(h.method_prefix_c(), b"_x");
    }
}
