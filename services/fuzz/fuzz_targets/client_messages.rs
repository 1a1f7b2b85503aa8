//! Any bytes as each message the runtime decodes from the C services (cadet, core, identity,
//! namestore, gns, statistics): decoding never panics, and what decodes re-encodes to bytes that
//! decode to the same value (reserved fields and flag words are normalised on the way). Messages
//! carrying padded GNS records are in the `name_system` target.
#![no_main]

use gnunet_service::wire::Message;
use gnunet_service::{cadet, core, gns, identity, namestore, statistics};
use libfuzzer_sys::fuzz_target;

fn check<M: Message + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = M::from_message(data) {
        let again = m.to_message();
        assert_eq!(again.len(), data.len());
        assert_eq!(M::from_message(&again).as_ref(), Ok(&m));
    }
}

fuzz_target!(|data: &[u8]| {
    check::<cadet::msg::LocalData>(data);
    check::<cadet::msg::LocalAck>(data);
    check::<cadet::msg::ChannelCreate>(data);
    check::<cadet::msg::ChannelDestroy>(data);
    check::<cadet::msg::PortOpen>(data);
    check::<core::msg::Init>(data);
    check::<core::msg::InitReply>(data);
    check::<identity::msg::Update>(data);
    check::<identity::msg::Lookup>(data);
    check::<identity::msg::Create>(data);
    check::<identity::msg::Rename>(data);
    check::<identity::msg::Delete>(data);
    check::<namestore::msg::RecordStoreResponse>(data);
    check::<gns::msg::Lookup>(data);
    check::<statistics::msg::Set>(data);
    check::<statistics::msg::Get>(data);
    check::<statistics::msg::Value>(data);
});
