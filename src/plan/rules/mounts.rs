//! Rules on a workload's `mountpoints`: `invalid-size`, `duplicate-mount`, `multiple-system-volumes`,
//! `invalid-mount-name` for names with `..` or `.` steps, and `invalid-value` for blank names and
//! for data paths that are absolute or climb out with `..`.

use std::collections::HashMap;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::mount_name::{MountName, unsafe_name_problem};
use crate::plan::raw::RawMount;

use super::WorkloadEntry;
use super::size::parse_size;
use super::spans::{Pointer, Spans};
use super::system_volume::{SystemVolume, system_volume};

pub(super) fn check_mountpoints(
    workload: &WorkloadEntry<'_>,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let owner = workload.describe();
    let list = workload.pointer.key("mountpoints");
    let mut first_by_name: HashMap<MountName, usize> = HashMap::new();
    for (index, mount) in workload.value.mountpoints.iter().enumerate() {
        let pointer = list.index(index);
        if !check_mount(mount, &owner, &pointer, spans, diagnostics) {
            continue;
        }
        let name = MountName::new(&mount.name);
        match first_by_name.get(&name) {
            None => {
                first_by_name.insert(name, index);
            }
            Some(&first) => {
                let first_name = &workload.value.mountpoints[first].name;
                diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateMount,
                        format!("mount `{first_name}` is listed twice on {owner}"),
                    )
                    .with_label(spans.value(&pointer.key("name")), "listed again here")
                    .with_label(
                        spans.value(&list.index(first).key("name")),
                        "first listed here",
                    )
                    .with_help(same_mount_help(first_name, &mount.name)),
                );
            }
        }
    }
    check_system_volumes(workload, &owner, &list, spans, diagnostics);
}

/// One mount's size, data path and name; `false` when its name is blank (nothing more to check).
fn check_mount(
    mount: &RawMount,
    owner: &str,
    pointer: &Pointer,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    if let Err(error) = parse_size(&mount.size) {
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidSize,
                format!(
                    "invalid size for mount `{}` of {owner}: {error}",
                    mount.name
                ),
            )
            .with_label(spans.value(&pointer.key("size")), error.to_string())
            .with_help(
                "write integer bytes or a number with a unit: `512 MiB`, `40 GiB`, `1.5 TB`",
            ),
        );
    }
    if let Some(path) = &mount.path
        && let Some(problem) = path_problem(path)
    {
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!(
                    "the data path `{path}` of mount `{}` of {owner} {problem}",
                    mount.name
                ),
            )
            .with_label(spans.value(&pointer.key("path")), problem)
            .with_help(
                "write a path relative to the connection's root, such as `C` or `volumes/data`",
            ),
        );
    }
    if mount.name.trim().is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!("a mount of {owner} has a blank name"),
            )
            .with_label(spans.value(&pointer.key("name")), "blank mount name")
            .with_help("write the mount's name as the OS shows it, such as `C:\\` or `/data`"),
        );
        return false;
    }
    if let Some(problem) = unsafe_name_problem(&mount.name) {
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidMountName,
                format!("the mount name `{}` of {owner} {problem}", mount.name),
            )
            .with_label(spans.value(&pointer.key("name")), problem)
            .with_help(
                "write the name as the OS shows it, such as `C:\\` or `/data`, with no `..` or `.` steps",
            ),
        );
    }
    true
}

/// `multiple-system-volumes`: more than one mount marked `system: true`.
fn check_system_volumes(
    workload: &WorkloadEntry<'_>,
    owner: &str,
    list: &Pointer,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let SystemVolume::Ambiguous(indexes) = system_volume(&workload.value.mountpoints) else {
        return;
    };
    let names: Vec<&str> = indexes
        .iter()
        .map(|&index| workload.value.mountpoints[index].name.as_str())
        .collect();
    let mut diagnostic = Diagnostic::new(
        Code::MultipleSystemVolumes,
        format!(
            "{owner} has {} mounts marked as the system volume: {}",
            indexes.len(),
            names.join(", ")
        ),
    )
    .with_help("mark only the volume the operating system boots from with `system: true`");
    for (position, &index) in indexes.iter().enumerate() {
        let message = if position == 0 {
            "marked as the system volume"
        } else {
            "also marked as the system volume"
        };
        diagnostic = diagnostic.with_label(spans.value(&list.index(index).key("system")), message);
    }
    diagnostics.push(diagnostic);
}

/// Explains that two spellings name one mount, when they differ.
pub(super) fn same_mount_help(first: &str, second: &str) -> String {
    if first == second {
        "remove one of them".to_string()
    } else {
        format!("`{first}` and `{second}` name the same mount; remove one of them")
    }
}

/// Why a mount's data path is not allowed, if it is not.
fn path_problem(path: &str) -> Option<&'static str> {
    let trimmed = path.trim();
    let bytes = trimmed.as_bytes();
    let has_drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if trimmed.starts_with(['/', '\\']) || has_drive {
        Some("is absolute; it must be relative to the connection's root")
    } else if trimmed.split(['/', '\\']).any(|segment| segment == "..") {
        Some("climbs out of the connection's root with `..`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{sample_plan, with_code};
    use crate::plan::codes::Code;

    #[test]
    fn zero_unparsable_and_huge_sizes_are_invalid() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["mountpoints"][0]["size"] = json!(0);
        plan["sources"]["web-01"]["mountpoints"][1]["size"] = json!("lots");
        plan["targets"]["aws-1"]["vm"]["mountpoints"][0]["size"] = json!("20 EiB");
        let found = with_code(&plan, Code::InvalidSize);
        let places: Vec<_> = found
            .iter()
            .map(|found| found.places()[0].to_string())
            .collect();
        assert_eq!(
            places,
            [
                "value /sources/web-01/mountpoints/0/size",
                "value /sources/web-01/mountpoints/1/size",
                "value /targets/aws-1/vm/mountpoints/0/size",
            ]
        );
        assert!(found[0].message.contains("greater than zero"));
        assert!(found[2].message.contains("larger than"));
        assert!(with_code(&sample_plan(), Code::InvalidSize).is_empty());
    }

    #[test]
    fn a_mount_listed_twice_labels_both() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["mountpoints"][1]["name"] = json!("c:");
        plan["targets"]["aws-1"]["vm"]["mountpoints"] =
            json!([{"name": "/data", "size": 1}, {"name": "/data/", "size": 1}]);
        let found = with_code(&plan, Code::DuplicateMount);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].labels,
            [
                (
                    "value /sources/web-01/mountpoints/1/name".to_string(),
                    "listed again here".to_string()
                ),
                (
                    "value /sources/web-01/mountpoints/0/name".to_string(),
                    "first listed here".to_string()
                ),
            ]
        );
        assert_eq!(
            found[1].places(),
            [
                "value /targets/aws-1/vm/mountpoints/1/name",
                "value /targets/aws-1/vm/mountpoints/0/name"
            ]
        );
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap()
                .contains("name the same mount")
        );
    }

    #[test]
    fn posix_names_differing_in_case_are_distinct() {
        let mut plan = sample_plan();
        plan["sources"]["db-01"]["mountpoints"][0]["name"] = json!("/Data");
        assert!(with_code(&plan, Code::DuplicateMount).is_empty());
    }

    #[test]
    fn several_system_volumes_label_all() {
        let mut plan = sample_plan();
        plan["sources"]["db-01"]["mountpoints"] = json!([
            {"name": "/", "size": 1, "system": true},
            {"name": "/boot", "size": 1, "system": false},
            {"name": "/data", "size": 1, "system": true},
            {"name": "/srv", "size": 1, "system": true}
        ]);
        let found = with_code(&plan, Code::MultipleSystemVolumes);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            [
                "value /sources/db-01/mountpoints/0/system",
                "value /sources/db-01/mountpoints/2/system",
                "value /sources/db-01/mountpoints/3/system",
            ]
        );
        plan["sources"]["db-01"]["mountpoints"][2]["system"] = json!(false);
        plan["sources"]["db-01"]["mountpoints"][3]["system"] = json!(false);
        assert!(with_code(&plan, Code::MultipleSystemVolumes).is_empty());
    }

    #[test]
    fn data_paths_must_stay_inside_the_root() {
        let mut plan = sample_plan();
        let mounts = &mut plan["sources"]["web-01"]["mountpoints"];
        mounts[0]["path"] = json!("/abs/C");
        mounts[1]["path"] = json!("disks\\..\\..\\D");
        plan["sources"]["db-01"]["mountpoints"][0]["path"] = json!("C:\\root");
        plan["sources"]["db-01"]["mountpoints"][1]["path"] = json!("volumes/data..old");
        let found = with_code(&plan, Code::InvalidValue);
        let places: Vec<_> = found
            .iter()
            .map(|found| found.places()[0].to_string())
            .collect();
        assert_eq!(
            places,
            [
                "value /sources/web-01/mountpoints/0/path",
                "value /sources/web-01/mountpoints/1/path",
                "value /sources/db-01/mountpoints/0/path",
            ]
        );
    }

    #[test]
    fn blank_mount_names_are_invalid() {
        let mut plan = sample_plan();
        plan["sources"]["db-01"]["mountpoints"][1]["name"] = json!(" ");
        let found = with_code(&plan, Code::InvalidValue);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            ["value /sources/db-01/mountpoints/1/name"]
        );
    }

    #[test]
    fn mount_names_with_dot_steps_are_invalid() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["mountpoints"][0]["name"] = json!("C:\\..\\..");
        plan["sources"]["db-01"]["mountpoints"][1]["name"] = json!("/../../x");
        plan["targets"]["aws-1"]["vm"]["mountpoints"][0]["name"] =
            json!("\\\\server\\share\\..\\..");
        let found = with_code(&plan, Code::InvalidMountName);
        let places: Vec<_> = found
            .iter()
            .map(|found| found.places()[0].to_string())
            .collect();
        assert_eq!(
            places,
            [
                "value /sources/web-01/mountpoints/0/name",
                "value /sources/db-01/mountpoints/1/name",
                "value /targets/aws-1/vm/mountpoints/0/name",
            ]
        );
        assert!(found[0].message.contains("climbs out with `..`"));
        assert!(with_code(&sample_plan(), Code::InvalidMountName).is_empty());
    }
}
