//! `kill -9` in the middle of a run, against an SFTP target and every object store: the re-run
//! (without a bandwidth limit) exits 0, the target read back through its server is byte-identical
//! to the selected mount, the migration is `success` with nothing left `running`, and (on moto,
//! which lists them) no unfinished multipart upload is left behind.
//! Skipped (with a line) when the servers are not running, unless `FERRY_REQUIRE_SERVERS=1`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::object_store::{KEY_VARIABLE, Store, clear, files_and_links, prefix, staged, stores};
use ferry::exec::transport::{FileTree, RelativePath};

use super::sftp::{scratch, sftp_connection, to_seconds};
use super::{entries, migration_state, write_random};
use crate::support::command::{Ferry, Outcome, signal};
use crate::support::servers;

const MIB: usize = 1024 * 1024;

/// How long a killed run may take to show progress before the test gives up.
const PROGRESS_DEADLINE: Duration = Duration::from_secs(60);

/// The killed run's bandwidth limit. The source holds 24 MiB and more, so at this rate the copy
/// cannot end in less than 23 s on any machine, while each test kills it as soon as the first
/// bytes arrive: the kill always lands mid-copy, however fast the machine and the server.
const KILLED_RUN_LIMIT: &str = "1MiB";

/// A small file that reaches the target first: the earliest sign of progress.
const FIRST: &str = "0-first.bin";

/// The source: a small file, a 12 MiB file early in the listing, six files of 2 MiB, and a
/// nested mount (`/scratch`) that is not migrated. Pseudo-random, so nothing compresses.
fn fill(root: &Path) {
    std::fs::create_dir_all(root.join("small")).expect("create the source");
    std::fs::create_dir_all(root.join("scratch")).expect("create the nested mount");
    write_random(&root.join(FIRST), 64 * 1024, 2);
    write_random(&root.join("a-big.bin"), 12 * MIB, 1);
    for index in 0..6 {
        write_random(
            &root.join(format!("small/{index:02}.bin")),
            2 * MIB,
            100 + index as u64,
        );
    }
    write_random(&root.join("scratch/never.bin"), 64 * 1024, 7);
}

/// A local source (`./source`) to a target with this cloud, credentials and connection.
fn plan(
    cloud: &str,
    username: &str,
    password_variable: &str,
    vm_ip: &str,
    connection: &str,
) -> String {
    format!(
        "version: 1
sources:
  app:
    ip: 192.0.2.90
    credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET_SOURCE_PASSWORD }} }}
    mountpoints: [{{ name: /, size: 1 GiB }}, {{ name: /scratch, size: 1 GiB }}]
    connection: {{ local: {{ path: ./source }} }}
targets:
  vm:
    cloud: {cloud}
    credentials: {{ username: {username}, password: {{ env: {password_variable} }}, domain: us-east-1 }}
    vm:
      ip: {vm_ip}
      credentials: {{ username: ferry-test, password: {{ env: FERRY_TEST_UNSET_VM_PASSWORD }} }}
      connection: {connection}
migrations:
  - {{ name: app, source: app, target: vm, mounts: [/] }}
"
    )
}

/// Starts a throttled run, waits until `progressed` says data has arrived, kills it with SIGKILL
/// and checks it died by the signal (not by finishing first).
fn kill_mid_run(ferry: &Ferry, label: &str, mut progressed: impl FnMut() -> bool) {
    let mut child = ferry.spawn(&["run", "plan.yaml", "--bwlimit", KILLED_RUN_LIMIT]);
    let deadline = Instant::now() + PROGRESS_DEADLINE;
    while !progressed() {
        if let Some(status) = child.try_wait().expect("poll ferry") {
            let outcome = ferry.wait(child);
            panic!(
                "{label}: ferry ended ({status}) before any progress was seen: {}",
                outcome.snapshot()
            );
        }
        assert!(Instant::now() < deadline, "{label}: no progress seen");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, libc::SIGKILL);
    let killed = ferry.wait(child);
    assert_eq!(
        killed.code,
        -1,
        "{label}: killed by a signal: {}",
        killed.snapshot()
    );
}

/// Re-runs without a limit and checks the run and the state: exit 0, the earlier run recovered,
/// the migration `success`, nothing `running`.
fn rerun_succeeds(ferry: &Ferry, label: &str) -> Outcome {
    let rerun = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(rerun.code, 0, "{label}: {}", rerun.snapshot());
    assert!(
        rerun
            .stderr
            .contains("migration app: an earlier run stopped while it was running"),
        "{label}: the killed run is recovered: {}",
        rerun.stderr
    );
    assert_eq!(
        migration_state(ferry, "app"),
        ("success".to_string(), None),
        "{label}"
    );
    let listed = ferry.run_with(&["state", "list"]);
    assert_eq!(listed.code, 0, "{label}: {}", listed.snapshot());
    assert!(
        listed.stdout.contains("success"),
        "{label}: {}",
        listed.stdout
    );
    assert!(
        !listed.stdout.contains("running"),
        "{label}: {}",
        listed.stdout
    );
    rerun
}

/// Bytes in regular files below `root` (partial copies included).
fn bytes_below(root: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let Ok(children) = std::fs::read_dir(&directory) else {
            continue;
        };
        for child in children.flatten() {
            match child.metadata() {
                Ok(metadata) if metadata.is_dir() => pending.push(child.path()),
                Ok(metadata) if metadata.is_file() => total += metadata.len(),
                _ => {}
            }
        }
    }
    total
}

#[test]
fn kill_9_mid_run_to_an_sftp_target_then_a_rerun_ends_byte_identical() {
    let Some(servers) =
        servers::sftp("kill_9_mid_run_to_an_sftp_target_then_a_rerun_ends_byte_identical")
    else {
        return;
    };
    let target = scratch(&servers, "killed");
    let connection = sftp_connection(&servers, servers.b.port, &target, true);
    let ferry = Ferry::new().file(
        "plan.yaml",
        plan(
            "vsphere",
            "admin",
            "FERRY_TEST_UNSET_CLOUD",
            &servers.b.host.to_string(),
            &connection,
        ),
    );
    let source = ferry.directory().join("source");
    fill(&source);

    // The files land in the servers' data folder: watch them grow there.
    kill_mid_run(&ferry, "sftp", || bytes_below(&target) >= 256 * 1024);
    assert!(
        bytes_below(&target) < 24 * MIB as u64,
        "sftp: the kill came before the copy ended"
    );

    rerun_succeeds(&ferry, "sftp");
    let expected = to_seconds(entries(&source, &["scratch"]));
    assert!(expected.contains_key("a-big.bin") && expected.contains_key("small/05.bin"));
    assert!(!expected.contains_key("scratch/never.bin"));
    assert_eq!(to_seconds(entries(&target, &[])), expected);
    std::fs::remove_dir_all(&target).expect("clean up");
}

/// Kills a run to one store mid-copy and checks the re-run.
async fn kill_and_rerun_to_a_store(store: &Store) {
    let prefix = prefix(store, "killed");
    let connection = (store.connection)(&prefix);
    let ferry = Ferry::new()
        .file(
            "plan.yaml",
            plan(
                store.cloud,
                &store.username,
                KEY_VARIABLE,
                "198.51.100.90",
                &connection,
            ),
        )
        .env(KEY_VARIABLE, &store.secret);
    let source = ferry.directory().join("source");
    fill(&source);
    let tree = (store.open)(&prefix);
    clear(&tree).await;
    let lists_uploads = store.name == "moto";
    if lists_uploads {
        assert_eq!(
            tree.incomplete_uploads().await.expect("list uploads"),
            Vec::<String>::new(),
            "moto: an earlier test left an upload under this prefix"
        );
    }

    let runtime = tokio::runtime::Handle::current();
    let watched = (store.open)(&prefix);
    kill_mid_run(&ferry, store.name, || {
        tokio::task::block_in_place(|| {
            runtime.block_on(async {
                if lists_uploads {
                    // Mid-way through the big file's multipart upload.
                    watched
                        .incomplete_uploads()
                        .await
                        .is_ok_and(|uploads| !uploads.is_empty())
                } else {
                    // Objects appear whole: the first small one is staged, the rest under way.
                    let first = RelativePath::new(FIRST).expect("a valid path");
                    watched
                        .metadata(&first)
                        .await
                        .is_ok_and(|found| found.is_some())
                }
            })
        })
    });
    if lists_uploads {
        assert!(
            !tree
                .incomplete_uploads()
                .await
                .expect("list uploads")
                .is_empty(),
            "moto: the killed run left its upload unfinished"
        );
    }
    assert!(
        !staged(&tree).await.contains_key("a-big.bin"),
        "{}: the kill came before the big file was staged",
        store.name
    );

    rerun_succeeds(&ferry, store.name);
    let expected = files_and_links(entries(&source, &["scratch"]));
    assert!(expected.contains_key("a-big.bin") && !expected.contains_key("scratch/never.bin"));
    assert_eq!(staged(&tree).await, expected, "{}", store.name);
    if lists_uploads {
        assert_eq!(
            tree.incomplete_uploads().await.expect("list uploads"),
            Vec::<String>::new(),
            "moto: no unfinished upload remains after the re-run"
        );
    }
    clear(&tree).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_run_to_every_object_store_then_a_rerun_ends_byte_identical() {
    let Some(stores) =
        stores("kill_9_mid_run_to_every_object_store_then_a_rerun_ends_byte_identical")
    else {
        return;
    };
    for store in &stores {
        kill_and_rerun_to_a_store(store).await;
    }
}
