//! Turns saphyr's parser messages into sentences written for the people who edit plans.

/// A readable syntax error: the diagnostic's message, the label under the error position, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Readable {
    pub(crate) message: String,
    pub(crate) label: &'static str,
    pub(crate) help: Option<&'static str>,
}

const INDENTATION_HELP: &str = "YAML uses indentation for structure: keys of one mapping start in the same column, with spaces only";

/// Rewrites one saphyr message. `alias` is the alias name at the error position, when there is one.
pub(crate) fn readable_syntax_error(info: &str, alias: Option<&str>) -> Readable {
    let readable = |message: &str, label: &'static str, help: Option<&'static str>| Readable {
        message: message.to_owned(),
        label,
        help,
    };
    if info.contains("unknown anchor") {
        let name = alias.unwrap_or("");
        return Readable {
            message: format!(
                "the alias `*{name}` refers to an anchor that is not defined above it"
            ),
            label: "unknown anchor",
            help: Some("define the anchor (`&name`) before the first alias (`*name`) that uses it"),
        };
    }
    if info.contains("tab") {
        return readable(
            "a tab character is used where YAML expects spaces",
            "tab here",
            Some("indent with spaces; YAML does not allow tabs for indentation"),
        );
    }
    if info.contains("quoted scalar") {
        if info.contains("escape") || info.contains("hexadecimal") {
            return readable(
                "a double-quoted string contains an unknown escape sequence",
                "bad escape",
                Some(
                    "inside double quotes a backslash starts an escape: write `\\\\` for a backslash, or use single quotes (Windows paths: 'C:\\data')",
                ),
            );
        }
        return readable(
            "a quoted string is not closed",
            "the string starts here",
            Some(
                "add the closing quote; a string that continues on the next line must be indented further than its key",
            ),
        );
    }
    let (message, label, help): (&str, &'static str, Option<&'static str>) = match info {
        "mapping values are not allowed in this context" | "illegal placement of ':' indicator" => {
            (
                "a `:` appears where no mapping can start",
                "unexpected `:`",
                Some(
                    "put a value that contains `: ` in quotes, or check that the key is indented under its parent",
                ),
            )
        }
        "while parsing a block mapping, did not find expected key" => (
            "this line does not line up with the keys of the mapping above it",
            "unexpected here",
            Some(INDENTATION_HELP),
        ),
        "while parsing a block collection, did not find expected '-' indicator" => (
            "this line does not line up with the `-` list items above it",
            "unexpected here",
            Some(INDENTATION_HELP),
        ),
        "did not find expected <document start>" | "invalid content after document end marker" => (
            "unexpected content after the plan's top-level value",
            "unexpected here",
            Some(INDENTATION_HELP),
        ),
        "while parsing a flow sequence, expected ',' or ']'" => (
            "a `[...]` list is missing a `,` between items or its closing `]`",
            "expected `,` or `]`",
            None,
        ),
        "while parsing a flow mapping, did not find expected ',' or '}'" => (
            "a `{...}` mapping is missing a `,` between entries or its closing `}`",
            "expected `,` or `}`",
            None,
        ),
        "while parsing a node, did not find expected node content" => {
            ("a value was expected here", "expected a value", None)
        }
        "block sequence entries are not allowed in this context" => (
            "a `-` list item appears where no list can start",
            "unexpected `-`",
            Some("check the indentation, or put a value that starts with `- ` in quotes"),
        ),
        "mapping keys are not allowed in this context" => (
            "a `?` key appears where no mapping can start",
            "unexpected `?`",
            Some(INDENTATION_HELP),
        ),
        "simple key expect ':'" | "simple key expected" | "could not find expected ':'" => (
            "a key is not followed by `:`",
            "expected `:`",
            Some("write `key: value`; a key and its `:` must be on the same line"),
        ),
        "unexpected eof" | "unexpected end of plain scalar" => (
            "the file ends in the middle of a value",
            "the file ends here",
            None,
        ),
        "recursion limit exceeded" => (
            "the plan nests `[` or `{` brackets deeper than the YAML parser allows",
            "too deep",
            None,
        ),
        "while scanning an anchor or alias, did not find expected alphabetic or numeric character" => {
            (
                "`&` and `*` start an anchor or alias and must be followed by a name",
                "expected a name",
                Some("put a value that starts with `&` or `*` in quotes"),
            )
        }
        _ => ("", "here", None),
    };
    if !message.is_empty() {
        return readable(message, label, help);
    }
    if let Some(character) = info
        .strip_prefix("unexpected character: `")
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return Readable {
            message: format!("`{character}` cannot start a plain value"),
            label: "unexpected character",
            help: Some("put the value in quotes"),
        };
    }
    if info.contains("block scalar") {
        return readable(
            "a `|` or `>` block of text is malformed",
            "here",
            Some("the lines of a block of text must be indented further than its key"),
        );
    }
    if info.contains("tag") || info.contains("directive") || info.contains("TAG") {
        return Readable {
            message: format!("a YAML tag or directive is malformed: {info}"),
            label: "here",
            help: None,
        };
    }
    Readable {
        message: format!("the YAML parser stopped here: {info}"),
        label: "here",
        help: None,
    }
}

#[cfg(test)]
mod tests {
    use super::readable_syntax_error;

    #[test]
    fn known_messages_are_rewritten() {
        let tab = readable_syntax_error(
            "tabs disallowed within this context (block indentation)",
            None,
        );
        assert!(tab.message.contains("tab"), "{tab:?}");
        let alias = readable_syntax_error("while parsing node, found unknown anchor", Some("base"));
        assert!(alias.message.contains("`*base`"), "{alias:?}");
        let character = readable_syntax_error("unexpected character: `@'", None);
        assert_eq!(character.message, "`@` cannot start a plain value");
        let unknown = readable_syntax_error("something new", None);
        assert!(unknown.message.ends_with("something new"));
    }
}
