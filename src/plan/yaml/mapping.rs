//! One mapping under construction: duplicate keys (both places labelled) and merge keys (`<<`).
//!
//! Policy: the first occurrence of a duplicated key is kept and every repeat is reported.
//! `<<: *base` and `<<: [*a, *b]` copy the entries of the merged mappings that the mapping does
//! not define itself, at the position of the `<<` key; among merged mappings the earlier wins.
//! Merged keys never count as duplicates.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::to_json::key_text;
use super::{Node, Value};
use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;

/// Mappings with at least this many keys index them in a hash map; smaller ones scan.
const INDEX_THRESHOLD: usize = 12;

/// The longest key shown in a message before it is shortened.
const MAX_KEY_IN_MESSAGE: usize = 60;

/// A `<<` entry, applied when the mapping is finished.
struct Merge {
    /// How many explicit entries came before it (where the merged entries go).
    position: usize,
    key_span: Range<usize>,
    value: Node,
}

struct PendingKey {
    node: Node,
    merge: bool,
    /// A repeat of an earlier key: its value is dropped once parsed.
    duplicate: bool,
}

/// A mapping whose entries are still arriving.
#[derive(Default)]
pub(crate) struct MappingBuilder {
    pairs: Vec<(Node, Node)>,
    merges: Vec<Merge>,
    pending_key: Option<PendingKey>,
    /// Key text to pair index, once the mapping is large enough for it to pay off.
    index: Option<HashMap<String, usize>>,
}

impl MappingBuilder {
    /// Whether the next node to arrive is a key.
    pub(crate) fn awaits_key(&self) -> bool {
        self.pending_key.is_none()
    }

    /// Accepts a key. Returns a diagnostic when it repeats an earlier key of this mapping.
    pub(crate) fn push_key(&mut self, node: Node, merge: bool) -> Option<Diagnostic> {
        let earlier = if merge {
            self.merges.first().map(|first| first.key_span.clone())
        } else {
            self.find(&key_text(&node))
        };
        let diagnostic = earlier.map(|first_span| {
            Diagnostic::new(
                Code::DuplicateKey,
                format!(
                    "the key `{}` appears twice in this mapping",
                    shorten(&key_text(&node))
                ),
            )
            .with_label(node.span.clone(), "defined again here")
            .with_label(first_span, "first defined here")
            .with_help("remove or rename one of them; ferry uses the first")
        });
        self.pending_key = Some(PendingKey {
            node,
            merge,
            duplicate: diagnostic.is_some(),
        });
        diagnostic
    }

    /// Accepts the value of the pending key.
    pub(crate) fn push_value(&mut self, value: Node) {
        let Some(key) = self.pending_key.take() else {
            return;
        };
        if key.duplicate {
            return;
        }
        if key.merge {
            self.merges.push(Merge {
                position: self.pairs.len(),
                key_span: key.node.span,
                value,
            });
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key_text(&key.node).into_owned(), self.pairs.len());
        }
        self.pairs.push((key.node, value));
        if self.index.is_none() && self.pairs.len() >= INDEX_THRESHOLD {
            let index = self
                .pairs
                .iter()
                .enumerate()
                .map(|(position, (key, _))| (key_text(key).into_owned(), position))
                .collect();
            self.index = Some(index);
        }
    }

    /// The span of an earlier explicit key with this text.
    fn find(&self, text: &str) -> Option<Range<usize>> {
        let position = match &self.index {
            Some(index) => index.get(text).copied(),
            None => self.pairs.iter().position(|(key, _)| key_text(key) == text),
        }?;
        self.pairs.get(position).map(|(key, _)| key.span.clone())
    }

    /// The finished entries, merges applied, and any problems with the merges.
    pub(crate) fn finish(mut self) -> (Vec<(Node, Node)>, Vec<Diagnostic>) {
        if let Some(key) = self.pending_key.take() {
            // A key without a value cannot come from the parser; keep it as a null entry.
            let span = key.node.span.end..key.node.span.end;
            self.push_value(Node {
                span,
                value: Value::Null,
            });
        }
        if self.merges.is_empty() {
            return (self.pairs, Vec::new());
        }
        apply_merges(self.pairs, self.merges)
    }
}

fn apply_merges(
    pairs: Vec<(Node, Node)>,
    merges: Vec<Merge>,
) -> (Vec<(Node, Node)>, Vec<Diagnostic>) {
    let explicit: HashSet<String> = pairs
        .iter()
        .map(|(key, _)| key_text(key).into_owned())
        .collect();
    let mut merged: HashSet<String> = HashSet::new();
    let mut result = Vec::with_capacity(pairs.len());
    let mut diagnostics = Vec::new();
    let mut pairs = pairs.into_iter();
    let mut copied = 0;
    for merge in merges {
        result.extend(pairs.by_ref().take(merge.position - copied));
        copied = merge.position;
        let span = merge.value.span.clone();
        let sources = match merge.value.value {
            Value::Mapping(source) => vec![source],
            Value::Sequence(items) => {
                let mut sources = Vec::with_capacity(items.len());
                for item in items {
                    match item.value {
                        Value::Mapping(source) => sources.push(source),
                        _ => diagnostics.push(bad_merge(merge.key_span.clone(), item.span)),
                    }
                }
                sources
            }
            _ => {
                diagnostics.push(bad_merge(merge.key_span.clone(), span));
                Vec::new()
            }
        };
        for (key, value) in sources.into_iter().flatten() {
            let text = key_text(&key);
            if explicit.contains(text.as_ref()) || merged.contains(text.as_ref()) {
                continue;
            }
            merged.insert(text.into_owned());
            result.push((key, value));
        }
    }
    result.extend(pairs);
    (result, diagnostics)
}

fn bad_merge(key_span: Range<usize>, value_span: Range<usize>) -> Diagnostic {
    Diagnostic::new(
        Code::YamlSyntax,
        "the merge key `<<` takes a mapping or a list of mappings",
    )
    .with_label(value_span, "not a mapping")
    .with_label(key_span, "merge key")
    .with_help(
        "write `<<: *defaults` or `<<: [*defaults, *more]`, where each anchor names a mapping",
    )
}

/// A key for a message: at most [`MAX_KEY_IN_MESSAGE`] characters, on one line.
fn shorten(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_KEY_IN_MESSAGE)
        .collect();
    if text.chars().count() > MAX_KEY_IN_MESSAGE {
        format!("{one_line}…")
    } else {
        one_line
    }
}
