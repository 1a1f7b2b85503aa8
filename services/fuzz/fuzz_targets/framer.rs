//! Any byte stream, pushed in uneven chunks: the framer yields whole messages whose sizes add
//! up to what it consumed, or a framing error, and never panics.
#![no_main]

use gnunet_service::wire::Framer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = Framer::new();
    let mut consumed = 0;
    let mut fed = 0;
    for chunk in data.chunks(1 + data.first().copied().unwrap_or(0) as usize) {
        f.push(chunk);
        fed += chunk.len();
        loop {
            match f.next_message() {
                Ok(Some(m)) => {
                    assert!(m.len() >= 4);
                    consumed += m.len();
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert_eq!(consumed + f.buffered(), fed);
    }
    let _ = f.finish();
});
