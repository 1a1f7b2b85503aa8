//! Any bytes as one client message and as one service reply: errors are fine, panics are not,
//! and whatever decodes encodes back to the same bytes' meaning.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psycstore::client::parse_reply;
use psycstore::msg::{Reply, Request};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::decode(data) {
        let again = Request::decode(&request.to_message()).expect("re-encoded request decodes");
        assert_eq!(again, request);
    }
    if let Ok(reply) = parse_reply(data) {
        let _ = reply.op_id();
        assert!(matches!(
            reply,
            Reply::ResultCode(_) | Reply::Fragment(_) | Reply::Counters(_) | Reply::State(_)
        ));
    }
});
