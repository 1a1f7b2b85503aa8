//! Helpers shared by the psycstore integration tests.
#![allow(dead_code)]

use gnunet_service::crypto::eddsa::Signature;
use gnunet_service::crypto::purpose::SignaturePurpose;
use psycstore::fragment::{Fragment, FLAG_LAST_FRAGMENT};
use psycstore::keys::{ChannelKey, SlaveKey};

/// 2^63 − `n`: the tests, like the C ones, use ids at the top of the storable range.
pub fn top(n: u64) -> u64 {
    (1u64 << 63) - n
}

pub fn channel_key() -> ChannelKey {
    ChannelKey(std::array::from_fn(|i| 0xc0 ^ i as u8))
}

pub fn slave_key() -> SlaveKey {
    SlaveKey(std::array::from_fn(|i| 0x50 ^ (i as u8).wrapping_mul(3)))
}

/// A fragment like the C tests build: hop counter 9, LAST_FRAGMENT, purpose 234, a
/// signature-shaped blob and `payload`. The C test writes `GNUNET_htonll (INT64_MAX − 3)`
/// into the group generation, i.e. top(4) big-endian; multicast reads the field
/// little-endian, so the fragment's value is those bytes read little-endian (PSYCstore files
/// and reports top(4), as the C service does).
pub fn fragment(fragment_id: u64, message_id: u64, offset: u64, payload: &[u8]) -> Fragment {
    let size = 116 + payload.len() as u32;
    Fragment {
        hop_counter: 9,
        signature: Signature(std::array::from_fn(|i| {
            (i as u8).wrapping_mul(7).wrapping_add(fragment_id as u8)
        })),
        purpose: SignaturePurpose {
            size: size - 72,
            purpose: 234,
        },
        fragment_id,
        fragment_offset: offset,
        message_id,
        group_generation: u64::from_le_bytes(top(4).to_be_bytes()),
        flags: FLAG_LAST_FRAGMENT,
        payload: payload.to_vec(),
    }
}

/// PSYC parts: a METHOD, one `=` MODIFIER per variable, END.
pub fn stateful_payload(method: &str, assignments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let size = (16 + method.len() + 1) as u16;
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&693u16.to_be_bytes());
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(method.as_bytes());
    out.push(0);
    for (name, value) in assignments {
        let size = (11 + name.len() + 1 + value.len()) as u16;
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&694u16.to_be_bytes());
        out.extend_from_slice(&(value.len() as u32).to_be_bytes());
        out.extend_from_slice(&((name.len() + 1) as u16).to_be_bytes());
        out.push(b'=');
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value);
    }
    out.extend_from_slice(&4u16.to_be_bytes());
    out.extend_from_slice(&697u16.to_be_bytes());
    out
}

pub mod durability;
pub mod harness;
pub mod scenario;
