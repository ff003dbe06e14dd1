//! `ferry state` and `ferry report` end to end: exit statuses, output files and refusals.

use std::path::Path;
use std::process::Output;

use crate::support::command::clean_command;

fn ferry(folder: &Path, arguments: &[&str]) -> Output {
    clean_command(folder)
        .args(arguments)
        .output()
        .expect("run ferry")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const EXPORT: &str = r#"{
  "version": 1,
  "exported_at": "2025-03-01T00:00:00Z",
  "sources": [{"name": "web-01", "ip": "192.0.2.10", "os": "windows", "username": "administrator",
               "recorded_at": "2025-02-01T08:00:00Z", "updated_at": "2025-02-01T08:00:00Z"}],
  "targets": [{"name": "aws-web", "cloud": "aws", "vm_ip": "198.51.100.5",
               "recorded_at": "2025-02-01T08:00:00Z", "updated_at": "2025-02-01T08:00:00Z"}],
  "migrations": [{"name": "web-01", "source": "web-01", "target": "aws-web", "cloud": "aws",
                  "mounts": ["C:\\"], "state": "error", "attempts": 1, "last_error": "disk full",
                  "error_retryable": false, "started_at": "2025-03-01T10:00:00Z",
                  "finished_at": "2025-03-01T10:01:00Z", "files": 3, "bytes": 300,
                  "skipped_files": 0, "skipped_bytes": 0, "created_at": "2025-02-01T08:00:00Z",
                  "updated_at": "2025-03-01T10:01:00Z",
                  "copied_files": [{"path": "C/a.txt", "size": 1, "blake3": "00"}]}]
}"#;

fn imported() -> tempfile::TempDir {
    let folder = tempfile::tempdir().expect("temporary folder");
    std::fs::write(folder.path().join("export.json"), EXPORT).expect("write export");
    let output = ferry(folder.path(), &["state", "import", "export.json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    folder
}

#[test]
fn commands_on_a_missing_state_exit_2_and_create_nothing() {
    let folder = tempfile::tempdir().expect("temporary folder");
    for arguments in [
        &["state", "list"][..],
        &["report"][..],
        &["state", "export"][..],
    ] {
        let output = ferry(folder.path(), arguments);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}");
        assert!(
            text(&output.stderr).contains("no state file"),
            "{}",
            text(&output.stderr)
        );
    }
    assert!(!folder.path().join(".ferry").exists());
}

#[test]
fn import_list_show_and_report_in_every_format() {
    let folder = imported();
    let list = ferry(folder.path(), &["state", "list"]);
    assert!(list.status.success());
    assert!(
        text(&list.stdout).contains("web-01  192.0.2.10"),
        "{}",
        text(&list.stdout)
    );

    let show = ferry(folder.path(), &["state", "show", "migration", "web-01"]);
    assert!(text(&show.stdout).contains("disk full (not retryable)"));
    assert!(text(&show.stdout).contains("1 files recorded"));

    let missing = ferry(folder.path(), &["state", "show", "target", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no target named `nope`"));

    for format in ["table", "json", "junit", "markdown"] {
        let output = ferry(folder.path(), &["report", "--format", format]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "a failed migration still reports with 0"
        );
        assert!(text(&output.stdout).contains("web-01"), "{format}");
    }
    let output = ferry(
        folder.path(),
        &["report", "--format", "json", "--output", "report.json"],
    );
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(folder.path().join("report.json")).expect("report written"),
    )
    .expect("valid JSON");
    assert_eq!(json["migrations"][0]["state"], "error");
}

#[test]
fn rm_refuses_a_source_in_use_unless_forced() {
    let folder = imported();
    let refused = ferry(folder.path(), &["state", "rm", "source", "web-01"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("--force"));
    let forced = ferry(
        folder.path(),
        &["state", "rm", "source", "web-01", "--force"],
    );
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    let list = ferry(folder.path(), &["state", "list", "--kind", "migration"]);
    assert!(text(&list.stdout).contains("(none)"));
}

#[test]
fn an_import_changing_a_recorded_ip_is_refused_and_export_round_trips() {
    let folder = imported();
    std::fs::write(
        folder.path().join("changed.json"),
        EXPORT.replace("192.0.2.10", "192.0.2.11"),
    )
    .expect("write");
    let refused = ferry(folder.path(), &["state", "import", "changed.json"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("192.0.2.11"));

    let export = ferry(
        folder.path(),
        &["state", "export", "--output", "again.json"],
    );
    assert!(export.status.success());
    let other = tempfile::tempdir().expect("temporary folder");
    let again = folder.path().join("again.json");
    let imported = ferry(
        other.path(),
        &["state", "import", again.to_str().expect("utf-8 path")],
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let list = ferry(other.path(), &["state", "list"]);
    assert!(text(&list.stdout).contains("192.0.2.10"));
}

#[test]
fn a_file_that_is_not_a_state_database_is_refused_and_kept() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("notes.txt");
    std::fs::write(&path, "important notes\n").expect("write");
    let output = ferry(folder.path(), &["report", "--state", "notes.txt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not a ferry state database"));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "important notes\n"
    );
}

#[test]
fn an_export_imported_into_the_state_it_came_from_changes_nothing() {
    let folder = imported();
    let exported = ferry(
        folder.path(),
        &["state", "export", "--output", "again.json"],
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let before = std::fs::read_to_string(folder.path().join("again.json")).expect("read");
    let merged = ferry(folder.path(), &["state", "import", "again.json"]);
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
    let exported = ferry(
        folder.path(),
        &["state", "export", "--output", "after.json"],
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let after = std::fs::read_to_string(folder.path().join("after.json")).expect("read");
    let without_time = |text: &str| {
        let mut value: serde_json::Value = serde_json::from_str(text).expect("json");
        value["exported_at"] = serde_json::Value::Null;
        value
    };
    assert_eq!(without_time(&after), without_time(&before));
}

#[test]
fn an_import_naming_a_file_outside_the_target_or_a_device_is_refused() {
    let folder = imported();
    let hostile = EXPORT.replace("\"C/a.txt\"", "\"../../etc/passwd\"");
    std::fs::write(folder.path().join("hostile.json"), hostile).expect("write");
    let refused = ferry(folder.path(), &["state", "import", "hostile.json"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("not a relative path below the target"),
        "{}",
        text(&refused.stderr)
    );
    let endless = ferry(folder.path(), &["state", "import", "/dev/zero"]);
    assert_eq!(endless.status.code(), Some(2));
    assert!(
        text(&endless.stderr).contains("not a regular file or a pipe"),
        "{}",
        text(&endless.stderr)
    );
}

#[test]
fn state_list_as_json_has_a_version_and_the_export_fields() {
    let folder = imported();
    let output = ferry(folder.path(), &["state", "list", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("state list --format json prints JSON");
    insta::assert_json_snapshot!("state-list-json", document);
    let only = ferry(
        folder.path(),
        &["state", "list", "--kind", "target", "--format", "json"],
    );
    let document: serde_json::Value = serde_json::from_slice(&only.stdout).expect("JSON");
    let keys: Vec<&String> = document.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["version", "targets"]);
}

#[test]
fn state_show_as_json_has_the_record_its_claims_and_the_migrations_using_a_source() {
    let folder = imported();
    let output = ferry(
        folder.path(),
        &["state", "show", "migration", "web-01", "--format", "json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(document["version"], 1);
    assert_eq!(document["state"], "error");
    assert_eq!(document["recorded_files"], 1);
    // An imported migration was never claimed here: its history is empty, and nobody holds it.
    assert_eq!(document["claims"], serde_json::json!([]));
    assert_eq!(document["holder"], serde_json::Value::Null);
    let source = ferry(
        folder.path(),
        &["state", "show", "source", "web-01", "--format", "json"],
    );
    let document: serde_json::Value = serde_json::from_slice(&source.stdout).expect("JSON");
    assert_eq!(document["ip"], "192.0.2.10");
    assert_eq!(document["migrations"], serde_json::json!(["web-01"]));
}
