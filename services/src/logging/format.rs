//! GNUnet 0.19's log line: `DATE COMPONENT-PID LEVEL message`, e.g.
//! `2026-12-04T14:26:04.340564+0000 social-4711 WARNING client dropped client=3`. The date is
//! local time with microseconds and the UTC offset, as libgnunetutil writes it; the fields of
//! a structured log statement follow its message as `name=value`.

use std::fmt;

use chrono::{DateTime, Local};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::select::level_of;
use crate::options::LogLevel;

/// The start of every line one process writes: its component and process id.
#[derive(Debug, Clone)]
pub struct LinePrefix {
    component_pid: String,
}

impl LinePrefix {
    /// For `component` (`social`, `gnunet-social`) in this process.
    pub fn new(component: &str) -> Self {
        Self::with_pid(component, std::process::id())
    }

    /// For `component` in process `pid`.
    pub fn with_pid(component: &str, pid: u32) -> Self {
        Self {
            component_pid: format!("{component}-{pid}"),
        }
    }

    /// `DATE COMPONENT-PID LEVEL` for a line written at `now`.
    pub fn render(&self, now: DateTime<Local>, level: LogLevel) -> String {
        format!(
            "{} {} {}",
            now.format("%Y-%m-%dT%H:%M:%S%.6f%z"),
            self.component_pid,
            level.name()
        )
    }
}

/// The [`FormatEvent`] that writes GNUnet's lines.
#[derive(Debug, Clone)]
pub struct GnunetFormat {
    prefix: LinePrefix,
}

impl GnunetFormat {
    /// Lines tagged with `prefix`.
    pub fn new(prefix: LinePrefix) -> Self {
        Self { prefix }
    }
}

impl<S, N> FormatEvent<S, N> for GnunetFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = level_of(event.metadata().level());
        write!(writer, "{} ", self.prefix.render(Local::now(), level))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn prefix_is_gnunets() {
        let at = Local
            .timestamp_opt(1_795_478_400 + 3723, 42_000)
            .single()
            .unwrap();
        let text = LinePrefix::with_pid("social", 4711).render(at, LogLevel::Warning);
        // Local time: the offset depends on TZ, the layout does not.
        let (date, rest) = text.split_once(' ').unwrap();
        assert_eq!(rest, "social-4711 WARNING");
        assert_eq!(
            date.len(),
            "2026-11-24T01:02:03.000042+0000".len(),
            "{date}"
        );
        assert_eq!(&date[19..26], ".000042", "{date}");
        assert_eq!(date, at.format("%Y-%m-%dT%H:%M:%S.000042%z").to_string());
    }
}
