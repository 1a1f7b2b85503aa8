//! The log writer behind [`super::init`]: every line of level INFO and above goes through a
//! [`LineLimiter`] keyed by the log statement it comes from, so no statement — however often
//! a client or peer triggers it — writes more than its share. DEBUG and TRACE lines, asked for
//! explicitly, pass untouched.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::writer::{BoxMakeWriter, MakeWriter};

use super::format::LinePrefix;
use super::limit::{Admission, LineLimiter};
use super::select::level_of;

/// Lines one log statement may write per [`INTERVAL`].
pub const MAX_LINES: u32 = 10;
/// The rate-limit interval.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// A log statement, by the address of its static metadata.
type Cause = usize;

struct State {
    limiter: LineLimiter<Cause>,
    /// Level and `file:line` of each cause seen, for summaries.
    names: BTreeMap<Cause, (Level, String)>,
}

/// A [`MakeWriter`] that rate-limits lines per log statement and writes one summary line per
/// statement and interval for what it left out.
#[derive(Clone)]
pub struct RateLimited {
    inner: Arc<BoxMakeWriter>,
    state: Arc<Mutex<State>>,
    /// Starts the summary lines as the lines they summarise.
    prefix: LinePrefix,
}

impl RateLimited {
    /// Limits the lines written to `inner` to `max_lines` per statement per `interval`.
    pub fn new(inner: BoxMakeWriter, max_lines: u32, interval: Duration) -> Self {
        Self {
            inner: Arc::new(inner),
            state: Arc::new(Mutex::new(State {
                limiter: LineLimiter::new(max_lines, interval),
                names: BTreeMap::new(),
            })),
            prefix: LinePrefix::new("secushare"),
        }
    }

    /// Summary lines start with `prefix` (the component of the lines they summarise).
    pub fn with_prefix(mut self, prefix: LinePrefix) -> Self {
        self.prefix = prefix;
        self
    }

    /// Writes the summaries of every statement with lines left out (e.g. at shutdown).
    pub fn flush_summaries(&self) {
        let summaries = match self.state.lock() {
            Ok(mut s) => {
                let due = s.limiter.all_summaries();
                describe(&s, &self.prefix, due)
            }
            Err(_) => return,
        };
        self.write_summaries(&summaries);
    }

    fn write_summaries(&self, summaries: &[String]) {
        for line in summaries {
            let mut w = self.inner.make_writer();
            let _ = w.write_all(line.as_bytes());
        }
    }
}

/// Summary lines for `(cause, count)` pairs.
fn describe(state: &State, prefix: &LinePrefix, due: Vec<(Cause, u64)>) -> Vec<String> {
    let secs = state.limiter.interval().as_secs();
    due.into_iter()
        .map(|(cause, count)| {
            let (level, name) = state
                .names
                .get(&cause)
                .cloned()
                .unwrap_or((Level::WARN, "?".to_string()));
            format!(
                "{} suppressed {count} similar lines from {name} (at most {} per {secs} s)\n",
                prefix.render(chrono::Local::now(), level_of(&level)),
                state.limiter.max_lines()
            )
        })
        .collect()
}

/// One line's writer: the real one, or a sink for a line left out.
pub enum LineWriter<'a> {
    /// Written.
    Pass(Box<dyn Write + 'a>),
    /// Left out.
    Drop,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Pass(w) => w.write(buf),
            Self::Drop => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Pass(w) => w.flush(),
            Self::Drop => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for RateLimited {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter::Pass(self.inner.make_writer())
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        let exempt = matches!(*meta.level(), Level::DEBUG | Level::TRACE);
        let cause = meta as *const Metadata<'_> as usize;
        let now = Instant::now();
        let (summaries, admission) = match self.state.lock() {
            Ok(mut s) => {
                let mut due = s.limiter.due_summaries(now);
                let admission = if exempt {
                    Admission::Write { suppressed: 0 }
                } else {
                    s.names.entry(cause).or_insert_with(|| {
                        let name = format!(
                            "{}:{}",
                            meta.file().unwrap_or("?"),
                            meta.line().unwrap_or(0)
                        );
                        (*meta.level(), name)
                    });
                    s.limiter.admit(now, &cause)
                };
                if let Admission::Write { suppressed } = admission {
                    if suppressed > 0 {
                        due.push((cause, suppressed));
                    }
                }
                (describe(&s, &self.prefix, due), admission)
            }
            // A panic while logging poisoned the lock: log without limits rather than not.
            Err(_) => (Vec::new(), Admission::Write { suppressed: 0 }),
        };
        self.write_summaries(&summaries);
        match admission {
            Admission::Write { .. } => LineWriter::Pass(self.inner.make_writer_for(meta)),
            Admission::Suppress => LineWriter::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_statement_in_a_loop_writes_its_share_and_one_summary() {
        let sink = Sink::default();
        let out = sink.clone();
        let limited = RateLimited::new(
            BoxMakeWriter::new(move || out.clone()),
            3,
            Duration::from_secs(3600),
        );
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::DEBUG)
            .with_ansi(false)
            .with_writer(limited.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..500 {
                tracing::warn!(client = i, "client dropped");
                tracing::debug!(client = i, "debug is not limited");
            }
            tracing::warn!("another statement");
        });
        limited.flush_summaries();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("client dropped"))
                .count(),
            3
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("debug is not limited"))
                .count(),
            500
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("another statement"))
                .count(),
            1
        );
        let summaries: Vec<&&str> = lines.iter().filter(|l| l.contains("suppressed")).collect();
        assert_eq!(summaries.len(), 1, "{summaries:?}");
        assert!(
            summaries[0].contains(
                " WARNING suppressed 497 similar lines from services/src/logging/writer.rs:"
            ),
            "{}",
            summaries[0]
        );
    }
}
