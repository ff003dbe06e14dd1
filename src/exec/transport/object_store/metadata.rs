//! What ferry keeps as object metadata (mtime, mode, BLAKE3 hash, symlink target) and how it is spelled
//! per service: `ferry-mtime` on S3; `ferry_mtime` on Azure, whose metadata names must be C# identifiers.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::object_store::{Attribute, AttributeValue, Attributes};

/// The metadata names one service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MetadataNames {
    /// Modification time: Unix seconds and nanoseconds, `1700000000.123456789`.
    pub(super) modified: &'static str,
    /// Permission bits in octal, `644`.
    pub(super) mode: &'static str,
    /// The content's BLAKE3 hash, 64 lowercase hex digits.
    pub(super) content_hash: &'static str,
    /// Marks a symlink stored as a small object: the link's target text.
    pub(super) symlink_target: &'static str,
}

pub(super) const S3_NAMES: MetadataNames = MetadataNames {
    modified: "ferry-mtime",
    mode: "ferry-mode",
    content_hash: "ferry-blake3",
    symlink_target: "ferry-symlink-target",
};

pub(super) const AZURE_NAMES: MetadataNames = MetadataNames {
    modified: "ferry_mtime",
    mode: "ferry_mode",
    content_hash: "ferry_blake3",
    symlink_target: "ferry_symlink_target",
};

/// ferry's metadata of one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FerryMetadata {
    pub(super) modified: Option<SystemTime>,
    pub(super) mode: Option<u32>,
    pub(super) content_hash: Option<[u8; 32]>,
    pub(super) symlink_target: Option<String>,
}

impl FerryMetadata {
    /// As `name -> value` pairs without the service's header prefix.
    pub(super) fn to_map(&self, names: MetadataNames) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        if let Some(modified) = self.modified.and_then(format_time) {
            map.insert(names.modified.to_string(), modified);
        }
        if let Some(mode) = self.mode {
            map.insert(names.mode.to_string(), format!("{mode:o}"));
        }
        if let Some(hash) = &self.content_hash {
            map.insert(
                names.content_hash.to_string(),
                blake3::Hash::from_bytes(*hash).to_hex().to_string(),
            );
        }
        if let Some(target) = &self.symlink_target {
            map.insert(names.symlink_target.to_string(), encode_text(target));
        }
        map
    }

    /// As `object_store` attributes for an upload.
    pub(super) fn attributes(&self, names: MetadataNames) -> Attributes {
        let mut attributes = Attributes::new();
        for (name, value) in self.to_map(names) {
            attributes.insert(
                Attribute::Metadata(name.into()),
                AttributeValue::from(value),
            );
        }
        attributes
    }

    /// Read back from the user metadata of a HEAD or GET; unknown or malformed values are ignored.
    pub(super) fn from_attributes(names: MetadataNames, attributes: &Attributes) -> Self {
        let mut metadata = Self::default();
        for (attribute, value) in attributes {
            let Attribute::Metadata(name) = attribute else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            let value: &str = value.as_ref();
            if name == names.modified {
                metadata.modified = parse_time(value);
            } else if name == names.mode {
                metadata.mode = u32::from_str_radix(value.trim(), 8).ok();
            } else if name == names.content_hash {
                metadata.content_hash = blake3::Hash::from_hex(value.trim())
                    .ok()
                    .map(|hash| *hash.as_bytes());
            } else if name == names.symlink_target {
                metadata.symlink_target = decode_text(value);
            }
        }
        metadata
    }
}

fn format_time(time: SystemTime) -> Option<String> {
    let since = time.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09}", since.as_secs(), since.subsec_nanos()))
}

fn parse_time(text: &str) -> Option<SystemTime> {
    let (seconds, nanos) = text.trim().split_once('.').unwrap_or((text.trim(), "0"));
    let seconds: u64 = seconds.parse().ok()?;
    let nanos: u32 = if nanos.len() == 9 {
        nanos.parse().ok()?
    } else {
        return None;
    };
    UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))
}

/// Header values must be printable ASCII: symlink targets are percent-encoded beyond that (and `%` itself).
fn encode_text(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn decode_text(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_through_attributes() {
        let metadata = FerryMetadata {
            modified: Some(UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789)),
            mode: Some(0o640),
            content_hash: Some(*blake3::hash(b"hello").as_bytes()),
            symlink_target: Some("../Dokumente/Übersicht 100%.txt".to_string()),
        };
        for names in [S3_NAMES, AZURE_NAMES] {
            let map = metadata.to_map(names);
            assert_eq!(map[names.mode], "640");
            assert_eq!(map[names.modified], "1700000000.123456789");
            assert!(map.values().all(|value| value.is_ascii()));
            let back = FerryMetadata::from_attributes(names, &metadata.attributes(names));
            assert_eq!(back, metadata);
        }
        assert!(
            !AZURE_NAMES.modified.contains('-'),
            "Azure names are C# identifiers"
        );
    }
}
