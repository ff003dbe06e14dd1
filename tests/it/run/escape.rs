//! Symlinks pointing outside the source are copied as links, never followed, and nothing is
//! written outside the target.

use std::os::unix::fs::symlink;

use super::{entries, listing};
use crate::support::command::Ferry;

#[test]
fn symlinks_pointing_outside_are_copied_as_links_and_nothing_escapes() {
    let ferry = Ferry::new()
        .file(
            "plan.yaml",
            "version: 1
sources:
  app:
    ip: 192.0.2.60
    credentials: { username: root, password: { env: APP_PASSWORD } }
    mountpoints: [{ name: /srv, size: 1 GiB }, { name: /, size: 1 GiB }]
    connection: { local: { path: ./source } }
targets:
  vm:
    cloud: azure
    credentials: { username: admin, password: { env: AZURE_PASSWORD } }
    vm:
      ip: 198.51.100.60
      credentials: { username: root, password: { env: VM_PASSWORD } }
      connection: { local: { path: ./out/vm } }
migrations:
  - { name: app, source: app, target: vm, mounts: [/, /srv] }
",
        )
        .file("source/srv/data/notes.txt", "notes\n")
        .file("source/etc/motd", "hello\n");
    let source = ferry.directory().join("source");
    symlink("/etc", source.join("srv/data/etc-link")).expect("link to /etc");
    symlink("../../x", source.join("srv/up")).expect("link upwards");
    symlink("../../../../escape", source.join("srv/data/deep-up")).expect("link far upwards");
    symlink("/etc/passwd", source.join("etc/passwd-link")).expect("link to a file outside");

    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    let target = ferry.directory().join("out/vm");
    assert_eq!(entries(&target, &[]), entries(&source, &[]));
    insta::assert_snapshot!("escape_target_tree", listing(&target));
    // Nothing beside the target: `out/` holds only the VM's tree, the work folder only what the test made.
    let names = |path: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&ferry.directory().join("out")), ["vm"]);
    assert_eq!(
        names(ferry.directory()),
        [".ferry", "out", "plan.yaml", "source"]
    );
    assert!(!ferry.directory().join("x").exists());
}
