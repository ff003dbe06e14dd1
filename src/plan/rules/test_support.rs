//! Test helpers: a `Locate` stand-in that maps each pointer to its own span, and plan entries from JSON.

use std::cell::RefCell;
use std::ops::Range;

use crate::plan::codes::Code;
use crate::plan::diagnostic::{Diagnostic, Severity};
use crate::plan::yaml::{Locate, Located};

use super::PlanEntries;

/// Gives pointer number N (in the order first asked) the value span `10N..10N+4` and, unless the
/// pointer ends in a list index, the key span `10N+5..10N+9`, so a span tells which pointer it came from.
#[derive(Default)]
pub(super) struct PointerLocator {
    pointers: RefCell<Vec<String>>,
}

impl Locate for PointerLocator {
    fn locate(&self, pointer: &str) -> Located {
        let mut pointers = self.pointers.borrow_mut();
        let index = match pointers.iter().position(|known| known == pointer) {
            Some(index) => index,
            None => {
                pointers.push(pointer.to_string());
                pointers.len() - 1
            }
        };
        let start = index * 10;
        let is_list_item = pointer
            .rsplit('/')
            .next()
            .is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()));
        Located {
            key: (!is_list_item).then_some(start + 5..start + 9),
            value: start..start + 4,
        }
    }
}

impl PointerLocator {
    /// `value /sources/a/ip` or `key /sources/a/mountpoints` for a span this locator made.
    pub(super) fn describe(&self, span: &Range<usize>) -> String {
        let pointers = self.pointers.borrow();
        let pointer = pointers.get(span.start / 10).map_or("?", String::as_str);
        let kind = if span.start.is_multiple_of(10) {
            "value"
        } else {
            "key"
        };
        format!("{kind} {pointer}")
    }
}

/// A diagnostic with its spans turned back into pointers, for readable assertions.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) code: Code,
    pub(super) severity: Severity,
    pub(super) message: String,
    /// `(where, label message)`, primary first.
    pub(super) labels: Vec<(String, String)>,
    pub(super) help: Option<String>,
}

impl Found {
    /// Just the places, primary first.
    pub(super) fn places(&self) -> Vec<&str> {
        self.labels
            .iter()
            .map(|(place, _)| place.as_str())
            .collect()
    }
}

/// Plan entries from a plan written as JSON, each entry deserialised on its own (a failure is `None`).
pub(super) fn entries(plan: &serde_json::Value) -> PlanEntries {
    PlanEntries::from_json(plan)
}

/// Runs `check` on a plan written as JSON.
pub(super) fn check_plan(plan: &serde_json::Value) -> Vec<Found> {
    let locator = PointerLocator::default();
    let diagnostics: Vec<Diagnostic> = super::check(&entries(plan), &locator);
    diagnostics
        .into_iter()
        .map(|diagnostic| Found {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message,
            labels: diagnostic
                .labels
                .iter()
                .map(|label| (locator.describe(&label.span), label.message.clone()))
                .collect(),
            help: diagnostic.help,
        })
        .collect()
}

/// Only the findings with this code.
pub(super) fn with_code(plan: &serde_json::Value, code: Code) -> Vec<Found> {
    check_plan(plan)
        .into_iter()
        .filter(|found| found.code == code)
        .collect()
}

/// A small valid plan: two sources (Windows and Linux), two targets, two migrations.
pub(super) fn sample_plan() -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "sources": {
            "web-01": {
                "ip": "10.0.0.1",
                "credentials": {"username": "administrator", "password": {"env": "WEB01_PASSWORD"}},
                "mountpoints": [
                    {"name": "C:\\", "size": "40 GiB"},
                    {"name": "D:\\", "size": "100 GiB"}
                ]
            },
            "db-01": {
                "ip": "10.0.0.2",
                "credentials": {"username": "root", "password": {"file": "secrets/db-01.txt"}},
                "mountpoints": [
                    {"name": "/", "size": "20 GiB"},
                    {"name": "/data", "size": 1073741824}
                ],
                "connection": {"local": {"path": "data/db-01"}}
            }
        },
        "targets": {
            "aws-1": {
                "cloud": "aws",
                "credentials": {"username": "AKIAEXAMPLE", "password": {"env": "AWS_SECRET"}, "domain": "eu-west-1"},
                "vm": {
                    "ip": "10.1.0.1",
                    "credentials": {"username": "administrator", "password": {"env": "VM_PASSWORD"}},
                    "mountpoints": [{"name": "C:\\", "size": "200 GiB"}]
                }
            },
            "azure-1": {
                "cloud": "azure",
                "credentials": {"username": "app-id", "password": {"env": "AZURE_SECRET"}, "domain": "tenant"},
                "vm": {
                    "ip": "10.1.0.2",
                    "credentials": {"username": "root", "password": {"env": "VM_PASSWORD"}}
                }
            }
        },
        "migrations": [
            {"source": "web-01", "target": "aws-1", "mounts": ["C:\\", "D:\\"]},
            {"source": "db-01", "target": "azure-1", "mounts": ["/", "/data"]}
        ]
    })
}

#[test]
fn the_sample_plan_has_no_findings() {
    assert!(
        check_plan(&sample_plan()).is_empty(),
        "{:#?}",
        check_plan(&sample_plan())
    );
}
