//! The privacy level, the knobs it sets, and how `[secushare]` overrides them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::{DelayPolicy, Padding, DEFAULT_BUCKETS};
use crate::config::{Config, ServiceSection, StartError};

/// The configuration section of the privacy knobs.
pub const SECTION: &str = "secushare";

/// The safety/convenience slider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    /// Works with C peers and clients; nothing hidden beyond what CADET gives.
    Convenient,
    /// Padmé padding, automatic responses delayed by about a second, nyms private.
    #[default]
    Balanced,
    /// Size buckets, long delays and per-hop delays, deniable places, no replay caches,
    /// nyms and places private.
    Strict,
}

impl Level {
    /// Every level, from convenient to strict.
    pub const ALL: [Level; 3] = [Level::Convenient, Level::Balanced, Level::Strict];

    /// The level as the configuration spells it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Convenient => "convenient",
            Level::Balanced => "balanced",
            Level::Strict => "strict",
        }
    }

    /// The level's one-byte code, as guests are told it (0 convenient, 1 balanced, 2 strict).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The level of a one-byte code.
    pub fn from_code(code: u8) -> Option<Level> {
        Level::ALL.get(usize::from(code)).copied()
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A level name that is none of `strict`, `balanced`, `convenient`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown privacy level {0:?} (strict, balanced or convenient)")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownLevel(s.to_string()))
    }
}

/// The knobs, each one option of `[secushare]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Knob {
    /// `PADDING` (+ `PADDING_BUCKETS`, `PADDING_SIZE`).
    Padding,
    /// `RESPONSE_DELAY` (+ `RESPONSE_DELAY_CAP`).
    ResponseDelay,
    /// `HOP_DELAY` (+ `HOP_DELAY_CAP`).
    HopDelay,
    /// `DENIABLE`.
    Deniable,
    /// `REPLAY_CACHE`.
    ReplayCache,
    /// `KEEP_SIGNATURES`.
    KeepSignatures,
    /// `PRIVATE_NYMS`.
    PrivateNyms,
    /// `PRIVATE_PLACES`.
    PrivatePlaces,
}

impl Knob {
    /// Every knob, in the order they are shown.
    pub const ALL: [Knob; 8] = [
        Knob::Padding,
        Knob::ResponseDelay,
        Knob::HopDelay,
        Knob::Deniable,
        Knob::ReplayCache,
        Knob::KeepSignatures,
        Knob::PrivateNyms,
        Knob::PrivatePlaces,
    ];

    /// The option of `[secushare]` that sets the knob.
    pub fn option(self) -> &'static str {
        match self {
            Knob::Padding => "PADDING",
            Knob::ResponseDelay => "RESPONSE_DELAY",
            Knob::HopDelay => "HOP_DELAY",
            Knob::Deniable => "DENIABLE",
            Knob::ReplayCache => "REPLAY_CACHE",
            Knob::KeepSignatures => "KEEP_SIGNATURES",
            Knob::PrivateNyms => "PRIVATE_NYMS",
            Knob::PrivatePlaces => "PRIVATE_PLACES",
        }
    }
}

/// Where a knob's effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobSource {
    /// The level's table.
    Level,
    /// Its own option in `[secushare]`.
    Option,
}

/// The effective privacy knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knobs {
    /// The level the knobs start from.
    pub level: Level,
    /// How messages of a place are padded on the wire.
    pub padding: Padding,
    /// The delay of automatic responses and forwards: admissions a client or membership
    /// decides automatically, relayed requests, replay answers.
    pub response_delay: DelayPolicy,
    /// The delay a relay adds to each message it forwards down the tree.
    pub hop_delay: DelayPolicy,
    /// Places hosted from now on are deniable (per-epoch keys, published when the epoch ends).
    pub deniable: bool,
    /// Members answer replay requests from what they hold (else only the origin does).
    pub replay_cache: bool,
    /// Stores keep the signatures of messages after verifying them.
    pub keep_signatures: bool,
    /// Nyms (contacts) are private records that never leave this node.
    pub private_nyms: bool,
    /// PLACE records are private (kept off GNS) unless published explicitly.
    pub private_places: bool,
    /// The knobs set by their own option rather than the level.
    overridden: Vec<Knob>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs::for_level(Level::default())
    }
}

impl Knobs {
    /// The table: what each level sets (`docs/privacy.md` shows the same table).
    pub fn for_level(level: Level) -> Knobs {
        let ms = Duration::from_millis;
        let secs = Duration::from_secs;
        match level {
            Level::Convenient => Knobs {
                level,
                padding: Padding::None,
                response_delay: DelayPolicy::NONE,
                hop_delay: DelayPolicy::NONE,
                deniable: false,
                replay_cache: true,
                keep_signatures: true,
                private_nyms: false,
                private_places: false,
                overridden: Vec::new(),
            },
            Level::Balanced => Knobs {
                level,
                padding: Padding::Padme,
                response_delay: DelayPolicy::new(secs(1), secs(5)),
                hop_delay: DelayPolicy::NONE,
                deniable: false,
                replay_cache: true,
                keep_signatures: true,
                private_nyms: true,
                private_places: false,
                overridden: Vec::new(),
            },
            Level::Strict => Knobs {
                level,
                padding: Padding::Buckets(DEFAULT_BUCKETS.to_vec()),
                response_delay: DelayPolicy::new(secs(5), secs(30)),
                hop_delay: DelayPolicy::new(ms(15), ms(200)),
                deniable: true,
                replay_cache: false,
                keep_signatures: false,
                private_nyms: true,
                private_places: true,
                overridden: Vec::new(),
            },
        }
    }

    /// The knobs of `cfg`: the level of `[secushare] PRIVACY` (default balanced), then each
    /// knob's own option on top. Errors name the option.
    pub fn from_config(cfg: &Config) -> Result<Knobs, StartError> {
        let s = ServiceSection::new(cfg, SECTION);
        let level = match cfg.get_string(SECTION, "PRIVACY") {
            None => Level::default(),
            Some(v) => v
                .parse()
                .map_err(|e: UnknownLevel| s.bad("PRIVACY", e.to_string()))?,
        };
        let mut k = Knobs::for_level(level);
        if let Some(padding) = read_padding(cfg, &s, &k.padding)? {
            k.padding = padding;
            k.overridden.push(Knob::Padding);
        }
        for (knob, mean, cap) in [
            (Knob::ResponseDelay, "RESPONSE_DELAY", "RESPONSE_DELAY_CAP"),
            (Knob::HopDelay, "HOP_DELAY", "HOP_DELAY_CAP"),
        ] {
            let field = match knob {
                Knob::ResponseDelay => &mut k.response_delay,
                _ => &mut k.hop_delay,
            };
            if let Some(policy) = read_delay(cfg, &s, mean, cap, *field)? {
                *field = policy;
                k.overridden.push(knob);
            }
        }
        for knob in [
            Knob::Deniable,
            Knob::ReplayCache,
            Knob::KeepSignatures,
            Knob::PrivateNyms,
            Knob::PrivatePlaces,
        ] {
            if let Some(v) = s.yesno(knob.option())? {
                *k.flag_mut(knob) = v;
                k.overridden.push(knob);
            }
        }
        Ok(k)
    }

    fn flag_mut(&mut self, knob: Knob) -> &mut bool {
        match knob {
            Knob::Deniable => &mut self.deniable,
            Knob::ReplayCache => &mut self.replay_cache,
            Knob::KeepSignatures => &mut self.keep_signatures,
            Knob::PrivateNyms => &mut self.private_nyms,
            _ => &mut self.private_places,
        }
    }

    /// Where `knob`'s value comes from.
    pub fn source(&self, knob: Knob) -> KnobSource {
        if self.overridden.contains(&knob) {
            KnobSource::Option
        } else {
            KnobSource::Level
        }
    }

    /// Every knob with its value as text and its source, in [`Knob::ALL`] order (what
    /// `gnunet-social --privacy` shows).
    pub fn entries(&self) -> Vec<(Knob, String, KnobSource)> {
        let yes_no = |b: bool| if b { "YES" } else { "NO" }.to_string();
        Knob::ALL
            .into_iter()
            .map(|knob| {
                let value = match knob {
                    Knob::Padding => self.padding.to_string(),
                    Knob::ResponseDelay => self.response_delay.to_string(),
                    Knob::HopDelay => self.hop_delay.to_string(),
                    Knob::Deniable => yes_no(self.deniable),
                    Knob::ReplayCache => yes_no(self.replay_cache),
                    Knob::KeepSignatures => yes_no(self.keep_signatures),
                    Knob::PrivateNyms => yes_no(self.private_nyms),
                    Knob::PrivatePlaces => yes_no(self.private_places),
                };
                (knob, value, self.source(knob))
            })
            .collect()
    }
}

fn read_padding(
    cfg: &Config,
    s: &ServiceSection<'_>,
    current: &Padding,
) -> Result<Option<Padding>, StartError> {
    let buckets = match cfg.get_string(SECTION, "PADDING_BUCKETS") {
        None => None,
        Some(list) => Some(parse_buckets(&list).map_err(|e| s.bad("PADDING_BUCKETS", e))?),
    };
    let size = s.positive_size("PADDING_SIZE")?;
    let scheme = cfg.get_string(SECTION, "PADDING");
    let padding = match scheme.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => match (current, buckets, size) {
            // A bucket list or size alone adjusts the level's scheme of that kind.
            (Padding::Buckets(_), Some(b), _) => Padding::Buckets(b),
            (Padding::Fixed(_), _, Some(n)) => Padding::Fixed(n),
            _ => return Ok(None),
        },
        Some("none") => Padding::None,
        Some("padme") => Padding::Padme,
        Some("buckets") => Padding::Buckets(buckets.unwrap_or_else(|| DEFAULT_BUCKETS.to_vec())),
        Some("fixed") => Padding::Fixed(size.unwrap_or(usize::MAX)),
        Some(other) => {
            return Err(s.bad(
                "PADDING",
                format!("unknown scheme {other:?} (none, padme, buckets or fixed)"),
            ))
        }
    };
    Ok(Some(padding))
}

/// `"512 4096 32768"` (spaces or commas; sizes may carry units as GNUnet sizes do) → ascending
/// sizes.
fn parse_buckets(list: &str) -> Result<Vec<usize>, String> {
    let mut sizes = Vec::new();
    for word in list.split([' ', ',', ';']).filter(|w| !w.is_empty()) {
        let n: usize = word
            .parse()
            .map_err(|_| format!("{word:?} is not a size in bytes"))?;
        if n == 0 {
            return Err("a bucket must be at least 1 byte".into());
        }
        sizes.push(n);
    }
    if sizes.is_empty() {
        return Err("no bucket sizes given".into());
    }
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

fn read_delay(
    cfg: &Config,
    s: &ServiceSection<'_>,
    mean_option: &'static str,
    cap_option: &'static str,
    current: DelayPolicy,
) -> Result<Option<DelayPolicy>, StartError> {
    let time = |option: &'static str| {
        cfg.get_time(SECTION, option)
            .map_err(|e| s.bad(option, e.to_string()))
    };
    let mean = time(mean_option)?;
    let cap = time(cap_option)?;
    if mean.is_none() && cap.is_none() {
        return Ok(None);
    }
    let mean = mean.unwrap_or(current.mean);
    // Without a cap of its own, a mean set alone gets ten times itself, so the tail is bounded.
    let cap = cap.unwrap_or(if mean == current.mean {
        current.cap
    } else {
        mean.saturating_mul(10)
    });
    Ok(Some(DelayPolicy::new(mean, cap)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knobs(text: &str) -> Result<Knobs, StartError> {
        let mut cfg = Config::default();
        cfg.parse_str(text, "test").expect("parse");
        Knobs::from_config(&cfg)
    }

    #[test]
    fn the_default_is_balanced() {
        let k = knobs("").unwrap();
        assert_eq!(k, Knobs::for_level(Level::Balanced));
        assert!(Knob::ALL
            .iter()
            .all(|&knob| k.source(knob) == KnobSource::Level));
    }

    #[test]
    fn each_level_gives_its_table_row() {
        for level in Level::ALL {
            let k = knobs(&format!(
                "[secushare]\nPRIVACY = {}\n",
                level.name().to_uppercase()
            ))
            .unwrap();
            assert_eq!(k, Knobs::for_level(level));
            assert_eq!(Level::from_code(level.code()), Some(level));
        }
        let c = Knobs::for_level(Level::Convenient);
        assert!(c.padding.is_none() && c.response_delay.is_none() && !c.deniable);
        let s = Knobs::for_level(Level::Strict);
        assert_eq!(s.padding, Padding::Buckets(vec![512, 4096, 32768]));
        assert!(s.deniable && !s.replay_cache && !s.hop_delay.is_none());
        assert_eq!(Level::from_code(3), None);
    }

    #[test]
    fn a_knob_of_its_own_wins_over_the_level() {
        let k = knobs(
            "[secushare]\nPRIVACY = strict\nPADDING = padme\nRESPONSE_DELAY = 200 ms\nREPLAY_CACHE = YES\n",
        )
        .unwrap();
        assert_eq!(k.level, Level::Strict);
        assert_eq!(k.padding, Padding::Padme);
        assert_eq!(
            k.response_delay,
            DelayPolicy::new(Duration::from_millis(200), Duration::from_secs(2))
        );
        assert!(k.replay_cache);
        assert!(k.deniable, "not overridden: the level's");
        assert_eq!(k.source(Knob::Padding), KnobSource::Option);
        assert_eq!(k.source(Knob::Deniable), KnobSource::Level);
        let zero = knobs("[secushare]\nRESPONSE_DELAY = 0 ms\n").unwrap();
        assert!(zero.response_delay.is_none());
    }

    #[test]
    fn bucket_lists_and_sizes_are_read() {
        let k =
            knobs("[secushare]\nPADDING = buckets\nPADDING_BUCKETS = 4096, 256 1024\n").unwrap();
        assert_eq!(k.padding, Padding::Buckets(vec![256, 1024, 4096]));
        let k = knobs("[secushare]\nPADDING = fixed\nPADDING_SIZE = 16 KiB\n").unwrap();
        assert_eq!(k.padding, Padding::Fixed(16384));
        let k = knobs("[secushare]\nPRIVACY = strict\nPADDING_BUCKETS = 1000\n").unwrap();
        assert_eq!(k.padding, Padding::Buckets(vec![1000]));
    }

    #[test]
    fn bad_values_name_the_option() {
        for (text, option) in [
            ("PRIVACY = paranoid", "PRIVACY"),
            ("PADDING = zeros", "PADDING"),
            (
                "PADDING = buckets\nPADDING_BUCKETS = 512 x",
                "PADDING_BUCKETS",
            ),
            ("PADDING_BUCKETS = 0", "PADDING_BUCKETS"),
            ("RESPONSE_DELAY = soon", "RESPONSE_DELAY"),
            ("DENIABLE = maybe", "DENIABLE"),
        ] {
            match knobs(&format!("[secushare]\n{text}\n")) {
                Err(StartError::BadValue { option: o, .. }) => assert_eq!(o, option, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn entries_show_every_knob_once() {
        let k = knobs("[secushare]\nPRIVACY = convenient\nDENIABLE = YES\n").unwrap();
        let e = k.entries();
        assert_eq!(e.len(), Knob::ALL.len());
        assert!(e.contains(&(Knob::Deniable, "YES".into(), KnobSource::Option)));
        assert!(e.contains(&(Knob::Padding, "none".into(), KnobSource::Level)));
    }
}
