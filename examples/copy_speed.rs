//! An informal speed and memory check of the copy engine, local directory to local directory.
//!
//! `cargo run --release --example copy_speed -- SCRATCH_DIR [mixed|large|small]`
//! - mixed: 2,000 files of 1–64 KiB and one 256 MiB file (compare with `cp -a`, printed at the end)
//! - large: 8 × 256 MiB files (peak memory must stay well under 100 MiB)
//! - small: 10,000 files of 1–8 KiB
//!
//! Prints the copy time, the no-op re-run time and the process's peak resident memory.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ferry::exec::copy::{CopyOptions, MountJob, ProgressSink, copy_migration};
use ferry::exec::memory_ledger::MemoryLedger;
use ferry::exec::transport::RelativePath;
use ferry::exec::transport::local::LocalTree;
use tokio_util::sync::CancellationToken;

const MIB: usize = 1024 * 1024;

fn write_pattern(path: &Path, length: usize, seed: u64) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(fs::File::create(path)?);
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut block = vec![0u8; MIB.min(length.max(1))];
    let mut left = length;
    while left > 0 {
        for byte in block.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
        let take = left.min(block.len());
        file.write_all(&block[..take])?;
        left -= take;
    }
    file.flush()
}

fn populate(source: &Path, mode: &str) -> std::io::Result<(usize, usize)> {
    let data = source.join("data");
    fs::create_dir_all(&data)?;
    let (mut files, mut bytes) = (0, 0);
    let mut add = |relative: String, length: usize, seed: u64| -> std::io::Result<()> {
        let path = data.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        write_pattern(&path, length, seed)?;
        files += 1;
        bytes += length;
        Ok(())
    };
    match mode {
        "large" => {
            for index in 0..8 {
                add(format!("disk-{index}.img"), 256 * MIB, index)?;
            }
        }
        "small" => {
            for index in 0..10_000u64 {
                add(
                    format!("d{}/f{index}", index % 100),
                    1024 + (index as usize * 37) % (7 * 1024),
                    index,
                )?;
            }
        }
        _ => {
            for index in 0..2_000u64 {
                add(
                    format!("d{}/f{index}", index % 50),
                    1024 + (index as usize * 331) % (63 * 1024),
                    index,
                )?;
            }
            add("big.img".to_string(), 256 * MIB, 99)?;
        }
    }
    Ok((files, bytes))
}

fn peak_resident_mib() -> String {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "VmHWM unknown".to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let scratch = arguments
        .next()
        .ok_or("usage: copy_speed SCRATCH_DIR [mixed|large|small]")?;
    let mode = arguments.next().unwrap_or_else(|| "mixed".to_string());
    let scratch = Path::new(&scratch);
    let (source, target) = (scratch.join("source"), scratch.join("target"));
    if !source.join("data").exists() {
        let (files, bytes) = populate(&source, &mode)?;
        println!("created {files} files, {} MiB", bytes / MIB);
    }
    let _ = fs::remove_dir_all(&target);
    fs::create_dir_all(&target)?;
    let root = RelativePath::new("data").ok_or("bad path")?;
    let jobs = [MountJob {
        label: "/data".to_string(),
        source_root: root.clone(),
        target_root: root,
        excluded: vec![],
    }];
    let ledger = MemoryLedger::new();
    let options = CopyOptions::default();
    for label in ["copy", "no-op re-run"] {
        let started = Instant::now();
        let outcome = copy_migration(
            "speed",
            Arc::new(LocalTree::open(&source)?),
            Arc::new(LocalTree::open(&target)?),
            &jobs,
            &ledger,
            &options,
            &ProgressSink::none(),
            &CancellationToken::new(),
        )
        .await?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{label}: {seconds:.2} s, {} files copied, {} unchanged, {:.0} MiB/s",
            outcome.files_copied(),
            outcome.files_unchanged(),
            outcome.bytes_transferred() as f64 / MIB as f64 / seconds
        );
    }
    println!("peak memory: {}", peak_resident_mib());
    println!(
        "compare: rm -rf {0}/cp && time cp -a {1}/data {0}/cp",
        scratch.display(),
        source.display()
    );
    Ok(())
}
