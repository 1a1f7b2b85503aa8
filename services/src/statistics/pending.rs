//! Statistics a service reports from inside its loop, coalesced: the logic reports many small
//! deltas, the statistics service gets one relative `SET` per changed name per flush, over a
//! [link](crate::server::link) that survives restarts of the statistics service.

use std::collections::BTreeMap;

use super::msg::Set;
use crate::server::{Ctx, LinkId};
use crate::wire::Message;

/// Deltas not yet sent for one subsystem, by statistic name. The names are the service's
/// constants, so the map stays small whatever the traffic.
#[derive(Debug)]
pub struct PendingStats {
    subsystem: String,
    deltas: BTreeMap<&'static str, i64>,
}

impl PendingStats {
    /// Nothing pending yet for `subsystem` (`gnunet-statistics -s SUBSYSTEM` shows them).
    pub fn new(subsystem: &str) -> Self {
        Self {
            subsystem: subsystem.to_string(),
            deltas: BTreeMap::new(),
        }
    }

    /// The subsystem the values are reported under.
    pub fn subsystem(&self) -> &str {
        &self.subsystem
    }

    /// Adds `delta` to `name`.
    pub fn add(&mut self, name: &'static str, delta: i64) {
        let d = self.deltas.entry(name).or_insert(0);
        *d = d.saturating_add(delta);
    }

    /// Whether anything waits to be sent.
    pub fn is_empty(&self) -> bool {
        self.deltas.values().all(|d| *d == 0)
    }

    /// One relative `SET` message per changed name; empties the pending set.
    pub fn take_messages(&mut self) -> Vec<Vec<u8>> {
        let subsystem = &self.subsystem;
        std::mem::take(&mut self.deltas)
            .into_iter()
            .filter(|(_, d)| *d != 0)
            .map(|(name, d)| Set::update(subsystem, name, d).to_message())
            .collect()
    }

    /// Sends what is pending on `link` if it is up; otherwise keeps it for the next flush
    /// (call this again from `link_up`). What a failing link loses is lost: statistics are
    /// best effort.
    pub fn flush<T>(&mut self, ctx: &mut Ctx<T>, link: LinkId) {
        if self.is_empty() || !ctx.link_is_up(link) {
            return;
        }
        for m in self.take_messages() {
            if ctx.link_send(link, m).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_coalesce_per_name_and_zero_sums_vanish() {
        let mut p = PendingStats::new("multicast");
        p.add("# a", 1);
        p.add("# a", 2);
        p.add("# b", 1);
        p.add("# b", -1);
        let msgs = p.take_messages();
        assert_eq!(msgs.len(), 1);
        let set = Set::from_message(&msgs[0]).unwrap();
        assert_eq!(
            (set.subsystem.as_str(), set.name.as_str(), set.value as i64),
            ("multicast", "# a", 3)
        );
        assert!(set.flags.relative);
        assert!(p.is_empty());
    }
}
