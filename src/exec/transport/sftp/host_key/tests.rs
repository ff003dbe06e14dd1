//! Host-key policies: pins, known_hosts lookups, revocations, and what is (not) written.

use super::*;

const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G2sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

fn endpoint() -> Endpoint {
    Endpoint {
        workload: "web-01".into(),
        host: "10.0.0.5".into(),
        port: 2222,
    }
}

fn key(base64: &str) -> PublicKey {
    russh::keys::parse_public_key_base64(base64).expect("test key parses")
}

fn known_hosts(path: &Path, unknown: UnknownKeys) -> HostKeyPolicy {
    HostKeyPolicy::KnownHosts {
        path: path.to_path_buf(),
        unknown,
    }
}

#[test]
fn pinned_fingerprints_must_match_exactly() {
    let server = key(KEY);
    let pinned = fingerprint(&server);
    assert!(pinned.starts_with("SHA256:"));
    let policy = HostKeyPolicy::Pinned {
        fingerprint: format!("{pinned}="),
        revocations: Some("/nonexistent/known_hosts".into()),
    };
    assert_eq!(policy.check(&endpoint(), &server).unwrap(), Trust::Known);
    let error = policy.check(&endpoint(), &key(OTHER)).unwrap_err();
    assert_eq!(error.kind, ErrorKind::HostKey);
    assert!(error.message.contains(&fingerprint(&key(OTHER))));
}

#[test]
fn known_hosts_match_unknown_changed_and_accept_new() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ssh").join("known_hosts");
    let unknown = known_hosts(&path, UnknownKeys::Refuse);
    let error = unknown.check(&endpoint(), &key(KEY)).unwrap_err();
    assert_eq!(error.kind, ErrorKind::HostKey);
    assert!(error.message.contains("unknown"), "{}", error.message);
    assert!(error.message.contains(&fingerprint(&key(KEY))));

    // Accepting without recording trusts the key and writes nothing, not even the folder.
    let trial = known_hosts(&path, UnknownKeys::AcceptWithoutRecording);
    assert_eq!(
        trial.check(&endpoint(), &key(KEY)).unwrap(),
        Trust::NotRecorded
    );
    assert!(!directory.path().join("ssh").exists());

    let accepting = known_hosts(&path, UnknownKeys::AcceptAndRecord);
    assert_eq!(
        accepting.check(&endpoint(), &key(KEY)).unwrap(),
        Trust::Recorded
    );
    let recorded = std::fs::read_to_string(&path).unwrap();
    assert!(
        recorded.starts_with("[10.0.0.5]:2222 ssh-ed25519 "),
        "{recorded}"
    );
    // Now known without accept_new.
    assert_eq!(unknown.check(&endpoint(), &key(KEY)).unwrap(), Trust::Known);
    // A changed key is refused even with accept_new.
    let error = accepting.check(&endpoint(), &key(OTHER)).unwrap_err();
    assert!(error.message.contains("CHANGED"), "{}", error.message);
}

#[test]
fn revoked_keys_are_refused_by_every_policy_and_nothing_is_written() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("known_hosts");
    let text =
        format!("[10.0.0.5]:2222 ssh-ed25519 {KEY}\n@revoked [10.0.0.5]:2222 ssh-ed25519 {KEY}");
    std::fs::write(&path, &text).unwrap();
    let pinned = HostKeyPolicy::Pinned {
        fingerprint: fingerprint(&key(KEY)),
        revocations: Some(path.clone()),
    };
    for policy in [
        pinned,
        known_hosts(&path, UnknownKeys::Refuse),
        known_hosts(&path, UnknownKeys::AcceptAndRecord),
        known_hosts(&path, UnknownKeys::AcceptWithoutRecording),
    ] {
        let error = policy.check(&endpoint(), &key(KEY)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::HostKey);
        assert!(error.message.contains("REVOKED"), "{}", error.message);
        assert!(error.message.contains("line 2 of"), "{}", error.message);
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn a_new_key_goes_on_a_line_of_its_own() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("known_hosts");
    std::fs::write(&path, "# no newline at the end").unwrap();
    let accepting = known_hosts(&path, UnknownKeys::AcceptAndRecord);
    accepting.check(&endpoint(), &key(KEY)).unwrap();
    let recorded = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        recorded,
        format!("# no newline at the end\n[10.0.0.5]:2222 ssh-ed25519 {KEY}\n")
    );
}

#[test]
fn a_known_hosts_file_that_is_not_a_regular_file_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let policy = known_hosts(directory.path(), UnknownKeys::AcceptAndRecord);
    let error = policy.check(&endpoint(), &key(KEY)).unwrap_err();
    assert!(
        error.message.contains("is a directory"),
        "{}",
        error.message
    );
}
