//! Safety limits: size, depth, alias expansion; none of them may overflow the stack. (How fast
//! they refuse is measured in `bench/`, not asserted here.)

use super::{codes, on_small_stack, parse_default};
use crate::plan::yaml::{Limits, parse};

const BILLION_LAUGHS: &str =
    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
";

#[test]
fn alias_bomb_is_refused_with_its_alias_labelled() {
    let parsed = parse_default(BILLION_LAUGHS);
    assert_eq!(codes(&parsed), ["yaml-limit"]);
    assert!(parsed.root.is_none());
    let diagnostic = &parsed.diagnostics[0];
    assert_eq!(
        diagnostic.message,
        "alias expansion exceeds 2000000 nodes; is this an alias bomb?"
    );
    assert!(BILLION_LAUGHS[diagnostic.labels[0].span.clone()].starts_with('*'));
}

#[test]
fn alias_bomb_with_a_small_budget_is_refused() {
    let limits = Limits {
        max_nodes: 10_000,
        ..Limits::default()
    };
    let parsed = parse(BILLION_LAUGHS, &limits);
    assert_eq!(codes(&parsed), ["yaml-limit"]);
}

#[test]
fn many_values_without_aliases_hit_the_node_limit_too() {
    let limits = Limits {
        max_nodes: 100,
        ..Limits::default()
    };
    let text = "[".to_owned() + &"1, ".repeat(200) + "]";
    let parsed = parse(&text, &limits);
    assert_eq!(codes(&parsed), ["yaml-limit"]);
    assert!(
        parsed.diagnostics[0]
            .message
            .contains("more than 100 values")
    );
}

#[test]
fn deep_flow_nesting_stops_at_the_depth_limit_without_overflow() {
    on_small_stack(|| {
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        let parsed = parse_default(&text);
        assert_eq!(codes(&parsed), ["yaml-limit"]);
        assert_eq!(
            parsed.diagnostics[0].message,
            "this plan nests deeper than 64 levels"
        );
    });
}

#[test]
fn deep_block_mapping_nesting_stops_at_the_depth_limit() {
    on_small_stack(|| {
        // One space per level keeps 10,000 levels at 50 MB; the size limit is raised so that
        // the depth limit is what stops it.
        let mut text = String::new();
        for level in 0..10_000 {
            text.push_str(&" ".repeat(level));
            text.push_str("a:\n");
        }
        let limits = Limits {
            max_bytes: usize::MAX,
            ..Limits::default()
        };
        let parsed = parse(&text, &limits);
        assert_eq!(codes(&parsed), ["yaml-limit"]);
        assert_eq!(
            parsed.diagnostics[0].message,
            "this plan nests deeper than 64 levels"
        );
    });
}

#[test]
fn saphyr_itself_does_not_recurse_on_deep_block_nesting() {
    on_small_stack(|| {
        // With the depth limit lifted, 10,000 nested block sequences are parsed by saphyr and
        // built by the loader on a 2 MiB stack: neither recurses per level.
        let unlimited = Limits {
            max_depth: 100_000,
            ..Limits::default()
        };
        let text = "- ".repeat(10_000) + "x\n";
        let parsed = parse(&text, &unlimited);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert!(parsed.root.is_some());
        // Dropping it: 10,000 small frames of `Vec` drop glue, well within 2 MiB. (The default
        // limit of 64 levels is what keeps `to_json` and `Drop` shallow in real use.)
    });
}

#[test]
fn depth_at_the_limit_is_accepted_and_walks_on_a_small_stack() {
    on_small_stack(|| {
        let text = "[".repeat(64) + &"]".repeat(64);
        let parsed = parse_default(&text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let root = parsed.root.expect("tree");
        let json = root.to_json();
        assert!(json.is_array());
        let pointer = "/0".repeat(63);
        assert!(root.find(&pointer).is_some());
        assert!(root.find(&(pointer.clone() + "/0")).is_none());
        let _ = root.locate(&(pointer + "/0/1/2"));
    });
}

#[test]
fn alias_expansion_cannot_exceed_the_depth_limit() {
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    let parsed = parse("a: &a [[[1]]]\nb: [*a]\n", &limits);
    assert_eq!(codes(&parsed), ["yaml-limit"]);
    assert!(
        parse("a: &a [[1]]\nb: [*a]\n", &limits)
            .diagnostics
            .is_empty()
    );
}

#[test]
fn oversized_file_is_refused_without_parsing() {
    let text = "a: 1\n".repeat(10 * 1024 * 1024);
    let parsed = parse_default(&text);
    assert_eq!(codes(&parsed), ["yaml-limit"]);
    assert_eq!(
        parsed.diagnostics[0].message,
        "this plan is 50.0 MiB, larger than the 32.0 MiB limit"
    );
}

#[test]
fn fifty_megabytes_within_a_raised_limit_parse_with_exact_spans() {
    // Mostly comments and one long block of text (cheap to parse even unoptimised), full of
    // multibyte characters, so the spans at the end check the character-to-byte conversion.
    let mut text = String::from("notes: |\n");
    let text_line = "  æøå — some notes about the migration\n";
    let comment_line = "# ÆØÅ a comment line that the scanner skips quickly\n";
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(text_line);
    }
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(comment_line);
    }
    text.push_str("sources:\n  web-01: {ip: 10.0.0.1}\n");
    let limits = Limits {
        max_bytes: 64 * 1024 * 1024,
        ..Limits::default()
    };
    let parsed = parse(&text, &limits);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let root = parsed.root.expect("tree");
    let located = root.find("/sources/web-01/ip").expect("found");
    assert_eq!(&text[located.value.clone()], "10.0.0.1");
    assert_eq!(&text[located.key.expect("key")], "ip");
}

#[test]
fn empty_and_comment_only_files_are_empty_plans() {
    for text in [
        "",
        "\n\n",
        "   ",
        "# just a comment\n# another\n",
        "---\n",
        "--- # c\n...\n",
    ] {
        let parsed = parse_default(text);
        assert_eq!(codes(&parsed), ["empty-plan"], "{text:?}");
        assert!(parsed.root.is_none());
    }
    assert!(
        parse_default("# c\n").diagnostics[0]
            .message
            .contains("only comments")
    );
    assert_eq!(codes(&parse_default("~\n")), Vec::<&str>::new());
}
