//! Any bytes, cut into containers, through the validating receiver, the assembler and the
//! slicer (after padding removal, as the service does): errors are fine, panics are not, and whatever message comes out renders back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psyc::format::receive::{Assembler, Completed, Limits, MessageMeta, Receiver};
use psyc::format::slicer::Slicer;

fuzz_target!(|data: &[u8]| {
    let mut r = Receiver::new();
    let mut a = Assembler::new(Limits {
        max_message_bytes: 1 << 20,
        max_modifiers: 256,
    });
    let mut s = Slicer::new();
    // First byte: cut length; the rest: containers (with and without the 56-byte header).
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).max(1) * 4;
    for chunk in rest.chunks(cut) {
        // The service removes padding before anything parses the parts.
        let Ok(chunk) = psyc::format::padding::strip(chunk) else {
            continue;
        };
        let _ = r.receive(chunk);
        let _ = s.feed(chunk);
        let _ = s.feed_parts(MessageMeta::default(), chunk);
        if let Ok(Some(Completed::Message { message, .. })) =
            a.push_parts(MessageMeta::default(), chunk)
        {
            let mut out = Vec::new();
            let _ = message.render_parts(&mut out);
        }
    }
});
