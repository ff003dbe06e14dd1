//! Tests of LocalTree.
