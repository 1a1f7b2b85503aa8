//! The slicer ("try-and-slice"): dispatch of incoming parts to handlers by name family.
//!
//! Method handlers are registered under a method name, modifier handlers under a variable
//! name. A part of a message with method `_notice_place_leave` goes to the handlers under
//! `_notice_place_leave`, then `_notice_place`, `_notice`, `_`, and finally the catch-all empty
//! name: every level that has handlers is invoked, most specific first, and handlers under one
//! name run in registration order. Modifier parts go to modifier handlers the same way, by
//! variable name. Callbacks receive the parts as they stream in, container by container; the
//! slicer validates each container with a [`Receiver`] before dispatching any of its parts.
//!
//! Fixed C defects (gap U1): modifier callbacks get the real full value size; the catch-all
//! empty name also receives names without `_`; a receive error is reported to the current
//! message's handlers as [`EndReason::Invalid`] instead of crashing; removal reports correctly
//! whether a handler was removed.

use std::collections::HashMap;

use super::env::Operator;
use super::names::{family, validate_method, NameError};
use super::parts::Part;
use super::receive::{MessageMeta, ReceiveError, Receiver};

/// How a message ended, as told to method handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// END: the message is complete.
    End,
    /// CANCEL: the sender aborted it.
    Cancel,
    /// A later container failed validation; the message is abandoned.
    Invalid,
}

/// One chunk of a modifier value as it streams in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModifierChunk<'a> {
    /// The operator.
    pub oper: Operator,
    /// The variable name.
    pub name: &'a str,
    /// These value bytes.
    pub chunk: &'a [u8],
    /// Offset of `chunk` within the whole value.
    pub offset: u32,
    /// Size of the whole value.
    pub full_size: u32,
}

impl ModifierChunk<'_> {
    /// Whether this chunk completes the value.
    pub fn is_last(&self) -> bool {
        self.offset as u64 + self.chunk.len() as u64 == self.full_size as u64
    }
}

/// Callbacks of a method handler; each has a no-op default.
pub trait MethodHandler {
    /// A message of this family begins (C: message callback then method callback).
    fn method(&mut self, _meta: &MessageMeta, _method: &str, _flags: u32, _state_delta: u64) {}
    /// A modifier chunk of the message.
    fn modifier(&mut self, _meta: &MessageMeta, _m: &ModifierChunk<'_>) {}
    /// A body chunk of the message.
    fn data(&mut self, _meta: &MessageMeta, _data: &[u8]) {}
    /// The message ended.
    fn end(&mut self, _meta: &MessageMeta, _how: EndReason) {}
}

/// Callback of a modifier handler.
pub trait ModifierHandler {
    /// A chunk of a modifier of this family, in any message.
    fn modifier(&mut self, meta: &MessageMeta, m: &ModifierChunk<'_>);
}

impl<F: FnMut(&MessageMeta, &ModifierChunk<'_>)> ModifierHandler for F {
    fn modifier(&mut self, meta: &MessageMeta, m: &ModifierChunk<'_>) {
        self(meta, m)
    }
}

/// Identifies a registered handler, for removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandlerId(u64);

type Entries<H> = Vec<(HandlerId, Box<H>)>;
type Table<H> = HashMap<String, Entries<H>>;

#[derive(Debug)]
struct Current {
    meta: MessageMeta,
    method: String,
    /// The modifier whose value is streaming: operator, name, full size, bytes so far.
    modifier: Option<(Operator, String, u32, u32)>,
}

/// Dispatches incoming messages to handlers by method and modifier family.
#[derive(Default)]
pub struct Slicer {
    receiver: Receiver,
    methods: Table<dyn MethodHandler>,
    modifiers: Table<dyn ModifierHandler>,
    next_id: u64,
    current: Option<Current>,
}

impl std::fmt::Debug for Slicer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slicer")
            .field("methods", &self.methods.keys().collect::<Vec<_>>())
            .field("modifiers", &self.modifiers.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish()
    }
}

fn check_filter(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        Ok(())
    } else {
        validate_method(name.as_bytes()).map(|_| ())
    }
}

/// The names looked up for `name`: its family, most specific first, then the catch-all.
fn lookups(name: &str) -> impl Iterator<Item = &str> {
    family(name).chain((!name.is_empty()).then_some(""))
}

impl Slicer {
    /// A slicer without handlers.
    pub fn new() -> Self {
        Self::default()
    }

    fn id(&mut self) -> HandlerId {
        self.next_id += 1;
        HandlerId(self.next_id)
    }

    /// Registers a method handler for the family `method` (`""` = every message).
    pub fn add_method_handler(
        &mut self,
        method: &str,
        handler: Box<dyn MethodHandler>,
    ) -> Result<HandlerId, NameError> {
        check_filter(method)?;
        let id = self.id();
        self.methods
            .entry(method.to_owned())
            .or_default()
            .push((id, handler));
        Ok(id)
    }

    /// Registers a modifier handler for the variable family `name` (`""` = every modifier).
    pub fn add_modifier_handler(
        &mut self,
        name: &str,
        handler: Box<dyn ModifierHandler>,
    ) -> Result<HandlerId, NameError> {
        check_filter(name)?;
        let id = self.id();
        self.modifiers
            .entry(name.to_owned())
            .or_default()
            .push((id, handler));
        Ok(id)
    }

    /// Removes a method handler; returns it, or `None` if no such handler is registered.
    pub fn remove_method_handler(&mut self, id: HandlerId) -> Option<Box<dyn MethodHandler>> {
        remove(&mut self.methods, id)
    }

    /// Removes a modifier handler; returns it, or `None` if no such handler is registered.
    pub fn remove_modifier_handler(&mut self, id: HandlerId) -> Option<Box<dyn ModifierHandler>> {
        remove(&mut self.modifiers, id)
    }

    /// Removes every handler.
    pub fn clear(&mut self) {
        self.methods.clear();
        self.modifiers.clear();
    }

    /// Validates one service → client container and dispatches its parts.
    pub fn feed(&mut self, container: &[u8]) -> Result<(), ReceiveError> {
        let accepted = self.receiver.receive(container);
        self.dispatch(accepted)
    }

    /// Validates the bare parts of one container and dispatches them.
    pub fn feed_parts(&mut self, meta: MessageMeta, parts: &[u8]) -> Result<(), ReceiveError> {
        let accepted = self.receiver.receive_parts(meta, parts);
        self.dispatch(accepted)
    }

    fn dispatch(
        &mut self,
        accepted: Result<super::receive::Accepted<'_>, ReceiveError>,
    ) -> Result<(), ReceiveError> {
        let accepted = match accepted {
            Ok(a) => a,
            Err(e) => {
                if let Some(cur) = self.current.take() {
                    for h in handlers(&mut self.methods, &cur.method) {
                        h.end(&cur.meta, EndReason::Invalid);
                    }
                }
                return Err(e);
            }
        };
        for part in accepted.parts() {
            self.dispatch_part(&accepted.meta, part);
        }
        Ok(())
    }

    fn dispatch_part(&mut self, meta: &MessageMeta, part: Part<'_>) {
        if let Part::Method(m) = &part {
            // Validated by the receiver; lossy conversion cannot change a keyword.
            let method = String::from_utf8_lossy(&m.name).into_owned();
            for h in handlers(&mut self.methods, &method) {
                h.method(meta, &method, m.flags, m.state_delta);
            }
            self.current = Some(Current {
                meta: *meta,
                method,
                modifier: None,
            });
            return;
        }
        // The receiver guarantees a METHOD came first.
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        match part {
            Part::Method(_) => {}
            Part::Modifier(m) => {
                let oper = Operator::from_byte(m.oper).unwrap_or(Operator::Set);
                let name = String::from_utf8_lossy(&m.name).into_owned();
                let chunk = ModifierChunk {
                    oper,
                    name: &name,
                    chunk: &m.value,
                    offset: 0,
                    full_size: m.value_size,
                };
                deliver_modifier(&mut self.methods, &mut self.modifiers, cur, meta, &chunk);
                let received = m.value.len() as u32;
                cur.modifier =
                    (received < m.value_size).then(|| (oper, name.clone(), m.value_size, received));
            }
            Part::ModCont(bytes) => {
                let Some((oper, name, full, received)) = cur.modifier.take() else {
                    return;
                };
                let chunk = ModifierChunk {
                    oper,
                    name: &name,
                    chunk: &bytes,
                    offset: received,
                    full_size: full,
                };
                deliver_modifier(&mut self.methods, &mut self.modifiers, cur, meta, &chunk);
                let received = received + bytes.len() as u32;
                if received < full {
                    cur.modifier = Some((oper, name, full, received));
                }
            }
            Part::Data(bytes) => {
                for h in handlers(&mut self.methods, &cur.method) {
                    h.data(meta, &bytes);
                }
            }
            Part::End | Part::Cancel => {
                let how = if matches!(part, Part::End) {
                    EndReason::End
                } else {
                    EndReason::Cancel
                };
                for h in handlers(&mut self.methods, &cur.method) {
                    h.end(meta, how);
                }
                self.current = None;
            }
        }
    }
}

fn deliver_modifier(
    methods: &mut Table<dyn MethodHandler>,
    modifiers: &mut Table<dyn ModifierHandler>,
    cur: &Current,
    meta: &MessageMeta,
    chunk: &ModifierChunk<'_>,
) {
    for h in handlers(modifiers, chunk.name) {
        h.modifier(meta, chunk);
    }
    for h in handlers(methods, &cur.method) {
        h.modifier(meta, chunk);
    }
}

/// The handlers for `name`'s family, most specific first.
fn handlers<'t, H: ?Sized>(
    table: &'t mut Table<H>,
    name: &str,
) -> impl Iterator<Item = &'t mut Box<H>> {
    let keys: Vec<&str> = lookups(name).filter(|k| table.contains_key(*k)).collect();
    // Collect the keys first so the mutable borrows of the lists can be handed out in order.
    let mut lists: Vec<(usize, &'t mut Entries<H>)> = table
        .iter_mut()
        .filter_map(|(k, v)| keys.iter().position(|x| x == k).map(|i| (i, v)))
        .collect();
    lists.sort_by_key(|(i, _)| *i);
    lists
        .into_iter()
        .flat_map(|(_, v)| v.iter_mut().map(|(_, h)| h))
}

fn remove<H: ?Sized>(table: &mut Table<H>, id: HandlerId) -> Option<Box<H>> {
    let (key, pos) = table
        .iter()
        .find_map(|(k, v)| v.iter().position(|(i, _)| *i == id).map(|p| (k.clone(), p)))?;
    let list = table.get_mut(&key)?;
    let (_, h) = list.remove(pos);
    if list.is_empty() {
        table.remove(&key);
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{Delivery, DeliveryHeader};
    use crate::parts::{MethodPart, ModifierPart};
    use gnunet_service::wire::Message;
    use std::borrow::Cow;
    use std::cell::RefCell;
    use std::rc::Rc;

    type Log = Rc<RefCell<Vec<String>>>;

    struct Recorder(&'static str, Log);
    impl MethodHandler for Recorder {
        fn method(&mut self, _: &MessageMeta, method: &str, _: u32, _: u64) {
            self.1
                .borrow_mut()
                .push(format!("{}:method {method}", self.0));
        }
        fn modifier(&mut self, _: &MessageMeta, m: &ModifierChunk<'_>) {
            self.1.borrow_mut().push(format!(
                "{}:mod {} {}+{}/{}",
                self.0,
                m.name,
                m.offset,
                m.chunk.len(),
                m.full_size
            ));
        }
        fn data(&mut self, _: &MessageMeta, d: &[u8]) {
            self.1
                .borrow_mut()
                .push(format!("{}:data {}", self.0, String::from_utf8_lossy(d)));
        }
        fn end(&mut self, _: &MessageMeta, how: EndReason) {
            self.1.borrow_mut().push(format!("{}:end {how:?}", self.0));
        }
    }

    fn container(id: u64, parts: &[Part<'_>]) -> Vec<u8> {
        let mut p = Vec::new();
        for part in parts {
            part.emit(&mut p);
        }
        Delivery {
            header: DeliveryHeader {
                message_id: id,
                ..DeliveryHeader::default()
            },
            parts: p,
        }
        .to_message()
    }

    fn method(name: &str) -> Part<'_> {
        Part::Method(MethodPart {
            flags: 0,
            state_delta: 0,
            name: Cow::Borrowed(name.as_bytes()),
        })
    }

    fn modifier<'a>(name: &'a str, v: &'a [u8], size: u32) -> Part<'a> {
        Part::Modifier(ModifierPart {
            value_size: size,
            oper: b'=',
            name: Cow::Borrowed(name.as_bytes()),
            value: Cow::Borrowed(v),
        })
    }

    #[test]
    fn every_family_level_most_specific_first() {
        let log: Log = Rc::default();
        let mut s = Slicer::new();
        for (name, tag) in [
            ("", "all"),
            ("_notice", "notice"),
            ("_notice_place_leave", "leave"),
            ("_notice_place", "place"),
            ("_message", "message"),
        ] {
            s.add_method_handler(name, Box::new(Recorder(tag, log.clone())))
                .unwrap();
        }
        s.feed(&container(1, &[method("_notice_place_leave"), Part::End]))
            .unwrap();
        assert_eq!(
            *log.borrow(),
            [
                "leave:method _notice_place_leave",
                "place:method _notice_place_leave",
                "notice:method _notice_place_leave",
                "all:method _notice_place_leave",
                "leave:end End",
                "place:end End",
                "notice:end End",
                "all:end End",
            ]
        );
        log.borrow_mut().clear();
        // A name without `_` still reaches the catch-all (C: it did not).
        s.feed(&container(2, &[method("message"), Part::Cancel]))
            .unwrap();
        assert_eq!(*log.borrow(), ["all:method message", "all:end Cancel"]);
    }

    #[test]
    fn modifiers_stream_with_offsets_and_full_size() {
        let log: Log = Rc::default();
        let mut s = Slicer::new();
        s.add_method_handler("_m", Box::new(Recorder("m", log.clone())))
            .unwrap();
        let seen: Log = Rc::default();
        let seen2 = seen.clone();
        s.add_modifier_handler(
            "_foo",
            Box::new(move |_: &MessageMeta, m: &ModifierChunk<'_>| {
                seen2
                    .borrow_mut()
                    .push(format!("{} {} last={}", m.name, m.offset, m.is_last()));
            }),
        )
        .unwrap();
        s.feed(&container(
            1,
            &[method("_m"), modifier("_foo_bar", b"ab", 5)],
        ))
        .unwrap();
        s.feed(&container(
            1,
            &[
                Part::ModCont(Cow::Borrowed(b"cde")),
                modifier("_other", b"", 0),
                Part::Data(Cow::Borrowed(b"hi")),
                Part::End,
            ],
        ))
        .unwrap();
        assert_eq!(
            *log.borrow(),
            [
                "m:method _m",
                "m:mod _foo_bar 0+2/5",
                "m:mod _foo_bar 2+3/5",
                "m:mod _other 0+0/0",
                "m:data hi",
                "m:end End"
            ]
        );
        assert_eq!(
            *seen.borrow(),
            ["_foo_bar 0 last=false", "_foo_bar 2 last=true"]
        );
    }

    #[test]
    fn errors_end_the_current_message_as_invalid() {
        let log: Log = Rc::default();
        let mut s = Slicer::new();
        s.add_method_handler("", Box::new(Recorder("all", log.clone())))
            .unwrap();
        s.feed(&container(1, &[method("_m")])).unwrap();
        assert!(s.feed(&container(2, &[Part::End])).is_err());
        assert_eq!(*log.borrow(), ["all:method _m", "all:end Invalid"]);
        // A stray error without a message in progress tells nobody.
        log.borrow_mut().clear();
        assert!(s.feed(&container(3, &[Part::End])).is_err());
        assert!(log.borrow().is_empty());
    }

    #[test]
    fn removal_reports_what_it_removed() {
        let log: Log = Rc::default();
        let mut s = Slicer::new();
        let a = s
            .add_method_handler("_m", Box::new(Recorder("a", log.clone())))
            .unwrap();
        let b = s
            .add_method_handler("_m", Box::new(Recorder("b", log.clone())))
            .unwrap();
        assert!(s.remove_method_handler(a).is_some());
        assert!(s.remove_method_handler(a).is_none());
        s.feed(&container(1, &[method("_m"), Part::End])).unwrap();
        assert_eq!(*log.borrow(), ["b:method _m", "b:end End"]);
        assert!(s.remove_method_handler(b).is_some());
        let m = s
            .add_modifier_handler("_x", Box::new(|_: &MessageMeta, _: &ModifierChunk<'_>| {}))
            .unwrap();
        assert!(s.remove_modifier_handler(m).is_some());
        assert!(s.remove_modifier_handler(m).is_none());
        assert!(s
            .add_method_handler("bad name", Box::new(Recorder("x", log)))
            .is_err());
    }
}
