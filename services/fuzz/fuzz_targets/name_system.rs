//! Any bytes as what our IDENTITY, NAMESTORE and GNS clients take from outside: the messages
//! carrying GNS records (whose padding is not kept, so re-encoding gives the value, not the
//! bytes, back), a record set on its own, and the ego monitor and both sessions fed a message.
//! Nothing panics, and a decoded value encodes to bytes that decode to the same value.
#![no_main]

use gnunet_service::gns::msg::LookupResult;
use gnunet_service::gns::LookupSession;
use gnunet_service::gnsrecord;
use gnunet_service::identity::Monitor;
use gnunet_service::namestore::msg::RecordStore;
use gnunet_service::namestore::StoreSession;
use gnunet_service::wire::Message;
use libfuzzer_sys::fuzz_target;

fn same_value<M: Message + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = M::from_message(data) {
        // Records come back padded as libgnunetgnsrecord pads them, which may be more than
        // the input had: a message may then no longer fit, which is refused, not a panic.
        if let Ok(again) = m.try_to_message() {
            assert_eq!(M::from_message(&again).as_ref(), Ok(&m));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    same_value::<RecordStore>(data);
    same_value::<LookupResult>(data);

    // A record set: the first byte says how many records to read.
    if let Some((&count, bytes)) = data.split_first() {
        if let Ok(records) = gnsrecord::deserialize(bytes, usize::from(count)) {
            if let Ok(again) = gnsrecord::serialize(&records) {
                assert_eq!(gnsrecord::deserialize(&again, records.len()), Ok(records));
            }
        }
    }

    let mut monitor = Monitor::new(16);
    let _ = monitor.connected();
    let _ = monitor.handle_message(data);
    let _ = StoreSession::default().handle_message(data);
    let _ = LookupSession::default().handle_message(data);
});
