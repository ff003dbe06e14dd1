//! Renders the copy engine's `ProgressEvent`s: `indicatif` bars when stderr is a terminal, otherwise a plain line every few seconds.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::copy::{ProgressEvent, ProgressSink};
use crate::report::escape::printable;

/// How often plain mode prints a line per migration.
pub const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

/// One migration's progress, as the events tell it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationProgress {
    pub total_bytes: u64,
    pub total_files: u64,
    /// Bytes accounted for: transferred, resumed from an earlier run, or unchanged.
    pub done_bytes: u64,
    pub files_done: u64,
    pub files_failed: u64,
}

impl MigrationProgress {
    /// Updates the counters.
    pub fn observe(&mut self, event: &ProgressEvent) {
        match event {
            ProgressEvent::ScanFinished { files, bytes, .. } => {
                self.total_files = *files;
                self.total_bytes = *bytes;
            }
            ProgressEvent::Transferred { bytes, .. } | ProgressEvent::Resumed { bytes, .. } => {
                self.done_bytes = self.done_bytes.saturating_add(*bytes);
            }
            ProgressEvent::FileUnchanged { bytes, .. } => {
                self.done_bytes = self.done_bytes.saturating_add(*bytes);
                self.files_done += 1;
            }
            ProgressEvent::FileCopied { .. } => self.files_done += 1,
            ProgressEvent::FileFailed { .. } => self.files_failed += 1,
            ProgressEvent::MountStarted { .. }
            | ProgressEvent::SpecialSkipped { .. }
            | ProgressEvent::Vanished { .. }
            | ProgressEvent::Removed { .. }
            | ProgressEvent::MountFinished { .. } => {}
        }
    }
}

/// `1.2 GiB`, `210 MiB`: binary units, one decimal below 100.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `11s`, `4m 05s`, `2h 10m`.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// The plain-mode line: `migration web-01: 1.2 GiB of 3.4 GiB (35%), 210 MiB/s, ETA 11s`.
/// `bytes_per_second` is the recent transfer rate; without one (nothing moved yet) rate and ETA are omitted.
pub fn plain_line(
    migration: &str,
    progress: &MigrationProgress,
    bytes_per_second: Option<f64>,
) -> String {
    let total = progress.total_bytes;
    let done = progress.done_bytes.min(total);
    let percent = done.saturating_mul(100).checked_div(total).unwrap_or(100);
    let mut line = format!(
        "migration {}: {} of {} ({percent}%)",
        printable(migration),
        format_bytes(done),
        format_bytes(total)
    );
    if let Some(rate) = bytes_per_second.filter(|rate| *rate >= 1.0) {
        line.push_str(&format!(", {}/s", format_bytes(rate as u64)));
        let remaining = (total - done) as f64 / rate;
        line.push_str(&format!(
            ", ETA {}",
            format_duration(Duration::from_secs_f64(remaining.ceil()))
        ));
    }
    if progress.files_failed > 0 {
        line.push_str(&format!(", {} failed", progress.files_failed));
    }
    line
}

/// Plain mode's state: counters per migration and when each last printed.
#[derive(Debug, Default)]
pub struct PlainProgress {
    migrations: BTreeMap<String, (MigrationProgress, Option<(Instant, u64)>)>,
}

impl PlainProgress {
    /// Takes an event observed at `now`; returns the lines due (at most one per migration per interval,
    /// plus failures at once).
    pub fn observe(&mut self, event: &ProgressEvent, now: Instant) -> Vec<String> {
        let migration = migration_of(event);
        let (progress, last) = self.migrations.entry(migration.to_string()).or_default();
        progress.observe(event);
        let mut lines = Vec::new();
        if let ProgressEvent::FileFailed { path, message, .. } = event {
            lines.push(failed_line(migration, path, message));
        }
        match *last {
            None => *last = Some((now, progress.done_bytes)),
            Some((printed_at, printed_bytes)) => {
                let elapsed = now.saturating_duration_since(printed_at);
                let finished = matches!(event, ProgressEvent::MountFinished { .. });
                if elapsed >= PLAIN_INTERVAL || (finished && !elapsed.is_zero()) {
                    let moved = progress.done_bytes.saturating_sub(printed_bytes);
                    let rate = moved as f64 / elapsed.as_secs_f64();
                    lines.push(plain_line(migration, progress, Some(rate)));
                    *last = Some((now, progress.done_bytes));
                }
            }
        }
        lines
    }
}

/// `migration web-01: failed `data/x`: disk full`, every part from outside escaped.
fn failed_line(migration: &str, path: &str, message: &str) -> String {
    format!(
        "migration {}: failed `{}`: {}",
        printable(migration),
        printable(path),
        printable(message)
    )
}

fn migration_of(event: &ProgressEvent) -> &str {
    match event {
        ProgressEvent::ScanFinished { migration, .. }
        | ProgressEvent::MountStarted { migration, .. }
        | ProgressEvent::Transferred { migration, .. }
        | ProgressEvent::Resumed { migration, .. }
        | ProgressEvent::FileCopied { migration, .. }
        | ProgressEvent::FileUnchanged { migration, .. }
        | ProgressEvent::FileFailed { migration, .. }
        | ProgressEvent::SpecialSkipped { migration, .. }
        | ProgressEvent::Vanished { migration, .. }
        | ProgressEvent::Removed { migration, .. }
        | ProgressEvent::MountFinished { migration, .. } => migration,
    }
}

enum Display {
    /// `--quiet`: only failed files, as they fail.
    ErrorsOnly,
    Plain(PlainProgress),
    Bars {
        multi: MultiProgress,
        bars: BTreeMap<String, ProgressBar>,
    },
}

/// Shows progress on stderr; hand `sink()` to the engine, call `finish()` at the end.
#[derive(Clone)]
pub struct ProgressReporter {
    display: Arc<Mutex<Display>>,
}

impl ProgressReporter {
    /// Bars when stderr is a terminal, plain lines otherwise; only failed files under `--quiet`.
    pub fn for_stderr() -> Self {
        if crate::report::quiet() {
            Self {
                display: Arc::new(Mutex::new(Display::ErrorsOnly)),
            }
        } else if std::io::stderr().is_terminal() {
            Self::bars()
        } else {
            Self::plain()
        }
    }

    pub fn plain() -> Self {
        Self {
            display: Arc::new(Mutex::new(Display::Plain(PlainProgress::default()))),
        }
    }

    pub fn bars() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        Self {
            display: Arc::new(Mutex::new(Display::Bars {
                multi,
                bars: BTreeMap::new(),
            })),
        }
    }

    pub fn sink(&self) -> ProgressSink {
        let reporter = self.clone();
        ProgressSink::new(move |event| reporter.show(&event))
    }

    /// Prints a line on stderr, above the bars when they are drawn.
    pub fn println(&self, line: &str) {
        match &*self.lock() {
            Display::Bars { multi, .. } if multi.println(line).is_ok() => {}
            _ => {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("{line}");
                }
            }
        }
    }

    /// Leaves finished bars on screen and stops drawing.
    pub fn finish(&self) {
        if let Display::Bars { bars, .. } = &mut *self.lock() {
            for bar in bars.values() {
                bar.finish();
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Display> {
        match self.display.lock() {
            Ok(display) => display,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn show(&self, event: &ProgressEvent) {
        match &mut *self.lock() {
            Display::ErrorsOnly => {
                if let ProgressEvent::FileFailed {
                    migration,
                    path,
                    message,
                } = event
                {
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("{}", failed_line(migration, path, message));
                    }
                }
            }
            Display::Plain(plain) => {
                for line in plain.observe(event, Instant::now()) {
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("{line}");
                    }
                }
            }
            Display::Bars { multi, bars } => show_on_bar(multi, bars, event),
        }
    }
}

/// Bars count the bytes this run must move: unchanged and resumed bytes shrink the bar instead of
/// advancing it, so its rate and ETA stay honest.
fn show_on_bar(
    multi: &MultiProgress,
    bars: &mut BTreeMap<String, ProgressBar>,
    event: &ProgressEvent,
) {
    let migration = migration_of(event);
    let bar = bars.entry(migration.to_string()).or_insert_with(|| {
        let bar = multi.add(ProgressBar::new(0));
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("migration {}", printable(migration)));
        bar
    });
    match event {
        ProgressEvent::ScanFinished { bytes, .. } => bar.set_length(*bytes),
        ProgressEvent::Transferred { bytes, .. } => bar.inc(*bytes),
        ProgressEvent::Resumed { bytes, .. } | ProgressEvent::FileUnchanged { bytes, .. } => {
            bar.set_length(bar.length().unwrap_or(0).saturating_sub(*bytes));
        }
        ProgressEvent::MountStarted { mount, .. } => {
            bar.set_message(printable(mount).into_owned());
        }
        ProgressEvent::FileFailed { path, message, .. } => {
            bar.println(failed_line(migration, path, message));
        }
        ProgressEvent::FileCopied { .. }
        | ProgressEvent::SpecialSkipped { .. }
        | ProgressEvent::Vanished { .. }
        | ProgressEvent::Removed { .. }
        | ProgressEvent::MountFinished { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn the_plain_line_reads_like_a_sentence() {
        let progress = MigrationProgress {
            total_bytes: 34 * GIB / 10,
            done_bytes: 12 * GIB / 10,
            ..MigrationProgress::default()
        };
        let rate = 210.0 * 1024.0 * 1024.0;
        assert_eq!(
            plain_line("web-01", &progress, Some(rate)),
            "migration web-01: 1.2 GiB of 3.4 GiB (35%), 210 MiB/s, ETA 11s"
        );
        assert_eq!(
            plain_line("web-01", &progress, None),
            "migration web-01: 1.2 GiB of 3.4 GiB (35%)"
        );
        let empty = MigrationProgress::default();
        assert_eq!(
            plain_line("db", &empty, Some(0.0)),
            "migration db: 0 B of 0 B (100%)"
        );
    }

    #[test]
    fn sizes_and_durations_are_human() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(5 * GIB), "5.0 GiB");
        assert_eq!(format_duration(Duration::from_secs(11)), "11s");
        assert_eq!(format_duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(format_duration(Duration::from_secs(7800)), "2h 10m");
    }

    #[test]
    fn plain_mode_prints_every_interval_with_the_recent_rate() {
        let mut plain = PlainProgress::default();
        let start = Instant::now();
        let migration = "web-01".to_string();
        let scanned = ProgressEvent::ScanFinished {
            migration: migration.clone(),
            files: 2,
            bytes: 100 * 1024 * 1024,
        };
        assert!(plain.observe(&scanned, start).is_empty());
        let chunk = ProgressEvent::Transferred {
            migration: migration.clone(),
            bytes: 10 * 1024 * 1024,
        };
        assert!(
            plain
                .observe(&chunk, start + Duration::from_secs(1))
                .is_empty()
        );
        let lines = plain.observe(&chunk, start + Duration::from_secs(5));
        assert_eq!(
            lines,
            ["migration web-01: 20.0 MiB of 100 MiB (20%), 4.0 MiB/s, ETA 20s"]
        );
        assert!(
            plain
                .observe(&chunk, start + Duration::from_secs(6))
                .is_empty()
        );
        let failed = ProgressEvent::FileFailed {
            migration,
            path: "data/x".to_string(),
            message: "disk full".to_string(),
        };
        assert_eq!(
            plain.observe(&failed, start + Duration::from_secs(7)),
            ["migration web-01: failed `data/x`: disk full"]
        );
    }

    #[test]
    fn names_paths_and_messages_from_outside_are_escaped() {
        let mut plain = PlainProgress::default();
        let failed = ProgressEvent::FileFailed {
            migration: "web\u{1b}[2J".to_string(),
            path: "e\u{1b}]0;OWNED\u{7}\u{1b}[2Jx.txt".to_string(),
            message: "cannot open `e\u{202e}x`".to_string(),
        };
        let lines = plain.observe(&failed, Instant::now());
        assert_eq!(
            lines,
            [
                "migration web\\u{1b}[2J: failed `e\\u{1b}]0;OWNED\\u{7}\\u{1b}[2Jx.txt`: cannot open `e\\u{202e}x`"
            ]
        );
        let line = plain_line("a\u{9b}b", &MigrationProgress::default(), None);
        assert_eq!(line, "migration a\\u{9b}b: 0 B of 0 B (100%)");
    }
}
