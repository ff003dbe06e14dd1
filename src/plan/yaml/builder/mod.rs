//! Drives saphyr's event parser and builds the spanned tree, enforcing the safety limits.
//!
//! Everything here is iterative: open collections live on an explicit stack, and the depth
//! limit is checked before a collection is opened or an alias is expanded, so the finished
//! tree is never deeper than `limits.max_depth` (which keeps `to_json` and `Drop` shallow).
//! Nodes are counted as the tree grows, expanded aliases included, so an alias bomb stops
//! before it can use much memory or time.
//!
//! Spans: a scalar key is stored as `Value::String` of its text (plan keys are names: `0123`,
//! `1.10` and `true` stay as written). An expanded alias gets the alias's span at its top and
//! keeps the anchor's spans inside. Block collections end at their last child's last byte.

use std::collections::HashMap;
use std::ops::{ControlFlow, Range};

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

mod syntax;

use super::mapping::MappingBuilder;
use super::positions::Positions;
use super::scalar::{key_text_of_value, resolve};
use super::{Limits, Node, Parsed, Value};
use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;

/// A completed anchored node, ready to be copied by aliases.
struct Anchored {
    node: Node,
    /// Nodes in the subtree (what one expansion adds to the tree).
    nodes: usize,
    /// Collection levels in the subtree (0 for a scalar).
    height: usize,
}

enum Container {
    Sequence(Vec<Node>),
    Mapping(MappingBuilder),
}

/// An open collection.
struct Frame {
    container: Container,
    start: usize,
    /// The end of the opening event (`[`, `{`, or the first entry of a block collection).
    opening_end: usize,
    anchor: usize,
    /// The tree's node count before this collection was opened.
    nodes_before: usize,
    /// The greatest height among the children so far.
    height: usize,
    /// The end of the last child, for trimming block collections.
    last_child_end: Option<usize>,
    /// Opened by `[` or `{` (flow style) rather than by indentation.
    flow: bool,
}

pub(crate) struct Builder<'text> {
    text: &'text str,
    limits: Limits,
    positions: Positions<'text>,
    stack: Vec<Frame>,
    /// Copies of anchored nodes; only kept when the text could contain an alias at all.
    anchors: HashMap<usize, Anchored>,
    keep_anchors: bool,
    /// Nodes in the tree, expanded aliases included.
    tree_nodes: usize,
    /// Nodes held in anchor copies (they use memory too, so they count against the limit).
    anchor_nodes: usize,
    documents: usize,
    root: Option<Node>,
    /// The root is an empty plain scalar: a file with `---` and nothing else.
    root_is_empty: bool,
    /// Set after a syntax error or an exceeded limit: the tree is not returned.
    failed: bool,
    diagnostics: Vec<Diagnostic>,
}

/// Parses `text` into a tree and its diagnostics. The size limit is checked by the caller.
pub(crate) fn build(text: &str, limits: &Limits) -> Parsed {
    let mut builder = Builder {
        text,
        limits: *limits,
        positions: Positions::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        keep_anchors: text.contains('*'),
        tree_nodes: 0,
        anchor_nodes: 0,
        documents: 0,
        root: None,
        root_is_empty: false,
        failed: false,
        diagnostics: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let flow = match next {
            Ok((event, span)) => builder.on_event(event, span),
            Err(error) => {
                builder.syntax_error(&error);
                ControlFlow::Break(())
            }
        };
        if flow.is_break() {
            break;
        }
    }
    builder.finish()
}

impl Builder<'_> {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> ControlFlow<()> {
        match event {
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => ControlFlow::Continue(()),
            Event::StreamEnd => ControlFlow::Break(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    let range = self.range(span);
                    self.fail(
                        Diagnostic::new(
                            Code::YamlSyntax,
                            "this file holds more than one YAML document; a plan is a single document",
                        )
                        .with_label(range, "a second document starts here")
                        .with_help("remove this `---` line, or put each plan in its own file"),
                    );
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                let range = self.range(span);
                let is_key = self.awaits_key();
                let plain_untagged = style == ScalarStyle::Plain && tag.is_none();
                let merge = is_key && plain_untagged && text == "<<";
                let empty_root =
                    self.stack.is_empty() && plain_untagged && anchor == 0 && text.is_empty();
                let value = if is_key {
                    Value::String(text.into_owned())
                } else {
                    let (value, mismatch) = resolve(text, style, tag.as_deref());
                    if let Some(mismatch) = mismatch {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::YamlSyntax,
                                format!(
                                    "this value is tagged `{}` but does not have that type",
                                    mismatch.tag
                                ),
                            )
                            .with_label(range.clone(), "wrong type for its tag")
                            .with_help(
                                "remove the tag, or fix the value; ferry keeps it as a string",
                            ),
                        );
                    }
                    value
                };
                self.root_is_empty |= empty_root;
                let node = Node { span: range, value };
                self.count_nodes(1, &node.span, false)?;
                if anchor != 0 {
                    self.store_anchor(anchor, &node, 1, 0)?;
                }
                self.attach(node, 0, merge);
                ControlFlow::Continue(())
            }
            Event::Alias(id) => self.expand_alias(id, span),
            Event::SequenceStart(anchor, _) => {
                self.open(Container::Sequence(Vec::new()), anchor, span)
            }
            Event::MappingStart(anchor, _) => {
                self.open(Container::Mapping(MappingBuilder::default()), anchor, span)
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span),
        }
    }

    fn awaits_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame { container: Container::Mapping(mapping), .. }) if mapping.awaits_key()
        )
    }

    fn open(&mut self, container: Container, anchor: usize, span: Span) -> ControlFlow<()> {
        let mut range = self.range(span);
        if range.is_empty()
            && matches!(container, Container::Sequence(_))
            && self.text.as_bytes().get(range.start) != Some(&b'-')
        {
            // An indentless sequence (`key:\n- a`) starts at its first item, after the `-`.
            range = self.back_to_dash(range.start)..range.end;
        }
        if self.stack.len() >= self.limits.max_depth {
            let limit = self.limits.max_depth;
            return self.fail_break(
                Diagnostic::new(
                    Code::YamlLimit,
                    format!("this plan nests deeper than {limit} levels"),
                )
                .with_label(
                    range.start..range.start,
                    format!("level {} starts here", limit + 1),
                )
                .with_help(
                    "a plan needs only a few levels of nesting; check the indentation and brackets",
                ),
            );
        }
        let nodes_before = self.tree_nodes;
        self.count_nodes(1, &range, false)?;
        let flow = range.end > range.start
            && matches!(self.text.as_bytes().get(range.end - 1), Some(b'[' | b'{'));
        self.stack.push(Frame {
            flow,
            container,
            start: range.start,
            opening_end: range.end,
            anchor,
            nodes_before,
            height: 0,
            last_child_end: None,
        });
        ControlFlow::Continue(())
    }

    fn close(&mut self, span: Span) -> ControlFlow<()> {
        let range = self.range(span);
        let Some(frame) = self.stack.pop() else {
            return ControlFlow::Continue(());
        };
        // Flow collections end with their `]` or `}`; block ones at their last child.
        let end = if range.is_empty() {
            frame.last_child_end.unwrap_or(frame.opening_end)
        } else {
            range.end
        };
        let value = match frame.container {
            Container::Sequence(items) => Value::Sequence(items),
            Container::Mapping(mapping) => {
                let (pairs, problems) = mapping.finish();
                self.diagnostics.extend(problems);
                Value::Mapping(pairs)
            }
        };
        let node = Node {
            span: frame.start..end.max(frame.start),
            value,
        };
        let height = frame.height + 1;
        if frame.anchor != 0 {
            let nodes = self.tree_nodes - frame.nodes_before;
            self.store_anchor(frame.anchor, &node, nodes, height)?;
        }
        self.attach(node, height, false);
        ControlFlow::Continue(())
    }

    fn expand_alias(&mut self, id: usize, span: Span) -> ControlFlow<()> {
        let range = self.range(span);
        let Some(anchored) = self.anchors.get(&id) else {
            let name = self.alias_name(range.start).to_owned();
            return self.fail_break(
                Diagnostic::new(
                    Code::YamlSyntax,
                    format!("the alias `*{name}` is used inside the value it refers to"),
                )
                .with_label(range, "refers to a value that contains it")
                .with_help("an alias can only repeat a value that is complete before it"),
            );
        };
        let (nodes, height) = (anchored.nodes, anchored.height);
        if self.stack.len() + height > self.limits.max_depth {
            let limit = self.limits.max_depth;
            return self.fail_break(
                Diagnostic::new(
                    Code::YamlLimit,
                    format!(
                        "this plan nests deeper than {limit} levels once this alias is expanded"
                    ),
                )
                .with_label(range, "expanding this alias goes too deep")
                .with_help("a plan needs only a few levels of nesting"),
            );
        }
        self.count_nodes(nodes, &range, true)?;
        let Some(anchored) = self.anchors.get(&id) else {
            return ControlFlow::Break(());
        };
        let mut node = anchored.node.clone();
        node.span = range;
        self.attach(node, height, false);
        ControlFlow::Continue(())
    }

    fn store_anchor(
        &mut self,
        id: usize,
        node: &Node,
        nodes: usize,
        height: usize,
    ) -> ControlFlow<()> {
        if !self.keep_anchors {
            return ControlFlow::Continue(());
        }
        self.anchor_nodes += nodes;
        self.check_node_limit(&node.span, false)?;
        self.anchors.insert(
            id,
            Anchored {
                node: node.clone(),
                nodes,
                height,
            },
        );
        ControlFlow::Continue(())
    }

    fn count_nodes(&mut self, nodes: usize, span: &Range<usize>, alias: bool) -> ControlFlow<()> {
        self.tree_nodes = self.tree_nodes.saturating_add(nodes);
        self.check_node_limit(span, alias)
    }

    fn check_node_limit(&mut self, span: &Range<usize>, alias: bool) -> ControlFlow<()> {
        let total = self.tree_nodes.saturating_add(self.anchor_nodes);
        if total <= self.limits.max_nodes {
            return ControlFlow::Continue(());
        }
        let limit = self.limits.max_nodes;
        let diagnostic = if alias {
            Diagnostic::new(
                Code::YamlLimit,
                format!("alias expansion exceeds {limit} nodes; is this an alias bomb?"),
            )
            .with_label(span.clone(), "expanding this alias crosses the limit")
            .with_help("every alias copies its anchor's whole value, and nested aliases multiply")
        } else {
            Diagnostic::new(
                Code::YamlLimit,
                format!("this plan has more than {limit} values"),
            )
            .with_label(span.clone(), "the limit is crossed here")
            .with_help("split the plan into several files")
        };
        self.fail_break(diagnostic)
    }

    /// Hands a finished node to its parent (or makes it the root).
    fn attach(&mut self, mut node: Node, height: usize, merge: bool) {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        frame.height = frame.height.max(height);
        frame.last_child_end = Some(node.span.end);
        match &mut frame.container {
            Container::Sequence(items) => items.push(node),
            Container::Mapping(mapping) => {
                if mapping.awaits_key() {
                    // Keys from scalar events are strings already; an alias to a typed scalar
                    // becomes its text.
                    if !matches!(node.value, Value::String(_))
                        && let Some(text) = key_text_of_value(&node.value)
                    {
                        node.value = Value::String(text);
                    }
                    if let Some(duplicate) = mapping.push_key(node, merge) {
                        self.diagnostics.push(duplicate);
                    }
                } else {
                    mapping.push_value(node);
                }
            }
        }
    }

    /// `start`, or the `-` just before it (over spaces) when there is one.
    fn back_to_dash(&self, start: usize) -> usize {
        let before = self.text.as_bytes().get(..start).unwrap_or_default();
        let spaces = before
            .iter()
            .rev()
            .take_while(|byte| **byte == b' ')
            .count();
        match before.len().checked_sub(spaces + 1) {
            Some(dash) if before[dash] == b'-' => dash,
            _ => start,
        }
    }

    fn fail(&mut self, diagnostic: Diagnostic) {
        self.failed = true;
        self.diagnostics.push(diagnostic);
    }

    fn fail_break(&mut self, diagnostic: Diagnostic) -> ControlFlow<()> {
        self.fail(diagnostic);
        ControlFlow::Break(())
    }

    /// A saphyr span as a byte range, with trailing whitespace (of block scalars) trimmed.
    fn range(&mut self, span: Span) -> Range<usize> {
        let start = self.positions.byte_offset(span.start.index());
        let end = self.positions.byte_offset(span.end.index()).max(start);
        let trimmed = self.text.as_bytes()[start..end]
            .iter()
            .rposition(|byte| !byte.is_ascii_whitespace())
            .map_or(start, |last| start + last + 1);
        start..trimmed
    }

    fn finish(mut self) -> Parsed {
        // Free deep partial trees frame by frame (each frame is bounded by the depth limit).
        while self.stack.pop().is_some() {}
        if self.failed {
            return Parsed {
                root: None,
                diagnostics: self.diagnostics,
            };
        }
        if self.documents == 0 || self.root.is_none() || self.root_is_empty {
            let only_comments = self
                .text
                .lines()
                .any(|line| line.trim_start().starts_with('#'));
            let message = if only_comments {
                "the plan file has only comments"
            } else {
                "the plan file is empty"
            };
            self.diagnostics
                .push(Diagnostic::new(Code::EmptyPlan, message).with_help(
                "a plan is a YAML mapping with `version`, `sources`, `targets` and `migrations`",
            ));
            return Parsed {
                root: None,
                diagnostics: self.diagnostics,
            };
        }
        Parsed {
            root: self.root,
            diagnostics: self.diagnostics,
        }
    }
}
