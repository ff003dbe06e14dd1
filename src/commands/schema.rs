//! `ferry schema`: prints the plan format's JSON Schema.

use crate::commands::ExitStatus;
use crate::plan::schema::plan_schema_text;
use crate::report;

pub fn run() -> ExitStatus {
    report::print_document(&plan_schema_text());
    ExitStatus::Success
}
