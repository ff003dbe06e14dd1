//! RFC 6901 JSON pointers over the tree: exact lookup, and the best span for a missing node.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

use super::to_json::key_text;
use super::{Located, Node, Value};

/// One step of a walk: the node reached and the key span that led to it.
struct Step<'tree> {
    node: &'tree Node,
    key: Option<Range<usize>>,
}

/// Mappings with at least this many entries get a key index on first lookup.
const INDEXED_MAPPING_SIZE: usize = 16;

/// Key → entry position for large mappings, built on first use, so that labelling every entry
/// of a 10,000-source plan costs a hash lookup per step instead of a scan (no quadratic time).
#[derive(Default)]
pub(crate) struct MappingIndex(RefCell<HashMap<usize, HashMap<String, usize>>>);

impl MappingIndex {
    fn position(&self, mapping: &Node, entries: &[(Node, Node)], segment: &str) -> Option<usize> {
        if entries.len() < INDEXED_MAPPING_SIZE {
            return entries.iter().position(|(key, _)| key_text(key) == segment);
        }
        let mut indexes = self.0.borrow_mut();
        // The node's address identifies it: the tree is borrowed, so it cannot move meanwhile.
        let index = indexes
            .entry(std::ptr::from_ref(mapping) as usize)
            .or_insert_with(|| {
                // Reversed, so that the first of duplicated keys wins, as in a scan.
                let mut index = HashMap::with_capacity(entries.len());
                for (position, (key, _)) in entries.iter().enumerate().rev() {
                    index.insert(key_text(key).into_owned(), position);
                }
                index
            });
        index.get(segment).copied()
    }
}

/// Follows `pointer` as far as it goes. Returns the last node reached and whether the whole
/// pointer was consumed. `None` when the pointer is malformed (not empty, no leading `/`).
fn walk<'tree>(root: &'tree Node, pointer: &str) -> Option<(Step<'tree>, bool)> {
    walk_indexed(root, pointer, None)
}

fn walk_indexed<'tree>(
    root: &'tree Node,
    pointer: &str,
    index: Option<&MappingIndex>,
) -> Option<(Step<'tree>, bool)> {
    let mut current = Step {
        node: root,
        key: None,
    };
    if pointer.is_empty() {
        return Some((current, true));
    }
    let rest = pointer.strip_prefix('/')?;
    for raw in rest.split('/') {
        let segment = unescape(raw);
        let next = match &current.node.value {
            Value::Mapping(entries) => match index {
                Some(index) => index.position(current.node, entries, &segment),
                None => entries.iter().position(|(key, _)| key_text(key) == segment),
            }
            .map(|position| &entries[position])
            .map(|(key, value)| Step {
                node: value,
                key: Some(key.span.clone()),
            }),
            Value::Sequence(items) => parse_index(&segment)
                .and_then(|index| items.get(index))
                .map(|item| Step {
                    node: item,
                    key: None,
                }),
            _ => None,
        };
        match next {
            Some(step) => current = step,
            None => return Some((current, false)),
        }
    }
    Some((current, true))
}

pub(crate) fn find(root: &Node, pointer: &str) -> Option<Located> {
    match walk(root, pointer)? {
        (step, true) => Some(Located {
            key: step.key,
            value: step.node.span.clone(),
        }),
        (_, false) => None,
    }
}

pub(crate) fn locate(root: &Node, pointer: &str) -> Located {
    locate_indexed(root, pointer, None)
}

pub(crate) fn locate_indexed(root: &Node, pointer: &str, index: Option<&MappingIndex>) -> Located {
    match walk_indexed(root, pointer, index) {
        Some((step, _)) => Located {
            key: step.key,
            value: step.node.span.clone(),
        },
        None => Located {
            key: None,
            value: root.span.clone(),
        },
    }
}

/// `~1` is `/` and `~0` is `~` (in that order, so `~01` is `~1`).
fn unescape(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(segment)
    }
}

/// An array index: digits without a leading zero (RFC 6901), `0` itself allowed.
fn parse_index(segment: &str) -> Option<usize> {
    if segment.is_empty()
        || !segment.bytes().all(|b| b.is_ascii_digit())
        || (segment.len() > 1 && segment.starts_with('0'))
    {
        return None;
    }
    segment.parse().ok()
}
