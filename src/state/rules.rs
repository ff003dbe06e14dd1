//! The state-aware check rules: a plan's source IPs against the IPs recorded in state (`ip-changed`, `ip-recorded-elsewhere`).

use std::net::IpAddr;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::valid::{PlannedIp, ValidPlan};
use crate::state::backend::StateBackend;
use crate::state::error::StateError;

/// The `ip-changed` and `ip-recorded-elsewhere` diagnostics of a valid plan's sources.
pub async fn recorded_ip_diagnostics(
    plan: &ValidPlan,
    store: &dyn StateBackend,
) -> Result<Vec<Diagnostic>, StateError> {
    check_recorded_ips(store, &plan.source_ips()).await
}

/// Compares each source's IP (as the plan writes it, labelled where it does) with the state. IPs
/// that do not parse are skipped (the plan rules report them as `invalid-ip`).
pub async fn check_recorded_ips(
    store: &dyn StateBackend,
    sources: &[PlannedIp],
) -> Result<Vec<Diagnostic>, StateError> {
    let mut diagnostics = Vec::new();
    for planned in sources {
        let Ok(ip) = planned.ip.trim().parse::<IpAddr>() else {
            continue;
        };
        let ip = ip.to_string();
        let (name, span) = (&planned.source, planned.span.clone());
        if let Some(recorded) = store.find_source(name).await? {
            if recorded.ip != ip {
                let recorded_at = recorded.recorded_at.strftime("%Y-%m-%d %H:%M:%S UTC");
                diagnostics.push(
                    Diagnostic::new(
                        Code::IpChanged,
                        format!(
                            "source `{name}` is recorded in state with IP {} (since {recorded_at}), but the plan says {ip}",
                            recorded.ip
                        ),
                    )
                    .with_label(span, format!("recorded as {}", recorded.ip))
                    .with_help(format!(
                        "a source's IP never changes; if this is a different machine, give it a new name, or forget the old record with `ferry state rm source {name}`"
                    )),
                );
            }
            continue;
        }
        // The source itself, when another runner recorded the plan between the two reads.
        if let Some(other) = store.find_source_by_ip(&ip).await?
            && other.name != *name
        {
            diagnostics.push(
                Diagnostic::new(
                    Code::IpRecordedElsewhere,
                    format!(
                        "IP {ip} of source `{name}` is recorded in state for source `{}`",
                        other.name
                    ),
                )
                .with_label(span, format!("recorded for `{}`", other.name))
                .with_help(format!(
                    "no two sources share an IP; if `{name}` is `{}` renamed, keep the old name, or forget the old record with `ferry state rm source {}`",
                    other.name, other.name
                )),
            );
        }
    }
    Ok(diagnostics)
}
