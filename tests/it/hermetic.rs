//! The builder's promise: every `ferry` a test starts has its own state file in its own
//! temporary folder, and none of the test process's `FERRY_*` settings (a user's `FERRY_STATE`,
//! the test servers' variables), so no state left in the checkout or the environment can change
//! what a test sees.

use std::ffi::OsStr;
use std::path::Path;

use crate::support::command::{Ferry, repository_root};

fn set_variables(ferry: &Ferry) -> Vec<(String, Option<String>)> {
    ferry
        .prepared()
        .get_envs()
        .map(|(key, value)| {
            (
                key.to_string_lossy().into_owned(),
                value.map(|value| value.to_string_lossy().into_owned()),
            )
        })
        .collect()
}

#[test]
fn each_invocation_uses_a_state_file_in_its_own_temporary_folder() {
    let first = Ferry::new();
    let second = Ferry::new();
    for ferry in [&first, &second] {
        let variables = set_variables(ferry);
        let state = variables
            .iter()
            .find(|(key, _)| key == "FERRY_STATE")
            .and_then(|(_, value)| value.clone())
            .expect("FERRY_STATE is set");
        assert!(Path::new(&state).starts_with(ferry.directory()), "{state}");
        assert!(!Path::new(&state).starts_with(repository_root()), "{state}");
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
        .prepared()
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
