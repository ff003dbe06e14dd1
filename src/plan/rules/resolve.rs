//! Resolution of checked plan entries to a `ValidPlan`: IPs and sizes parsed, OS and system volume
//! settled, paths made absolute, default migration names given.

use std::path::{Component, Path, PathBuf};

use indexmap::IndexMap;

use crate::plan::mount_name::{MountName, is_windows_name};
use crate::plan::raw::{
    OsFamily, RawConnection, RawCredentials, RawMount, RawSecret, RawTarget, RawWorkload,
    SecretReference,
};
use crate::plan::valid::{
    AzureBlobKey, AzureBlobSettings, Connection, Credentials, Migration, Mount, S3Settings,
    SecretRef, SecretString, SftpSettings, Target, ValidPlan, Workload,
};

use super::PlanEntries;
use super::addresses::parse_ip;
use super::migrations::effective_names;
use super::size::parse_size;
use super::system_volume::{SystemVolume, system_volume};

pub(super) fn resolve(
    entries: &PlanEntries,
    plan_file: &Path,
    base_dir: &Path,
) -> Option<ValidPlan> {
    let mut sources = IndexMap::new();
    for entry in &entries.sources {
        let workload = resolve_workload(&entry.name, entry.value.as_ref()?, None, base_dir)?;
        if sources.insert(entry.name.clone(), workload).is_some() {
            return None;
        }
    }
    let mut targets = IndexMap::new();
    for entry in &entries.targets {
        let target = resolve_target(&entry.name, entry.value.as_ref()?, base_dir)?;
        if targets.insert(entry.name.clone(), target).is_some() {
            return None;
        }
    }
    let names = effective_names(&entries.migrations);
    let mut migrations = Vec::new();
    for (migration, name) in entries.migrations.iter().zip(names) {
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
        migrations.push(Migration {
            name: name?,
            source: migration.source.clone(),
            target: migration.target.clone(),
            mounts,
        });
    }
    Some(ValidPlan {
        file: plan_file.to_path_buf(),
        base_dir: base_dir.to_path_buf(),
        sources,
        targets,
        migrations,
    })
}

fn resolve_target(name: &str, target: &RawTarget, base_dir: &Path) -> Option<Target> {
    let credentials = resolve_credentials(&target.credentials, base_dir);
    Some(Target {
        name: name.to_string(),
        cloud: target.cloud,
        vm: resolve_workload(name, &target.vm, Some(&credentials), base_dir)?,
        credentials,
    })
}

/// `cloud_credentials` are the target's, for a target's VM (they open object storage); `None` for a source.
fn resolve_workload(
    name: &str,
    workload: &RawWorkload,
    cloud_credentials: Option<&Credentials>,
    base_dir: &Path,
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
    Some(Workload {
        name: name.to_string(),
        ip: parse_ip(&workload.ip)?,
        credentials: resolve_credentials(&workload.credentials, base_dir),
        os,
        mounts,
        connection: match &workload.connection {
            Some(connection) => Some(resolve_connection(connection, cloud_credentials, base_dir)?),
            None => None,
        },
    })
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

fn resolve_credentials(credentials: &RawCredentials, base_dir: &Path) -> Credentials {
    Credentials {
        username: credentials.username.clone(),
        password: match &credentials.password {
            RawSecret::Plain(text) => SecretRef::Plain(SecretString::new(text.clone())),
            RawSecret::Env(env) => SecretRef::Env(env.env.trim().to_string()),
            RawSecret::File(file) => SecretRef::File(against(base_dir, file.file.trim())),
        },
        domain: credentials.domain.clone(),
    }
}

/// `None` for object storage on a source (`check` reports it: only target VMs have cloud credentials).
fn resolve_connection(
    connection: &RawConnection,
    cloud_credentials: Option<&Credentials>,
    base_dir: &Path,
) -> Option<Connection> {
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
                    Some(SecretReference::Env(env)) => {
                        AzureBlobKey::SasToken(SecretRef::Env(env.env.trim().to_string()))
                    }
                    Some(SecretReference::File(file)) => {
                        AzureBlobKey::SasToken(SecretRef::File(against(base_dir, file.file.trim())))
                    }
                    None => AzureBlobKey::AccountKey(credentials.password.clone()),
                },
            })
        }
    })
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
