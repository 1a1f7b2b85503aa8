//! Typed readings of a raw value: YES/NO, numbers, relative times and sizes, with the exact
//! acceptance rules of libgnunetutil 0.19.3 (`GNUNET_CONFIGURATION_get_value_yesno`,
//! `_get_value_number`, `GNUNET_STRINGS_fancy_time_to_relative`, `_fancy_size_to_bytes`).
//!
//! Facts carried over:
//! - YES/NO compare case-insensitively with the whole value; anything else is an error;
//! - a number is C's `sscanf("%llu%1s")`: blanks around it allowed, optional sign (`-1` wraps
//!   to 2^64-1), an overflowing number saturates, any other trailing text is an error;
//! - times and sizes split at spaces; each piece is a unit (multiplies the number before it),
//!   a number, or a number glued to a unit (`10s`); numbers add up; arithmetic wraps like C's
//!   `unsigned long long`; the empty string is 0; a number that overflows is an error;
//! - `forever` (any case, whole value) is the maximal time, `u64::MAX` microseconds;
//! - `TB`, `PB` and `EB` carry GNUnet's factor 1024 (1000³·1024, 1000³·1024·1000, …).

/// Microseconds in the time units GNUnet accepts (case-insensitive).
const TIME_UNITS: &[(&str, u64)] = &[
    ("us", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("second", 1_000_000),
    ("seconds", 1_000_000),
    ("\"", 1_000_000),
    ("m", 60_000_000),
    ("min", 60_000_000),
    ("minute", 60_000_000),
    ("minutes", 60_000_000),
    ("'", 60_000_000),
    ("h", 3_600_000_000),
    ("hour", 3_600_000_000),
    ("hours", 3_600_000_000),
    ("d", 86_400_000_000),
    ("day", 86_400_000_000),
    ("days", 86_400_000_000),
    ("week", 604_800_000_000),
    ("weeks", 604_800_000_000),
    ("year", 31_536_000_000_000),
    ("years", 31_536_000_000_000),
    ("a", 31_536_000_000_000),
];

const K: u64 = 1000;
const KI: u64 = 1024;

/// Bytes in the size units GNUnet accepts (case-insensitive; the first match wins).
const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KiB", KI),
    ("kB", K),
    ("MiB", KI * KI),
    ("MB", K * K),
    ("GiB", KI * KI * KI),
    ("GB", K * K * K),
    ("TiB", KI * KI * KI * KI),
    ("TB", K * K * K * KI),
    ("PiB", KI * KI * KI * KI * KI),
    ("PB", K * K * K * KI * K),
    ("EiB", KI * KI * KI * KI * KI * KI),
    ("EB", K * K * K * KI * K * K),
];

/// `Some(true)` for YES, `Some(false)` for NO (any case), `None` otherwise.
pub(crate) fn yesno(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("YES") {
        Some(true)
    } else if value.eq_ignore_ascii_case("NO") {
        Some(false)
    } else {
        None
    }
}

/// C's `sscanf(value, "%llu%1s", …) == 1`.
pub(crate) fn number(value: &str) -> Option<u64> {
    let s = value.trim_start_matches(super::parse::is_c_space);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    if !digits[end..]
        .trim_start_matches(super::parse::is_c_space)
        .is_empty()
    {
        return None;
    }
    // scanf saturates on overflow (glibc's strtoull result, errno ignored).
    Some(match digits[..end].parse::<u64>() {
        Ok(m) if neg => m.wrapping_neg(),
        Ok(m) => m,
        Err(_) => u64::MAX,
    })
}

/// `GNUNET_STRINGS_fancy_time_to_relative`, in microseconds.
pub(crate) fn time_us(value: &str) -> Option<u64> {
    if value.eq_ignore_ascii_case("forever") {
        return Some(u64::MAX);
    }
    with_units(value, TIME_UNITS)
}

/// `GNUNET_STRINGS_fancy_size_to_bytes`.
pub(crate) fn size_bytes(value: &str) -> Option<u64> {
    with_units(value, SIZE_UNITS)
}

/// Sums "number unit number unit …" pieces the way GNUnet's unit-table parser does.
fn with_units(value: &str, table: &[(&str, u64)]) -> Option<u64> {
    let mut total: u64 = 0;
    let mut last: u64 = 0;
    for piece in value.split(' ').filter(|p| !p.is_empty()) {
        let mut rest = piece;
        loop {
            if let Some(&(_, factor)) = table.iter().find(|(n, _)| n.eq_ignore_ascii_case(rest)) {
                last = last.wrapping_mul(factor);
                break;
            }
            total = total.wrapping_add(last);
            let (n, after) = strtoull(rest)?;
            last = n;
            if after.is_empty() {
                break;
            }
            rest = after;
        }
    }
    Some(total.wrapping_add(last))
}

/// C's `strtoull(s, &end, 10)` with the caller's checks: `None` when no digits were read or
/// the number overflows; otherwise the value (negated modulo 2^64 after `-`) and the rest.
fn strtoull(s: &str) -> Option<(u64, &str)> {
    let t = s.trim_start_matches(super::parse::is_c_space);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let magnitude = digits[..end].parse::<u64>().ok()?;
    let v = if neg {
        magnitude.wrapping_neg()
    } else {
        magnitude
    };
    Some((v, &digits[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_no() {
        assert_eq!(yesno("yes"), Some(true));
        assert_eq!(yesno("No"), Some(false));
        assert_eq!(yesno("y"), None);
        assert_eq!(yesno(" YES"), None);
    }

    #[test]
    fn numbers_like_sscanf() {
        assert_eq!(number("42"), Some(42));
        assert_eq!(number(" 42 "), Some(42));
        assert_eq!(number("+7"), Some(7));
        assert_eq!(number("-1"), Some(u64::MAX));
        assert_eq!(number("99999999999999999999"), Some(u64::MAX));
        assert_eq!(number("4x"), None);
        assert_eq!(number("4 2"), None);
        assert_eq!(number(""), None);
        assert_eq!(number("-"), None);
    }

    #[test]
    fn times() {
        assert_eq!(time_us("5 s"), Some(5_000_000));
        assert_eq!(time_us("5s"), Some(5_000_000));
        assert_eq!(time_us("250 ms"), Some(250_000));
        assert_eq!(time_us("1 m 30 s"), Some(90_000_000));
        assert_eq!(time_us("1 h 5"), Some(3_600_000_005));
        assert_eq!(time_us("FOREVER"), Some(u64::MAX));
        assert_eq!(time_us("2 MINUTES"), Some(120_000_000));
        assert_eq!(time_us(""), Some(0));
        assert_eq!(time_us("s"), Some(0));
        assert_eq!(time_us("5 x"), None);
        assert_eq!(time_us("5.5 s"), None);
        assert_eq!(time_us("99999999999999999999"), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_bytes("1 MiB"), Some(1 << 20));
        assert_eq!(size_bytes("5 kb"), Some(5000));
        assert_eq!(size_bytes("5 KiB"), Some(5120));
        assert_eq!(size_bytes("1 TB"), Some(1_024_000_000_000));
        assert_eq!(size_bytes("1 GB 1"), Some(1_000_000_001));
        assert_eq!(size_bytes("7"), Some(7));
        assert_eq!(size_bytes("7 bytes"), None);
    }
}
