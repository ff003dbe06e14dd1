//! Tests of the copy engine against real directories on disk (`tempfile`), local tree to local tree.

mod atomic;
mod batch;
mod changing;
mod durability;
mod foreign;
mod local_fast;
mod mirror;
mod resume;
mod safety;
mod support;
mod trees;
