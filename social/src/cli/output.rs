//! What `gnunet-social` prints (`social.md` §14.2): stdout lines as the C tool prints them
//! (`Ego\t<key>\t<name>`, `Host\t<key>`, `Guest\t<key>`, `.`, messages), stderr `* …` lines
//! for what C logged at level MESSAGE and for waiting on the network; with `--json` stdout
//! carries one [`json::Event`] per line instead (stderr is the same).
//!
//! As in C the text form is not binary safe: values and bodies are printed up to their first
//! NUL byte (C's `%.*s`), invalid UTF-8 replaced. A message's body is printed once, whole
//! (C printed each DATA part as it came, after a line with the method).

use std::io::{self, Write};

use gnunet_service::crypto::ecdsa;
use gnunet_service::privacy::{KnobSource, Knobs, Level};
use psyc::client::ReceivedMessage;
use psyc::format::env::Environment;
use psyc::format::message::PsycMessage;

use super::json::{self, role, Event, Value};
use crate::client::{Ego, Entered, PlaceInfo};
use crate::record::PlaceData;

/// C's caution when no operation is given.
pub const CAUTION: &str = "Caution: This tool does not produce correct binary safe PSYC syntax.";

/// Bytes as C's `%.*s` prints them: up to the first NUL.
fn c_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

/// A modifier's value for the text form: a `_nym` (a 32-byte ECDSA key, e.g. in the farewell
/// a host announces) as the key; other text as [`c_text`]; a value with control characters
/// (a binary value) as `(N bytes)`, so raw bytes never reach the terminal.
fn value_text(name: &str, bytes: &[u8]) -> String {
    if name == crate::client::VAR_NYM {
        if let Ok(key) = <[u8; 32]>::try_from(bytes) {
            return ecdsa::PublicKey(key).to_string();
        }
    }
    let text = c_text(bytes);
    if text
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n')
        || text.contains('\u{fffd}')
    {
        return format!("({} bytes)", bytes.len());
    }
    text
}

/// Where and how the tool prints.
pub struct Output<O, E> {
    out: O,
    err: E,
    json: bool,
}

impl<O: Write, E: Write> Output<O, E> {
    /// Printing to `out` (stdout) and `err` (stderr), in JSON if `json`.
    pub fn new(out: O, err: E, json: bool) -> Self {
        Self { out, err, json }
    }

    /// The writers back (tests).
    pub fn into_inner(self) -> (O, E) {
        (self.out, self.err)
    }

    /// Whether stdout carries JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    fn json(&mut self, event: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn text(&mut self, line: &str) -> io::Result<()> {
        if !self.json {
            writeln!(self.out, "{line}")?;
            self.out.flush()?;
        }
        Ok(())
    }

    /// A `* …` line on stderr (both forms).
    pub fn info(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.err, "* {text}")?;
        self.err.flush()
    }

    /// C's caution when no operation is given, and a blank line, on stderr.
    pub fn caution(&mut self) -> io::Result<()> {
        writeln!(self.err, "{CAUTION}\n")
    }

    /// An ego of the listing.
    pub fn ego(&mut self, ego: &Ego) -> io::Result<()> {
        if self.json {
            return self.json(&Event::Ego {
                key: ego.pub_key.to_string(),
                name: ego.name.clone(),
            });
        }
        self.text(&format!("Ego\t{}\t{}", ego.pub_key, ego.name))
    }

    /// A place of the listing.
    pub fn place(&mut self, place: &PlaceInfo) -> io::Result<()> {
        if self.json {
            return self.json(&Event::Place {
                role: role(place.is_host),
                key: place.place_pub_key.to_string(),
                ego: place.ego_pub_key.to_string(),
            });
        }
        let kind = if place.is_host { "Host" } else { "Guest" };
        self.text(&format!("{kind}\t{}", place.place_pub_key))
    }

    /// The listing is complete: `.`.
    pub fn listed(&mut self) -> io::Result<()> {
        if self.json {
            return self.json(&Event::Listed);
        }
        self.text(".")
    }

    /// A place was entered (`reconnect`: entered again).
    pub fn entered(&mut self, is_host: bool, reconnect: bool, e: &Entered) -> io::Result<()> {
        let place = e.place_pub_key.map(|k| k.to_string());
        let shown = place
            .clone()
            .unwrap_or_else(|| "(key not known yet)".into());
        let n = e.max_message_id;
        self.info(&match (is_host, reconnect) {
            (true, false) => format!("Host entered: {shown}, max_message_id: {n}"),
            (true, true) => format!("Host reconnected: {shown}, max_message_id: {n}"),
            (false, false) => format!("Guest entered local place: {shown}, max_message_id: {n}"),
            (false, true) => format!("Guest reconnected to place {shown}, max_message_id: {n}"),
        })?;
        if self.json {
            self.json(&Event::Entered {
                role: role(is_host),
                reconnect,
                place,
                result: e.result,
                max_message_id: n,
            })?;
        }
        Ok(())
    }

    /// Host: an entry request.
    pub fn entry_request(
        &mut self,
        nym: ecdsa::PublicKey,
        message: Option<&PsycMessage>,
    ) -> io::Result<()> {
        self.info(&format!("Entry request: {nym}"))?;
        if self.json {
            self.json(&Event::EntryRequest {
                nym: nym.to_string(),
                message: message.map(json::Message::of),
            })?;
        }
        Ok(())
    }

    /// Host: the answer given to an entry request.
    pub fn entry_answered(&mut self, nym: ecdsa::PublicKey, admitted: bool) -> io::Result<()> {
        if self.json {
            self.json(&Event::EntryAnswered {
                nym: nym.to_string(),
                admitted,
            })?;
        }
        Ok(())
    }

    /// Guest: the host's decision, and its response's method and body.
    pub fn decision(&mut self, is_admitted: i32, response: Option<&PsycMessage>) -> io::Result<()> {
        self.info(&format!("Guest received entry decision {is_admitted}"))?;
        if let Some(r) = response {
            self.info(&format!("{}\n{}", r.method, c_text(&r.data)))?;
        }
        let level = response.and_then(|r| crate::place::level::level_of(&r.env));
        if let Some(level) = level {
            self.info(&format!("The host's privacy level: {level}"))?;
        }
        if self.json {
            self.json(&Event::Decision {
                admitted: is_admitted == 1,
                is_admitted,
                response: response.map(json::Message::of),
                level: level.map(Level::name),
            })?;
        }
        Ok(())
    }

    /// A message of the place, live or replayed.
    pub fn message(&mut self, m: &ReceivedMessage) -> io::Result<()> {
        let id = m.message_id;
        let msg = &m.message;
        self.info(&format!(
            "Received method for message ID {id}:\n{} (flags: {:x})",
            msg.method, msg.flags
        ))?;
        if self.json {
            self.json(&Event::message(m))?;
        } else {
            // No routing header: a blank line, then `.` at the end instead of `|` (C).
            let mut text = String::from("\n");
            for v in &msg.env {
                text.push_str(&format!(
                    "{}{}\t{}\n",
                    char::from(v.oper.byte()),
                    v.name,
                    value_text(&v.name, &v.value)
                ));
            }
            if !msg.data.is_empty() {
                text.push_str(&format!("{}\n{}\n", msg.method, c_text(&msg.data)));
            }
            text.push_str(".\n");
            self.out.write_all(text.as_bytes())?;
            self.out.flush()?;
        }
        self.info(&format!("Received end of message ID {id}, cancelled: 0"))
    }

    /// A message its sender cancelled.
    pub fn cancelled(&mut self, id: u64) -> io::Result<()> {
        if self.json {
            self.json(&Event::Cancelled { id })?;
        } else {
            self.text(".")?;
        }
        self.info(&format!("Received end of message ID {id}, cancelled: 1"))
    }

    /// An incoming message dropped as invalid.
    pub fn dropped(&mut self, id: u64, reason: &str) -> io::Result<()> {
        self.info(&format!("Dropped invalid message ID {id}: {reason}"))?;
        if self.json {
            self.json(&Event::Dropped {
                id,
                reason: reason.to_owned(),
            })?;
        }
        Ok(())
    }

    /// Host: a guest left.
    pub fn farewell(&mut self, nym: ecdsa::PublicKey, env: &Environment) -> io::Result<()> {
        self.info(&format!("Farewell: {nym}"))?;
        if self.json {
            self.json(&Event::Farewell {
                nym: nym.to_string(),
                modifiers: json::modifiers(env),
            })?;
        }
        Ok(())
    }

    /// A state variable (C logs it on stderr).
    pub fn var(&mut self, name: &str, value: &[u8]) -> io::Result<()> {
        self.info(&format!("Received var: {name}\n{}", c_text(value)))?;
        if self.json {
            self.json(&Event::Var {
                name: name.to_owned(),
                value: Value::of(value),
            })?;
        }
        Ok(())
    }

    /// The result of an operation (`op`: its long option).
    pub fn result(&mut self, op: &'static str, result: i64, error: Option<&str>) -> io::Result<()> {
        if self.json {
            self.json(&Event::Result {
                op,
                result,
                error: error.map(str::to_owned),
            })?;
        }
        Ok(())
    }

    /// A message was sent.
    pub fn transmitted(&mut self, method: &str, cancelled: bool) -> io::Result<()> {
        if self.json {
            self.json(&Event::Transmitted {
                method: method.to_owned(),
                cancelled,
            })?;
        }
        Ok(())
    }

    /// The place was left.
    pub fn left(&mut self, is_host: bool) -> io::Result<()> {
        self.info(if is_host {
            "The host has left the place."
        } else {
            "Guest has left the place."
        })?;
        if self.json {
            self.json(&Event::Left {
                role: role(is_host),
            })?;
        }
        Ok(())
    }

    /// `--privacy`: the level, then one line per knob: `KNOB\tvalue\tlevel|option`.
    pub fn privacy(&mut self, knobs: &Knobs) -> io::Result<()> {
        let entries = knobs
            .entries()
            .into_iter()
            .map(|(knob, value, source)| json::Knob {
                knob: knob.option(),
                value,
                from: match source {
                    KnobSource::Level => "level",
                    KnobSource::Option => "option",
                },
            });
        if self.json {
            return self.json(&Event::Privacy {
                level: knobs.level.name(),
                knobs: entries.collect(),
            });
        }
        self.text(&format!("PRIVACY\t{}", knobs.level))?;
        for k in entries {
            self.text(&format!("{}\t{}\t{}", k.knob, k.value, k.from))?;
        }
        Ok(())
    }

    /// `--status --gns NAME`: `Place\t<name>\t<place key>\t<origin>\tprivacy=<level|unknown>`.
    pub fn looked_up(
        &mut self,
        name: &str,
        place: &PlaceData,
        level: Option<Level>,
    ) -> io::Result<()> {
        if self.json {
            return self.json(&Event::LookedUp {
                name: name.to_owned(),
                place: place.place_pub_key.to_string(),
                origin: place.origin.to_string(),
                relays: place.relays.iter().map(ToString::to_string).collect(),
                level: level.map(Level::name),
            });
        }
        let level = level.map_or("unknown", Level::name);
        self.text(&format!(
            "Place\t{name}\t{}\t{}\tprivacy={level}",
            place.place_pub_key, place.origin
        ))
    }

    /// The tool failed: with `--json` an `error` line (the message itself goes to the log).
    pub fn error(&mut self, message: &str) -> io::Result<()> {
        if self.json {
            self.json(&Event::Error {
                message: message.to_owned(),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
