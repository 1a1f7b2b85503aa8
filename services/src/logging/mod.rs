//! Logs in GNUnet's format and levels: lines `DATE COMPONENT-PID LEVEL message`
//! ([`mod@format`]) to the file ARM names with `-l` (or `GNUNET_FORCE_LOGFILE`, else stderr), at
//! the level of `-L` refined by `GNUNET_FORCE_LOG` / `GNUNET_LOG` ([`select`]), with repeated
//! lines rate-limited per log statement ([`writer`]).

pub mod format;
mod limit;
pub mod select;
pub mod writer;

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use format::{GnunetFormat, LinePrefix};
pub use limit::{Admission, LineLimiter};
use select::{LogDefinition, Selection};
use writer::RateLimited;

use crate::options::LogLevel;

/// The installed writer, for [`flush_suppressed`].
static WRITER: OnceLock<RateLimited> = OnceLock::new();

/// Log definitions that apply even with `-L`.
pub const FORCE_LOG_ENV: &str = "GNUNET_FORCE_LOG";
/// Log definitions that apply without `-L`.
pub const LOG_ENV: &str = "GNUNET_LOG";
/// A log file that overrides `-l`.
pub const FORCE_LOGFILE_ENV: &str = "GNUNET_FORCE_LOGFILE";

/// Installs the global subscriber. `component` tags every line, as GNUnet's services use
/// their name (`social`) and its programs theirs (`gnunet-social`). Safe to call more than
/// once: later calls keep the first subscriber.
pub fn init(component: &str, level: Option<LogLevel>, file: Option<&str>) {
    let mut definitions = env_definitions(FORCE_LOG_ENV, true);
    definitions.extend(env_definitions(LOG_ENV, false));
    let selection = Selection::new(component, level, definitions);
    let forced_file = std::env::var(FORCE_LOGFILE_ENV)
        .ok()
        .filter(|f| !f.is_empty());
    let file = forced_file.as_deref().or(file);
    let target = file.map(|f| expand_date(f, SystemTime::now()));
    let opened = target.as_ref().and_then(|path| {
        if let Some(dir) = PathBuf::from(path).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        OpenOptions::new().create(true).append(true).open(path).ok()
    });
    let inner = match opened {
        Some(f) => BoxMakeWriter::new(Mutex::new(f)),
        None => BoxMakeWriter::new(std::io::stderr),
    };
    let prefix = LinePrefix::new(component);
    let limited =
        RateLimited::new(inner, writer::MAX_LINES, writer::INTERVAL).with_prefix(prefix.clone());
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(GnunetFormat::new(prefix))
        .with_writer(limited.clone())
        .with_filter(selection);
    if tracing_subscriber::registry()
        .with(layer)
        .try_init()
        .is_ok()
    {
        let _ = WRITER.set(limited);
        tracing::info!(component, "logging started");
    }
}

/// The definitions in environment variable `name`; a bad one is reported on stderr and ends
/// the list, as in GNUnet.
fn env_definitions(name: &str, force: bool) -> Vec<LogDefinition> {
    let Ok(value) = std::env::var(name) else {
        return Vec::new();
    };
    let (definitions, error) = LogDefinition::parse_all(&value, force);
    if let Some(e) = error {
        eprintln!("ERROR: {name}: {e}");
    }
    definitions
}

/// The first four bytes of a key or hash in hex: enough to tell keys apart in a log line
/// without printing whole keys.
pub fn short_hex(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Writes the summary lines of everything the rate limit left out so far (before exit).
pub fn flush_suppressed() {
    if let Some(w) = WRITER.get() {
        w.flush_summaries();
    }
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
