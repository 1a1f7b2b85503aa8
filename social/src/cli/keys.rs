//! Keys and ego names on the command line: places and egos in the 52-character raw form
//! (`gnunet-social` prints those) or the 58-character typed form (`gnunet-identity -d` prints
//! those, `social.md` I10), peers in the 52-character form; an ego by name.

use gnunet_service::crypto::identity_key::{self, KeyType};
use gnunet_service::crypto::{ecdsa, eddsa};

use crate::client::Ego;

/// Bytes of a typed key string (`GNUNET_IDENTITY_public_key_to_string`).
const TYPED_KEY_CHARS: usize = 58;

/// What `--ego` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EgoArg {
    /// An ECDSA public key (raw or typed); `text` is what was given, also tried as a name.
    Key {
        /// The key.
        key: ecdsa::PublicKey,
        /// The argument as given.
        text: String,
    },
    /// An ego name, matched without regard to case (IDENTITY keeps names lower-case).
    Name(String),
}

/// Why `--ego` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EgoArgError {
    /// A typed key of an EdDSA ego: the social protocol carries ECDSA keys only.
    #[error(
        "`{0}' is the key of an EdDSA ego, but social needs ECDSA egos \
         (`gnunet-identity -C NAME' creates one)"
    )]
    Eddsa(String),
}

impl EgoArg {
    /// Reads `--ego`: a key in either form, else a name.
    pub fn parse(text: &str) -> Result<Self, EgoArgError> {
        if let Ok(key) = text.parse::<ecdsa::PublicKey>() {
            return Ok(EgoArg::Key {
                key,
                text: text.to_owned(),
            });
        }
        if text.len() == TYPED_KEY_CHARS {
            match text.parse::<identity_key::PublicKey>() {
                Ok(identity_key::PublicKey::Ecdsa(key)) => {
                    return Ok(EgoArg::Key {
                        key,
                        text: text.to_owned(),
                    })
                }
                Ok(k) if k.key_type() == KeyType::Eddsa => {
                    return Err(EgoArgError::Eddsa(text.to_owned()))
                }
                _ => {}
            }
        }
        Ok(EgoArg::Name(text.to_owned()))
    }

    /// The ego of `egos` this names: by key, else by name without regard to case.
    pub fn find<'a>(&self, egos: &'a [Ego]) -> Option<&'a Ego> {
        let (key, name) = match self {
            EgoArg::Key { key, text } => (Some(*key), text.as_str()),
            EgoArg::Name(name) => (None, name.as_str()),
        };
        key.and_then(|k| egos.iter().find(|e| e.pub_key == k))
            .or_else(|| {
                egos.iter()
                    .find(|e| e.name.to_lowercase() == name.to_lowercase())
            })
    }
}

/// A place key in either form (a typed key must be an EdDSA one).
pub fn parse_place(text: &str) -> Option<eddsa::PublicKey> {
    if let Ok(key) = text.parse::<eddsa::PublicKey>() {
        return Some(key);
    }
    match text.parse::<identity_key::PublicKey>() {
        Ok(identity_key::PublicKey::Eddsa(key)) if text.len() == TYPED_KEY_CHARS => Some(key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ego(byte: u8, name: &str) -> Ego {
        Ego {
            pub_key: ecdsa::PublicKey([byte; 32]),
            name: name.to_owned(),
        }
    }

    #[test]
    fn ego_keys_in_both_forms_and_names() {
        let key = ecdsa::PublicKey([7; 32]);
        let raw = key.to_string();
        assert_eq!(raw.len(), 52);
        let typed = identity_key::PublicKey::Ecdsa(key).to_string();
        assert_eq!(typed.len(), 58);
        for text in [&raw, &raw.to_lowercase(), &typed] {
            assert!(matches!(EgoArg::parse(text), Ok(EgoArg::Key { key: k, .. }) if k == key));
        }
        assert_eq!(
            EgoArg::parse("Host One"),
            Ok(EgoArg::Name("Host One".into()))
        );
        // A string of 52 characters that is no key is a name.
        let odd = "x".repeat(51) + "!";
        assert_eq!(EgoArg::parse(&odd), Ok(EgoArg::Name(odd.clone())));
        let eddsa = identity_key::PublicKey::Eddsa(eddsa::PublicKey([7; 32])).to_string();
        let err = EgoArg::parse(&eddsa).unwrap_err();
        assert!(err.to_string().contains("ECDSA"));
    }

    #[test]
    fn egos_are_found_by_key_or_by_name_without_case() {
        let egos = [ego(1, "host one"), ego(2, "guest one")];
        let by_name = EgoArg::parse("Guest One").unwrap();
        assert_eq!(by_name.find(&egos), Some(&egos[1]));
        let by_key = EgoArg::parse(&egos[0].pub_key.to_string()).unwrap();
        assert_eq!(by_key.find(&egos), Some(&egos[0]));
        assert_eq!(EgoArg::parse("nobody").unwrap().find(&egos), None);
        let unknown = EgoArg::parse(&ecdsa::PublicKey([9; 32]).to_string()).unwrap();
        assert_eq!(unknown.find(&egos), None);
    }

    #[test]
    fn place_keys_in_both_forms() {
        let key = eddsa::PublicKey([3; 32]);
        assert_eq!(parse_place(&key.to_string()), Some(key));
        let typed = identity_key::PublicKey::Eddsa(key).to_string();
        assert_eq!(parse_place(&typed), Some(key));
        let ecdsa_typed = identity_key::PublicKey::Ecdsa(ecdsa::PublicKey([3; 32])).to_string();
        assert_eq!(parse_place(&ecdsa_typed), None);
        assert_eq!(parse_place("nope"), None);
        assert_eq!(parse_place(""), None);
    }
}
