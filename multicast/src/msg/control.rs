//! The header-only messages: PART_REQUEST (754), PART_ACK (755), GROUP_END (756) and
//! FRAGMENT_ACK (759). Each is exactly the 4-byte header.

use gnunet_service::header_only_message;

header_only_message!(
    /// A client leaves its group role (member part, origin stop).
    pub PartRequest = super::TYPE_PART_REQUEST
);
header_only_message!(
    /// The service confirms a part; the client library then tears its handle down.
    pub PartAck = super::TYPE_PART_ACK
);
header_only_message!(
    /// The group ended. Never used by the C original; this implementation sends it only
    /// peer-to-peer, to tree-capable children, when the origin stops.
    pub GroupEnd = super::TYPE_GROUP_END
);
header_only_message!(
    /// Flow-control credit for the client: the next fragment may be sent.
    pub FragmentAck = super::TYPE_FRAGMENT_ACK
);

#[cfg(test)]
mod tests {
    use super::*;
    use gnunet_service::wire::Message;

    #[test]
    fn header_only_messages_are_four_bytes() {
        assert_eq!(PartRequest.to_message(), [0, 4, 0x02, 0xf2]);
        assert_eq!(PartAck.to_message(), [0, 4, 0x02, 0xf3]);
        assert_eq!(GroupEnd.to_message(), [0, 4, 0x02, 0xf4]);
        assert_eq!(FragmentAck.to_message(), [0, 4, 0x02, 0xf7]);
        for bytes in [
            PartRequest.to_message(),
            PartAck.to_message(),
            GroupEnd.to_message(),
            FragmentAck.to_message(),
        ] {
            let mut longer = bytes.clone();
            longer.push(0);
            longer[1] = 5;
            assert!(super::super::Any::decode(&longer).is_err());
            assert!(super::super::Any::decode(&bytes).is_ok());
        }
        assert_eq!(PartAck::from_message(&PartAck.to_message()), Ok(PartAck));
    }
}
