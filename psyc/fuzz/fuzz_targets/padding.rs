//! Any bytes as a received fragment payload and as a join message / response container,
//! through padding removal and then the part check, as the psyc service runs them: errors
//! are fine, panics are not; what is stripped is exactly one all-zero padding part at the
//! end, and padding the result again gives the input back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psyc::format::container::check_parts;
use psyc::format::padding::{self, TYPE_PADDING};

fuzz_target!(|data: &[u8]| {
    if let Ok(parts) = padding::strip(data) {
        assert!(data.starts_with(parts));
        let tail = &data[parts.len()..];
        if !tail.is_empty() {
            assert_eq!(u16::from_be_bytes([tail[0], tail[1]]) as usize, tail.len());
            assert_eq!(u16::from_be_bytes([tail[2], tail[3]]), TYPE_PADDING);
            let mut again = parts.to_vec();
            assert!(padding::append(&mut again, tail.len()));
            assert_eq!(again, data);
        }
        let _ = check_parts(parts);
    }
    // Well-formed parts padded by us always strip back to themselves (malformed ones are
    // returned whole, for the part check to refuse).
    if let Some((&n, rest)) = data.split_first() {
        let mut padded = rest.to_vec();
        if check_parts(rest).is_ok() && padding::append(&mut padded, usize::from(n).max(4)) {
            assert_eq!(padding::strip(&padded), Ok(rest));
            assert!(check_parts(padding::strip(&padded).unwrap()).is_ok());
        }
    }
    if let Ok(Some(container)) = padding::strip_container(data) {
        assert!(container.len() <= data.len());
    }
});
