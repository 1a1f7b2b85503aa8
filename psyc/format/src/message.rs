//! A complete PSYC message in memory, and rendering a small one into a single container.
//!
//! Messages of any size go through the [`transmit`](super::transmit) module, which segments
//! them; [`PsycMessage::render_parts`] is the one-container form of the C `message_create`
//! (used for join requests and responses), with the size checks the C code lacked (gap U6).

use std::borrow::Cow;

use super::container::{ClientMessage, Delivery, DeliveryHeader};
use super::env::Environment;
use super::names::{validate_method, NameError};
use super::parts::{MethodPart, ModifierPart, Part, FRAGMENT_MAX_PAYLOAD};

/// A whole message: method, environment, body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PsycMessage {
    /// The method name, a valid keyword.
    pub method: String,
    /// Master transmit flags from the METHOD part (`parts::METHOD_*`).
    pub flags: u32,
    /// The METHOD part's `state_delta` (0 when built by a client; the master's service sets it).
    pub state_delta: u64,
    /// The modifiers, in order.
    pub env: Environment,
    /// The body: all DATA parts concatenated.
    pub data: Vec<u8>,
}

/// Why a message cannot be rendered into one container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The method name is not valid.
    #[error("invalid method name: {0}")]
    MethodName(#[from] NameError),
    /// The parts do not fit in one container.
    #[error("message needs {size} bytes of parts, one container holds {max}")]
    TooLarge {
        /// Bytes the parts need.
        size: usize,
        /// Bytes one container carries.
        max: usize,
    },
}

impl PsycMessage {
    /// A message with the given method and nothing else.
    pub fn new(method: &str) -> Self {
        Self {
            method: method.to_owned(),
            ..Self::default()
        }
    }

    /// Bytes of parts [`render_parts`](Self::render_parts) writes: METHOD, one MODIFIER per
    /// modifier with its whole value, one DATA part if the body is not empty, END.
    pub fn parts_len(&self) -> usize {
        let method = 16 + self.method.len() + 1;
        let mods: usize = self
            .env
            .iter()
            .map(|m| 11 + m.name.len() + 1 + m.value.len())
            .sum();
        let data = if self.data.is_empty() {
            0
        } else {
            4 + self.data.len()
        };
        method + mods + data + 4
    }

    /// Appends the parts of the whole message (METHOD, MODIFIERs, DATA, END) to `out`, provided
    /// they fit in one container ([`FRAGMENT_MAX_PAYLOAD`] bytes).
    pub fn render_parts(&self, out: &mut Vec<u8>) -> Result<(), BuildError> {
        validate_method(self.method.as_bytes())?;
        let size = self.parts_len();
        if size > FRAGMENT_MAX_PAYLOAD {
            return Err(BuildError::TooLarge {
                size,
                max: FRAGMENT_MAX_PAYLOAD,
            });
        }
        out.reserve(size);
        Part::Method(MethodPart {
            flags: self.flags,
            state_delta: self.state_delta,
            name: Cow::Borrowed(self.method.as_bytes()),
        })
        .emit(out);
        for m in &self.env {
            Part::Modifier(ModifierPart {
                // Fits: the whole message is below 64 KiB.
                value_size: m.value.len() as u32,
                oper: m.oper.byte(),
                name: Cow::Borrowed(m.name.as_bytes()),
                value: Cow::Borrowed(&m.value),
            })
            .emit(out);
        }
        if !self.data.is_empty() {
            Part::Data(Cow::Borrowed(&self.data)).emit(out);
        }
        Part::End.emit(out);
        Ok(())
    }

    /// The message as one client → service container (`message_create`).
    pub fn to_client_message(&self) -> Result<ClientMessage, BuildError> {
        let mut parts = Vec::new();
        self.render_parts(&mut parts)?;
        Ok(ClientMessage { parts })
    }

    /// The message as one service → client container with the given header fields.
    pub fn to_delivery(&self, header: DeliveryHeader) -> Result<Delivery, BuildError> {
        let mut parts = Vec::new();
        self.render_parts(&mut parts)?;
        Ok(Delivery { header, parts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Operator;
    use crate::parts::{PartKind, Parts};
    use gnunet_service::wire::Message;

    #[test]
    fn render_lays_out_method_modifiers_data_end() {
        let mut m = PsycMessage::new("_notice_place_leave");
        m.env.add(Operator::Assign, "_nym", "key").unwrap();
        m.env.add(Operator::Set, "_t", "").unwrap();
        m.data = b"bye".to_vec();
        let c = m.to_client_message().unwrap();
        assert_eq!(c.parts.len(), m.parts_len());
        let kinds: Vec<_> = Parts::new(&c.parts).map(|p| p.unwrap().kind()).collect();
        assert_eq!(
            kinds,
            [
                PartKind::Method,
                PartKind::Modifier,
                PartKind::Modifier,
                PartKind::Data,
                PartKind::End
            ]
        );
        let bytes = c.to_message();
        assert_eq!(bytes.len(), 4 + m.parts_len());
    }

    #[test]
    fn render_refuses_bad_names_and_oversize() {
        assert!(matches!(
            PsycMessage::new("").to_client_message(),
            Err(BuildError::MethodName(_))
        ));
        let mut m = PsycMessage::new("_m");
        m.data = vec![0; FRAGMENT_MAX_PAYLOAD];
        assert!(matches!(
            m.to_client_message(),
            Err(BuildError::TooLarge { .. })
        ));
        m.data.truncate(FRAGMENT_MAX_PAYLOAD - 16 - 3 - 4 - 4);
        assert_eq!(
            m.to_client_message().unwrap().parts.len(),
            FRAGMENT_MAX_PAYLOAD
        );
    }
}
