//! Resolution of checked plan entries to a `ValidPlan`: IPs and sizes parsed, OS and system volume
//! settled, paths made absolute, default migration names given, and the spans of the values later
//! checks label (IPs, secret references) kept beside them.

use std::path::{Component, Path, PathBuf};

use indexmap::IndexMap;

use crate::plan::mount_name::{MountName, is_windows_name};
use crate::plan::raw::{
    OsFamily, RawConnection, RawCredentials, RawMount, RawSecret, RawTarget, RawWorkload,
    SecretReference,
};
use crate::plan::valid::{
    AzureBlobKey, AzureBlobSettings, Connection, Credentials, Migration, Mount, S3Settings,
    SecretRef, SecretString, SftpSettings, Spanned, Target, ValidPlan, Workload,
};
use crate::plan::yaml::Locate;

use super::PlanEntries;
use super::addresses::parse_ip;
use super::migrations::effective_names;
use super::size::parse_size;
use super::spans::{Pointer, Spans};
use super::system_volume::{SystemVolume, system_volume};

mod runbook;

/// What resolving needs beside the entries: the folder relative paths resolve against, and the
/// plan's tree, for the spans the `ValidPlan` keeps.
struct Resolver<'a> {
    base_dir: &'a Path,
    spans: Spans<'a>,
}

pub(super) fn resolve(
    entries: &PlanEntries,
    plan_file: &Path,
    base_dir: &Path,
    locator: &dyn Locate,
) -> Option<ValidPlan> {
    let resolver = Resolver {
        base_dir,
        spans: Spans::new(locator),
    };
    let mut sources = IndexMap::new();
    for entry in &entries.sources {
        let pointer = Pointer::root().key("sources").key(&entry.name);
        let raw = entry.value.as_ref()?;
        let workload = resolver.workload(&entry.name, raw, None, &pointer)?;
        if sources.insert(entry.name.clone(), workload).is_some() {
            return None;
        }
    }
    let mut targets = IndexMap::new();
    for entry in &entries.targets {
        let target = resolver.target(&entry.name, entry.value.as_ref()?)?;
        if targets.insert(entry.name.clone(), target).is_some() {
            return None;
        }
    }
    let waves = runbook::waves(entries.waves.as_deref())?;
    let names = effective_names(&entries.migrations);
    let mut migrations = Vec::new();
    for (index, (migration, name)) in entries.migrations.iter().zip(names).enumerate() {
        let migration = migration.as_ref()?;
        let source: &Workload = sources.get(&migration.source)?;
        targets.get(&migration.target)?;
        let mut mounts: Vec<MountName> = Vec::new();
        for written in &migration.mounts {
            let mount = MountName::new(written);
            if written.trim().is_empty()
                || source.mount(&mount).is_none()
                || mounts.contains(&mount)
            {
                return None;
            }
            mounts.push(mount);
        }
        let pointer = Pointer::root().key("migrations").index(index);
        migrations.push(Migration {
            name: name?,
            source: migration.source.clone(),
            target: migration.target.clone(),
            mounts,
            wave: migration.wave.clone(),
            hooks: resolver.hooks(entries.waves.as_deref(), migration, &pointer)?,
        });
    }
    Some(ValidPlan {
        file: plan_file.to_path_buf(),
        base_dir: base_dir.to_path_buf(),
        sources,
        targets,
        migrations,
        waves,
    })
}

impl Resolver<'_> {
    fn target(&self, name: &str, target: &RawTarget) -> Option<Target> {
        let pointer = Pointer::root().key("targets").key(name);
        let credentials = self.credentials(&target.credentials, &pointer);
        Some(Target {
            name: name.to_string(),
            cloud: target.cloud,
            vm: self.workload(name, &target.vm, Some(&credentials), &pointer.key("vm"))?,
            credentials,
        })
    }

    /// `cloud_credentials` are the target's, for a target's VM (they open object storage); `None`
    /// for a source. `pointer` leads to the workload (`/sources/NAME`, `/targets/NAME/vm`).
    fn workload(
        &self,
        name: &str,
        workload: &RawWorkload,
        cloud_credentials: Option<&Credentials>,
        pointer: &Pointer,
    ) -> Option<Workload> {
        let os = workload.os.unwrap_or_else(|| {
            if workload
                .mountpoints
                .iter()
                .any(|mount| is_windows_name(&mount.name))
            {
                OsFamily::Windows
            } else {
                OsFamily::Linux
            }
        });
        let system_index = match system_volume(&workload.mountpoints) {
            SystemVolume::Ambiguous(_) => return None,
            system => system.index(),
        };
        let mut mounts = Vec::with_capacity(workload.mountpoints.len());
        for (index, mount) in workload.mountpoints.iter().enumerate() {
            mounts.push(resolve_mount(mount, system_index == Some(index))?);
        }
        let connection_pointer = pointer.key("connection");
        Some(Workload {
            name: name.to_string(),
            ip: Spanned::new(
                parse_ip(&workload.ip)?,
                self.spans.value(&pointer.key("ip")),
            ),
            credentials: self.credentials(&workload.credentials, pointer),
            os,
            mounts,
            connection: match &workload.connection {
                Some(connection) => {
                    Some(self.connection(connection, cloud_credentials, &connection_pointer)?)
                }
                None => None,
            },
        })
    }

    /// The credentials below `owner` (a workload, or a target for its cloud credentials).
    fn credentials(&self, credentials: &RawCredentials, owner: &Pointer) -> Credentials {
        let password = match &credentials.password {
            RawSecret::Plain(text) => SecretRef::Plain(SecretString::new(text.clone())),
            RawSecret::Env(env) => SecretRef::Env(env.env.trim().to_string()),
            RawSecret::File(file) => SecretRef::File(against(self.base_dir, file.file.trim())),
        };
        let password_pointer = owner.key("credentials").key("password");
        Credentials {
            username: credentials.username.clone(),
            password: Spanned::new(password, self.spans.value(&password_pointer)),
            domain: credentials.domain.clone(),
        }
    }

    /// `None` for object storage on a source (`check` reports it: only target VMs have cloud
    /// credentials). `pointer` leads to the workload's `connection`.
    fn connection(
        &self,
        connection: &RawConnection,
        cloud_credentials: Option<&Credentials>,
        pointer: &Pointer,
    ) -> Option<Connection> {
        let base_dir = self.base_dir;
        Some(match connection {
            RawConnection::Local(local) => Connection::Local {
                path: against(base_dir, &local.path),
            },
            RawConnection::Sftp(sftp) => Connection::Sftp(SftpSettings {
                port: sftp.port,
                root: sftp.root.clone(),
                key: sftp.key.as_deref().map(|key| against(base_dir, key)),
                host_key: sftp.host_key.clone(),
                known_hosts: sftp
                    .known_hosts
                    .as_deref()
                    .map(|file| against(base_dir, file)),
                accept_new_host_key: sftp.accept_new_host_key,
            }),
            RawConnection::S3(s3) => {
                let credentials = cloud_credentials?;
                Connection::S3(S3Settings {
                    bucket: s3.bucket.trim().to_string(),
                    prefix: normalise_prefix(s3.prefix.as_deref()),
                    region: s3
                        .region
                        .as_deref()
                        .or(credentials.domain.as_deref())
                        .map(str::trim)
                        .filter(|region| !region.is_empty())
                        .unwrap_or("us-east-1")
                        .to_string(),
                    endpoint: s3
                        .endpoint
                        .as_deref()
                        .map(|endpoint| endpoint.trim().to_string()),
                    access_key_id: credentials.username.trim().to_string(),
                    secret_access_key: credentials.password.clone(),
                })
            }
            RawConnection::AzureBlob(blob) => {
                let credentials = cloud_credentials?;
                Connection::AzureBlob(AzureBlobSettings {
                    container: blob.container.trim().to_string(),
                    prefix: normalise_prefix(blob.prefix.as_deref()),
                    account: blob
                        .account
                        .as_deref()
                        .unwrap_or(&credentials.username)
                        .trim()
                        .to_string(),
                    endpoint: blob
                        .endpoint
                        .as_deref()
                        .map(|endpoint| endpoint.trim().to_string()),
                    key: match &blob.sas_token {
                        Some(token) => {
                            let token = match token {
                                SecretReference::Env(env) => {
                                    SecretRef::Env(env.env.trim().to_string())
                                }
                                SecretReference::File(file) => {
                                    SecretRef::File(against(base_dir, file.file.trim()))
                                }
                            };
                            let token_pointer = pointer.key("azblob").key("sas_token");
                            AzureBlobKey::SasToken(Spanned::new(
                                token,
                                self.spans.value(&token_pointer),
                            ))
                        }
                        None => AzureBlobKey::AccountKey(credentials.password.clone()),
                    },
                })
            }
        })
    }
}

fn resolve_mount(mount: &RawMount, system: bool) -> Option<Mount> {
    if mount.name.trim().is_empty() {
        return None;
    }
    let name = MountName::new(&mount.name);
    let path = match &mount.path {
        Some(path) => normalise_relative_path(path)?,
        None => name.relative_path(),
    };
    Some(Mount {
        name,
        size: parse_size(&mount.size).ok()?,
        system,
        path,
    })
}

/// `a\b/./c/` as `a/b/c`; `None` for absolute paths and paths with `..` (`check` reports them).
fn normalise_relative_path(path: &str) -> Option<String> {
    let trimmed = path.trim();
    let bytes = trimmed.as_bytes();
    let has_drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if trimmed.starts_with(['/', '\\']) || has_drive {
        return None;
    }
    let mut parts = Vec::new();
    for part in trimmed.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return None,
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `/wave-1//web-01/` as `wave-1/web-01`; nothing as the empty prefix.
fn normalise_prefix(prefix: Option<&str>) -> String {
    prefix
        .unwrap_or("")
        .split('/')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The path itself when absolute, else joined to the plan's folder.
fn against(base_dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        let relative: PathBuf = path
            .components()
            .filter(|component| *component != Component::CurDir)
            .collect();
        base_dir.join(relative)
    }
}

#[cfg(test)]
mod tests;
