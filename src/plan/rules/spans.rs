//! JSON pointers into the plan and the spans they lead to, for labelling diagnostics.

use std::fmt;
use std::ops::Range;

use crate::plan::yaml::{Locate, escape_pointer_segment};

/// An RFC 6901 pointer into the plan, built one segment at a time (`/sources/web-01/ip`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pointer(String);

impl Pointer {
    /// The whole document.
    pub(super) fn root() -> Self {
        Self(String::new())
    }

    /// The pointer to a mapping key below this one (escaped as RFC 6901 requires).
    pub(super) fn key(&self, segment: &str) -> Self {
        Self(format!("{}/{}", self.0, escape_pointer_segment(segment)))
    }

    /// The pointer to a list item below this one.
    pub(super) fn index(&self, index: usize) -> Self {
        Self(format!("{}/{index}", self.0))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Turns pointers into the spans labels use.
pub(super) struct Spans<'a> {
    locator: &'a dyn Locate,
}

impl<'a> Spans<'a> {
    pub(super) fn new(locator: &'a dyn Locate) -> Self {
        Self { locator }
    }

    /// The span of the value the pointer leads to.
    pub(super) fn value(&self, pointer: &Pointer) -> Range<usize> {
        self.locator.locate(pointer.as_str()).value
    }

    /// The span of the key that leads to the value, or of the value when there is no key.
    pub(super) fn key(&self, pointer: &Pointer) -> Range<usize> {
        let located = self.locator.locate(pointer.as_str());
        located.key.unwrap_or(located.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        let pointer = Pointer::root()
            .key("sources")
            .key("a/b~c")
            .key("mountpoints")
            .index(2)
            .key("name");
        assert_eq!(pointer.as_str(), "/sources/a~1b~0c/mountpoints/2/name");
        assert_eq!(Pointer::root().as_str(), "");
    }

    #[test]
    fn names_with_slashes_are_located_by_their_escaped_pointer() {
        let mut plan = super::super::test_support::sample_plan();
        plan["sources"]["web/01"] = plan["sources"]["web-01"].clone();
        plan["sources"]["web/01"]["ip"] = serde_json::json!("bad");
        let found =
            super::super::test_support::with_code(&plan, crate::plan::codes::Code::InvalidIp);
        assert_eq!(found[0].places(), ["value /sources/web~101/ip"]);
    }
}
