//! The privacy knobs every secushare service reads, and the one setting that moves them
//! together: `[secushare] PRIVACY = strict | balanced | convenient` (issue 13, `docs/privacy.md`).
//!
//! A [`Level`] gives every knob a value (the table in [`Knobs::for_level`]); each knob can also
//! be set on its own in `[secushare]`, and then wins over the level. [`Knobs::from_config`]
//! reads both; [`KnobsWatch`] re-reads them when the configuration file changes, so a new level
//! takes effect for the next message without a restart.
//!
//! The knobs are plain values: the protocol logic of each service takes them as input (padding
//! scheme, delay policies, flags) and the drivers draw the random samples a delay needs.

mod delay;
mod level;
mod padding;
mod queue;
mod watch;

pub use delay::{uniform, DelayPolicy};
pub use level::{Knob, KnobSource, Knobs, Level, SECTION};
pub use padding::{padme, Padding, DEFAULT_BUCKETS};
pub use queue::{DelayQueue, Hold, OrderedDelays};
pub use watch::KnobsWatch;
