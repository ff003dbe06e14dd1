//! The `capacity-exceeded` rule: a migration's selected mounts must fit the target VM's declared mounts.

use bytesize::ByteSize;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::mount_name::MountName;
use crate::plan::raw::{RawMount, RawWorkload};

use super::selection::{Selection, find_mount};
use super::size::parse_size;
use super::spans::{Pointer, Spans};

/// `capacity-exceeded`, when the target VM declares its mounts and every size involved is valid.
pub(super) fn check_capacity(
    selection: &Selection<'_>,
    source: &RawWorkload,
    vm: &RawWorkload,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if vm.mountpoints.is_empty() {
        return;
    }
    let Some(declared) = total_size(vm.mountpoints.iter()) else {
        return;
    };
    let mut seen: Vec<MountName> = Vec::new();
    let mut selected_mounts = Vec::new();
    for (_, written) in selection.names() {
        let name = MountName::new(written);
        if seen.contains(&name) {
            continue;
        }
        if let Some(mount) = find_mount(&source.mountpoints, &name) {
            selected_mounts.push(mount);
        }
        seen.push(name);
    }
    let Some(selected) = total_size(selected_mounts.into_iter()) else {
        return;
    };
    if selected <= declared {
        return;
    }
    let target = &selection.migration.target;
    let (selected, declared) = (ByteSize(selected), ByteSize(declared));
    diagnostics.push(
        Diagnostic::new(
            Code::CapacityExceeded,
            format!(
                "migration `{}` moves more than the VM of target `{target}` holds: {selected} selected, {declared} declared",
                selection.name
            ),
        )
        .with_label(spans.value(&selection.pointer), format!("{selected} selected"))
        .with_label(
            spans.key(&Pointer::root().key("targets").key(target).key("vm").key("mountpoints")),
            format!("{declared} declared"),
        )
        .with_help("select fewer mounts, or declare larger mounts on the target VM"),
    );
}

/// The sum of the sizes, or `None` when one is invalid (already reported) or the sum overflows.
fn total_size<'a>(mut mounts: impl Iterator<Item = &'a RawMount>) -> Option<u64> {
    mounts.try_fold(0u64, |total, mount| {
        total.checked_add(parse_size(&mount.size).ok()?)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{sample_plan, with_code};
    use crate::plan::codes::Code;

    #[test]
    fn capacity_is_checked_when_the_vm_declares_mounts() {
        let mut plan = sample_plan();
        plan["targets"]["aws-1"]["vm"]["mountpoints"] =
            json!([{"name": "C:\\", "size": "40 GiB"}, {"name": "D:\\", "size": "24 GiB"}]);
        plan["sources"]["web-01"]["mountpoints"][1]["size"] = json!("120 GiB");
        let found = with_code(&plan, Code::CapacityExceeded);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].labels,
            [
                (
                    "value /migrations/0/mounts".to_string(),
                    "160.0 GiB selected".to_string()
                ),
                (
                    "key /targets/aws-1/vm/mountpoints".to_string(),
                    "64.0 GiB declared".to_string()
                ),
            ]
        );
        assert!(
            found[0]
                .message
                .contains("160.0 GiB selected, 64.0 GiB declared")
        );
        // Only the selected mounts count.
        plan["migrations"][0]["mounts"] = json!(["C:\\"]);
        assert!(with_code(&plan, Code::CapacityExceeded).is_empty());
    }

    #[test]
    fn capacity_is_not_checked_without_declared_mounts_or_with_invalid_sizes() {
        let mut plan = sample_plan();
        plan["migrations"][1]["target"] = json!("aws-1");
        plan["migrations"][0]["target"] = json!("azure-1");
        assert!(with_code(&plan, Code::CapacityExceeded).is_empty());
        let mut plan = sample_plan();
        plan["targets"]["aws-1"]["vm"]["mountpoints"][0]["size"] = json!("1 GiB");
        assert_eq!(with_code(&plan, Code::CapacityExceeded).len(), 1);
        plan["sources"]["web-01"]["mountpoints"][1]["size"] = json!("huge");
        assert!(with_code(&plan, Code::CapacityExceeded).is_empty());
    }
}
