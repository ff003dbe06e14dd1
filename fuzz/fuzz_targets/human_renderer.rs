//! Fuzzes the checker and the human renderer together: any bytes (libFuzzer's mutations of the
//! seed plans) are checked with `load` and rendered as `ferry check` shows them, with and without
//! colour. Nothing may panic (miette included), and no terminal control from the input may reach
//! the output raw.
//!
//! Run from the repository root, seeded with the bundled plans (libFuzzer mutates the YAML it
//! is given, and writes what it finds into the corpus folder, not into `plans/`):
//! `mkdir -p fuzz/corpus/human_renderer && cp plans/*.yaml plans/invalid/*.yaml fuzz/corpus/human_renderer/`
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run human_renderer -- -max_total_time=60`

#![no_main]

use std::path::Path;

use ferry::cli::CheckFormat;
use ferry::plan::load::check_bytes;
use ferry::plan::yaml::Limits;
use ferry::report::diagnostics::render;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_nodes: 200_000,
    };
    let checked = check_bytes(
        "plan.yaml",
        Path::new("plan.yaml"),
        bytes,
        Path::new("."),
        &limits,
    );
    let files = [checked.report];
    for (deny_warnings, color) in [(false, false), (true, true)] {
        let human = render(&files, CheckFormat::Human, deny_warnings, color);
        for raw in ['\u{7}', '\u{202e}', '\u{9b}', '\0'] {
            assert!(!human.contains(raw), "raw {raw:?} in the human format");
        }
        if !color {
            assert!(!human.contains('\u{1b}'), "raw escape in the plain human format");
        }
    }
});
