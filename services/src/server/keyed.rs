//! [`KeyedLinks`]: one link per key, for a handler that binds a connection to another service
//! to one thing of its own (psyc opens a multicast connection per channel record, social a
//! psyc connection per place), and needs to find the key of a link and the link of a key.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;

use super::ctx::Ctx;
use super::link::{LinkError, LinkId};

/// One keyed link and whether it stands.
#[derive(Debug, Clone, Copy)]
struct Keyed {
    link: LinkId,
    /// `link_up` came and no `link_down` since.
    up: bool,
}

/// Links by key, with their up/down state (see the module docs). The runtime reconnects each
/// link; the handler reports `link_up` / `link_down` here to learn whose link it was.
#[derive(Debug)]
pub struct KeyedLinks<K> {
    by_key: HashMap<K, Keyed>,
    by_link: HashMap<LinkId, K>,
}

impl<K> Default for KeyedLinks<K> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            by_link: HashMap::new(),
        }
    }
}

impl<K: Copy + Eq + Hash> KeyedLinks<K> {
    /// Opens the link of `key` to the service on `path`, unless it is open already (then
    /// false).
    pub fn open<T>(&mut self, ctx: &mut Ctx<T>, key: K, path: &Path, service: &str) -> bool {
        if self.by_key.contains_key(&key) {
            return false;
        }
        let link = ctx.open_link(path, service);
        self.by_key.insert(key, Keyed { link, up: false });
        self.by_link.insert(link, key);
        true
    }

    /// Sends `msg` on the link of `key` if it stands; else [`LinkError::Down`] (or
    /// [`LinkError::NoLink`] for a key without a link), and nothing is kept.
    pub fn send<T>(&self, ctx: &mut Ctx<T>, key: &K, msg: Vec<u8>) -> Result<(), LinkError> {
        match self.by_key.get(key) {
            Some(k) if k.up => ctx.link_send(k.link, msg),
            Some(k) => Err(LinkError::Down(k.link)),
            None => Err(LinkError::NoLink),
        }
    }

    /// Closes the link of `key` for good; nothing more is reported for it. False if it had
    /// none.
    pub fn close<T>(&mut self, ctx: &mut Ctx<T>, key: &K, reason: &str) -> bool {
        let Some(k) = self.by_key.remove(key) else {
            return false;
        };
        self.by_link.remove(&k.link);
        ctx.close_link(k.link, reason);
        true
    }

    /// The key of `link`, if it is one of these.
    pub fn key_of(&self, link: LinkId) -> Option<K> {
        self.by_link.get(&link).copied()
    }

    /// `link` came up: its key, if it is one of these (now marked up).
    pub fn came_up(&mut self, link: LinkId) -> Option<K> {
        let key = self.key_of(link)?;
        if let Some(k) = self.by_key.get_mut(&key) {
            k.up = true;
        }
        Some(key)
    }

    /// `link` went down: its key, if it is one of these and was up (a link that fails to
    /// connect again and again is reported down once).
    pub fn went_down(&mut self, link: LinkId) -> Option<K> {
        let key = self.key_of(link)?;
        let k = self.by_key.get_mut(&key)?;
        if !k.up {
            return None;
        }
        k.up = false;
        Some(key)
    }

    /// How many keys have a link.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no key has a link.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}
