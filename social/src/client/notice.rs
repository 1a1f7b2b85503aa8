//! The social conventions the library itself speaks in PSYC messages (`social.md` §7, §13):
//! the notices of leaving and closing, and the `_nym` variable naming whom a notice is about.

use gnunet_service::crypto::ecdsa;
use psyc::client::ReceivedMessage;
use psyc::format::env::{Environment, Modifier, Operator};
use psyc::format::names::is_in_family;

/// A guest leaves (its talk request), a host says a guest left or ejects one (announcement).
pub const METHOD_NOTICE_PLACE_LEAVE: &str = "_notice_place_leave";
/// The host closes the place (announced before leaving).
pub const METHOD_NOTICE_PLACE_CLOSING: &str = "_notice_place_closing";
/// The variable naming the nym a notice is about: its 32-byte ECDSA public key.
pub const VAR_NYM: &str = "_nym";

/// A guest's farewell as the host's library sees it: a `_notice_place_leave` (or a
/// specialisation of it) from a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Farewell {
    /// The guest leaving.
    pub nym: ecdsa::PublicKey,
    /// The modifiers of its notice, except `_nym` and `_nym_*`, each as `:` (transient): what
    /// C's farewell callback gets and the host re-announces.
    pub env: Environment,
}

impl Farewell {
    /// The farewell `m` stands for, if it is one: its method is in the `_notice_place_leave`
    /// family and it comes from a guest (a non-zero key; the host's own announcements carry
    /// none).
    pub fn from_message(m: &ReceivedMessage) -> Option<Farewell> {
        if m.slave_pub_key.0 == [0; 32]
            || !is_in_family(&m.message.method, METHOD_NOTICE_PLACE_LEAVE)
        {
            return None;
        }
        let env = m
            .message
            .env
            .iter()
            .filter(|v| v.name != VAR_NYM && !v.name.starts_with("_nym_"))
            .map(|v| Modifier {
                oper: Operator::Set,
                name: v.name.clone(),
                value: v.value.clone(),
            })
            .collect();
        Some(Farewell {
            nym: m.slave_pub_key,
            env,
        })
    }

    /// The modifiers the host announces the departure with: the farewell's, then `:_nym`.
    pub fn announcement_env(&self) -> Environment {
        with_nym(self.env.clone(), self.nym)
    }
}

/// `env` with `:_nym` = the 32 bytes of `nym` appended (eject, and the host's announcement of
/// a farewell; C's farewell put its 96-byte nym structure there, gap G14).
pub fn with_nym(mut env: Environment, nym: ecdsa::PublicKey) -> Environment {
    env.push(Modifier {
        oper: Operator::Set,
        name: VAR_NYM.to_owned(),
        value: nym.0.to_vec(),
    });
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use psyc::format::container::DELIVERY_REQUEST;
    use psyc::format::message::PsycMessage;

    fn received(
        method: &str,
        slave: [u8; 32],
        mods: &[(Operator, &str, &[u8])],
    ) -> ReceivedMessage {
        let mut message = PsycMessage::new(method);
        for (oper, name, value) in mods {
            message.env.add(*oper, name, value.to_vec()).unwrap();
        }
        ReceivedMessage {
            message_id: 4,
            flags: DELIVERY_REQUEST,
            slave_pub_key: ecdsa::PublicKey(slave),
            message,
        }
    }

    #[test]
    fn farewell_keeps_other_modifiers_as_transient_and_drops_nym_ones() {
        let m = received(
            "_notice_place_leave",
            [5; 32],
            &[
                (Operator::Assign, "_message", b"Leaving.\0"),
                (Operator::Set, "_nym", b"forged"),
                (Operator::Set, "_nym_name", b"x"),
                (Operator::Set, "_nymph", b"kept"),
            ],
        );
        let f = Farewell::from_message(&m).unwrap();
        assert_eq!(f.nym, ecdsa::PublicKey([5; 32]));
        let names: Vec<_> = f.env.iter().map(|v| (v.oper, v.name.as_str())).collect();
        assert_eq!(
            names,
            [(Operator::Set, "_message"), (Operator::Set, "_nymph")]
        );
        let announced = f.announcement_env();
        let last = announced.tail().unwrap();
        assert_eq!((last.oper, last.name.as_str()), (Operator::Set, "_nym"));
        assert_eq!(last.value, [5; 32]);
        assert_eq!(announced.len(), 3);
    }

    #[test]
    fn only_guest_notices_of_the_leave_family_are_farewells() {
        assert!(
            Farewell::from_message(&received("_notice_place_leave_now", [1; 32], &[])).is_some()
        );
        assert!(Farewell::from_message(&received("_notice_place_leave", [0; 32], &[])).is_none());
        assert!(Farewell::from_message(&received("_notice_place_leaves", [1; 32], &[])).is_none());
        assert!(Farewell::from_message(&received("_notice_place", [1; 32], &[])).is_none());
    }
}
