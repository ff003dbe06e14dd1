//! The command line as CI drives it: a plan on stdin, folders of plans, global options after the
//! subcommand, `--quiet`, `--color` and the colour variables, completions and the man page.

use std::path::Path;

use crate::support::command::{Ferry, repository_root};

fn json_document(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|error| panic!("{error}: not JSON:\n{stdout}"))
}

fn codes(document: &serde_json::Value) -> Vec<String> {
    document["diagnostics"]
        .as_array()
        .expect("a diagnostics list")
        .iter()
        .map(|diagnostic| diagnostic["code"].as_str().unwrap().to_string())
        .collect()
}

fn demo_plan() -> Vec<u8> {
    std::fs::read(repository_root().join("plans/demo.yaml")).expect("read the demo plan")
}

#[test]
fn check_dash_reads_the_plan_from_stdin_and_names_it_stdin() {
    let clean = Ferry::new().args(["check", "-"]).stdin(demo_plan()).run();
    assert_eq!(clean.code, 0, "{}", clean.snapshot());
    assert!(
        clean.stdout.contains("ok: 1 plan checked"),
        "{}",
        clean.stdout
    );

    let invalid =
        std::fs::read(repository_root().join("plans/invalid/unknown-mount.yaml")).unwrap();
    let human = Ferry::new()
        .args(["check", "-"])
        .stdin(invalid.clone())
        .run();
    assert_eq!(human.code, 1, "{}", human.snapshot());
    assert!(human.stdout.contains("[<stdin>:"), "{}", human.stdout);
    let json = Ferry::new()
        .args(["check", "--format", "json", "-"])
        .stdin(invalid)
        .run();
    let document = json_document(&json.stdout);
    assert_eq!(codes(&document), ["unknown-mount"]);
    assert_eq!(document["diagnostics"][0]["file"], "<stdin>");
    // Nothing on stdin is an empty plan, not a hang or an ok.
    let empty = Ferry::new().args(["check", "-"]).stdin(Vec::new()).run();
    assert_eq!(empty.code, 1, "{}", empty.snapshot());
    assert!(empty.stdout.contains("empty-plan"), "{}", empty.stdout);
}

#[test]
fn a_folder_checks_every_plan_below_it_sorted() {
    let outcome = Ferry::new()
        .args(["check", "--format", "json", "plans/invalid"])
        .run_in(&repository_root());
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let document = json_document(&outcome.stdout);
    let found = codes(&document);
    let mut files: Vec<String> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| diagnostic["file"].as_str().unwrap().to_string())
        .collect();
    files.dedup();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "plans are checked in path order");
    for entry in std::fs::read_dir(repository_root().join("plans/invalid")).unwrap() {
        let path = entry.unwrap().path();
        let code = path.file_stem().unwrap().to_str().unwrap();
        assert!(found.iter().any(|found| found == code), "{code} not found");
    }
}

#[test]
fn folders_take_yaml_and_yml_skip_hidden_folders_and_refuse_empty_ones() {
    let ferry = Ferry::new()
        .file("plans/a.yaml", demo_plan())
        .file("plans/nested/b.yml", "version: 2\n")
        .file("plans/notes.txt", "not a plan")
        .file("plans/.git/c.yaml", "version: 3\n")
        .file("empty/readme.md", "no plan here");
    let outcome = ferry.run_with(&["check", "--format", "json", "plans"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let document = json_document(&outcome.stdout);
    // Only b.yml has problems: a.yaml is clean, c.yaml hidden, notes.txt not a plan.
    assert!(codes(&document).contains(&"unsupported-version".to_string()));
    for diagnostic in document["diagnostics"].as_array().unwrap() {
        assert_eq!(diagnostic["file"], "plans/nested/b.yml", "{diagnostic}");
    }

    let empty = ferry.run_with(&["check", "empty"]);
    assert_eq!(empty.code, 2, "{}", empty.snapshot());
    assert!(
        empty.stdout.contains("error[unreadable-plan]"),
        "{}",
        empty.stdout
    );
    assert!(!empty.stdout.contains("ok:"), "{}", empty.stdout);
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let ferry = Ferry::new();
    let state = ferry.directory().join("elsewhere.db");
    let state = state.to_str().unwrap();
    // A state made by a run of the demo is more than this needs: an import makes one.
    let export = r#"{"version": 1, "exported_at": "2025-03-01T00:00:00Z", "sources": [],
        "targets": [], "migrations": []}"#;
    let ferry = ferry.file("export.json", export);
    let imported = ferry.run_with(&["state", "import", "export.json", "--state", state]);
    assert_eq!(imported.code, 0, "{}", imported.snapshot());
    for arguments in [
        ["state", "list", "--state", state],
        ["state", "--state", state, "list"],
    ] {
        let outcome = ferry.run_with(&arguments);
        assert_eq!(outcome.code, 0, "{arguments:?}\n{}", outcome.snapshot());
        assert!(outcome.stdout.contains("Sources (0)"), "{}", outcome.stdout);
    }
    let plan = repository_root().join("plans/invalid/plaintext-password.yaml");
    let plan = plan.to_str().unwrap();
    for arguments in [["--quiet", "check", plan], ["check", plan, "--quiet"]] {
        let outcome = ferry.run_with(&arguments);
        assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
        assert_eq!(
            outcome.stdout, "",
            "{arguments:?}: a warning is not printed"
        );
    }
    for arguments in [
        ["--color", "always", "check", plan],
        ["check", "--color", "always", plan],
    ] {
        let outcome = ferry.run_with(&arguments);
        assert!(
            outcome.stdout.contains('\u{1b}'),
            "{arguments:?}: colour expected"
        );
    }
}

#[test]
fn quiet_prints_only_errors() {
    let plans = repository_root().join("plans");
    let quiet = |arguments: &[&Path]| {
        Ferry::new()
            .args(["check", "--quiet"])
            .args(arguments)
            .run()
    };
    let clean = quiet(&[&plans.join("demo.yaml")]);
    assert_eq!(
        (clean.code, clean.stdout.as_str()),
        (0, ""),
        "{}",
        clean.snapshot()
    );
    let mixed = quiet(&[
        &plans.join("invalid/unknown-mount.yaml"),
        &plans.join("invalid/plaintext-password.yaml"),
    ]);
    assert_eq!(mixed.code, 1, "{}", mixed.snapshot());
    assert!(
        mixed.stdout.contains("error[unknown-mount]"),
        "{}",
        mixed.stdout
    );
    for absent in ["warning", "error: 1 error", "ferry explain"] {
        assert!(
            !mixed.stdout.contains(absent),
            "{absent}:\n{}",
            mixed.stdout
        );
    }
    // Under --deny-warnings a warning is an error, and is printed.
    let denied = Ferry::new()
        .args(["check", "--quiet", "--deny-warnings"])
        .arg(plans.join("invalid/plaintext-password.yaml"))
        .run();
    assert_eq!(denied.code, 1);
    assert!(
        denied.stdout.contains("error[plaintext-password]"),
        "{}",
        denied.stdout
    );
    // Documents print whole.
    let json = Ferry::new()
        .args(["check", "--quiet", "--format", "json"])
        .arg(plans.join("demo.yaml"))
        .run();
    assert_eq!(json_document(&json.stdout)["version"], 1);
}

#[test]
fn colour_follows_the_flag_then_force_then_no_color() {
    let plan = repository_root().join("plans/invalid/unknown-mount.yaml");
    let check = |ferry: Ferry| ferry.arg("check").arg(&plan).run().stdout;
    let coloured = |text: &str| text.contains("\u{1b}[");
    // The builder pipes stdout and sets NO_COLOR=1.
    assert!(!coloured(&check(Ferry::new())));
    assert!(coloured(&check(Ferry::new().args(["--color", "always"]))));
    assert!(!coloured(&check(Ferry::new().env_remove("NO_COLOR"))));
    assert!(coloured(&check(Ferry::new().env("FORCE_COLOR", "1"))));
    assert!(coloured(&check(Ferry::new().env("CLICOLOR_FORCE", "1"))));
    assert!(!coloured(&check(Ferry::new().env("FORCE_COLOR", "0"))));
    assert!(!coloured(&check(
        Ferry::new()
            .env("FORCE_COLOR", "1")
            .args(["--color", "never"])
    )));
}

#[test]
fn completions_for_every_shell_and_the_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let outcome = Ferry::new().args(["completions", shell]).run();
        assert_eq!(outcome.code, 0, "{shell}: {}", outcome.snapshot());
        assert!(
            outcome.stdout.contains("check"),
            "{shell}: {}",
            outcome.stdout
        );
        if shell == "bash" {
            let folder = tempfile::tempdir().unwrap();
            let script = folder.path().join("ferry.bash");
            std::fs::write(&script, &outcome.stdout).unwrap();
            let syntax = std::process::Command::new("bash")
                .arg("-n")
                .arg(&script)
                .output()
                .expect("run bash -n");
            assert!(
                syntax.status.success(),
                "{}",
                String::from_utf8_lossy(&syntax.stderr)
            );
        }
    }
    let man = Ferry::new().arg("man").run();
    assert_eq!(man.code, 0, "{}", man.snapshot());
    assert!(
        man.stdout
            .lines()
            .any(|line| line.starts_with(".TH ferry 1")),
        "{}",
        man.stdout
    );
    for subcommand in [
        "check",
        "explain",
        "schema",
        "run",
        "plan",
        "report",
        "state",
        "completions",
        "man",
    ] {
        assert!(
            man.stdout.contains(&format!("ferry\\-{subcommand}")),
            "{subcommand} missing from the man page:\n{}",
            man.stdout
        );
    }
}

#[test]
fn a_quiet_run_prints_its_report_and_no_progress_or_notes() {
    let ferry = crate::run::demo();
    let run = ferry.run_with(&["run", "plans/demo.yaml", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_eq!(run.stderr, "", "no progress, no start or done lines");
    assert!(run.stdout.contains("web-01"), "the report: {}", run.stdout);
    let exported = ferry.run_with(&["state", "export", "--output", "export.json", "-q"]);
    assert_eq!(exported.code, 0, "{}", exported.snapshot());
    assert_eq!(exported.stderr, "", "no confirmation line");
    let loud = ferry.run_with(&["state", "export", "--output", "export.json"]);
    assert!(
        loud.stderr.contains("Exported the state"),
        "{}",
        loud.stderr
    );
}
