//! The demo plan: the selected mounts arrive byte-identical (content, mode, mtime, symlinks) and
//! nothing else does; a second run copies nothing; every report format after a run.

use super::{demo, entries, listing, only_below, report_filters, table_filters};

#[test]
fn the_demo_plan_arrives_byte_identical_and_a_second_run_copies_nothing() {
    let ferry = demo();
    let first = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());

    let data = ferry.directory().join("plans/demo-data");
    let out = ferry.directory().join("plans/demo-out");
    // web-01 selects C:\ and D:\; E:\ never arrives.
    let web_source = only_below(&entries(&data.join("web-01"), &[]), &["C", "D"]);
    assert_eq!(entries(&out.join("aws-web-01"), &[]), web_source);
    // db-01 selects / and /var/lib/pgsql: /home is a mount point, created empty, its content never
    // arrives; /var/lib/pgsql arrives once, at its place.
    let db_source = entries(&data.join("db-01"), &["home"]);
    assert!(
        db_source.contains_key("home") && db_source.contains_key("var/lib/pgsql/data/base/16384")
    );
    assert_eq!(entries(&out.join("vsphere-db-01"), &[]), db_source);
    insta::assert_snapshot!("demo_target_tree", listing(&out));
    insta::with_settings!({ filters => table_filters() }, {
        insta::assert_snapshot!("demo_run_report_table", first.stdout);
    });
    assert!(
        first.stderr.contains("migration web-01: starting"),
        "{}",
        first.stderr
    );

    let second = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(second.code, 0, "{}", second.snapshot());
    for migration in ["web-01", "db-01"] {
        assert!(
            second.stderr.contains(&format!(
                "migration {migration}: succeeded before and unchanged since; nothing to do"
            )),
            "{}",
            second.stderr
        );
    }
    assert!(
        !second.stderr.contains("starting") && !second.stderr.contains("files copied"),
        "{}",
        second.stderr
    );
    assert_eq!(entries(&out.join("aws-web-01"), &[]), web_source);
    // The second run left the recorded attempt alone: same report.
    assert_eq!(second.stdout, first.stdout);
}

#[test]
fn a_changed_source_is_synced_and_only_the_change_is_copied() {
    let ferry = demo();
    assert_eq!(ferry.run_with(&["run", "plans/demo.yaml"]).code, 0);
    let data = ferry.directory().join("plans/demo-data/db-01");
    std::fs::write(data.join("etc/hostname"), "db-01.example\n").expect("change a file");
    std::fs::remove_file(data.join("var/lib/pgsql/data/postgresql.conf")).expect("remove a file");

    let sync = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(sync.code, 0, "{}", sync.snapshot());
    assert!(
        sync.stderr.contains("migration db-01: done: 1 files copied (14 B, 14 B transferred), 0 resumed, 1 unchanged, 1 removed"),
        "{}",
        sync.stderr
    );
    let out = ferry.directory().join("plans/demo-out/vsphere-db-01");
    assert_eq!(entries(&out, &[]), entries(&data, &["home"]));
}

#[test]
fn every_report_format_after_a_run() {
    let ferry = demo();
    let run = ferry.run_with(&[
        "run",
        "plans/demo.yaml",
        "--report-format",
        "json",
        "--report-output",
        "run.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(run.stdout, "", "the report went to the file");
    let written =
        std::fs::read_to_string(ferry.directory().join("run.json")).expect("the report file");
    insta::with_settings!({ filters => report_filters() }, {
        insta::assert_snapshot!("demo_report_json", written);
        for format in ["junit", "markdown"] {
            let report = ferry.run_with(&["report", "--format", format]);
            assert_eq!(report.code, 0, "{}", report.snapshot());
            insta::assert_snapshot!(format!("demo_report_{format}"), report.stdout);
        }
    });
}

#[test]
fn a_mount_dropped_from_the_selection_leaves_the_target_and_its_recorded_storage() {
    let ferry = demo();
    assert_eq!(ferry.run_with(&["run", "plans/demo.yaml"]).code, 0);
    let shown = ferry.run_with(&["state", "show", "migration", "web-01"]);
    assert!(
        shown
            .stdout
            .contains("target storage: C:\\ 40.0 GiB, D:\\ 120.0 GiB"),
        "{}",
        shown.stdout
    );

    let plan_path = ferry.directory().join("plans/demo.yaml");
    let plan = std::fs::read_to_string(&plan_path).expect("plan");
    std::fs::write(
        &plan_path,
        plan.replace("mounts: ['C:\\', 'D:\\']", "mounts: ['C:\\']"),
    )
    .expect("drop D:");
    let preview = ferry.run_with(&["plan", "plans/demo.yaml", "--detailed-exitcode"]);
    assert_eq!(preview.code, 2, "{}", preview.snapshot());
    assert!(
        preview.stdout.contains("web-01: sync"),
        "{}",
        preview.stdout
    );

    let rerun = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(rerun.code, 0, "{}", rerun.snapshot());
    let out = ferry.directory().join("plans/demo-out/aws-web-01");
    let data = ferry.directory().join("plans/demo-data/web-01");
    assert_eq!(entries(&out, &[]), only_below(&entries(&data, &[]), &["C"]));
    let shown = ferry.run_with(&["state", "show", "migration", "web-01"]);
    assert!(
        shown.stdout.contains("target storage: C:\\ 40.0 GiB\n"),
        "{}",
        shown.stdout
    );
}
