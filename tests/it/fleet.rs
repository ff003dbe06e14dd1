//! Fleets: several `ferry run` processes on one plan and one state (PostgreSQL, and the SQLite
//! file on one host) share the migrations; `kill -9` of a random runner, again and again, only
//! moves its migrations to another one. Every test ends with every migration `success`, every
//! target byte-identical to its source, and a claims history in which no two claims on one
//! migration overlap in time.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::run::{entries, write_random};
use crate::support::command::{Ferry, signal};
use crate::support::servers::postgres_database;

/// The lease the runners use here (the hidden test knob): takeovers are quick.
const LEASE_SECONDS: &str = "3";
/// A hang guard only: the tests take seconds.
const HANG_GUARD: Duration = Duration::from_secs(240);

/// A plan of `count` migrations `m00`, `m01`… from `source/mNN` to `out/mNN`, each with four
/// pseudo-random files of 96 KiB.
fn fleet_plan(count: usize) -> Ferry {
    fleet_plan_of(count, 96 * 1024)
}

/// [`fleet_plan`] with files of `size` bytes.
fn fleet_plan_of(count: usize, size: usize) -> Ferry {
    let mut plan = String::from("version: 1\nsources:\n");
    for index in 0..count {
        plan.push_str(&format!(
            "  s{index:02}:\n    ip: 192.0.2.{}\n    credentials: {{ username: root, password: {{ env: SOURCE_PASSWORD }} }}\n    mountpoints: [{{ name: /, size: 1 GiB }}]\n    connection: {{ local: {{ path: ./source/m{index:02} }} }}\n",
            index + 1
        ));
    }
    plan.push_str("targets:\n");
    for index in 0..count {
        plan.push_str(&format!(
            "  t{index:02}:\n    cloud: vsphere\n    credentials: {{ username: admin, password: {{ env: VSPHERE_PASSWORD }} }}\n    vm:\n      ip: 198.51.100.{}\n      credentials: {{ username: root, password: {{ env: VM_PASSWORD }} }}\n      connection: {{ local: {{ path: ./out/m{index:02} }} }}\n",
            index + 1
        ));
    }
    plan.push_str("migrations:\n");
    for index in 0..count {
        plan.push_str(&format!(
            "  - {{ name: m{index:02}, source: s{index:02}, target: t{index:02}, mounts: [/] }}\n"
        ));
    }
    let ferry = Ferry::new()
        .file("plan.yaml", plan)
        .env("FERRY_CLAIM_LEASE_SECONDS", LEASE_SECONDS);
    for index in 0..count {
        let source = ferry.directory().join(format!("source/m{index:02}"));
        std::fs::create_dir_all(&source).expect("create a source");
        for file in 0..4 {
            let seed = (index * 10 + file) as u64 + 1;
            write_random(&source.join(format!("f{file}.bin")), size, seed);
        }
    }
    ferry
}

/// A runner of the fleet: slowed by `--bwlimit` so that its copies are mid-flight for a while.
fn start_runner(ferry: &Ferry, state: &str) -> Child {
    ferry.spawn(&[
        "run",
        "plan.yaml",
        "--state",
        state,
        "--parallel",
        "2",
        "--bwlimit",
        "768KiB",
    ])
}

/// Waits for every runner to exit (the hang guard kills them all and fails); returns their
/// outcomes.
fn wait_all(
    ferry: &Ferry,
    mut runners: Vec<Child>,
    started: Instant,
) -> Vec<crate::support::command::Outcome> {
    while runners
        .iter_mut()
        .any(|child| child.try_wait().expect("poll a runner").is_none())
    {
        if started.elapsed() > HANG_GUARD {
            for child in &runners {
                let _ = signal_if_alive(child);
            }
            panic!("the fleet did not finish");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    runners.into_iter().map(|child| ferry.wait(child)).collect()
}

fn signal_if_alive(child: &Child) -> bool {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: sends SIGKILL to a child this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) == 0 }
}

/// Every target is byte-identical to its source.
fn assert_targets_identical(ferry: &Ferry, count: usize) {
    for index in 0..count {
        let name = format!("m{index:02}");
        let source = entries(&ferry.directory().join("source").join(&name), &[]);
        let target = entries(&ferry.directory().join("out").join(&name), &[]);
        assert_eq!(source, target, "{name}: the target differs from the source");
    }
}

/// One migration's claims as `state show --format json` prints them.
fn claims_of(ferry: &Ferry, state: &str, migration: &str) -> Vec<serde_json::Value> {
    let show = ferry.run_with(&[
        "state",
        "show",
        "migration",
        migration,
        "--state",
        state,
        "--format",
        "json",
    ]);
    assert_eq!(show.code, 0, "{}", show.snapshot());
    let json: serde_json::Value = serde_json::from_str(&show.stdout).expect("JSON");
    assert_eq!(json["state"], "success", "{migration}: {json}");
    json["claims"].as_array().expect("a claims array").clone()
}

/// Every migration succeeded, and no two claims on one migration overlap; returns how many
/// claims ended with their runner gone (`lost` or `interrupted`).
fn assert_history_without_overlap(ferry: &Ferry, state: &str, count: usize) -> usize {
    let mut ended_by_others = 0;
    for index in 0..count {
        let migration = format!("m{index:02}");
        let claims = claims_of(ferry, state, &migration);
        assert!(!claims.is_empty(), "{migration} was never claimed");
        let times = |claim: &serde_json::Value, key: &str| -> jiff::Timestamp {
            claim[key]
                .as_str()
                .unwrap_or_else(|| panic!("{migration}: a claim without {key}: {claim}"))
                .parse()
                .expect("an RFC 3339 time")
        };
        for pair in claims.windows(2) {
            assert!(
                times(&pair[0], "ended_at") <= times(&pair[1], "started_at"),
                "{migration}: two claims overlap: {} and {}",
                pair[0],
                pair[1]
            );
        }
        let last = claims.last().expect("a claim");
        assert_eq!(last["outcome"], "success", "{migration}: {last}");
        ended_by_others += claims
            .iter()
            .filter(|claim| claim["outcome"] == "lost" || claim["outcome"] == "interrupted")
            .count();
    }
    ended_by_others
}

/// Three runners started at once finish the plan together, each exiting 0.
fn three_runners(state: &str, count: usize) {
    let ferry = fleet_plan(count);
    let started = Instant::now();
    let runners = (0..3).map(|_| start_runner(&ferry, state)).collect();
    for outcome in wait_all(&ferry, runners, started) {
        assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    }
    assert_targets_identical(&ferry, count);
    assert_history_without_overlap(&ferry, state, count);
}

#[test]
fn three_runners_on_postgres_share_a_plan_of_thirty_migrations() {
    let Some(url) = postgres_database("fleet_three") else {
        return;
    };
    three_runners(&url, 30);
}

#[test]
fn three_runners_on_one_sqlite_file_share_a_plan() {
    let directory = tempfile::tempdir().expect("a folder for the state");
    let state = directory.path().join("state.db");
    three_runners(&state.display().to_string(), 8);
}

/// Runs `query` on the test database: its rows, or `None` before the runners made the schema.
fn query(url: &str, query: &str) -> Option<Vec<tokio_postgres::Row>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("the test database");
        tokio::spawn(connection);
        client.query(query, &[]).await.ok()
    })
}

/// The process ids of the runners that hold a live claim now.
fn holders(url: &str) -> Vec<u32> {
    query(url, "SELECT pid FROM claims WHERE ended_at IS NULL")
        .unwrap_or_default()
        .iter()
        .map(|row| u32::try_from(row.get::<_, i32>(0)).expect("a pid"))
        .collect()
}

/// How many migrations have succeeded.
fn successes(url: &str) -> i64 {
    query(
        url,
        "SELECT count(*) FROM migrations WHERE state = 'success'",
    )
    .map_or(0, |rows| rows[0].get(0))
}

#[test]
fn a_runner_whose_claim_is_ended_by_another_stops_copying_and_records_nothing_over_it() {
    let Some(url) = postgres_database("fleet_claim_lost") else {
        return;
    };
    let ferry = fleet_plan_of(1, 256 * 1024);
    let started = Instant::now();
    let runner = ferry.spawn(&["run", "plan.yaml", "--state", &url, "--bwlimit", "128KiB"]);
    // Mid-copy (a few seconds of throttled data), the claim is ended as a takeover ends it.
    while holders(&url).is_empty() {
        assert!(
            started.elapsed() < HANG_GUARD,
            "the runner never claimed m00"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    query(
        &url,
        "UPDATE claims SET ended_at = now(), outcome = 'lost' WHERE ended_at IS NULL",
    )
    .expect("end the claim");
    let outcome = wait_all(&ferry, vec![runner], started).remove(0);
    // It stopped, then (nobody else holding it) claimed it again and resumed to the end.
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    assert!(
        outcome
            .stderr
            .contains("migration m00: stopped copying: another runner holds it now"),
        "{}",
        outcome.snapshot()
    );
    assert!(
        !outcome.stderr.contains("interrupted"),
        "nothing recorded over the claim: {}",
        outcome.snapshot()
    );
    assert_targets_identical(&ferry, 1);
    let claims = claims_of(&ferry, &url, "m00");
    let outcomes: Vec<&str> = claims
        .iter()
        .map(|claim| claim["outcome"].as_str().expect("ended"))
        .collect();
    assert_eq!(outcomes, ["lost", "success"], "{claims:?}");
}

#[test]
fn kill_9_of_a_random_runner_again_and_again_moves_its_migrations_to_the_others() {
    let Some(url) = postgres_database("fleet_kill") else {
        return;
    };
    const COUNT: usize = 30;
    const KILLS: usize = 4;
    let ferry = fleet_plan(COUNT);
    let started = Instant::now();
    let mut runners: Vec<Child> = (0..3).map(|_| start_runner(&ferry, &url)).collect();
    let mut seed = u64::from(std::process::id());
    let mut kills = 0;
    while kills < KILLS {
        assert!(started.elapsed() < HANG_GUARD, "the fleet made no progress");
        // Only a runner that holds a claim, mid-copy (the copies are throttled), is killed.
        let live = holders(&url);
        let candidates: Vec<usize> = (0..runners.len())
            .filter(|index| live.contains(&runners[*index].id()))
            .collect();
        if candidates.is_empty() {
            if successes(&url) == COUNT as i64 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let victim = candidates[(seed >> 33) as usize % candidates.len()];
        let done_before = successes(&url);
        let mut killed = runners.swap_remove(victim);
        signal(&killed, libc::SIGKILL);
        // Reaped at once: a zombie's pid still exists, which would hold the claim alive.
        let _ = killed.wait();
        kills += 1;
        runners.push(start_runner(&ferry, &url));
        // The fleet goes on before the next kill.
        while successes(&url) == done_before && started.elapsed() < HANG_GUARD {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(kills >= 2, "the plan ended before runners could be killed");
    for outcome in wait_all(&ferry, runners, started) {
        assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    }
    assert_targets_identical(&ferry, COUNT);
    let taken_over = assert_history_without_overlap(&ferry, &url, COUNT);
    assert!(
        taken_over >= kills,
        "each killed runner's claims were taken over: {taken_over} for {kills} kills"
    );
}

#[test]
fn while_a_runner_holds_a_migration_plan_report_and_state_show_name_it() {
    let ferry = fleet_plan_of(1, 256 * 1024);
    let started = Instant::now();
    let runner = ferry.spawn(&["run", "plan.yaml", "--bwlimit", "128KiB"]);
    let holder = loop {
        assert!(
            started.elapsed() < HANG_GUARD,
            "the runner never claimed m00"
        );
        let show = ferry.run_with(&["state", "show", "migration", "m00", "--format", "json"]);
        let json: Option<serde_json::Value> = serde_json::from_str(&show.stdout).ok();
        if let Some(runner) = json
            .as_ref()
            .and_then(|json| json["holder"]["runner"].as_str())
        {
            break runner.to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        holder.ends_with(&format!(":{}", runner.id())),
        "the holder names the runner's process: {holder}"
    );
    let plan = ferry.run_with(&["plan", "plan.yaml"]);
    assert!(
        plan.stdout.contains(&format!("held by {holder}")),
        "{}",
        plan.snapshot()
    );
    let report = ferry.run_with(&["report"]);
    assert!(
        report
            .stdout
            .contains(&format!("\nRunners:\n  m00: held by {holder}\n")),
        "{}",
        report.snapshot()
    );
    let show = ferry.run_with(&["state", "show", "migration", "m00"]);
    assert!(show.stdout.contains("claims (1):"), "{}", show.snapshot());
    assert!(show.stdout.contains("held"), "{}", show.snapshot());
    signal(&runner, libc::SIGINT);
    assert_eq!(ferry.wait(runner).code, 130);
}
