//! The known_hosts parser: markers, hashed names (vectors made by `ssh-keygen -H`), ports,
//! patterns, comments, and malformed lines that are skipped without a panic.

use super::*;

const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G2sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";
/// `ssh-keygen -H` of `10.0.0.5 ssh-ed25519 KEY` (port 22).
const HASHED_PORT_22: &str = "|1|MdjvBMYlScaJmRj4Nr8IhwRUvWU=|I2yeZjqw6zu6/CiQVYsw8k+sm2k=";

fn key(base64: &str) -> PublicKey {
    russh::keys::parse_public_key_base64(base64).expect("test key parses")
}

fn lookup(text: &str, host: &str, port: u16, base64: &str) -> Lookup {
    KnownHosts::parse(text).lookup(host, port, &key(base64))
}

#[test]
fn plain_lines_trust_their_key_and_flag_a_changed_one() {
    let text = format!("# servers\n\n[10.0.0.5]:2222 ssh-ed25519 {KEY} web-01\n");
    assert_eq!(
        lookup(&text, "10.0.0.5", 2222, KEY),
        Lookup::Trusted { line: 3 }
    );
    assert_eq!(
        lookup(&text, "10.0.0.5", 2222, OTHER),
        Lookup::Changed { line: 3 }
    );
    assert_eq!(lookup(&text, "10.0.0.6", 2222, KEY), Lookup::Unknown);
    assert_eq!(lookup("", "10.0.0.5", 2222, KEY), Lookup::Unknown);
}

#[test]
fn ports_are_part_of_the_name() {
    let bare = format!("10.0.0.5 ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&bare, "10.0.0.5", 22, KEY),
        Lookup::Trusted { line: 1 }
    );
    // A bare host stands for port 22 only; `[host]:22` is not how OpenSSH names port 22.
    assert_eq!(lookup(&bare, "10.0.0.5", 2222, KEY), Lookup::Unknown);
    let bracketed = format!("[10.0.0.5]:22 ssh-ed25519 {KEY}\n");
    assert_eq!(lookup(&bracketed, "10.0.0.5", 22, KEY), Lookup::Unknown);
    let ipv6 = format!("[2001:db8::1]:2222 ssh-ed25519 {KEY}\n2001:db8::2 ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&ipv6, "2001:db8::1", 2222, KEY),
        Lookup::Trusted { line: 1 }
    );
    assert_eq!(
        lookup(&ipv6, "2001:db8::2", 22, KEY),
        Lookup::Trusted { line: 2 }
    );
}

#[test]
fn hashed_names_match_their_host_and_port_only() {
    let text = format!("{HASHED_PORT_22} ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&text, "10.0.0.5", 22, KEY),
        Lookup::Trusted { line: 1 }
    );
    assert_eq!(
        lookup(&text, "10.0.0.5", 22, OTHER),
        Lookup::Changed { line: 1 }
    );
    assert_eq!(lookup(&text, "10.0.0.5", 2222, KEY), Lookup::Unknown);
    assert_eq!(lookup(&text, "10.0.0.6", 22, KEY), Lookup::Unknown);
    // The test servers' own hashed file, made by `ssh-keygen -H` for `[127.0.0.2]:2222`.
    let servers = "|1|Nsjj1yZXWvu/RoWWpfNZJtzkXqg=|0wmfsq+59++RhuNYR0GUCYmYinQ= ssh-ed25519 \
                   AAAAC3NzaC1lZDI1NTE5AAAAIFsOmdH3ZI5FJmXQTvoi7AwGCSiNX7pVlNRxNwQ4xapU";
    assert_eq!(
        lookup(
            servers,
            "127.0.0.2",
            2222,
            "AAAAC3NzaC1lZDI1NTE5AAAAIFsOmdH3ZI5FJmXQTvoi7AwGCSiNX7pVlNRxNwQ4xapU"
        ),
        Lookup::Trusted { line: 1 }
    );
}

#[test]
fn wildcards_match_and_negations_exclude() {
    let text = format!("10.0.0.*,!10.0.0.9 ssh-ed25519 {KEY}\n[10.1.?.1]:* ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&text, "10.0.0.5", 22, KEY),
        Lookup::Trusted { line: 1 }
    );
    assert_eq!(lookup(&text, "10.0.0.9", 22, KEY), Lookup::Unknown);
    assert_eq!(lookup(&text, "10.0.0.9", 22, OTHER), Lookup::Unknown);
    assert_eq!(
        lookup(&text, "10.1.2.1", 2222, KEY),
        Lookup::Trusted { line: 2 }
    );
    assert_eq!(lookup(&text, "10.1.22.1", 2222, KEY), Lookup::Unknown);
    // A negation alone trusts nothing, not even the hosts it does not name.
    let negation_only = format!("!10.0.0.9 ssh-ed25519 {KEY}\n");
    assert_eq!(lookup(&negation_only, "10.0.0.5", 22, KEY), Lookup::Unknown);
    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("a*b*c", "axxbyyc"));
    assert!(!wildcard_match("a*b*c", "axxbyy"));
    assert!(!wildcard_match(&"*a".repeat(50), &"a".repeat(40)));
}

#[test]
fn revoked_keys_lose_everywhere() {
    let revoked = format!("@revoked [10.0.0.5]:2222 ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&revoked, "10.0.0.5", 2222, KEY),
        Lookup::Revoked { line: 1 }
    );
    // Also when a plain line trusts it, before or after, and for any host.
    let both =
        format!("[10.0.0.5]:2222 ssh-ed25519 {KEY}\n@revoked other.example ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&both, "10.0.0.5", 2222, KEY),
        Lookup::Revoked { line: 2 }
    );
    // Another key stays what the other lines say.
    assert_eq!(
        lookup(&both, "10.0.0.5", 2222, OTHER),
        Lookup::Changed { line: 1 }
    );
    assert_eq!(lookup(&revoked, "10.0.0.5", 2222, OTHER), Lookup::Unknown);
}

#[test]
fn certificate_authorities_never_trust_a_plain_key() {
    let text = format!("@cert-authority *.example,10.0.0.* ssh-ed25519 {OTHER}\n");
    assert_eq!(
        lookup(&text, "10.0.0.5", 22, KEY),
        Lookup::CertificateAuthorityOnly { line: 1 }
    );
    // Even the authority's own key is not a host key.
    assert_eq!(
        lookup(&text, "10.0.0.5", 22, OTHER),
        Lookup::CertificateAuthorityOnly { line: 1 }
    );
    let with_plain = format!("{text}10.0.0.5 ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&with_plain, "10.0.0.5", 22, KEY),
        Lookup::Trusted { line: 2 }
    );
    assert_eq!(lookup(&text, "10.9.0.5", 22, KEY), Lookup::Unknown);
}

#[test]
fn malformed_lines_are_skipped_without_panicking() {
    let garbage = [
        "@",
        "@revoked",
        "@revoked host",
        "@bogus 10.0.0.5 ssh-ed25519 KEY",
        "10.0.0.5",
        "10.0.0.5 ssh-ed25519",
        "10.0.0.5 ssh-ed25519 !!!notbase64",
        "10.0.0.5 ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ",
        "|1|",
        "|1|x|y ssh-ed25519 AAAA",
        "|2|MdjvBMYlScaJmRj4Nr8IhwRUvWU=|I2yeZjqw6zu6/CiQVYsw8k+sm2k= ssh-ed25519 KEY",
        "||| ssh-ed25519 KEY",
        "\u{0}\u{ff}é ssh-ed25519 KEY",
        ",,,,! ssh-ed25519 KEY",
    ];
    let text = garbage.join("\n").replace("KEY", KEY);
    let known = KnownHosts::parse(&text);
    // The lines that parse (odd host fields, an unknown hash type) match nothing.
    assert_eq!(known.lookup("10.0.0.5", 22, &key(KEY)), Lookup::Unknown);
    assert_eq!(known.lookup("", 22, &key(KEY)), Lookup::Unknown);
    // A revoked key is the key on the line, whatever type name the line gives it.
    let wrong_type = format!("@revoked * ssh-rsa {KEY}\n10.0.0.5 ssh-ed25519 {KEY}\n");
    assert_eq!(
        lookup(&wrong_type, "10.0.0.5", 22, KEY),
        Lookup::Revoked { line: 1 }
    );
}
