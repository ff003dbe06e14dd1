//! The builder's promise: every `ferry` a test starts has its own state file in its own
//! temporary folder, and none of the test process's `FERRY_*` settings (a user's `FERRY_STATE`,
//! the test servers' variables), so no state left in the checkout or the environment can change
//! what a test sees.

use std::ffi::OsStr;
use std::path::Path;

use crate::support::command::{Ferry, repository_root};

fn set_variables(ferry: &Ferry) -> Vec<(String, Option<String>)> {
    ferry
        .prepared_in(&repository_root())
        .get_envs()
        .map(|(key, value)| {
            (
                key.to_string_lossy().into_owned(),
                value.map(|value| value.to_string_lossy().into_owned()),
            )
        })
        .collect()
}

/// The state file `ferry` would use: `FERRY_STATE` when the builder sets it, else the default
/// `.ferry/state.db` in the working directory.
fn effective_state(ferry: &Ferry, working_directory: &Path) -> std::path::PathBuf {
    let command = ferry.prepared_in(working_directory);
    command
        .get_envs()
        .find(|(key, _)| *key == OsStr::new("FERRY_STATE"))
        .and_then(|(_, value)| value.map(std::path::PathBuf::from))
        .unwrap_or_else(|| working_directory.join(".ferry/state.db"))
}

#[test]
fn each_invocation_uses_a_state_file_in_its_own_temporary_folder() {
    let first = Ferry::new();
    let second = Ferry::new();
    for ferry in [&first, &second] {
        for working_directory in [ferry.directory().to_path_buf(), repository_root()] {
            let state = effective_state(ferry, &working_directory);
            assert_eq!(
                state,
                ferry.state_path(),
                "in {}",
                working_directory.display()
            );
        }
    }
    assert_ne!(first.state_path(), second.state_path());
}

#[test]
fn no_ferry_variable_of_the_test_process_reaches_ferry() {
    // Under scripts/test.sh the environment holds FERRY_REQUIRE_SERVERS and the servers'
    // FERRY_TEST_* variables: each must be removed, unless the test sets it itself.
    let ferry = Ferry::new().env("FERRY_TEST_CHOSEN", "kept");
    let variables = set_variables(&ferry);
    let inherited: Vec<String> = std::env::vars_os()
        .map(|(key, _)| key.to_string_lossy().into_owned())
        .filter(|key| key.starts_with("FERRY_"))
        .collect();
    for key in &inherited {
        let last = variables.iter().rev().find(|(name, _)| name == key);
        match last {
            Some((_, None)) => {}
            Some((_, Some(value))) if key == "FERRY_STATE" => {
                assert!(Path::new(value).starts_with(ferry.directory()));
            }
            other => panic!("{key} reaches ferry: {other:?}"),
        }
    }
    let chosen = ferry
        .prepared_in(ferry.directory())
        .get_envs()
        .find(|(key, _)| *key == OsStr::new("FERRY_TEST_CHOSEN"))
        .and_then(|(_, value)| value.map(OsStr::to_os_string));
    assert_eq!(chosen.as_deref(), Some(OsStr::new("kept")));
}

#[test]
fn a_check_run_in_the_checkout_never_reads_the_checkouts_state() {
    // The demo (`cargo run --release -- run plans/demo.yaml`) leaves `.ferry/state.db` in the
    // checkout; a check run there must read the test's own (absent) state instead, so the
    // recorded-IP rules never fire. scripts/test.sh runs the demo first to prove it.
    let outcome = Ferry::new()
        .args([
            "check",
            "--format",
            "json",
            "plans/invalid/duplicate-ip.yaml",
        ])
        .run_in(&repository_root());
    assert!(
        !outcome.stdout.contains("ip-recorded-elsewhere"),
        "{}",
        outcome.stdout
    );
}
