//! Times each stage of `ferry check` on one plan file against the bare YAML parse (saphyr's event
//! parser, consumed to the end): the baseline for the "check costs at most 3× the parse" goal.
//!
//! Usage: cargo run --release --example check_stages -- PLAN.yaml [ROUNDS]

use std::path::Path;
use std::time::{Duration, Instant};

use ferry::plan::yaml::{self, Limits};

// The same allocator as the `ferry` binary, so the stages cost what they cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best_of<T>(rounds: usize, mut work: impl FnMut() -> T) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(work());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn bare_parse(text: &str) -> usize {
    let mut events = 0;
    for event in saphyr_parser::Parser::new_from_str(text) {
        event.expect("the benchmark plan is valid YAML");
        events += 1;
    }
    events
}

#[allow(clippy::print_stdout)]
fn main() {
    let mut arguments = std::env::args().skip(1);
    let path = arguments
        .next()
        .expect("usage: check_stages PLAN.yaml [ROUNDS]");
    let rounds: usize = arguments
        .next()
        .map_or(5, |text| text.parse().expect("ROUNDS is a number"));
    let text = std::fs::read_to_string(&path).expect("read the plan");
    let limits = Limits::default();

    let bare = best_of(rounds, || bare_parse(&text));
    let tree = best_of(rounds, || yaml::parse(&text, &limits));
    let parsed = yaml::parse(&text, &limits)
        .root
        .expect("the benchmark plan parses");
    let json = best_of(rounds, || parsed.to_json());
    let value = parsed.to_json();
    let schema = best_of(rounds, || {
        ferry::plan::schema::schema_diagnostics(&value, &parsed)
    });
    let whole = best_of(rounds, || {
        let checked = ferry::plan::load::check_bytes(
            &path,
            Path::new(&path),
            text.as_bytes(),
            Path::new("."),
            &limits,
        );
        assert!(!checked.has_errors(), "the benchmark plan must be valid");
        checked
    });
    let milliseconds = |duration: Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "plan: {path} ({:.1} MB), best of {rounds}",
        text.len() as f64 / 1e6
    );
    println!(
        "bare YAML parse (saphyr events): {:8.1} ms",
        milliseconds(bare)
    );
    println!(
        "ferry YAML tree with spans:      {:8.1} ms",
        milliseconds(tree)
    );
    println!(
        "tree to JSON:                    {:8.1} ms",
        milliseconds(json)
    );
    println!(
        "schema validation:               {:8.1} ms",
        milliseconds(schema)
    );
    println!(
        "whole check (in process):        {:8.1} ms  = {:.2}x the bare parse",
        milliseconds(whole),
        whole.as_secs_f64() / bare.as_secs_f64()
    );
}
