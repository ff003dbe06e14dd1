//! Which mount of a workload is its system volume: the one marked `system: true`, else `C:\`, else `/`.

use crate::plan::mount_name::MountName;
use crate::plan::raw::RawMount;

/// The outcome of looking for a workload's system volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SystemVolume {
    /// No mount is marked and there is no `C:\` or `/` (or they are opted out with `system: false`).
    None,
    /// The index of the system volume in `mountpoints`.
    One(usize),
    /// Several mounts are marked `system: true`: their indexes, in order.
    Ambiguous(Vec<usize>),
}

impl SystemVolume {
    /// The index of the system volume when there is exactly one.
    pub(super) fn index(&self) -> Option<usize> {
        match self {
            SystemVolume::One(index) => Some(*index),
            SystemVolume::None | SystemVolume::Ambiguous(_) => None,
        }
    }
}

/// Finds the system volume. `system: false` on `C:\` or `/` opts that mount out of the default.
pub(super) fn system_volume(mounts: &[RawMount]) -> SystemVolume {
    let marked: Vec<usize> = mounts
        .iter()
        .enumerate()
        .filter(|(_, mount)| mount.system == Some(true))
        .map(|(index, _)| index)
        .collect();
    match marked.as_slice() {
        [] => {}
        [index] => return SystemVolume::One(*index),
        _ => return SystemVolume::Ambiguous(marked),
    }
    for default in ["C:\\", "/"] {
        let default = MountName::new(default);
        let found = mounts
            .iter()
            .position(|mount| mount.system != Some(false) && is_named(mount, &default));
        if let Some(index) = found {
            return SystemVolume::One(index);
        }
    }
    SystemVolume::None
}

fn is_named(mount: &RawMount, name: &MountName) -> bool {
    !mount.name.trim().is_empty() && MountName::new(&mount.name) == *name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(value: serde_json::Value) -> Vec<RawMount> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_marked_mount_wins() {
        let list = mounts(serde_json::json!([
            {"name": "C:\\", "size": 1}, {"name": "D:\\", "size": 1, "system": true}
        ]));
        assert_eq!(system_volume(&list), SystemVolume::One(1));
    }

    #[test]
    fn defaults_to_the_c_drive_then_the_root() {
        let windows =
            mounts(serde_json::json!([{"name": "D:\\", "size": 1}, {"name": "c:", "size": 1}]));
        assert_eq!(system_volume(&windows), SystemVolume::One(1));
        let posix =
            mounts(serde_json::json!([{"name": "/data", "size": 1}, {"name": "/", "size": 1}]));
        assert_eq!(system_volume(&posix), SystemVolume::One(1));
        let neither = mounts(serde_json::json!([{"name": "/data", "size": 1}]));
        assert_eq!(system_volume(&neither), SystemVolume::None);
    }

    #[test]
    fn system_false_opts_out() {
        let list = mounts(serde_json::json!([{"name": "C:\\", "size": 1, "system": false}]));
        assert_eq!(system_volume(&list), SystemVolume::None);
    }

    #[test]
    fn several_marked_mounts_are_ambiguous() {
        let list = mounts(serde_json::json!([
            {"name": "/", "size": 1, "system": true},
            {"name": "/data", "size": 1},
            {"name": "/boot", "size": 1, "system": true}
        ]));
        assert_eq!(system_volume(&list), SystemVolume::Ambiguous(vec![0, 2]));
        assert_eq!(system_volume(&list).index(), None);
    }
}
