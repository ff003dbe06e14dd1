//! `ferry run` and `ferry plan` end to end against real directories, the real SQLite state and,
//! when available, the real SFTP test servers: shared helpers for comparing trees and stabilising
//! reports.

mod demo;
mod durability;
mod escape;
mod foreign;
mod hooks;
mod interrupt;
#[cfg(all(feature = "sftp", feature = "object-store"))]
mod killed;
mod never_started;
#[cfg(feature = "object-store")]
mod object_memory;
#[cfg(feature = "object-store")]
mod object_store;
mod plan;
mod refusals;
#[cfg(feature = "sftp")]
mod sftp;
mod vanished;
mod waves;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use crate::support::command::{Ferry, repository_root};

/// A fresh temporary directory holding a copy of `plans/demo.yaml` and its data (`cp -a`, so
/// modes, times and symlinks are the repository's).
pub fn demo() -> Ferry {
    let ferry = Ferry::new();
    let plans = ferry.directory().join("plans");
    std::fs::create_dir(&plans).expect("create plans/");
    let repository = repository_root().join("plans");
    for name in ["demo.yaml", "demo-data"] {
        copy_tree(&repository.join(name), &plans.join(name));
    }
    ferry
}

/// `cp -a FROM TO`.
pub fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("run cp");
    assert!(
        status.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
}

/// One entry of a tree, as compared between source and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File {
        mode: u32,
        modified: SystemTime,
        blake3: String,
        size: u64,
    },
    Directory {
        mode: u32,
        modified: SystemTime,
    },
    Symlink {
        target: String,
    },
}

/// Every entry below `root` (not the root itself) by relative path, without following symlinks.
/// Entries strictly below a path in `skip_below` are left out (the path itself is kept).
pub fn entries(root: &Path, skip_below: &[&str]) -> BTreeMap<String, Entry> {
    let mut found = BTreeMap::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((directory, prefix)) = pending.pop() {
        if skip_below.contains(&prefix.as_str()) {
            continue;
        }
        for child in std::fs::read_dir(&directory).expect("list a directory") {
            let child = child.expect("read a directory entry");
            let name = child.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let metadata = std::fs::symlink_metadata(child.path()).expect("stat an entry");
            let mode = metadata.permissions().mode() & 0o7777;
            let entry = if metadata.file_type().is_symlink() {
                let target = std::fs::read_link(child.path()).expect("read a link");
                Entry::Symlink {
                    target: target.display().to_string(),
                }
            } else if metadata.is_dir() {
                pending.push((child.path(), relative.clone()));
                Entry::Directory {
                    mode,
                    modified: metadata.modified().expect("mtime"),
                }
            } else {
                let bytes = std::fs::read(child.path()).expect("read a file");
                Entry::File {
                    mode,
                    modified: metadata.modified().expect("mtime"),
                    blake3: blake3::hash(&bytes).to_hex().to_string(),
                    size: metadata.len(),
                }
            };
            found.insert(relative, entry);
        }
    }
    found
}

/// Only the entries at or below these top-level paths.
pub fn only_below(entries: &BTreeMap<String, Entry>, tops: &[&str]) -> BTreeMap<String, Entry> {
    entries
        .iter()
        .filter(|(path, _)| {
            tops.iter()
                .any(|top| *path == top || path.starts_with(&format!("{top}/")))
        })
        .map(|(path, entry)| (path.clone(), entry.clone()))
        .collect()
}

/// A readable listing for snapshots: path, kind, mode and size or link text (no times).
pub fn listing(root: &Path) -> String {
    entries(root, &[])
        .iter()
        .map(|(path, entry)| match entry {
            Entry::File { mode, size, .. } => format!("{path}  file {mode:04o} {size} bytes\n"),
            Entry::Directory { mode, .. } => format!("{path}/  dir {mode:04o}\n"),
            Entry::Symlink { target } => format!("{path}  -> {target}\n"),
        })
        .collect()
}

/// Filters that make reports stable: times, durations and rates vary.
pub fn report_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\d{4}-\d\d-\d\dT[\d:.]+Z", "[TIME]"),
        (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", "[TIME]"),
        (
            r#""duration_seconds": [\d.e-]+"#,
            r#""duration_seconds": "[DURATION]""#,
        ),
        (
            r#""throughput_bytes_per_second": [\d.e+-]+"#,
            r#""throughput_bytes_per_second": "[RATE]""#,
        ),
        (r#"time="[\d.]+""#, r#"time="[DURATION]""#),
        (r"[\d.]+ (B|KiB|MiB|GiB)/s", "[RATE]"),
        (r"\b(\d+h )?(\d+m )?\d+(\.\d+)?s\b", "[DURATION]"),
    ]
}

/// [`report_filters`] for the table, whose column widths follow those values: runs of spaces
/// are collapsed too.
pub fn table_filters() -> Vec<(&'static str, &'static str)> {
    let mut filters = report_filters();
    filters.push((r"[ ]{2,}", " "));
    filters
}

/// The state's migrations as `ferry report --format json` shows them.
pub fn report_json(ferry: &Ferry) -> serde_json::Value {
    let report = ferry.run_with(&["report", "--format", "json"]);
    assert_eq!(report.code, 0, "{}", report.snapshot());
    serde_json::from_str(&report.stdout).expect("the JSON report parses")
}

/// A migration's `state` and `error` from the JSON report.
pub fn migration_state(ferry: &Ferry, name: &str) -> (String, Option<String>) {
    let report = report_json(ferry);
    let migration = report["migrations"]
        .as_array()
        .and_then(|migrations| {
            migrations
                .iter()
                .find(|migration| migration["name"] == name)
        })
        .unwrap_or_else(|| panic!("migration {name} is in the report: {report}"));
    (
        migration["state"].as_str().unwrap_or_default().to_string(),
        migration["error"].as_str().map(str::to_string),
    )
}

/// Writes `length` pseudo-random bytes (xorshift from `seed`), so nothing compresses or repeats.
pub fn write_random(path: &Path, length: usize, seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create a file"));
    let mut written = 0;
    while written < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        file.write_all(&state.to_le_bytes()).expect("write");
        written += 8;
    }
    file.flush().expect("flush");
}
