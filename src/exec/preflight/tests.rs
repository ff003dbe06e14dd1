//! Tests of the pre-flight checks.
