//! `ferry run` uploading many large files to every object store at once stays under the memory
//! bound the cloud-targets issue sets (peak RSS under 150 MiB): every part being filled or sent
//! draws from one process-wide budget, however many files and parts are in flight.
//! Skipped (with a line) when the servers are not running, unless `FERRY_REQUIRE_SERVERS=1`.

use std::time::Duration;

use ferry::exec::transport::object_store::PART_SIZE;

use super::object_store::{KEY_VARIABLE, Store, clear, prefix, stores};
use crate::support::command::Ferry;

/// The bound from the issue.
const PEAK_RSS_LIMIT: u64 = 150 << 20;
/// Eight files of several parts each, uploaded by eight transfers at once: without a shared
/// budget (four parts in flight per file) this alone held over 200 MiB of buffers.
const FILES: usize = 8;
/// Above 32 MiB, so the read-back verifies each file in ranges (`copy::range_hash`).
const FILE_SIZE: usize = 7 * PART_SIZE + 12_345;

fn plan(store: &Store, prefix: &str) -> String {
    format!(
        "version: 1
sources:
  disks:
    ip: 192.0.2.81
    credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET_SOURCE_PASSWORD }} }}
    mountpoints: [{{ name: /, size: 1 GiB }}]
    connection: {{ local: {{ path: ./source }} }}
targets:
  staged:
    cloud: {cloud}
    credentials: {{ username: {username}, password: {{ env: {KEY_VARIABLE} }}, domain: us-east-1 }}
    vm:
      ip: 198.51.100.81
      credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET_VM_PASSWORD }} }}
      connection: {connection}
migrations:
  - {{ name: disks, source: disks, target: staged, mounts: [/] }}
",
        cloud = store.cloud,
        username = store.username,
        connection = (store.connection)(prefix),
    )
}

/// The peak resident set (`VmHWM`) of a running process, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

#[tokio::test(flavor = "multi_thread")]
async fn uploading_many_large_files_stays_under_the_memory_bound() {
    let Some(stores) = stores("uploading_many_large_files_stays_under_the_memory_bound") else {
        return;
    };
    // The source and the plans live in one folder; each store's run gets its own working folder.
    let data = tempfile::tempdir().expect("a temporary folder");
    let source = data.path().join("source/disks");
    std::fs::create_dir_all(&source).expect("source folder");
    let mut bytes = vec![0u8; FILE_SIZE];
    for index in 0..FILES {
        blake3::Hasher::new()
            .update(&index.to_le_bytes())
            .finalize_xof()
            .fill(&mut bytes);
        std::fs::write(source.join(format!("disk-{index}.vhd")), &bytes).expect("write a disk");
    }
    for store in &stores {
        let prefix = prefix(store, "memory");
        let plan_path = data.path().join(format!("{}.yaml", store.name));
        std::fs::write(&plan_path, plan(store, &prefix)).expect("plan");
        let tree = (store.open)(&prefix);
        clear(&tree).await;

        let ferry = Ferry::new().env(KEY_VARIABLE, &store.secret);
        let mut child = ferry.spawn(&["run", plan_path.to_str().expect("a UTF-8 path")]);
        let mut peak = 0;
        while child.try_wait().expect("poll ferry").is_none() {
            peak = peak.max(peak_rss(child.id()).unwrap_or(0));
            std::thread::sleep(Duration::from_millis(20));
        }
        let outcome = ferry.wait(child);
        assert_eq!(outcome.code, 0, "{}: {}", store.name, outcome.snapshot());
        println!("{}: peak RSS {} MiB", store.name, peak >> 20);
        assert!(
            peak > 0 && peak < PEAK_RSS_LIMIT,
            "{}: peak RSS {} MiB uploading {FILES} files of {} MiB",
            store.name,
            peak >> 20,
            FILE_SIZE >> 20
        );
        clear(&tree).await;
    }
}
