//! Waves through the binary: a failed pilot stops the later waves (exit 1, the report and
//! `ferry plan` name the wave and why), a percentage threshold rounds down and holds a wave's next migrations, `--wave`
//! refuses while an earlier wave has not finished, and a re-run after a fix goes on where the
//! run stopped. A migration fails deterministically: its source folder does not exist.

use std::path::Path;

use crate::support::command::{Ferry, Outcome};

/// A migration of the generated plan: its name, its wave, and whether its source data exists.
struct Planned {
    name: &'static str,
    wave: &'static str,
    present: bool,
}

const fn planned(name: &'static str, wave: &'static str, present: bool) -> Planned {
    Planned {
        name,
        wave,
        present,
    }
}

/// A plan of local migrations (`NAME` copies `data/NAME` to `out/NAME`) and its waves
/// (`name: max_failures`), with the data of the present ones written.
fn wave_plan(migrations: &[Planned], waves: &[(&str, &str)]) -> Ferry {
    let mut sources = String::new();
    let mut targets = String::new();
    let mut listed = String::new();
    let mut ferry = Ferry::new();
    for (index, migration) in migrations.iter().enumerate() {
        let name = migration.name;
        sources.push_str(&format!(
            "  {name}:\n    ip: 192.0.2.{}\n    credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET }} }}\n    mountpoints: [{{ name: /data, size: 1 GiB }}]\n    connection: {{ local: {{ path: ./data/{name} }} }}\n",
            index + 1
        ));
        targets.push_str(&format!(
            "  {name}-vm:\n    cloud: aws\n    credentials: {{ username: AKIAEXAMPLE, password: {{ env: FERRY_TEST_UNSET }} }}\n    vm:\n      ip: 198.51.100.{}\n      credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET }} }}\n      connection: {{ local: {{ path: ./out/{name} }} }}\n",
            index + 1
        ));
        listed.push_str(&format!(
            "  - {{ name: {name}, source: {name}, target: {name}-vm, mounts: [/data], wave: {} }}\n",
            migration.wave
        ));
        if migration.present {
            ferry = ferry.file(&format!("data/{name}/data/{name}.txt"), name);
        }
    }
    let waves: String = waves
        .iter()
        .map(|(name, threshold)| format!("  - {{ name: {name}, max_failures: {threshold} }}\n"))
        .collect();
    let plan = format!(
        "version: 1\nsources:\n{sources}targets:\n{targets}migrations:\n{listed}waves:\n{waves}"
    );
    ferry.file("plan.yaml", plan)
}

/// Makes the missing source of `name` exist: the fix.
fn fix(ferry: &Ferry, name: &str) {
    let folder = ferry.directory().join(format!("data/{name}/data"));
    std::fs::create_dir_all(&folder).expect("create the source folder");
    std::fs::write(folder.join(format!("{name}.txt")), name).expect("write the source file");
}

fn copied(ferry: &Ferry, name: &str) -> bool {
    ferry
        .directory()
        .join(format!("out/{name}/data/{name}.txt"))
        .exists()
}

/// The JSON report grouped by the plan's waves.
fn report_json(ferry: &Ferry) -> serde_json::Value {
    let report = ferry.run_with(&["report", "--plan", "plan.yaml", "--format", "json"]);
    assert_eq!(report.code, 0, "{}", report.snapshot());
    serde_json::from_str(&report.stdout).expect("the JSON report parses")
}

/// Each wave's `name` and `state` from the JSON report.
fn wave_states(report: &serde_json::Value) -> Vec<(String, String)> {
    report["waves"]
        .as_array()
        .expect("a waves array")
        .iter()
        .map(|wave| {
            (
                wave["name"].as_str().unwrap_or_default().to_string(),
                wave["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn states(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, state)| (name.to_string(), state.to_string()))
        .collect()
}

/// stderr as one line (miette wraps long messages).
fn one_line(outcome: &Outcome) -> String {
    let words: Vec<&str> = outcome
        .stderr
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect();
    words.join(" ")
}

#[test]
fn a_failed_pilot_stops_the_next_wave_and_a_rerun_after_the_fix_goes_on() {
    let ferry = wave_plan(
        &[
            planned("pilot-01", "pilot", false),
            planned("main-01", "main", true),
            planned("main-02", "main", true),
        ],
        &[("pilot", "0"), ("main", "1")],
    );
    let failed = ferry.run_with(&["run", "plan.yaml", "--report-format", "json"]);
    assert_eq!(failed.code, 1, "{}", failed.snapshot());
    let stop =
        "the run stopped at wave `pilot`: 1 failure, threshold 0; not started: main-01, main-02";
    assert!(failed.stderr.contains(stop), "{}", failed.snapshot());
    assert!(
        failed
            .stderr
            .contains("migration main-01: not started: wave `pilot`: 1 failure, threshold 0"),
        "{}",
        failed.snapshot()
    );
    assert!(!copied(&ferry, "main-01") && !copied(&ferry, "main-02"));
    let report: serde_json::Value = serde_json::from_str(&failed.stdout).expect("JSON report");
    assert_eq!(
        wave_states(&report),
        states(&[("pilot", "stopped"), ("main", "not_started")])
    );
    assert_eq!(
        report["waves"][0]["reason"],
        "wave `pilot`: 1 failure, threshold 0"
    );
    assert_eq!(report["migrations"][1]["wave"], "main");

    let table = ferry.run_with(&["report", "--plan", "plan.yaml"]);
    assert!(
        table
            .stdout
            .contains("The later waves do not start: wave `pilot`: 1 failure, threshold 0"),
        "{}",
        table.snapshot()
    );
    let junit = ferry.run_with(&["report", "--plan", "plan.yaml", "--format", "junit"]);
    assert!(
        junit.stdout.contains("<testsuites name=\"ferry\">"),
        "{}",
        junit.stdout
    );
    assert!(
        junit
            .stdout
            .contains("<testsuite name=\"wave pilot\" tests=\"1\" failures=\"1\"")
    );
    assert!(junit.stdout.contains(
        "<testsuite name=\"wave main\" tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"2\""
    ));

    let preview = ferry.run_with(&["plan", "plan.yaml"]);
    assert!(
        preview.stdout.contains(
            "Wave main (threshold 1, 1 allowed): blocked by wave `pilot`: 1 failure, threshold 0\nmain-01: start"
        ),
        "{}",
        preview.snapshot()
    );
    let preview = ferry.run_with(&["plan", "plan.yaml", "--format", "json"]);
    let preview: serde_json::Value = serde_json::from_str(&preview.stdout).expect("JSON plan");
    assert_eq!(
        preview["waves"][1]["blocked_by"],
        "wave `pilot`: 1 failure, threshold 0"
    );
    assert_eq!(preview["migrations"][2]["wave"], "main");

    fix(&ferry, "pilot-01");
    let fixed = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(fixed.code, 0, "{}", fixed.snapshot());
    assert!(copied(&ferry, "pilot-01") && copied(&ferry, "main-01") && copied(&ferry, "main-02"));
    assert_eq!(
        wave_states(&report_json(&ferry)),
        states(&[("pilot", "success"), ("main", "success")])
    );
    let again = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(again.code, 0, "{}", again.snapshot());
    assert!(
        again
            .stderr
            .contains("migration main-02: succeeded before and unchanged since"),
        "{}",
        again.snapshot()
    );
}

/// 40% of 4 is 1.6: one failure is allowed (rounded down, not to 2). The second failure holds
/// the wave's last migration and the next wave.
#[test]
fn a_percentage_threshold_rounds_down_and_holds_the_waves_next_migrations() {
    let ferry = wave_plan(
        &[
            planned("bulk-01", "bulk", false),
            planned("bulk-02", "bulk", true),
            planned("bulk-03", "bulk", false),
            planned("bulk-04", "bulk", true),
            planned("last-01", "last", true),
        ],
        &[("bulk", "40%"), ("last", "0")],
    );
    let outcome = ferry.run_with(&["run", "plan.yaml", "--parallel", "1"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let reason = "wave `bulk`: 2 failures, threshold 40% (1 allowed)";
    assert!(
        outcome.stderr.contains(&format!(
            "the run stopped at {reason}; not started: bulk-04, last-01"
        )),
        "{}",
        outcome.snapshot()
    );
    assert!(copied(&ferry, "bulk-02"), "one failure is within 40% of 4");
    assert!(!copied(&ferry, "bulk-04") && !copied(&ferry, "last-01"));
    let report = report_json(&ferry);
    assert_eq!(
        wave_states(&report),
        states(&[("bulk", "stopped"), ("last", "not_started")])
    );
    assert_eq!(report["waves"][0]["allowed_failures"], 1);

    // One failure left after a fix is within the threshold: the wave finishes, the next runs.
    fix(&ferry, "bulk-01");
    let outcome = ferry.run_with(&["run", "plan.yaml", "--parallel", "1"]);
    assert_eq!(
        outcome.code,
        1,
        "bulk-03 still fails: {}",
        outcome.snapshot()
    );
    assert!(copied(&ferry, "bulk-04") && copied(&ferry, "last-01"));
    assert_eq!(
        wave_states(&report_json(&ferry)),
        states(&[("bulk", "success"), ("last", "success")])
    );
}

#[test]
fn wave_runs_one_wave_and_refuses_while_an_earlier_one_has_not_finished() {
    let ferry = wave_plan(
        &[
            planned("pilot-01", "pilot", false),
            planned("main-01", "main", true),
            planned("main-02", "main", true),
        ],
        &[("pilot", "0"), ("main", "0")],
    );
    let unknown = ferry.run_with(&["run", "plan.yaml", "--wave", "mian"]);
    assert_eq!(unknown.code, 2, "{}", unknown.snapshot());
    assert!(
        one_line(&unknown).contains("no wave named `mian`; did you mean `main`?"),
        "{}",
        unknown.snapshot()
    );
    let waiting = ferry.run_with(&["run", "plan.yaml", "--only", "main-01"]);
    assert_eq!(waiting.code, 1, "{}", waiting.snapshot());
    assert!(
        waiting.stderr.contains(
            "the run stopped at wave `pilot`: 1 migration has not ended; not started: main-01"
        ),
        "{}",
        waiting.snapshot()
    );
    let early = ferry.run_with(&["run", "plan.yaml", "--wave", "main"]);
    assert_eq!(early.code, 2, "{}", early.snapshot());
    assert!(
        one_line(&early).contains(
            "cannot run wave `main`: an earlier wave has not finished: wave `pilot`: 1 migration has not ended"
        ),
        "{}",
        early.snapshot()
    );
    let pilot = ferry.run_with(&["run", "plan.yaml", "--wave", "pilot"]);
    assert_eq!(pilot.code, 1, "{}", pilot.snapshot());
    let refused = ferry.run_with(&["run", "plan.yaml", "--wave", "main"]);
    assert_eq!(refused.code, 2, "{}", refused.snapshot());
    assert!(
        one_line(&refused).contains("wave `pilot`: 1 failure, threshold 0"),
        "{}",
        refused.snapshot()
    );
    assert!(!copied(&ferry, "main-01"));

    fix(&ferry, "pilot-01");
    let pilot = ferry.run_with(&["run", "plan.yaml", "--wave", "pilot"]);
    assert_eq!(pilot.code, 0, "{}", pilot.snapshot());
    assert!(!copied(&ferry, "main-01"), "--wave runs that wave only");
    let other = ferry.run_with(&["run", "plan.yaml", "--wave", "main", "--only", "pilot-01"]);
    assert_eq!(other.code, 2, "{}", other.snapshot());
    let one = ferry.run_with(&["run", "plan.yaml", "--wave", "main", "--only", "main-02"]);
    assert_eq!(one.code, 0, "{}", one.snapshot());
    assert!(copied(&ferry, "main-02") && !copied(&ferry, "main-01"));
    assert_eq!(
        wave_states(&report_json(&ferry)),
        states(&[("pilot", "success"), ("main", "running")])
    );
}

#[test]
fn the_bundled_wave_plan_runs_with_the_demo_data() {
    let ferry = super::demo();
    super::copy_tree(
        &crate::support::command::repository_root().join("plans/wave.yaml"),
        &ferry.directory().join("plans/wave.yaml"),
    );
    super::copy_tree(
        &crate::support::command::repository_root().join("plans/hooks"),
        &ferry.directory().join("plans/hooks"),
    );
    let outcome = ferry.run_with(&["run", "plans/wave.yaml"]);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    let out = ferry.directory().join("plans/wave-out");
    for web in ["aws-shop-web-01", "aws-shop-web-02", "aws-shop-web-03"] {
        assert!(Path::new(&out.join(web).join("C/inetpub/wwwroot/index.html")).exists());
    }
    assert!(Path::new(&out.join("vsphere-shop-db-01/etc/hostname")).exists());
    // The cutover hooks ran around each copy, the pilot's before the main wave's, and the
    // database's own `before` replaced its wave's.
    let log = std::fs::read_to_string(out.join("hooks.log")).expect("the hooks' log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 8, "{log}");
    assert_eq!(
        lines[0],
        "pilot shop-web-01 before: stop iis on shop-web-01 (192.0.2.41)"
    );
    assert!(
        lines[1].starts_with("pilot shop-web-01 after: ") && lines[1].contains("aws-shop-web-01"),
        "{log}"
    );
    assert!(
        lines.contains(&"main shop-db-01 before: stop postgresql on shop-db-01 (192.0.2.44)"),
        "{log}"
    );
    for migration in ["shop-web-02", "shop-web-03", "shop-db-01"] {
        let at = |phase: &str| {
            lines
                .iter()
                .position(|line| line.starts_with(&format!("main {migration} {phase}")))
                .unwrap_or_else(|| panic!("{migration} {phase}: {log}"))
        };
        assert!(at("before") < at("after"), "{log}");
    }
}

/// The same through a PostgreSQL state: the database counts the wave's failures.
#[cfg(feature = "postgres")]
#[test]
fn waves_count_their_failures_in_a_postgres_state_too() {
    let Some(url) = crate::support::servers::postgres_database("waves") else {
        return;
    };
    let ferry = wave_plan(
        &[
            planned("pilot-01", "pilot", false),
            planned("main-01", "main", true),
        ],
        &[("pilot", "0"), ("main", "0")],
    );
    let failed = ferry.run_with(&["run", "plan.yaml", "--state", &url]);
    assert_eq!(failed.code, 1, "{}", failed.snapshot());
    assert!(
        failed.stderr.contains(
            "the run stopped at wave `pilot`: 1 failure, threshold 0; not started: main-01"
        ),
        "{}",
        failed.snapshot()
    );
    let refused = ferry.run_with(&["run", "plan.yaml", "--wave", "main", "--state", &url]);
    assert_eq!(refused.code, 2, "{}", refused.snapshot());
    assert!(!copied(&ferry, "main-01"));

    fix(&ferry, "pilot-01");
    let fixed = ferry.run_with(&["run", "plan.yaml", "--state", &url]);
    assert_eq!(fixed.code, 0, "{}", fixed.snapshot());
    let report = ferry.run_with(&[
        "report",
        "--plan",
        "plan.yaml",
        "--format",
        "json",
        "--state",
        &url,
    ]);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).expect("JSON report");
    assert_eq!(
        wave_states(&report),
        states(&[("pilot", "success"), ("main", "success")])
    );
}
