//! Device ids over SFTP: the file system id (`f_fsid`) that `statvfs@openssh.com` reports
//! stands in for `st_dev`, which SFTP does not carry.
//!
//! Only directories get one (a mount point is a directory), so a copy can leave nested mounts
//! out like `rsync -x`: on Linux `/proc`, `/sys` and `/dev` each report an id different from
//! the root file system's. Servers without the extension leave `device` as `None`. Listing a
//! directory asks about each subdirectory, up to `IN_FLIGHT` requests at a time.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::connection::Connection;
use crate::exec::transport::{EntryKind, Metadata};

/// How many `statvfs` requests one listing keeps in flight.
const IN_FLIGHT: usize = 64;

/// The file system id of `remote`, when the server tells.
pub(crate) async fn file_system_id(connection: &Connection, remote: &str) -> Option<u64> {
    match connection.files.fs_info(remote).await {
        Ok(Some(info)) => Some(info.fs_id),
        _ => None,
    }
}

/// Fills in `device` for the directories of a listing of `directory` (a server path).
pub(crate) async fn annotate_directories(
    connection: &Arc<Connection>,
    directory: &str,
    listing: &mut [(String, Metadata)],
) {
    let parent = directory.trim_end_matches('/');
    let wanted: Vec<usize> = listing
        .iter()
        .enumerate()
        .filter(|(_, (_, metadata))| metadata.kind == EntryKind::Directory)
        .map(|(index, _)| index)
        .collect();
    for batch in wanted.chunks(IN_FLIGHT) {
        let mut requests = JoinSet::new();
        for &index in batch {
            let connection = connection.clone();
            let remote = format!("{parent}/{}", listing[index].0);
            requests.spawn(async move { (index, file_system_id(&connection, &remote).await) });
        }
        while let Some(answer) = requests.join_next().await {
            if let Ok((index, device)) = answer {
                listing[index].1.device = device;
            }
        }
    }
}
