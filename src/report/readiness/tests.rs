//! Tests of the readiness table.
