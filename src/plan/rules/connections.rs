//! Connection rules: `connection-cloud-mismatch` for object storage that does not suit the workload (`s3` only on
//! aws target VMs, `azblob` only on azure target VMs, never on sources).

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::{Cloud, RawConnection};

use super::spans::Spans;
use super::{PlanEntries, WorkloadEntry, WorkloadRole};

/// The connection kinds that stage data in a cloud's object storage, with the cloud each belongs to.
fn object_storage(connection: &RawConnection) -> Option<(&'static str, Cloud)> {
    match connection {
        RawConnection::S3(_) => Some(("s3", Cloud::Aws)),
        RawConnection::AzureBlob(_) => Some(("azblob", Cloud::Azure)),
        RawConnection::Local(_) | RawConnection::Sftp(_) => None,
    }
}

/// The object-storage connection that suits a cloud, if it has one.
fn storage_for(cloud: Cloud) -> Option<&'static str> {
    match cloud {
        Cloud::Aws => Some("s3"),
        Cloud::Azure => Some("azblob"),
        Cloud::Vsphere | Cloud::Vcloud => None,
    }
}

pub(super) fn check_connections(
    entries: &PlanEntries,
    workloads: &[WorkloadEntry<'_>],
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for workload in workloads {
        let Some(connection) = &workload.value.connection else {
            continue;
        };
        let Some((kind, home_cloud)) = object_storage(connection) else {
            continue;
        };
        let span = spans.key(&workload.pointer.key("connection").key(kind));
        match workload.role {
            WorkloadRole::Source => diagnostics.push(
                Diagnostic::new(
                    Code::ConnectionCloudMismatch,
                    format!(
                        "{} is read over `{kind}`, but object storage only receives data for target VMs",
                        workload.describe()
                    ),
                )
                .with_label(span, format!("`{kind}` on a source"))
                .with_help("reach a source's data with `sftp` or `local`"),
            ),
            WorkloadRole::TargetVm => {
                let Some(target) = entries.target(workload.name) else {
                    continue;
                };
                if target.cloud == home_cloud {
                    continue;
                }
                let cloud = target.cloud.as_str();
                let help = match storage_for(target.cloud) {
                    Some(right) => format!(
                        "did you mean `{right}`? `{right}` is {cloud}'s object storage; `sftp` and `local` suit any cloud"
                    ),
                    None => format!(
                        "{cloud} has no object-storage connection: use `sftp` or `local`"
                    ),
                };
                diagnostics.push(
                    Diagnostic::new(
                        Code::ConnectionCloudMismatch,
                        format!(
                            "{} uses `{kind}` ({}'s object storage), but the target's cloud is `{cloud}`",
                            workload.describe(),
                            home_cloud.as_str()
                        ),
                    )
                    .with_label(
                        span,
                        format!("`{kind}` is for {} targets only", home_cloud.as_str()),
                    )
                    .with_help(help),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{check_plan, sample_plan, with_code};
    use crate::plan::codes::Code;
    use crate::plan::diagnostic::Severity;

    #[test]
    fn matching_object_storage_and_portable_connections_pass() {
        let mut plan = sample_plan();
        plan["targets"]["aws-1"]["vm"]["connection"] =
            json!({"s3": {"bucket": "ferry-staging", "prefix": "wave-1"}});
        plan["targets"]["azure-1"]["vm"]["connection"] =
            json!({"azblob": {"container": "staging", "sas_token": {"env": "SAS"}}});
        plan["sources"]["web-01"]["connection"] = json!({"sftp": {"port": 22}});
        assert!(check_plan(&plan).is_empty(), "{:#?}", check_plan(&plan));

        plan["targets"]["aws-1"]["vm"]["connection"] = json!({"sftp": {}});
        plan["targets"]["azure-1"]["vm"]["connection"] = json!({"local": {"path": "out"}});
        assert!(with_code(&plan, Code::ConnectionCloudMismatch).is_empty());
    }

    #[test]
    fn s3_on_azure_suggests_azblob_and_azblob_on_aws_suggests_s3() {
        let mut plan = sample_plan();
        plan["targets"]["azure-1"]["vm"]["connection"] = json!({"s3": {"bucket": "staging"}});
        plan["targets"]["aws-1"]["vm"]["connection"] = json!({"azblob": {"container": "staging"}});
        let found = with_code(&plan, Code::ConnectionCloudMismatch);
        assert_eq!(found.len(), 2, "{found:#?}");
        let aws = &found[0];
        assert_eq!(aws.severity, Severity::Error);
        assert_eq!(aws.places(), ["key /targets/aws-1/vm/connection/azblob"]);
        assert_eq!(aws.labels[0].1, "`azblob` is for azure targets only");
        assert_eq!(
            aws.message,
            "the VM of target `aws-1` uses `azblob` (azure's object storage), but the target's cloud is `aws`"
        );
        assert!(
            aws.help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `s3`?")
        );
        let azure = &found[1];
        assert_eq!(azure.places(), ["key /targets/azure-1/vm/connection/s3"]);
        assert!(
            azure
                .help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `azblob`?")
        );
    }

    #[test]
    fn object_storage_on_vsphere_points_to_portable_connections() {
        let mut plan = sample_plan();
        plan["targets"]["aws-1"]["cloud"] = json!("vsphere");
        plan["targets"]["aws-1"]["vm"]["connection"] = json!({"s3": {"bucket": "staging"}});
        let found = with_code(&plan, Code::ConnectionCloudMismatch);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].help.as_deref(),
            Some("vsphere has no object-storage connection: use `sftp` or `local`")
        );
    }

    #[test]
    fn sources_never_use_object_storage() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["connection"] = json!({"s3": {"bucket": "staging"}});
        plan["sources"]["db-01"]["connection"] = json!({"azblob": {"container": "staging"}});
        let found = with_code(&plan, Code::ConnectionCloudMismatch);
        let places: Vec<_> = found.iter().map(|found| found.places()[0]).collect();
        assert_eq!(
            places,
            [
                "key /sources/web-01/connection/s3",
                "key /sources/db-01/connection/azblob"
            ]
        );
        assert!(
            found[0]
                .message
                .starts_with("source `web-01` is read over `s3`")
        );
        assert_eq!(
            found[1].help.as_deref(),
            Some("reach a source's data with `sftp` or `local`")
        );
    }
}
