//! The epoch certificate trailer of deniable fragments on arbitrary bytes: splitting never
//! panics, what splits re-encodes to the same trailer, and the client copy of any fragment
//! message marked deniable is well-formed or left alone.
#![no_main]

use gnunet_service::wire::Message;
use libfuzzer_sys::fuzz_target;
use multicast::epoch::{for_client, EpochCert, TRAILER_SIZE};
use multicast::msg::Fragment;

fuzz_target!(|data: &[u8]| {
    if let Some((body, cert)) = EpochCert::split(data) {
        assert_eq!(body.len() + TRAILER_SIZE, data.len());
        assert_eq!(&cert.to_trailer()[..], &data[body.len()..]);
    }
    if let Ok(f) = Fragment::from_message(data) {
        let copy = for_client(data, true, true);
        if data.len() >= multicast::msg::FRAGMENT_HEADER_SIZE + TRAILER_SIZE {
            let back = Fragment::from_message(&copy).expect("client copy decodes");
            assert_eq!(back.fragment_id, f.fragment_id);
        }
    }
});
