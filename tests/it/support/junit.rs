//! Reads a JUnit XML report with a real XML parser, so a test sees what a CI page would.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// One `<testcase>`: its name, classname, and whether it holds a `<failure>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    pub classname: String,
    pub failure: Option<String>,
}

/// The `<testsuite>`'s name and test cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSuite {
    pub name: String,
    pub tests: String,
    pub failures: String,
    pub cases: Vec<TestCase>,
}

fn attribute(element: &BytesStart<'_>, key: &str) -> String {
    element
        .attributes()
        .map(|attribute| attribute.expect("a well-formed attribute"))
        .find(|attribute| attribute.key.as_ref() == key.as_bytes())
        .map(|attribute| {
            attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .expect("a well-formed value")
                .into_owned()
        })
        .unwrap_or_default()
}

/// Parses the one test suite of `xml`; panics on any XML error (mismatched tags, bad escapes).
pub fn parse(xml: &str) -> TestSuite {
    let mut reader = Reader::from_str(xml);
    let mut suite: Option<TestSuite> = None;
    loop {
        let event = reader.read_event().expect("well-formed XML");
        match &event {
            Event::Start(element) | Event::Empty(element) => match element.name().as_ref() {
                b"testsuite" => {
                    suite = Some(TestSuite {
                        name: attribute(element, "name"),
                        tests: attribute(element, "tests"),
                        failures: attribute(element, "failures"),
                        cases: Vec::new(),
                    });
                }
                b"testcase" => suite
                    .as_mut()
                    .expect("a test case inside the suite")
                    .cases
                    .push(TestCase {
                        name: attribute(element, "name"),
                        classname: attribute(element, "classname"),
                        failure: None,
                    }),
                b"failure" => {
                    let case = suite
                        .as_mut()
                        .and_then(|suite| suite.cases.last_mut())
                        .expect("a failure inside a test case");
                    case.failure = Some(attribute(element, "message"));
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    suite.expect("a <testsuite>")
}
