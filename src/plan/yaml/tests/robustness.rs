//! Mutation-based robustness (no panic, bounded time, sane spans) and a performance check.

use super::{parse_default, sample_plan};
use crate::plan::yaml::Value;

/// A small fixed-seed PRNG (xorshift64*), enough to vary inputs reproducibly.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

const INTERESTING: &[char] = &[
    ':', '-', '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '\'', '"', '#', '%', '@', '`', '?',
    '<', '\t', '\n', ' ', '~', '\\', 'æ', '\u{feff}', '\u{0}', '\u{85}', '\u{2028}', '𝄞',
];

fn mutate(base: &str, random: &mut Random) -> String {
    let lines: Vec<&str> = base.lines().collect();
    let boundaries: Vec<usize> = base.char_indices().map(|(index, _)| index).collect();
    let at = boundaries[random.below(boundaries.len())];
    match random.below(7) {
        0 => {
            // Replace one character.
            let replacement = INTERESTING[random.below(INTERESTING.len())];
            let next = base[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            format!("{}{replacement}{}", &base[..at], &base[next..])
        }
        1 => base[..at].to_owned(),
        2 => {
            let line = random.below(lines.len());
            let mut copy = lines.clone();
            copy.insert(line, lines[line]);
            copy.join("\n")
        }
        3 => {
            let mut copy = lines.clone();
            copy.remove(random.below(lines.len()));
            copy.join("\n")
        }
        4 => {
            let insert: String = (0..1 + random.below(4))
                .map(|_| INTERESTING[random.below(INTERESTING.len())])
                .collect();
            format!("{}{insert}{}", &base[..at], &base[at..])
        }
        5 => {
            // Shift one line's indentation.
            let line = random.below(lines.len());
            let mut copy: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            if random.below(2) == 0 {
                copy[line] = format!(" {}", copy[line]);
            } else {
                copy[line] = copy[line].trim_start().to_owned();
            }
            copy.join("\n")
        }
        _ => {
            // Splice a random range of the text somewhere else.
            let from = boundaries[random.below(boundaries.len())];
            let to = boundaries[random.below(boundaries.len())];
            let (from, to) = (from.min(to), from.max(to));
            format!("{}{}{}", &base[..at], &base[from..to], &base[at..])
        }
    }
}

const EXTRA: &str = "notes: |\n  multi\n  line æøå\nfolded: >-\n  one\n  two\nflow: {a: [1, 2, {b: c}], 'q': \"x\\ty\"}\nbase: &b {k: v}\nuse:\n  <<: *b\n  k2: !!str 5\n? complex\n: value\n";

#[test]
fn mutated_plans_never_panic_and_keep_spans_in_bounds() {
    let base = format!("{}{EXTRA}", sample_plan(3));
    let mut random = Random(0x5EED_F00D_CAFE_BEEF);
    let mut loaded = 0;
    for _ in 0..3000 {
        let mut text = mutate(&base, &mut random);
        if random.below(4) == 0 {
            text = mutate(&text, &mut random);
        }
        let parsed = parse_default(&text);
        for diagnostic in &parsed.diagnostics {
            for label in &diagnostic.labels {
                assert!(
                    label.span.start <= label.span.end
                        && text.is_char_boundary(label.span.start)
                        && text.is_char_boundary(label.span.end),
                    "bad label {label:?} for {text:?}"
                );
            }
        }
        if let Some(root) = parsed.root {
            loaded += 1;
            let _ = root.to_json();
            for pointer in [
                "",
                "/sources/web-00001/ip",
                "/migrations/0/mounts/9",
                "/use/k",
                "/x/y",
            ] {
                let located = root.locate(pointer);
                assert!(
                    text.get(located.value.clone()).is_some(),
                    "{located:?} in {text:?}"
                );
            }
        }
    }
    assert!(
        loaded > 100,
        "only {loaded} variants loaded; the mutations are too destructive"
    );
}

#[test]
fn large_plan_parses_with_exact_spans() {
    // 5.4 MB (10,000 sources with 40,000 mounts, 10,000 targets and migrations). How fast it
    // parses is measured in `bench/` (`check_stages`), not asserted here.
    let text = sample_plan(10_000);
    let parsed = parse_default(&text);
    let json = parsed.root.as_ref().expect("tree").to_json();
    assert!(parsed.diagnostics.is_empty());
    assert_eq!(
        json["sources"].as_object().map(|sources| sources.len()),
        Some(10_000)
    );
    assert_eq!(
        json["sources"]["web-09999"]["credentials"]["username"],
        "admin"
    );
    let root = parsed.root.expect("tree");
    assert!(matches!(
        root.find("/migrations/9999/mounts/2")
            .map(|l| &text[l.value]),
        Some("/data")
    ));
    assert!(matches!(root.value, Value::Mapping(_)));
}
