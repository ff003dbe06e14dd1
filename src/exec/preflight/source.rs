//! A source's readiness: its root can be listed, and every selected mount's root exists, is a
//! directory and can be listed.

use super::{Ready, Reason, Verdict};
use crate::exec::runner::jobs::mount_jobs;
use crate::exec::transport::{EntryKind, FileTree, RelativePath};
use crate::plan::valid::{Migration, Workload};

/// Lists the tree's root (proving the login), then each selected mount's root.
pub(super) async fn check_source(
    tree: &dyn FileTree,
    workload: &Workload,
    migration: &Migration,
) -> Verdict {
    let jobs = match mount_jobs(workload, migration) {
        Ok(jobs) => jobs,
        Err(error) => return Verdict::not_ready(error.to_string()),
    };
    if let Err(error) = tree.list(&RelativePath::root()).await {
        return Verdict::from_transport(&error);
    }
    let mut problems = Vec::new();
    let mut retryable = true;
    for job in &jobs {
        let problem = match tree.metadata(&job.source_root).await {
            Ok(None) => Some((
                format!("mount {}: `{}` does not exist", job.label, job.source_root),
                false,
            )),
            Ok(Some(metadata)) if metadata.kind != EntryKind::Directory => Some((
                format!(
                    "mount {}: `{}` is not a directory",
                    job.label, job.source_root
                ),
                false,
            )),
            Ok(Some(_)) => match tree.list(&job.source_root).await {
                Ok(_) => None,
                Err(error) => Some((
                    format!("mount {}: {}", job.label, error.message),
                    error.is_retryable(),
                )),
            },
            Err(error) => Some((
                format!("mount {}: {}", job.label, error.message),
                error.is_retryable(),
            )),
        };
        if let Some((reason, may_pass_later)) = problem {
            retryable &= may_pass_later;
            problems.push(reason);
        }
    }
    if problems.is_empty() {
        Verdict::Ready(Ready::MountsReadable(jobs.len()))
    } else {
        Verdict::NotReady {
            reason: Reason::Problem(problems.join("; ")),
            retryable,
        }
    }
}
