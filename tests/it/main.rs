//! The single integration-test binary: every module tests ferry against real parts.

mod sftp;
mod support;
