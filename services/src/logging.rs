//! Structured logs to the file ARM names with `-l` (or stderr), at the level of `-L`.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::filter::LevelFilter;

use crate::options::LogLevel;

/// Installs the global subscriber. `component` tags every line (like GNUnet's `cadet-api`).
/// Safe to call more than once: later calls keep the first subscriber.
pub fn init(component: &str, level: Option<LogLevel>, file: Option<&str>) {
    let filter = match level.or_else(level_from_env).unwrap_or(LogLevel::Warning) {
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warning => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_target(false)
        .with_ansi(false);
    let target = file.map(|f| expand_date(f, SystemTime::now()));
    let opened = target.as_ref().and_then(|path| {
        if let Some(dir) = PathBuf::from(path).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        OpenOptions::new().create(true).append(true).open(path).ok()
    });
    let result = match opened {
        Some(f) => builder.with_writer(Mutex::new(f)).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
    if result.is_ok() {
        tracing::info!(component, "logging started");
    }
}

/// `GNUNET_FORCE_LOG`-style override for tests: `SECUSHARE_LOG=DEBUG`.
fn level_from_env() -> Option<LogLevel> {
    std::env::var("SECUSHARE_LOG").ok()?.parse().ok()
}

/// Replaces `%Y`, `%m`, `%d` (UTC) and `%%` in a log file name, as GNUnet's strftime use does
/// for the patterns ARM's defaults contain.
pub fn expand_date(pattern: &str, now: SystemTime) -> String {
    let days = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{y:04}")),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_in_log_file_names() {
        // 2026-11-24 00:00:00 UTC
        let t = UNIX_EPOCH + Duration::from_secs(1_795_478_400);
        assert_eq!(
            expand_date("/l/gnunet-%Y-%m-%d.log", t),
            "/l/gnunet-2026-11-24.log"
        );
        assert_eq!(expand_date("a%%b%q%", t), "a%b%q%");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
