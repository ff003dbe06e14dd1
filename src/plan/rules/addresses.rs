//! IP address rules: `missing-ip`, `invalid-ip`, `duplicate-ip` between sources, `target-ip-conflict`.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;

use super::spans::{Pointer, Spans};
use super::{PlanEntries, WorkloadEntry};

/// The address, when the text (trimmed) is one.
pub(super) fn parse_ip(text: &str) -> Option<IpAddr> {
    text.trim().parse().ok()
}

/// `missing-ip` for an empty or blank IP, `invalid-ip` for one that does not parse.
pub(super) fn check_workload_ip(
    workload: &WorkloadEntry<'_>,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let ip = &workload.value.ip;
    // Spans are looked up only for a diagnostic: a large valid plan asks for none.
    let span = || spans.value(&workload.pointer.key("ip"));
    if ip.trim().is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::MissingIp,
                format!("{} has an empty IP address", workload.describe()),
            )
            .with_label(span(), "empty IP address")
            .with_help("write the workload's IPv4 or IPv6 address, such as `192.0.2.10`"),
        );
    } else if parse_ip(ip).is_none() {
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidIp,
                format!(
                    "`{}` is not an IP address ({})",
                    ip.trim(),
                    workload.describe()
                ),
            )
            .with_label(span(), "not an IPv4 or IPv6 address")
            .with_help("write an IPv4 address such as `192.0.2.10` or an IPv6 address such as `2001:db8::10`"),
        );
    }
}

/// `duplicate-ip` (two sources, one address) and `target-ip-conflict` (a target VM at a source's address).
pub(super) fn check_shared_ips(
    entries: &PlanEntries,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut first_source_by_ip: HashMap<IpAddr, &str> = HashMap::new();
    for source in &entries.sources {
        let Some(ip) = source.value.as_ref().and_then(|value| parse_ip(&value.ip)) else {
            continue;
        };
        let Some(first) = first_source_by_ip.get(&ip) else {
            first_source_by_ip.insert(ip, &source.name);
            continue;
        };
        diagnostics.push(
            Diagnostic::new(
                Code::DuplicateIp,
                format!(
                    "sources `{first}` and `{}` have the same IP address {ip}",
                    source.name
                ),
            )
            .with_label(
                spans.value(&source_ip(&source.name)),
                format!("also used by source `{}`", source.name),
            )
            .with_label(
                spans.value(&source_ip(first)),
                format!("first used by source `{first}`"),
            )
            .with_help("each source is a different machine with its own address; ferry records sources by IP"),
        );
    }
    for target in &entries.targets {
        let Some(ip) = target
            .value
            .as_ref()
            .and_then(|value| parse_ip(&value.vm.ip))
        else {
            continue;
        };
        let Some(source) = first_source_by_ip.get(&ip) else {
            continue;
        };
        let target_ip = Pointer::root()
            .key("targets")
            .key(&target.name)
            .key("vm")
            .key("ip");
        diagnostics.push(
            Diagnostic::new(
                Code::TargetIpConflict,
                format!(
                    "the VM of target `{}` uses the IP address {ip} of source `{source}`",
                    target.name
                ),
            )
            .with_label(
                spans.value(&target_ip),
                format!("the VM of target `{}`", target.name),
            )
            .with_label(
                spans.value(&source_ip(source)),
                format!("the IP address of source `{source}`"),
            )
            .with_help(
                "the target VM is a different machine from the source: give it its own address",
            ),
        );
    }
}

fn source_ip(name: &str) -> Pointer {
    Pointer::root().key("sources").key(name).key("ip")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{sample_plan, with_code};
    use crate::plan::codes::Code;

    #[test]
    fn invalid_ip_is_reported_on_the_value() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["ip"] = json!("10.0.0.300");
        plan["targets"]["aws-1"]["vm"]["ip"] = json!("fe80::zz");
        let found = with_code(&plan, Code::InvalidIp);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].places(), ["value /sources/web-01/ip"]);
        assert_eq!(found[1].places(), ["value /targets/aws-1/vm/ip"]);
        assert!(found[0].message.contains("10.0.0.300"));
    }

    #[test]
    fn surrounding_spaces_and_ipv6_are_fine() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["ip"] = json!(" 2001:db8::1 ");
        assert!(with_code(&plan, Code::InvalidIp).is_empty());
    }

    #[test]
    fn blank_ip_is_missing_not_invalid() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["ip"] = json!("  ");
        assert!(with_code(&plan, Code::InvalidIp).is_empty());
        let found = with_code(&plan, Code::MissingIp);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].places(), ["value /sources/web-01/ip"]);
    }

    #[test]
    fn duplicate_ip_labels_both_sources_once_per_extra_source() {
        let mut plan = sample_plan();
        plan["sources"]["db-01"]["ip"] = json!("10.0.0.1");
        plan["sources"]["files"] = plan["sources"]["db-01"].clone();
        plan["sources"]["files"]["ip"] = json!(" 10.0.0.1");
        let found = with_code(&plan, Code::DuplicateIp);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].labels,
            [
                (
                    "value /sources/db-01/ip".to_string(),
                    "also used by source `db-01`".to_string()
                ),
                (
                    "value /sources/web-01/ip".to_string(),
                    "first used by source `web-01`".to_string()
                ),
            ]
        );
        assert_eq!(
            found[1].places(),
            ["value /sources/files/ip", "value /sources/web-01/ip"]
        );
    }

    #[test]
    fn equal_addresses_in_different_spellings_are_duplicates() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["ip"] = json!("2001:db8::1");
        plan["sources"]["db-01"]["ip"] = json!("2001:0db8:0:0::1");
        assert_eq!(with_code(&plan, Code::DuplicateIp).len(), 1);
    }

    #[test]
    fn target_vm_at_a_source_address_conflicts() {
        let mut plan = sample_plan();
        plan["targets"]["azure-1"]["vm"]["ip"] = json!("10.0.0.2");
        let found = with_code(&plan, Code::TargetIpConflict);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            ["value /targets/azure-1/vm/ip", "value /sources/db-01/ip"]
        );
        assert!(with_code(&sample_plan(), Code::TargetIpConflict).is_empty());
    }
}
