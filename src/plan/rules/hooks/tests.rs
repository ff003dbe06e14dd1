use serde_json::json;

use super::super::test_support::{sample_plan, with_code};
use super::*;

fn with_hooks(hooks: serde_json::Value) -> serde_json::Value {
    let mut plan = sample_plan();
    plan["migrations"][0]["hooks"] = hooks;
    plan
}

#[test]
fn timeouts_are_seconds_or_durations_up_to_a_day() {
    let read = |raw: RawTimeout| parse_timeout(&raw);
    assert_eq!(read(RawTimeout::Seconds(90)), Ok(Duration::from_secs(90)));
    assert_eq!(
        read(RawTimeout::Text(" 5m ".into())),
        Ok(Duration::from_secs(300))
    );
    assert_eq!(
        read(RawTimeout::Text("2h".into())),
        Ok(Duration::from_secs(7200))
    );
    assert_eq!(
        read(RawTimeout::Text("45".into())),
        Ok(Duration::from_secs(45))
    );
    for bad in [
        "0s",
        "25h",
        "5 minutes",
        "m",
        "-1m",
        "99999999999999999999h",
    ] {
        assert!(read(RawTimeout::Text(bad.into())).is_err(), "{bad}");
    }
    assert!(read(RawTimeout::Seconds(0)).is_err());
    assert!(read(RawTimeout::Seconds(-5)).is_err());
    assert!(read(RawTimeout::Seconds(86_401)).is_err());
}

#[test]
fn well_formed_hooks_have_no_problem() {
    let plan = with_hooks(json!({
        "before": ["systemctl stop app", ["/usr/bin/true"]],
        "after": [{"run": "curl -fsS https://example.test/health", "timeout": "2m"}],
        "on_failure": [{"run": ["sh", "-c", "echo $FERRY_ERROR"], "timeout": 30}],
        "env": {"VM_PASSWORD": {"env": "VM_PASSWORD"}}
    }));
    for code in [
        Code::EmptyHookCommand,
        Code::InvalidHookTimeout,
        Code::HookPlaintextSecret,
    ] {
        assert!(
            with_code(&plan, code).is_empty(),
            "{code}: {:?}",
            with_code(&plan, code)
        );
    }
}

#[test]
fn empty_commands_are_found_in_every_form() {
    let plan = with_hooks(json!({
        "before": ["  ", [], [""], {"run": ""}, {"run": []}]
    }));
    let places: Vec<String> = with_code(&plan, Code::EmptyHookCommand)
        .iter()
        .map(|found| found.places()[0].to_string())
        .collect();
    assert_eq!(
        places,
        [
            "value /migrations/0/hooks/before/0",
            "value /migrations/0/hooks/before/1",
            "value /migrations/0/hooks/before/2",
            "value /migrations/0/hooks/before/3/run",
            "value /migrations/0/hooks/before/4/run",
        ]
    );
}

#[test]
fn a_bad_timeout_is_found_on_a_wave_too() {
    let mut plan = sample_plan();
    plan["waves"] =
        json!([{"name": "pilot", "hooks": {"after": [{"run": "true", "timeout": "0s"}]}}]);
    for migration in plan["migrations"].as_array_mut().unwrap() {
        migration["wave"] = json!("pilot");
    }
    let found = with_code(&plan, Code::InvalidHookTimeout);
    assert_eq!(found[0].places(), ["value /waves/0/hooks/after/0/timeout"]);
    assert!(
        found[0].message.starts_with("wave `pilot`, `after` hook"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_password_in_a_command_line_is_warned_about() {
    let mut plan = with_hooks(json!({
        "before": [
            "mysql --password=hunter22 -e 'stop slave'",
            "mysql --password hunter22",
            ["net", "use", "PASSWORD:letmein"],
            "deploy --token $DEPLOY_TOKEN",
            "login --password=\"$VM_PASSWORD\"",
            "echo the-plan-password",
            "cd $(pwd)",
        ]
    }));
    plan["sources"]["web-01"]["credentials"]["password"] = json!("the-plan-password");
    let places: Vec<String> = with_code(&plan, Code::HookPlaintextSecret)
        .iter()
        .map(|found| found.places()[0].to_string())
        .collect();
    assert_eq!(
        places,
        [
            "value /migrations/0/hooks/before/0",
            "value /migrations/0/hooks/before/1",
            "value /migrations/0/hooks/before/2",
            "value /migrations/0/hooks/before/5",
        ]
    );
    assert_eq!(
        with_code(&plan, Code::HookPlaintextSecret)[0].severity,
        crate::plan::diagnostic::Severity::Warning
    );
}

#[test]
fn a_hook_command_reads_with_its_timeout() {
    let hook =
        read_hook(&serde_json::from_value(json!({"run": ["a", "b"], "timeout": "5m"})).unwrap())
            .unwrap();
    assert_eq!(
        hook.command,
        HookCommand::Argv(vec!["a".into(), "b".into()])
    );
    assert_eq!(hook.timeout, Duration::from_secs(300));
    let hook = read_hook(&serde_json::from_value(json!("true")).unwrap()).unwrap();
    assert_eq!(hook.timeout, DEFAULT_HOOK_TIMEOUT);
    assert!(read_hook(&serde_json::from_value(json!([])).unwrap()).is_none());
}
