//! A source file deleted while the run copies is skipped, named in the run's output and in every
//! report format, and the migration still succeeds (the target holds what the source holds).

use super::interrupt::{big_plan, wait_for_partial};

const MIB: u64 = 1024 * 1024;

#[test]
fn a_file_deleted_from_the_source_mid_run_is_named_in_the_output_and_the_report() {
    let ferry = big_plan();
    let source = ferry.directory().join("source");
    let out = ferry.directory().join("out");
    // One file at a time, the 64 MiB file first: while its copy is under way the scan is over
    // and the last small file, listed, cannot have been copied yet.
    let child = ferry.spawn(&[
        "run",
        "plan.yaml",
        "--transfers",
        "1",
        "--bwlimit",
        "48MiB",
        "--report-format",
        "json",
    ]);
    wait_for_partial(&out, MIB);
    std::fs::remove_file(source.join("small/31.bin")).expect("delete a listed file");
    let outcome = ferry.wait(child);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    assert!(
        outcome.stderr.contains(
            "migration big: `small/31.bin` was deleted from the source during the run; not copied"
        ),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome
            .stderr
            .contains("1 deleted from the source during the run"),
        "{}",
        outcome.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&outcome.stdout).expect("json report");
    assert_eq!(report["migrations"][0]["state"], "success");
    assert_eq!(
        report["migrations"][0]["vanished"],
        serde_json::json!(["small/31.bin"])
    );
    assert!(!out.join("small/31.bin").exists());

    // The report keeps naming it until the next attempt, in every format.
    let table = ferry.run_with(&["report"]);
    assert!(
        table.stdout.contains(
            "Deleted from the source during the run (not copied):\n  big: `small/31.bin`"
        ),
        "{}",
        table.stdout
    );
    let markdown = ferry.run_with(&["report", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains("- big: `small/31.bin`"),
        "{}",
        markdown.stdout
    );
    let junit = ferry.run_with(&["report", "--format", "junit"]);
    assert!(junit.stdout.contains("`small/31.bin`"), "{}", junit.stdout);
}
