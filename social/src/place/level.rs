//! The host's privacy level told to the guests it admits or refuses: a transient modifier
//! `:_privacy_level` = `convenient|balanced|strict` added to the response message of every
//! entry decision a host client passes on (issue 13: "a host's level applies to its place and
//! is told to guests"). Before entering, guests read the same level from the TXT record beside
//! the place's PLACE record ([`crate::record::PlaceLevel`], see [`super::zone`]).
//!
//! Only at balanced and strict: at convenient the decision goes on exactly as the client made
//! it, as with the C service (the C client library parses a response's modifiers into an
//! environment and ignores names it does not know, and `test_social` looks only at the
//! decision itself, so C guests are not disturbed either way). A decision without a response
//! message gets none (inventing one would change what a C guest's callback receives), nor does
//! a response that already names the level, does not parse, or would grow past one container.

use std::borrow::Cow;

use gnunet_service::privacy::Level;
use psyc::format::env::Operator;
use psyc::format::parts::{ModifierPart, Part, Parts, FRAGMENT_MAX_PAYLOAD};

/// The modifier that carries the host's level.
pub const VAR_PRIVACY_LEVEL: &str = "_privacy_level";

/// Bytes of the GNUnet message header in front of the response's parts.
const HEADER: usize = 4;

/// `response` (a whole client PSYC message: header and parts) with the level modifier after
/// its METHOD part; `None` if it is left as it is (see the module docs).
pub fn with_level(response: &[u8], level: Level) -> Option<Vec<u8>> {
    if level == Level::Convenient {
        return None;
    }
    let header = response.get(..HEADER)?;
    let parts = response.get(HEADER..)?;
    let modifier = Part::Modifier(ModifierPart {
        value_size: level.name().len() as u32,
        oper: Operator::Set.byte(),
        name: Cow::Borrowed(VAR_PRIVACY_LEVEL.as_bytes()),
        value: Cow::Borrowed(level.name().as_bytes()),
    });
    if parts.len() + modifier.wire_len() > FRAGMENT_MAX_PAYLOAD {
        return None;
    }
    let mut out = Vec::with_capacity(response.len() + modifier.wire_len());
    out.extend_from_slice(header);
    let mut added = false;
    for part in Parts::new(parts) {
        let part = part.ok()?;
        if let Part::Modifier(m) = &part {
            if m.name.as_ref() == VAR_PRIVACY_LEVEL.as_bytes() {
                return None;
            }
        }
        part.emit(&mut out);
        if !added && matches!(part, Part::Method(_)) {
            modifier.emit(&mut out);
            added = true;
        }
    }
    let size = u16::try_from(out.len()).ok()?;
    if !added {
        return None;
    }
    out.get_mut(..2)?.copy_from_slice(&size.to_be_bytes());
    Some(out)
}

/// `d` with the host's `level` in its response (module docs).
pub fn told_level(mut d: psyc::msg::JoinDecision, level: Level) -> psyc::msg::JoinDecision {
    if let Some(told) = d.response.as_deref().and_then(|r| with_level(r, level)) {
        d.response = Some(told);
    }
    d
}

/// The level a decision's response names, if any (what a guest reads).
pub fn level_of(env: &psyc::format::env::Environment) -> Option<Level> {
    let m = env.iter().find(|m| m.name == VAR_PRIVACY_LEVEL)?;
    std::str::from_utf8(&m.value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnunet_service::wire::Message;
    use psyc::format::message::PsycMessage;

    fn response() -> Vec<u8> {
        let mut m = PsycMessage::new("_notice_place_admit");
        m.env.push(psyc::format::env::Modifier {
            oper: Operator::Set,
            name: "_foo".into(),
            value: b"bar\0".to_vec(),
        });
        m.data = b"Welcome, nym!\0".to_vec();
        m.to_client_message().unwrap().to_message()
    }

    #[test]
    fn the_level_goes_after_the_method_and_the_rest_stays() {
        let bytes = response();
        let out = with_level(&bytes, Level::Strict).expect("added");
        assert_eq!(u16::from_be_bytes([out[0], out[1]]) as usize, out.len());
        assert_eq!(&out[2..4], &bytes[2..4]);
        let parts: Vec<Part<'_>> = Parts::new(&out[4..]).map(Result::unwrap).collect();
        assert!(matches!(&parts[0], Part::Method(m) if m.name.as_ref() == b"_notice_place_admit"));
        assert!(matches!(&parts[1], Part::Modifier(m)
            if m.name.as_ref() == VAR_PRIVACY_LEVEL.as_bytes() && m.value.as_ref() == b"strict"));
        assert!(matches!(&parts[2], Part::Modifier(m) if m.name.as_ref() == b"_foo"));
        assert!(matches!(&parts[3], Part::Data(d) if d.as_ref() == b"Welcome, nym!\0"));
        assert_eq!(parts.len(), 5);
        // A receiver reads the level back.
        let env: psyc::format::env::Environment = parts
            .iter()
            .filter_map(|p| match p {
                Part::Modifier(m) => Some(psyc::format::env::Modifier {
                    oper: Operator::Set,
                    name: String::from_utf8(m.name.to_vec()).unwrap(),
                    value: m.value.to_vec(),
                }),
                _ => None,
            })
            .collect();
        assert_eq!(level_of(&env), Some(Level::Strict));
        // Once is enough.
        assert_eq!(with_level(&out, Level::Balanced), None);
    }

    #[test]
    fn convenient_and_bad_responses_are_left_alone() {
        let bytes = response();
        assert_eq!(with_level(&bytes, Level::Convenient), None);
        assert_eq!(with_level(&bytes[..3], Level::Strict), None);
        assert_eq!(with_level(&bytes[..bytes.len() - 2], Level::Strict), None);
        assert_eq!(
            with_level(&[0, 4, 2, 179], Level::Strict),
            None,
            "no METHOD"
        );
    }
}
