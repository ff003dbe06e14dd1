//! The YAML loader: saphyr parser events to a tree with byte spans on every node, with safety limits.
//!
//! Interface contract (owned by this module, used by the schema and rule layers):
//! - `parse` never panics and never recurses without bound, whatever the input.
//! - Spans are byte ranges into the text passed in, trimmed to the node's last content byte.
//! - Anchors, aliases and merge keys (`<<`) are resolved here; alias expansion is bounded.
//! - Duplicate keys are reported with both places labelled; the first occurrence is kept so the
//!   later layers still run.

mod builder;
mod mapping;
mod messages;
mod pointer;
mod positions;
mod scalar;
mod to_json;

#[cfg(test)]
mod tests;

use std::ops::Range;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;

/// Safety limits for untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of collections (the root mapping is level 1). Keep it small (the default
    /// is 64): the finished tree is walked recursively, and the limit is what bounds that.
    pub max_depth: usize,
    /// Most nodes the tree may hold after alias expansion.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 32 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 2_000_000,
        }
    }
}

/// The outcome of parsing: a tree when one could be built, and every problem found.
#[derive(Debug)]
pub struct Parsed {
    /// `None` after a syntax error or an exceeded limit.
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A YAML node with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Range<usize>,
    pub value: Value,
}

/// A resolved YAML 1.2 (core schema) value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    /// Integers that do not fit `i64` (kept so that a huge size gets a clear error, not a wrap).
    BigInteger(String),
    Float(f64),
    String(String),
    Sequence(Vec<Node>),
    /// Entries in document order; keys are nodes so that each key has its own span.
    Mapping(Vec<(Node, Node)>),
}

/// Where a JSON pointer leads in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The span of the mapping key that leads to the node, when the last step is a key.
    pub key: Option<Range<usize>>,
    /// The span of the node itself.
    pub value: Range<usize>,
}

/// Parses a plan's text.
///
/// Stops at the first syntax error or exceeded limit (then `root` is `None`); duplicate keys,
/// bad merge keys and tag mismatches are reported without stopping. Scalar mapping keys are
/// stored as `Value::String` of their text, so `0123:` stays `"0123"`.
pub fn parse(text: &str, limits: &Limits) -> Parsed {
    if text.len() > limits.max_bytes {
        let diagnostic = Diagnostic::new(
            Code::YamlLimit,
            format!(
                "this plan is {}, larger than the {} limit",
                human_size(text.len()),
                human_size(limits.max_bytes)
            ),
        )
        .with_help("split the plan into several files");
        return Parsed {
            root: None,
            diagnostics: vec![diagnostic],
        };
    }
    builder::build(text, limits)
}

/// A byte count for a message: `512 bytes`, `40.0 KiB`, `32.0 MiB`.
fn human_size(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    if value < KIB {
        format!("{bytes} bytes")
    } else if value < KIB * KIB {
        format!("{:.1} KiB", value / KIB)
    } else {
        format!("{:.1} MiB", value / (KIB * KIB))
    }
}

impl Node {
    /// Converts the tree to JSON for schema validation and typed deserialisation.
    /// Mapping keys become strings (non-string keys use their YAML text).
    /// `BigInteger` becomes the nearest JSON number; `.inf`/`-.inf`/`.nan` become those strings.
    pub fn to_json(&self) -> serde_json::Value {
        to_json::to_json(self)
    }

    /// [`Node::to_json`], converting the root mapping's values in parallel (the same result).
    pub fn to_json_in_parallel(&self) -> serde_json::Value {
        to_json::to_json_in_parallel(self)
    }

    /// Follows an RFC 6901 JSON pointer (`/sources/web-01/ip`; `~0` is `~`, `~1` is `/`).
    pub fn find(&self, pointer: &str) -> Option<Located> {
        pointer::find(self, pointer)
    }

    /// The best span for a pointer that may not exist: the node itself when it does, otherwise
    /// the longest existing prefix (its key when it has one). Never fails: the root is the last resort.
    /// For a missing child, that is the parent's key span and the parent's own span.
    pub fn locate(&self, pointer: &str) -> Located {
        pointer::locate(self, pointer)
    }
}

/// Escapes one pointer segment (RFC 6901).
pub fn escape_pointer_segment(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains(['~', '/']) {
        std::borrow::Cow::Owned(segment.replace('~', "~0").replace('/', "~1"))
    } else {
        std::borrow::Cow::Borrowed(segment)
    }
}

/// Anything that can turn a JSON pointer into a span: the YAML tree, or a test stand-in.
pub trait Locate {
    /// See [`Node::locate`].
    fn locate(&self, pointer: &str) -> Located;
}

impl Locate for Node {
    fn locate(&self, pointer: &str) -> Located {
        Node::locate(self, pointer)
    }
}

/// A tree with key indexes for its large mappings, built as lookups need them: the locator to
/// use when many labels may be asked for (the rules label every entry of a large plan).
pub struct IndexedTree<'tree> {
    root: &'tree Node,
    index: pointer::MappingIndex,
}

impl<'tree> IndexedTree<'tree> {
    pub fn new(root: &'tree Node) -> Self {
        Self {
            root,
            index: pointer::MappingIndex::default(),
        }
    }
}

impl Locate for IndexedTree<'_> {
    fn locate(&self, pointer: &str) -> Located {
        pointer::locate_indexed(self.root, pointer, Some(&self.index))
    }
}
