//! Size padding: which sizes a padded message may have on the wire (issue 13, point 2).
//!
//! A [`Padding`] scheme maps a message length to its *size class*, the length it is padded to,
//! so that an observer of the link learns only the class. The schemes:
//!
//! - [`Padding::None`]: every length is its own class (no padding);
//! - [`Padding::Padme`]: Padmé, from Nikitin et al., "Reducing Metadata Leakage from Encrypted
//!   Files and Communication with PURBs" (PETS 2019): a length `L` with `E = ⌊log2 L⌋` keeps its
//!   top `⌊log2 E⌋ + 1` bits and rounds the rest up, so the overhead is at most about 12 % and
//!   a class leaks `O(log log L)` bits;
//! - [`Padding::Buckets`]: a fixed list of sizes (GNUnet MESSENGER's 512 / 4096 / 32768 /
//!   maximum by default), each length padded to the first bucket that holds it;
//! - [`Padding::Fixed`]: one size for everything that fits.
//!
//! Every scheme is bounded by the largest message the carrier takes (`max`): a length above
//! the largest class that fits is padded to `max`, and nothing is ever padded beyond it.

use std::fmt;

/// The default buckets of [`Padding::Buckets`] below the maximum, as GNUnet MESSENGER pads.
pub const DEFAULT_BUCKETS: [usize; 3] = [512, 4096, 32768];

/// A padding scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Padding {
    /// No padding.
    None,
    /// Padmé (at most ~12 % overhead).
    Padme,
    /// Pad to the first of these sizes (ascending) that holds the message; beyond the last, to
    /// the carrier's maximum.
    Buckets(Vec<usize>),
    /// Pad everything to this size (or to the carrier's maximum when it is smaller).
    Fixed(usize),
}

impl Padding {
    /// The scheme's name as the configuration spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Padding::None => "none",
            Padding::Padme => "padme",
            Padding::Buckets(_) => "buckets",
            Padding::Fixed(_) => "fixed",
        }
    }

    /// The size class of a message of `len` bytes on a carrier that takes at most `max`:
    /// the length it is to be padded to, at least `len`. A `len` above `max` is returned as
    /// it is (it cannot be sent anyway; the caller's checks say so).
    pub fn class_of(&self, len: usize, max: usize) -> usize {
        if len >= max {
            return len;
        }
        let class = match self {
            Padding::None => len,
            Padding::Padme => padme(len),
            Padding::Buckets(sizes) => sizes.iter().copied().find(|&b| b >= len).unwrap_or(max),
            Padding::Fixed(size) => (*size).max(len),
        };
        class.min(max)
    }

    /// The length a message of `len` bytes is padded to when padding itself takes at least
    /// `min_pad` bytes (the header of the part that carries it): the class of `len` if the gap
    /// is zero or at least `min_pad`, else the class of `len + min_pad`. Returns `len` when no
    /// class within `max` leaves room for the padding part.
    pub fn padded_len(&self, len: usize, min_pad: usize, max: usize) -> usize {
        let class = self.class_of(len, max);
        if class == len || class - len >= min_pad {
            return class;
        }
        match len.checked_add(min_pad) {
            Some(bigger) if bigger <= max => self.class_of(bigger, max),
            _ => len,
        }
    }

    /// Whether the scheme pads at all.
    pub fn is_none(&self) -> bool {
        matches!(self, Padding::None)
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Padding::Buckets(sizes) => {
                let list: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
                write!(f, "buckets ({} max)", list.join(" "))
            }
            Padding::Fixed(size) => write!(f, "fixed ({size})"),
            other => f.write_str(other.name()),
        }
    }
}

/// Padmé: the smallest length `>= len` whose binary form has at most `⌊log2 E⌋ + 1` significant
/// bits, `E = ⌊log2 len⌋`. Lengths below 2 are their own class.
pub fn padme(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // ⌊log2 len⌋ ≥ 1
    let s = u32::BITS - e.leading_zeros(); // ⌊log2 e⌋ + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    len.saturating_add(mask) & !mask
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 65_000;

    #[test]
    fn padme_matches_the_papers_examples_and_bound() {
        // Small lengths are exact; the steps grow with the length.
        for len in 0..=8 {
            assert_eq!(padme(len), len, "{len}");
        }
        assert_eq!(padme(9), 10);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1025), 1088);
        assert_eq!(padme(60_000), 61_440);
        for len in 1..70_000usize {
            let p = padme(len);
            assert!(p >= len);
            // The PURBs bound: overhead below 1/(2·log2 L) ≤ 12 % from L = 64 up.
            if len >= 64 {
                assert!((p - len) as f64 / len as f64 <= 0.12, "{len} -> {p}");
            }
            // A class is a fixed point.
            assert_eq!(padme(p), p, "{len} -> {p}");
        }
    }

    #[test]
    fn padme_has_few_classes() {
        let classes: std::collections::BTreeSet<usize> = (1..=MAX).map(padme).collect();
        assert!(classes.len() < 300, "{}", classes.len());
    }

    #[test]
    fn buckets_and_fixed_stop_at_the_maximum() {
        let b = Padding::Buckets(DEFAULT_BUCKETS.to_vec());
        assert_eq!(b.class_of(1, MAX), 512);
        assert_eq!(b.class_of(512, MAX), 512);
        assert_eq!(b.class_of(513, MAX), 4096);
        assert_eq!(b.class_of(32_769, MAX), MAX);
        assert_eq!(b.class_of(MAX, MAX), MAX);
        assert_eq!(b.class_of(MAX + 1, MAX), MAX + 1);
        let f = Padding::Fixed(1024);
        assert_eq!(f.class_of(10, MAX), 1024);
        assert_eq!(f.class_of(2000, MAX), 2000);
        assert_eq!(Padding::Fixed(100_000).class_of(10, MAX), MAX);
        assert_eq!(Padding::None.class_of(77, MAX), 77);
    }

    #[test]
    fn padded_len_leaves_room_for_the_padding_part() {
        let b = Padding::Buckets(DEFAULT_BUCKETS.to_vec());
        assert_eq!(b.padded_len(512, 4, MAX), 512);
        assert_eq!(b.padded_len(510, 4, MAX), 4096);
        assert_eq!(b.padded_len(500, 4, MAX), 512);
        // Nothing fits beyond the maximum: unpadded.
        assert_eq!(b.padded_len(MAX - 2, 4, MAX), MAX - 2);
        assert_eq!(Padding::None.padded_len(333, 4, MAX), 333);
        for len in 1..5000 {
            let p = Padding::Padme.padded_len(len, 4, MAX);
            assert!(p == len || p - len >= 4, "{len} -> {p}");
            assert_eq!(padme(p), p);
        }
    }
}
