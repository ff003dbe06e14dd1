//! Syntax errors from saphyr as diagnostics: readable text, and labels moved to where the
//! mistake is (the tab itself, the unclosed bracket, the unknown alias's name).

use std::ops::Range;

use saphyr_parser::ScanError;

use super::Builder;
use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::yaml::messages::readable_syntax_error;

impl Builder<'_> {
    pub(super) fn syntax_error(&mut self, error: &ScanError) {
        let start = self.positions.byte_offset(error.marker().index());
        let span = start..start + self.positions.char_length_at(start);
        let alias = error
            .info()
            .contains("unknown anchor")
            .then(|| self.alias_name(start));
        let mut readable = readable_syntax_error(error.info(), alias);
        let mut code = Code::YamlSyntax;
        if error.info() == "recursion limit exceeded" {
            // saphyr's own bracket limit (255 levels) is met while it scans ahead, before our
            // depth check sees the events: it is the same limit to the user.
            code = Code::YamlLimit;
            if self.limits.max_depth < usize::from(u8::MAX) {
                readable.message = format!(
                    "this plan nests deeper than {} levels",
                    self.limits.max_depth
                );
            }
        }
        let span = if error.info().contains("tab") {
            self.last_tab_on_line(span)
        } else {
            span
        };
        let mut diagnostic =
            Diagnostic::new(code, readable.message).with_label(span.clone(), readable.label);
        if let Some(help) = readable.help {
            diagnostic = diagnostic.with_help(help);
        }
        if code == Code::YamlSyntax
            && let Some(opening) = self.unclosed_bracket_before(span.start)
        {
            let bracket = self.text.get(opening.clone()).unwrap_or("[").to_owned();
            let closing = if bracket == "{" { "}" } else { "]" };
            diagnostic.message = format!("a `{bracket}` is not closed before this line");
            diagnostic.labels[0].message = format!("expected `,` or `{closing}` before this");
            diagnostic = diagnostic
                .with_label(opening, "opened here")
                .with_help(format!(
                    "add the closing `{closing}` where the list or mapping ends"
                ));
        }
        self.fail(diagnostic);
    }

    /// The innermost open `[` or `{`, when it started on an earlier line than `error_start`.
    fn unclosed_bracket_before(&self, error_start: usize) -> Option<Range<usize>> {
        let frame = self.stack.last().filter(|frame| frame.flow)?;
        let bracket = frame.opening_end.checked_sub(1)?;
        let between = self.text.get(bracket..error_start)?;
        between.contains('\n').then_some(bracket..frame.opening_end)
    }

    /// saphyr reports tab errors just after the tab: point at the tab itself when it is on the line.
    fn last_tab_on_line(&self, span: Range<usize>) -> Range<usize> {
        let before = self.text.get(..span.start).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        match before.get(line_start..).unwrap_or("").rfind('\t') {
            Some(offset) => line_start + offset..line_start + offset + 1,
            None => span,
        }
    }

    /// The name of the alias written at `byte` (`*name`), without the `*`.
    pub(super) fn alias_name(&self, byte: usize) -> &str {
        let rest = self.text.get(byte..).unwrap_or("");
        let rest = rest.strip_prefix('*').unwrap_or(rest);
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
            .unwrap_or(rest.len());
        &rest[..end]
    }
}
