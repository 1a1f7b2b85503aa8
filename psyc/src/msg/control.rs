//! The header-only messages: PART_REQUEST (685), PART_ACK (686) and MESSAGE_ACK (699). Each
//! is exactly the 4-byte header.

use gnunet_service::header_only_message;

header_only_message!(
    /// PART_REQUEST (685), client → service: stop the master / part the slave.
    pub PartRequest = super::TYPE_PART_REQUEST
);
header_only_message!(
    /// PART_ACK (686), service → the client that asked to part; the C library then tears its
    /// handle down.
    pub PartAck = super::TYPE_PART_ACK
);
header_only_message!(
    /// MESSAGE_ACK (699), service → client: one PSYC_MESSAGE of the client went out, the next
    /// may be sent.
    pub MessageAck = super::TYPE_MESSAGE_ACK
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{resized, Reply, Request};
    use gnunet_service::wire::Message;

    #[test]
    fn header_only_messages_are_exactly_four_bytes() {
        assert_eq!(PartRequest.to_message(), [0, 4, 0x02, 0xad]);
        assert_eq!(PartAck.to_message(), [0, 4, 0x02, 0xae]);
        assert_eq!(MessageAck.to_message(), [0, 4, 0x02, 0xbb]);
        assert_eq!(
            Request::decode(&[0, 4, 0x02, 0xad]),
            Ok(Request::PartRequest(PartRequest))
        );
        assert_eq!(
            Reply::decode(&[0, 4, 0x02, 0xae]),
            Ok(Reply::PartAck(PartAck))
        );
        assert_eq!(
            Reply::decode(&[0, 4, 0x02, 0xbb]),
            Ok(Reply::MessageAck(MessageAck))
        );
        for bytes in [
            PartRequest.to_message(),
            PartAck.to_message(),
            MessageAck.to_message(),
        ] {
            let mut longer = bytes.clone();
            longer.push(0);
            let longer = resized(longer);
            assert!(Request::decode(&longer).is_err());
            assert!(Reply::decode(&longer).is_err());
            // A header whose size is not the length.
            assert!(Reply::decode(&bytes[..3]).is_err());
            let mut lying = bytes;
            lying[1] = 5;
            assert!(Request::decode(&lying).is_err());
            assert!(Reply::decode(&lying).is_err());
        }
        assert!(PartAck::from_message(&MessageAck.to_message()).is_err());
    }
}
