//! The plan language: the YAML loader, the schema, the domain rules and the diagnostics they produce.

pub mod codes;
pub mod diagnostic;
pub mod mount_name;
pub mod raw;
pub mod rules;
pub mod valid;
pub mod yaml;
