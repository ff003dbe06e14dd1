//! Resolving the secrets (`{ env }`, `{ file }`, plain) the workloads' connections need (an SFTP
//! login's password, an object store's key or SAS token), reporting every missing one at once as
//! `missing-secret` diagnostics. Values never leave a `SecretString`.

use std::collections::HashMap;
use std::path::Path;

use crate::exec::connect::{Endpoint, Role};
use crate::exec::small_file::read_small_file;
use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::valid::{
    AzureBlobKey, Connection, Migration, SecretRef, SecretString, Span, Spanned, Workload,
};

/// The most a secret file may hold: passwords, keys and SAS tokens are far smaller.
pub const SECRET_FILE_LIMIT: usize = 16 * 1024;

/// Whether a workload's connection needs its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordNeed {
    /// A local directory (or no connection): no secret is read.
    None,
    /// SFTP with a private key: the password is used when it resolves (an encrypted key, or the
    /// key refused), and its absence is not an error.
    Optional,
    /// SFTP without a key: password login.
    Required,
}

/// Whether a workload's connection needs its (VM) password. Object stores need a cloud secret
/// instead: see [`connection_secret`].
pub fn password_need(workload: &Workload) -> PasswordNeed {
    match &workload.connection {
        None | Some(Connection::Local { .. }) => PasswordNeed::None,
        Some(Connection::Sftp(settings)) if settings.key.is_some() => PasswordNeed::Optional,
        Some(Connection::Sftp(_)) => PasswordNeed::Required,
        // Object stores are opened with the target's cloud credentials, not the VM's password.
        Some(Connection::S3(_) | Connection::AzureBlob(_)) => PasswordNeed::None,
    }
}

/// Which secret of the plan a connection reads, for messages and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretField {
    /// The workload's own `credentials.password` (an SFTP login).
    Password,
    /// The target's cloud `credentials.password`: an S3 secret access key or an Azure account key.
    CloudPassword,
    /// The `azblob` connection's `sas_token`.
    SasToken,
}

/// The secret a workload's connection needs, where the plan keeps it, and whether it is required.
fn connection_secret(
    workload: &Workload,
) -> Option<(&Spanned<SecretRef>, SecretField, PasswordNeed)> {
    match &workload.connection {
        Some(Connection::S3(settings)) => Some((
            &settings.secret_access_key,
            SecretField::CloudPassword,
            PasswordNeed::Required,
        )),
        Some(Connection::AzureBlob(settings)) => Some(match &settings.key {
            AzureBlobKey::AccountKey(key) => {
                (key, SecretField::CloudPassword, PasswordNeed::Required)
            }
            AzureBlobKey::SasToken(token) => (token, SecretField::SasToken, PasswordNeed::Required),
        }),
        _ => match password_need(workload) {
            PasswordNeed::None => None,
            need => Some((&workload.credentials.password, SecretField::Password, need)),
        },
    }
}

/// A secret that could not be resolved. Names the reference (variable or file), never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSecret {
    pub role: Role,
    pub workload: String,
    pub field: SecretField,
    /// Why it could not be resolved, e.g. "the environment variable `WEB01_PASSWORD` is not set".
    pub reason: String,
    /// What would fix it.
    pub help: String,
    /// Where the plan writes the reference.
    pub span: Span,
}

impl MissingSecret {
    fn label(&self) -> &'static str {
        match self.field {
            SecretField::Password => "this password cannot be resolved",
            SecretField::CloudPassword => "this key cannot be resolved",
            SecretField::SasToken => "this SAS token cannot be resolved",
        }
    }

    /// What the secret is, as the diagnostic's message says it.
    fn describe(&self) -> String {
        let whose = format!("{} `{}`", self.role.noun(), self.workload);
        match self.field {
            SecretField::Password => {
                format!("the password of {whose} is needed by its sftp connection")
            }
            SecretField::CloudPassword => format!(
                "the cloud credentials' password of {whose} (the storage key) is needed by its object-storage connection"
            ),
            SecretField::SasToken => {
                format!("the SAS token of {whose} is needed by its azblob connection")
            }
        }
    }
}

/// The resolved secrets: by workload (each connection needs at most one), and the variables
/// each migration's hooks ask for in their `env` map.
#[derive(Debug, Default)]
pub struct Secrets {
    passwords: HashMap<(Role, String), SecretString>,
    hook_env: HashMap<String, Vec<(String, SecretString)>>,
}

impl Secrets {
    /// The resolved secret of a workload's connection, when it needed one and it resolved: the
    /// SFTP password, or the object store's key or SAS token (what `connect::open_tree` takes).
    pub fn password(&self, role: Role, workload: &str) -> Option<&SecretString> {
        self.passwords.get(&(role, workload.to_string()))
    }

    /// The variables a migration's hooks asked for, resolved: name → value.
    pub fn hook_env(&self, migration: &str) -> &[(String, SecretString)] {
        self.hook_env.get(migration).map_or(&[], Vec::as_slice)
    }

    /// Every resolved value, for masking what hooks print.
    pub fn values(&self) -> Vec<SecretString> {
        let hooks = self.hook_env.values().flatten().map(|(_, value)| value);
        self.passwords.values().chain(hooks).cloned().collect()
    }

    /// Resolves the `env` map of each migration's hooks (`None` for a migration without hooks:
    /// its secrets are never read). Returns a `missing-secret` diagnostic for each one that
    /// cannot be resolved.
    pub fn resolve_hook_env<'plan>(
        &mut self,
        migrations: impl IntoIterator<Item = &'plan Migration>,
    ) -> Vec<Diagnostic> {
        let mut missing = Vec::new();
        for migration in migrations {
            if migration.hooks.is_empty() {
                continue;
            }
            let mut resolved = Vec::new();
            for (variable, reference) in &migration.hooks.env {
                match resolve(reference) {
                    Ok(value) => resolved.push((variable.clone(), value)),
                    Err((reason, help)) => missing.push(
                        Diagnostic::new(
                            Code::MissingSecret,
                            format!(
                                "the variable `{variable}` of migration `{}`'s hooks needs a secret, but {reason}",
                                migration.name
                            ),
                        )
                        .with_label(reference.span.clone(), "this secret cannot be resolved")
                        .with_help(help),
                    ),
                }
            }
            self.hook_env.insert(migration.name.clone(), resolved);
        }
        missing
    }
}

/// Resolves the secrets the given endpoints' connections need. Every required secret that
/// cannot be resolved is returned at once.
pub fn resolve_secrets<'plan>(
    endpoints: impl IntoIterator<Item = Endpoint<'plan>>,
) -> Result<Secrets, Vec<MissingSecret>> {
    let mut secrets = Secrets::default();
    let mut missing = Vec::new();
    for endpoint in endpoints {
        let key = (endpoint.role, endpoint.name.to_string());
        if secrets.passwords.contains_key(&key)
            || missing
                .iter()
                .any(|known: &MissingSecret| known.role == key.0 && known.workload == key.1)
        {
            continue;
        }
        let Some((reference, field, need)) = connection_secret(endpoint.workload) else {
            continue;
        };
        match resolve(reference) {
            Ok(value) => {
                secrets.passwords.insert(key, value);
            }
            Err((reason, help)) if need == PasswordNeed::Required => missing.push(MissingSecret {
                role: endpoint.role,
                workload: endpoint.name.to_string(),
                field,
                reason,
                help,
                span: reference.span.clone(),
            }),
            Err(_) => {}
        }
    }
    if missing.is_empty() {
        Ok(secrets)
    } else {
        Err(missing)
    }
}

/// Resolves one reference: `(reason, help)` when it cannot be.
pub fn resolve(secret: &SecretRef) -> Result<SecretString, (String, String)> {
    match secret {
        SecretRef::Plain(value) => Ok(value.clone()),
        SecretRef::Env(name) => {
            let help = format!("set `{name}` in ferry's environment, e.g. `export {name}=...`");
            match std::env::var(name) {
                Ok(value) if value.is_empty() => {
                    Err((format!("the environment variable `{name}` is empty"), help))
                }
                Ok(value) => Ok(SecretString::new(value)),
                Err(std::env::VarError::NotPresent) => Err((
                    format!("the environment variable `{name}` is not set"),
                    help,
                )),
                Err(std::env::VarError::NotUnicode(_)) => Err((
                    format!("the environment variable `{name}` is not valid UTF-8"),
                    help,
                )),
            }
        }
        SecretRef::File(path) => resolve_file(path),
    }
}

/// Reads a `{ file: PATH }` secret: a regular file (symlinks followed) of at most
/// [`SECRET_FILE_LIMIT`] bytes of UTF-8, without one trailing `\n` or `\r\n`; never empty.
/// A FIFO, device or directory is refused without being read, so nothing can block or stream.
fn resolve_file(path: &Path) -> Result<SecretString, (String, String)> {
    let shown = path.display();
    let help = format!(
        "write the secret to {shown}, a regular file of at most {SECRET_FILE_LIMIT} bytes (readable only by you, `chmod 600`); one trailing newline is ignored"
    );
    let bytes = read_small_file(path, SECRET_FILE_LIMIT).map_err(|error| {
        (
            format!("cannot read the secret file {shown}: {error}"),
            help.clone(),
        )
    })?;
    let Ok(mut value) = String::from_utf8(bytes) else {
        return Err((format!("the secret file {shown} is not UTF-8 text"), help));
    };
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    if value.is_empty() {
        return Err((format!("the secret file {shown} is empty"), help));
    }
    Ok(SecretString::new(value))
}

/// The `missing-secret` diagnostics, each labelled at the secret's place in the plan.
pub fn missing_secret_diagnostics(missing: &[MissingSecret]) -> Vec<Diagnostic> {
    missing
        .iter()
        .map(|secret| {
            let span = secret.span.clone();
            Diagnostic::new(
                Code::MissingSecret,
                format!("{}, but {}", secret.describe(), secret.reason),
            )
            .with_label(span, secret.label())
            .with_help(secret.help.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests;
