//! Statistics for the statistics service, coalesced: the logic reports many small deltas, the
//! service gets one `SET` per changed name every flush period.

use std::collections::BTreeMap;

use gnunet_service::statistics::Set;
use gnunet_service::wire::Message;

/// Subsystem name under which the values appear (`gnunet-statistics -s multicast`).
pub const SUBSYSTEM: &str = "multicast";

/// Deltas not yet sent, by statistic name. The names are the logic's constants, so the map
/// stays small whatever the traffic.
#[derive(Debug, Default)]
pub struct PendingStats {
    deltas: BTreeMap<&'static str, i64>,
}

impl PendingStats {
    /// Adds `delta` to `name`.
    pub fn add(&mut self, name: &'static str, delta: i64) {
        *self.deltas.entry(name).or_insert(0) += delta;
    }

    /// Whether anything waits to be sent.
    pub fn is_empty(&self) -> bool {
        self.deltas.values().all(|d| *d == 0)
    }

    /// One relative `SET` message per changed name; empties the pending set.
    pub fn take_messages(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.deltas)
            .into_iter()
            .filter(|(_, d)| *d != 0)
            .map(|(name, d)| Set::update(SUBSYSTEM, name, d).to_message())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_coalesce_per_name_and_zero_sums_vanish() {
        let mut p = PendingStats::default();
        p.add("# a", 1);
        p.add("# a", 2);
        p.add("# b", 1);
        p.add("# b", -1);
        let msgs = p.take_messages();
        assert_eq!(msgs.len(), 1);
        let set = Set::from_message(&msgs[0]).unwrap();
        assert_eq!((set.name.as_str(), set.value as i64), ("# a", 3));
        assert!(set.flags.relative);
        assert!(p.is_empty());
    }
}
