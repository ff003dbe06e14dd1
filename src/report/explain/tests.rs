//! Tests of `ferry explain`: every code has a complete explanation, and the code list.

use std::collections::HashSet;

use super::*;

fn is_kebab_case(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|character| character.is_ascii_lowercase() || character == '-')
}

#[test]
fn codes_are_unique_kebab_case_and_round_trip() {
    let mut seen = HashSet::new();
    for code in Code::ALL {
        let name = code.as_str();
        assert!(is_kebab_case(name), "{name} is not kebab-case");
        assert!(seen.insert(name), "{name} appears twice");
        assert_eq!(Code::from_name(name), Some(*code));
    }
    assert_eq!(
        seen.len(),
        42,
        "a new code needs an explanation, an invalid example and a README row"
    );
}

/// The fenced ```yaml blocks that follow a `## heading` line, up to the next heading.
fn yaml_blocks_under(explanation: &str, heading: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut in_section = false;
    let mut block: Option<String> = None;
    for line in explanation.lines() {
        if let Some(current) = block.as_mut() {
            if line.trim_start() == "```" {
                blocks.push(block.take().unwrap_or_default());
            } else {
                current.push_str(line);
                current.push('\n');
            }
            continue;
        }
        if line.starts_with("## ") {
            in_section = line.trim() == heading;
        } else if in_section && line.trim() == "```yaml" {
            block = Some(String::new());
        }
    }
    assert!(block.is_none(), "an unclosed ``` block under {heading}");
    blocks
}

/// Whether text is well-formed YAML, read with the parser the plan loader uses.
fn parses_as_yaml(text: &str) -> Result<(), String> {
    for event in saphyr_parser::Parser::new_from_str(text) {
        event.map_err(|error| error.to_string())?;
    }
    Ok(())
}

#[test]
fn every_explanation_has_a_title_a_wrong_and_a_fixed_example() {
    for code in Code::ALL {
        let name = code.as_str();
        let text = code.explanation();
        assert!(
            !text.trim().eq_ignore_ascii_case("todo"),
            "{name} is still TODO"
        );
        let title = text.lines().next().unwrap_or_default();
        assert!(
            title.starts_with(&format!("# {name}")),
            "{name}: the first line should be `# {name}: ...`, not {title:?}"
        );
        let wrong = yaml_blocks_under(text, "## Wrong");
        let fixed = yaml_blocks_under(text, "## Fixed");
        assert!(
            !wrong.is_empty(),
            "{name} has no ```yaml block under ## Wrong"
        );
        assert!(
            !fixed.is_empty(),
            "{name} has no ```yaml block under ## Fixed"
        );
        assert_ne!(wrong, fixed, "{name}: the fixed example is the wrong one");
        let wrong_at = text.find("## Wrong").unwrap_or_default();
        let fixed_at = text.find("## Fixed").unwrap_or_default();
        assert!(
            wrong_at < fixed_at,
            "{name}: Wrong should come before Fixed"
        );
    }
}

#[test]
fn examples_are_yaml_except_where_the_code_is_about_the_yaml() {
    for code in Code::ALL {
        let name = code.as_str();
        for block in yaml_blocks_under(code.explanation(), "## Fixed") {
            if let Err(error) = parses_as_yaml(&block) {
                panic!("{name}: the fixed example is not YAML: {error}\n{block}");
            }
        }
        let wrong = yaml_blocks_under(code.explanation(), "## Wrong");
        let wrong_parses = wrong.iter().all(|block| parses_as_yaml(block).is_ok());
        // A yaml-syntax example must really be broken; the others must be readable YAML, so
        // they show the code's own problem and no other.
        if *code == Code::YamlSyntax {
            assert!(!wrong_parses, "the yaml-syntax example parses");
        } else {
            assert!(wrong_parses, "{name}: the wrong example is not YAML");
        }
    }
}

#[test]
fn explanation_lines_fit_a_terminal() {
    for code in Code::ALL {
        for line in code.explanation().lines() {
            assert!(
                line.chars().count() < 100,
                "{}: line longer than 99 columns: {line}",
                code.as_str()
            );
        }
    }
}

#[test]
fn plain_explanation_is_the_text_and_colour_only_bolds_headings() {
    let plain = render_explanation(Code::UnknownMount, false);
    assert_eq!(
        plain,
        format!("{}\n", Code::UnknownMount.explanation().trim_end())
    );
    let colored = render_explanation(Code::UnknownMount, true);
    assert!(colored.contains("\u{1b}[1m## Wrong\u{1b}[0m"));
    assert!(colored.contains("mounts: ['C:\\', 'E:\\']"));
}

#[test]
fn code_list_snapshot() {
    let list = render_code_list();
    for line in list.lines() {
        assert!(line.chars().count() <= 100, "too long: {line}");
    }
    for code in Code::ALL {
        assert!(list.contains(code.as_str()));
    }
    insta::assert_snapshot!(list);
}

#[test]
fn wrapping() {
    assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
    assert_eq!(wrap("", 10), vec![""]);
    assert_eq!(wrap("abcdefgh ij", 4), vec!["abcdefgh", "ij"]);
}
