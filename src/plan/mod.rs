//! The plan language: the YAML loader, the schema, the domain rules and the diagnostics they produce.

pub mod codes;
pub mod diagnostic;
pub mod inputs;
pub mod load;
pub mod mount_name;
pub mod raw;
pub mod rules;
pub mod schema;
pub mod suggest;
pub mod valid;
pub mod yaml;
