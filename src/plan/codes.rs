//! The registry of diagnostic codes: each code's stable kebab-case name, severity, summary and `ferry explain` text.

use crate::plan::diagnostic::Severity;

macro_rules! codes {
    ($( $variant:ident => $name:literal, $severity:ident, $summary:literal; )*) => {
        /// A stable diagnostic code. The kebab-case name never changes once released:
        /// CI configurations and `ferry explain` depend on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable kebab-case name, e.g. `unknown-mount`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The severity a diagnostic with this code has unless a flag changes it.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// One line saying what the code means (SARIF rule descriptions, `ferry explain --list`).
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }

            /// The long explanation printed by `ferry explain`, with a wrong and a fixed example.
            pub fn explanation(self) -> &'static str {
                match self { $( Code::$variant => include_str!(concat!("explain/", $name, ".md")), )* }
            }
        }
    };
}

codes! {
    // Reading the file.
    InvalidEncoding => "invalid-encoding", Error, "the plan file is not valid UTF-8 text";
    EmptyPlan => "empty-plan", Error, "the plan file has no content";
    YamlSyntax => "yaml-syntax", Error, "the plan is not well-formed YAML";
    YamlLimit => "yaml-limit", Error, "the plan exceeds a safety limit (size, nesting depth or alias expansion)";
    DuplicateKey => "duplicate-key", Error, "a mapping has the same key twice";
    // The schema.
    UnsupportedVersion => "unsupported-version", Error, "the plan's `version` is not one this ferry understands";
    UnknownKey => "unknown-key", Error, "a key that the plan format does not have";
    MissingKey => "missing-key", Error, "a required key is missing";
    InvalidType => "invalid-type", Error, "a value has the wrong type (for example a list where a mapping belongs)";
    InvalidValue => "invalid-value", Error, "a value is not allowed here";
    // Workloads.
    MissingCredential => "missing-credential", Error, "a username or password is missing or empty";
    MissingIp => "missing-ip", Error, "a workload has no IP address, or an empty one";
    InvalidIp => "invalid-ip", Error, "an IP address that does not parse";
    DuplicateIp => "duplicate-ip", Error, "two sources share an IP address";
    TargetIpConflict => "target-ip-conflict", Error, "a target VM uses a source's IP address";
    InvalidSize => "invalid-size", Error, "a mount size that is zero or does not parse";
    InvalidMountName => "invalid-mount-name", Error, "a mount name with a `..` or `.` step, or a NUL character";
    DuplicateMount => "duplicate-mount", Error, "the same mount is listed twice";
    MultipleSystemVolumes => "multiple-system-volumes", Error, "more than one mount of a workload is marked as the system volume";
    PlaintextPassword => "plaintext-password", Warning, "a password is written in the plan in plain text";
    // Targets.
    UnknownCloud => "unknown-cloud", Error, "a cloud type other than aws, azure, vsphere or vcloud";
    TargetReused => "target-reused", Error, "one target VM receives two migrations";
    ConnectionCloudMismatch => "connection-cloud-mismatch", Error, "a connection does not suit the workload: `s3` only for aws target VMs, `azblob` only for azure ones";
    CapacityExceeded => "capacity-exceeded", Error, "the selected mounts are larger than the target VM's declared capacity";
    // Migrations.
    UnknownSource => "unknown-source", Error, "a migration names a source the plan does not define";
    UnknownTarget => "unknown-target", Error, "a migration names a target the plan does not define";
    UnknownMount => "unknown-mount", Error, "a selected mount does not exist on the source";
    EmptySelection => "empty-selection", Error, "a migration selects no mounts";
    MissingSystemVolume => "missing-system-volume", Error, "a migration does not select its source's system volume";
    DuplicateMigration => "duplicate-migration", Error, "two migrations have the same name";
    // Waves and hooks.
    UnknownWave => "unknown-wave", Error, "a migration names a wave the plan does not define";
    DuplicateWave => "duplicate-wave", Error, "two waves have the same name";
    MissingWave => "missing-wave", Error, "a migration is in no wave, in a plan that has waves";
    InvalidThreshold => "invalid-threshold", Error, "a wave's `max_failures` is neither a count of at least 0 nor a percentage up to 100%";
    UnknownHookPhase => "unknown-hook-phase", Error, "a hook phase other than `before`, `after` and `on_failure` (or the `env` map)";
    EmptyHookCommand => "empty-hook-command", Error, "a hook command with nothing to run";
    InvalidHookTimeout => "invalid-hook-timeout", Error, "a hook timeout that is not 1 second to 24 hours";
    HookPlaintextSecret => "hook-plaintext-secret", Warning, "a hook command line that seems to hold a password in plain text";
    // Recorded state (the state store).
    IpChanged => "ip-changed", Error, "a source's IP differs from the one recorded in state";
    IpRecordedElsewhere => "ip-recorded-elsewhere", Error, "a source's IP is recorded in state for another source";
    // Reading the file, as a command sees it.
    UnreadablePlan => "unreadable-plan", Error, "a plan file named on the command line cannot be read";
    // Running.
    MissingSecret => "missing-secret", Error, "a secret reference (environment variable or file) cannot be resolved";
}

impl Code {
    /// Looks a code up by its kebab-case name.
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|code| code.as_str() == name)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}
