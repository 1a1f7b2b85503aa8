//! Deliberate delays of automatic responses and forwards (issue 13, point 4).
//!
//! A delay is drawn from an exponential distribution: it is memoryless, so the time left before
//! a delayed response goes out says nothing about when its trigger arrived, and an observer who
//! sees a request and, later, a response cannot tell from the gap that one caused the other.
//! A cap bounds the tail. The draw is sans-IO: the caller passes a uniform sample in `[0, 1)`.

use std::fmt;

use rand_core::RngCore;
use std::time::Duration;

/// An exponential delay with a mean and a cap; a zero mean means "no delay".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DelayPolicy {
    /// The mean of the exponential distribution (before capping).
    pub mean: Duration,
    /// No delay is longer than this.
    pub cap: Duration,
}

impl DelayPolicy {
    /// No delay.
    pub const NONE: DelayPolicy = DelayPolicy {
        mean: Duration::ZERO,
        cap: Duration::ZERO,
    };

    /// A policy with this mean and cap.
    pub const fn new(mean: Duration, cap: Duration) -> Self {
        DelayPolicy { mean, cap }
    }

    /// Whether every delay is zero.
    pub fn is_none(&self) -> bool {
        self.mean.is_zero() || self.cap.is_zero()
    }

    /// The delay for the uniform sample `u` in `[0, 1)` (inverse transform: `−mean·ln(1−u)`),
    /// at most the cap. Samples outside `[0, 1)` are clamped into it.
    pub fn draw(&self, u: f64) -> Duration {
        if self.is_none() {
            return Duration::ZERO;
        }
        let u = if u.is_finite() {
            u.clamp(0.0, 1.0 - f64::EPSILON)
        } else {
            0.0
        };
        let secs = -self.mean.as_secs_f64() * (1.0 - u).ln();
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// A delay drawn with 64 bits of `rng` (a driver's `OsRng`, a simulator's seeded
    /// generator); nothing is drawn when the policy never delays.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> Duration {
        if self.is_none() {
            return Duration::ZERO;
        }
        self.draw(uniform(rng.next_u64()))
    }
}

impl fmt::Display for DelayPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            f.write_str("none")
        } else {
            write!(
                f,
                "exponential, mean {} ms, cap {} ms",
                self.mean.as_millis(),
                self.cap.as_millis()
            )
        }
    }
}

/// A uniform sample in `[0, 1)` from 64 random bits (53 of them, as many as an `f64` holds).
pub fn uniform(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_mean_or_cap_means_no_delay() {
        assert_eq!(DelayPolicy::NONE.draw(0.9), Duration::ZERO);
        let no_cap = DelayPolicy::new(Duration::from_secs(1), Duration::ZERO);
        assert_eq!(no_cap.draw(0.5), Duration::ZERO);
    }

    #[test]
    fn draws_follow_the_exponential_inverse_and_the_cap() {
        let p = DelayPolicy::new(Duration::from_millis(200), Duration::from_secs(2));
        assert_eq!(p.draw(0.0), Duration::ZERO);
        // The median of an exponential is mean·ln 2.
        let median = p.draw(0.5).as_secs_f64();
        assert!((median - 0.2 * std::f64::consts::LN_2).abs() < 1e-9);
        assert_eq!(p.draw(0.999_999_9), Duration::from_secs(2));
        assert_eq!(p.draw(f64::NAN), Duration::ZERO);
        assert_eq!(p.draw(7.0), Duration::from_secs(2));
    }

    #[test]
    fn a_uniform_grid_gives_the_mean_and_a_unit_coefficient_of_variation() {
        let p = DelayPolicy::new(Duration::from_millis(200), Duration::from_secs(100));
        let n = 100_000;
        let xs: Vec<f64> = (0..n)
            .map(|i| p.draw((i as f64 + 0.5) / n as f64).as_secs_f64())
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.2).abs() < 0.002, "{mean}");
        assert!((var.sqrt() / mean - 1.0).abs() < 0.02);
    }

    #[test]
    fn uniform_stays_below_one() {
        assert_eq!(uniform(0), 0.0);
        assert!(uniform(u64::MAX) < 1.0);
    }
}
