//! Tests of masking and escaping in snippets, and of the offset mapping that follows them.

use super::*;

fn masked(text: &str) -> String {
    Redacted::new(text).text
}

#[test]
fn plain_and_quoted_passwords_are_masked() {
    assert_eq!(masked("password: hunter2\n"), "password: ********\n");
    assert_eq!(
        masked("  password: \"a b#c\" # old\n"),
        "  password: ******** # old\n"
    );
    assert_eq!(masked("password: 'it''s'\n"), "password: ********\n");
    assert_eq!(masked("Password: x # note"), "Password: ******** # note");
    assert_eq!(masked("db_secret: s3cr3t\r\n"), "db_secret: ********\r\n");
    assert_eq!(
        masked("password: &pw hunter2\n"),
        "password: &pw ********\n"
    );
}

#[test]
fn flow_mappings_are_masked_up_to_the_next_entry() {
    assert_eq!(
        masked("credentials: { username: admin, password: hunter2, domain: corp }"),
        "credentials: { username: admin, password: ********, domain: corp }"
    );
    assert_eq!(
        masked("credentials: {\"password\": \"x,y\"}"),
        "credentials: {\"password\": ********}"
    );
}

#[test]
fn references_and_other_keys_are_kept() {
    for text in [
        "password: { env: WEB_PASSWORD }\n",
        "password: {file: secrets/web.txt}\n",
        "password: *shared\n",
        "password: ''\n",
        "credentials: { username: a, password: \"\" }\n",
        "password:\n  env: X\n",
        "username: administrator\n",
        "path: C:\\data\n",
    ] {
        assert_eq!(masked(text), text);
    }
}

#[test]
fn offsets_after_a_mask_shift_and_offsets_inside_move_to_it() {
    let text = "password: hunter2-long-one\nip: 1.2.3.4\n";
    let redacted = Redacted::new(text);
    let ip = text.find("1.2.3.4").unwrap();
    let mapped = redacted.map_span(&(ip..ip + 7));
    assert_eq!(&redacted.text[mapped], "1.2.3.4");
    let value = text.find("hunter2").unwrap();
    let mapped = redacted.map_span(&(value..value + "hunter2-long-one".len()));
    assert_eq!(&redacted.text[mapped], MASK);
    let partial = redacted.map_span(&(value + 2..value + 4));
    assert_eq!(&redacted.text[partial], MASK);
    assert_eq!(redacted.map_offset(0), 0);
    assert_eq!(redacted.map_offset(10_000), 10_000 - 16 + MASK.len());
}

#[test]
fn multibyte_passwords_become_ascii() {
    let text = "password: pæssørd\nx: ✓\n";
    let redacted = Redacted::new(text);
    assert_eq!(redacted.text, "password: ********\nx: ✓\n");
    let check = text.find('✓').unwrap();
    let mapped = redacted.map_span(&(check..check + '✓'.len_utf8()));
    assert_eq!(&redacted.text[mapped], "✓");
}

#[test]
fn a_wide_space_before_a_key_is_a_separator_not_a_panic() {
    assert_eq!(
        masked("credentials: { username: a,\u{a0}password: x }\n"),
        "credentials: { username: a,\u{a0}password: ******** }\n"
    );
    assert_eq!(
        masked("{ a: b,\u{2028}password: x }"),
        "{ a: b,\\u{2028}password: ******** }"
    );
    assert_eq!(masked("\u{3000}token: t"), "\u{3000}token: ********");
}

#[test]
fn controls_are_escaped_and_offsets_follow() {
    let text = "a: e\u{1b}[2J\u{202e}\tx\r\nb: 1\n";
    let redacted = Redacted::new(text);
    assert_eq!(redacted.text, "a: e\\u{1b}[2J\\u{202e}\tx\r\nb: 1\n");
    let one = text.find('1').unwrap();
    let mapped = redacted.map_span(&(one..one + 1));
    assert_eq!(&redacted.text[mapped], "1");
    let escape = text.find('\u{1b}').unwrap();
    let mapped = redacted.map_span(&(escape..escape + 1));
    assert_eq!(&redacted.text[mapped], "\\u{1b}");
}

#[test]
fn a_lone_carriage_return_is_escaped() {
    assert_eq!(masked("a: b\rc\n"), "a: b\\rc\n");
}

#[test]
fn credentials_values_are_masked_by_line_when_the_text_does_not_parse() {
    let text = "s:\n  credentials:\n    username: root\n    passwrd: HIDDEN1\n    pass:\n      x: HIDDEN2\n    password:\n      env: SEEN_VAR\n  other: seen\nt: { credentials: { username: u, domain: d, pwd: HIDDEN3, password: { file: f.txt } }, k: seen }\n  ]broken\n";
    let output = masked(text);
    assert!(!output.contains("HIDDEN"), "{output}");
    for visible in [
        "username: root",
        "env: SEEN_VAR",
        "other: seen",
        "username: u",
        "domain: d",
        "file: f.txt",
        "k: seen",
    ] {
        assert!(output.contains(visible), "{visible} in {output}");
    }
}
