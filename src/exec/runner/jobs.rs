//! A migration's copy jobs (where each selected mount is read and written, and which nested
//! mounts it leaves out) and the target storage recorded when it succeeds.

use crate::exec::copy::MountJob;
use crate::exec::transport::RelativePath;
use crate::plan::valid::{Migration, Workload};
use crate::state::StorageRecord;

/// A mount whose paths cannot be used (validation should have refused it first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "mount {mount}: its path `{path}` is not a safe relative path (no `..`, `.`, `//` or backslashes)"
)]
pub struct JobError {
    pub mount: String,
    pub path: String,
}

/// One job per selected mount, in the plan's order:
/// - the source root is the mount's `path` (relative to the source connection);
/// - the target root is the mount name mapped to a path (`C:\` → `C`, `/var/lib` → `var/lib`, `/` → the root);
/// - `excluded` lists every other source mount below it, selected or not: a nested mount is never
///   copied with its parent (like `rsync -x`); when selected it is its own job.
pub fn mount_jobs(source: &Workload, migration: &Migration) -> Result<Vec<MountJob>, JobError> {
    let mut jobs = Vec::with_capacity(migration.mounts.len());
    for name in &migration.mounts {
        let Some(mount) = source.mount(name) else {
            // Validation guarantees every selected mount exists.
            continue;
        };
        let source_root = safe_path(&mount.path, name.as_written())?;
        let target_root = safe_path(&name.relative_path(), name.as_written())?;
        let mut excluded = Vec::new();
        for other in &source.mounts {
            if other.name == mount.name {
                continue;
            }
            let other_root = safe_path(&other.path, other.name.as_written())?;
            if let Some(inside) = other_root.strip_prefix(&source_root)
                && !inside.is_root()
                && !excluded.contains(&inside)
            {
                excluded.push(inside);
            }
        }
        excluded.sort();
        jobs.push(MountJob {
            label: name.as_written().to_string(),
            source_root,
            target_root,
            excluded,
        });
    }
    Ok(jobs)
}

/// The target VM's storage after the migration: exactly the selected mounts, with the source's sizes.
pub fn target_storage(source: &Workload, migration: &Migration) -> Vec<StorageRecord> {
    migration
        .mounts
        .iter()
        .filter_map(|name| {
            source.mount(name).map(|mount| StorageRecord {
                mount: name.as_written().to_string(),
                size: mount.size,
            })
        })
        .collect()
}

fn safe_path(path: &str, mount: &str) -> Result<RelativePath, JobError> {
    let trimmed = path.trim_matches('/');
    RelativePath::new(trimmed).ok_or_else(|| JobError {
        mount: mount.to_string(),
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::valid::{Credentials, MountName, OsFamily, SecretRef, SecretString, Spanned};

    fn workload(mounts: &[(&str, &str)]) -> Workload {
        Workload {
            name: "db-01".to_string(),
            ip: Spanned::unplaced("192.0.2.20".parse().expect("ip")),
            credentials: Credentials {
                username: "root".to_string(),
                password: Spanned::unplaced(SecretRef::Plain(SecretString::new(
                    "unused".to_string(),
                ))),
                domain: None,
            },
            os: OsFamily::Linux,
            mounts: mounts
                .iter()
                .map(|(name, path)| crate::plan::valid::Mount {
                    name: MountName::new(name),
                    size: 1024,
                    system: *name == "/",
                    path: path.to_string(),
                })
                .collect(),
            connection: None,
        }
    }

    fn migration(mounts: &[&str]) -> Migration {
        Migration {
            name: "db-01".to_string(),
            source: "db-01".to_string(),
            target: "vsphere-db-01".to_string(),
            mounts: mounts.iter().map(|name| MountName::new(name)).collect(),
            wave: None,
            hooks: Default::default(),
        }
    }

    #[test]
    fn nested_mounts_are_excluded_from_their_parent_selected_or_not() {
        let source = workload(&[
            ("/", ""),
            ("/var/lib/pgsql", "var/lib/pgsql"),
            ("/home", "home"),
            ("/var", "var"),
        ]);
        let jobs = mount_jobs(&source, &migration(&["/", "/var/lib/pgsql"])).expect("jobs");
        let shown: Vec<(String, String, String, Vec<String>)> = jobs
            .iter()
            .map(|job| {
                (
                    job.label.clone(),
                    job.source_root.to_string(),
                    job.target_root.to_string(),
                    job.excluded.iter().map(ToString::to_string).collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (
                    "/".into(),
                    ".".into(),
                    ".".into(),
                    vec!["home".into(), "var".into(), "var/lib/pgsql".into()]
                ),
                (
                    "/var/lib/pgsql".into(),
                    "var/lib/pgsql".into(),
                    "var/lib/pgsql".into(),
                    vec![]
                ),
            ]
        );
    }

    #[test]
    fn windows_drives_map_to_their_letter_and_a_custom_path_is_read_from() {
        let source = workload(&[("C:\\", "C"), ("d:", "volumes/data")]);
        let jobs = mount_jobs(&source, &migration(&["C:\\", "d:"])).expect("jobs");
        assert_eq!(jobs[0].target_root.as_str(), "C");
        assert!(jobs[0].excluded.is_empty());
        assert_eq!(jobs[1].source_root.as_str(), "volumes/data");
        assert_eq!(jobs[1].target_root.as_str(), "D");
        assert_eq!(jobs[1].label, "d:");
    }

    #[test]
    fn an_escaping_mount_path_is_refused() {
        let source = workload(&[("/", ""), ("/data", "../elsewhere")]);
        let error = mount_jobs(&source, &migration(&["/"])).expect_err("escaping path");
        assert_eq!(error.path, "../elsewhere");
    }

    #[test]
    fn storage_is_exactly_the_selected_mounts() {
        let source = workload(&[("/", ""), ("/home", "home"), ("/srv", "srv")]);
        let storage = target_storage(&source, &migration(&["/", "/srv"]));
        let names: Vec<&str> = storage.iter().map(|record| record.mount.as_str()).collect();
        assert_eq!(names, ["/", "/srv"]);
        assert!(storage.iter().all(|record| record.size == 1024));
    }
}
