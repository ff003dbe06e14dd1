//! Informal benchmark: `SftpTree` against OpenSSH's `sftp` and `rclone` for one big file over
//! loopback, downloads and uploads, best of a few interleaved runs.
//!
//! ```text
//! scripts/test-servers.sh start && eval "$(scripts/test-servers.sh env)"
//! cargo run --release --example sftp_throughput -- [MiB] [runs]     # defaults: 256 MiB, 3 runs
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ferry::exec::transport::sftp::SftpTree;
use ferry::exec::transport::{FileTree, RelativePath};
use ferry::plan::valid::SftpSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn variable(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set; run `eval \"$(scripts/test-servers.sh env)\"` first")
    })
}

struct Setup {
    host: String,
    port: String,
    user: String,
    key: String,
    known_hosts: String,
    /// A local folder the SFTP user owns, served by the sshd under the same path.
    data: PathBuf,
}

fn run(command: &mut Command) -> Duration {
    let started = Instant::now();
    let status = command
        .stdout(std::process::Stdio::null())
        .status()
        .expect("start the command");
    assert!(status.success(), "{command:?} failed");
    started.elapsed()
}

fn openssh_sftp(setup: &Setup, batch: &str) -> Duration {
    let batch_file = setup.data.join("bench-batch");
    std::fs::write(&batch_file, batch).expect("write the batch file");
    run(Command::new("sftp")
        .args(["-q", "-i", &setup.key, "-P", &setup.port])
        .args(["-o", &format!("UserKnownHostsFile={}", setup.known_hosts)])
        .arg("-b")
        .arg(&batch_file)
        .arg(format!("{}@{}", setup.user, setup.host)))
}

fn rclone(setup: &Setup, from: &str, to: &str) -> Duration {
    run(Command::new("rclone")
        .args(["copyto", from, to, "--sftp-disable-hashcheck"])
        .env("RCLONE_CONFIG", "/dev/null")
        .env("RCLONE_CONFIG_BENCH_TYPE", "sftp")
        .env("RCLONE_CONFIG_BENCH_HOST", &setup.host)
        .env("RCLONE_CONFIG_BENCH_PORT", &setup.port)
        .env("RCLONE_CONFIG_BENCH_USER", &setup.user)
        .env("RCLONE_CONFIG_BENCH_KEY_FILE", &setup.key)
        .env("RCLONE_CONFIG_BENCH_KNOWN_HOSTS_FILE", &setup.known_hosts))
}

async fn ferry_download(tree: &SftpTree, remote: &str, local: &Path) -> Duration {
    let started = Instant::now();
    let mut reader = tree
        .open_read(&RelativePath::new(remote).unwrap(), 0)
        .await
        .unwrap();
    let mut file = tokio::fs::File::create(local).await.unwrap();
    let mut buffer = vec![0_u8; 4 << 20];
    loop {
        let count = reader.read(&mut buffer).await.unwrap();
        if count == 0 {
            break;
        }
        file.write_all(&buffer[..count]).await.unwrap();
    }
    file.shutdown().await.unwrap();
    started.elapsed()
}

async fn ferry_upload(tree: &SftpTree, local: &Path, remote: &str) -> Duration {
    let started = Instant::now();
    let mut writer = tree
        .open_write(&RelativePath::new(remote).unwrap(), 0)
        .await
        .unwrap();
    let mut file = tokio::fs::File::open(local).await.unwrap();
    let mut buffer = vec![0_u8; 4 << 20];
    loop {
        let count = file.read(&mut buffer).await.unwrap();
        if count == 0 {
            break;
        }
        writer.write_all(&buffer[..count]).await.unwrap();
    }
    writer.shutdown().await.unwrap();
    started.elapsed()
}

fn rate(bytes: u64, time: Duration) -> String {
    format!(
        "{:6.2} s {:6.0} MB/s",
        time.as_secs_f64(),
        bytes as f64 / time.as_secs_f64() / 1e6
    )
}

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let mebibytes: u64 = arguments
        .get(1)
        .and_then(|text| text.parse().ok())
        .unwrap_or(256);
    let runs: usize = arguments
        .get(2)
        .and_then(|text| text.parse().ok())
        .unwrap_or(3);
    let setup = Setup {
        host: variable("FERRY_TEST_SFTP_HOST_A"),
        port: variable("FERRY_TEST_SFTP_PORT_A"),
        user: variable("FERRY_TEST_SFTP_USER"),
        key: variable("FERRY_TEST_SFTP_KEY"),
        known_hosts: variable("FERRY_TEST_SFTP_KNOWN_HOSTS"),
        data: variable("FERRY_TEST_SFTP_DATA").into(),
    };
    let bytes = mebibytes << 20;
    let scratch = tempfile::tempdir().unwrap();
    let source = setup.data.join("bench-source.bin");
    {
        // Incompressible content, written as the SFTP user's file.
        let mut file = std::fs::File::create(&source).unwrap();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut block = vec![0_u8; 1 << 20];
        for _ in 0..mebibytes {
            for chunk in block.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes());
            }
            file.write_all(&block).unwrap();
        }
    }
    let local = scratch.path().join("local.bin");
    std::fs::copy(&source, &local).unwrap();
    let owner = std::fs::metadata(&setup.data).unwrap();
    use std::os::unix::fs::MetadataExt;
    std::os::unix::fs::chown(&source, Some(owner.uid()), Some(owner.gid())).unwrap();

    let settings = SftpSettings {
        port: setup.port.parse().unwrap(),
        root: Some(setup.data.display().to_string()),
        key: Some(setup.key.clone().into()),
        host_key: None,
        known_hosts: Some(setup.known_hosts.clone().into()),
        accept_new_host_key: false,
    };
    let tree = SftpTree::connect(
        &settings,
        setup.host.parse().unwrap(),
        &setup.user,
        None,
        "bench",
    )
    .await
    .unwrap();

    let remote_source = source.display().to_string();
    let remote_upload = setup.data.join("bench-upload.bin").display().to_string();
    let download = scratch.path().join("download.bin");
    let mut best = [Duration::MAX; 6];
    for _ in 0..runs {
        let times = [
            ferry_download(&tree, "bench-source.bin", &download).await,
            openssh_sftp(
                &setup,
                &format!("get {remote_source} {}\n", download.display()),
            ),
            rclone(
                &setup,
                &format!("bench:{remote_source}"),
                &download.display().to_string(),
            ),
            ferry_upload(&tree, &local, "bench-upload.bin").await,
            openssh_sftp(
                &setup,
                &format!("put {} {remote_upload}\n", local.display()),
            ),
            rclone(
                &setup,
                &local.display().to_string(),
                &format!("bench:{remote_upload}"),
            ),
        ];
        for (best, time) in best.iter_mut().zip(times) {
            *best = (*best).min(time);
        }
    }
    let labels = [
        "download ferry  ",
        "download sftp   ",
        "download rclone ",
        "upload   ferry  ",
        "upload   sftp   ",
        "upload   rclone ",
    ];
    println!("{mebibytes} MiB over loopback, best of {runs}:");
    for (label, time) in labels.iter().zip(best) {
        println!("  {label} {}", rate(bytes, time));
    }
    for name in ["bench-source.bin", "bench-upload.bin", "bench-batch"] {
        let _ = std::fs::remove_file(setup.data.join(name));
    }
}
