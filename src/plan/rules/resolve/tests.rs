//! Tests of `resolve`: the checked sample plan and the values it derives.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::super::test_support::{PointerLocator, check_plan, entries, sample_plan};
use crate::plan::mount_name::MountName;
use crate::plan::raw::{Cloud, OsFamily};
use crate::plan::valid::{AzureBlobKey, Connection, SecretRef, Spanned, ValidPlan};

fn resolved(plan: &serde_json::Value) -> Option<ValidPlan> {
    resolved_with(plan, &PointerLocator::default())
}

fn resolved_with(plan: &serde_json::Value, locator: &PointerLocator) -> Option<ValidPlan> {
    super::resolve(
        &entries(plan),
        Path::new("plans/plan.yaml"),
        Path::new("/srv/plans"),
        locator,
    )
}

#[test]
fn resolves_the_sample_plan() {
    let plan = resolved(&sample_plan()).expect("the sample plan resolves");
    assert_eq!(plan.file, PathBuf::from("plans/plan.yaml"));
    assert_eq!(plan.base_dir, PathBuf::from("/srv/plans"));
    assert_eq!(plan.sources.keys().collect::<Vec<_>>(), ["web-01", "db-01"]);
    assert_eq!(
        plan.targets.keys().collect::<Vec<_>>(),
        ["aws-1", "azure-1"]
    );

    let web = &plan.sources["web-01"];
    assert_eq!(web.ip.to_string(), "10.0.0.1");
    assert_eq!(web.os, OsFamily::Windows);
    assert_eq!(web.mounts[0].size, 40 << 30);
    assert!(web.mounts[0].system && !web.mounts[1].system);
    assert_eq!(web.mounts[0].path, "C");
    assert_eq!(
        web.system_volume().map(|mount| mount.path.as_str()),
        Some("C")
    );
    assert!(
        matches!(&web.credentials.password.value, SecretRef::Env(name) if name == "WEB01_PASSWORD")
    );
    assert!(web.connection.is_none());

    let db = &plan.sources["db-01"];
    assert_eq!(db.os, OsFamily::Linux);
    assert_eq!(db.mounts[1].size, 1 << 30);
    assert_eq!(db.mounts[0].path, "");
    assert_eq!(db.mounts[1].path, "data");
    assert!(db.mounts[0].system);
    assert!(matches!(
        &db.credentials.password.value,
        SecretRef::File(path) if path == Path::new("/srv/plans/secrets/db-01.txt")
    ));
    assert!(matches!(
        &db.connection,
        Some(Connection::Local { path }) if path == Path::new("/srv/plans/data/db-01")
    ));

    let aws = &plan.targets["aws-1"];
    assert_eq!(aws.cloud, Cloud::Aws);
    assert_eq!(aws.credentials.domain.as_deref(), Some("eu-west-1"));
    assert_eq!(aws.vm.name, "aws-1");
    assert_eq!(aws.vm.ip.to_string(), "10.1.0.1");

    assert_eq!(plan.migrations.len(), 2);
    assert_eq!(plan.migrations[0].name, "web-01");
    assert_eq!(
        plan.migrations[0].mounts,
        [MountName::new("C:\\"), MountName::new("D:\\")]
    );
    assert_eq!(plan.source_of(&plan.migrations[1]).name, "db-01");
    assert_eq!(plan.target_of(&plan.migrations[1]).name, "azure-1");
}

#[test]
fn explicit_values_win_over_defaults() {
    let mut plan = sample_plan();
    let web = &mut plan["sources"]["web-01"];
    web["os"] = json!("linux");
    web["credentials"]["password"] = json!("plain-secret");
    web["mountpoints"][0]["system"] = json!(false);
    web["mountpoints"][1]["system"] = json!(true);
    web["mountpoints"][1]["path"] = json!("disks\\.\\D/");
    web["connection"] = json!({"sftp": {"key": "keys/id_ed25519", "known_hosts": "/etc/ssh/known", "root": "/mnt"}});
    plan["migrations"][0]["name"] = json!("wave-1");
    plan["migrations"][0]["mounts"] = json!(["d:"]);
    let checked = check_plan(&plan);
    assert!(
        checked
            .iter()
            .all(|found| found.severity == crate::plan::diagnostic::Severity::Warning),
        "{checked:#?}"
    );
    let plan = resolved(&plan).expect("resolves");
    let web = &plan.sources["web-01"];
    assert_eq!(web.os, OsFamily::Linux);
    assert!(!web.mounts[0].system && web.mounts[1].system);
    assert_eq!(web.mounts[1].path, "disks/D");
    assert!(
        matches!(&web.credentials.password.value, SecretRef::Plain(secret) if secret.expose() == "plain-secret")
    );
    let Some(Connection::Sftp(sftp)) = &web.connection else {
        panic!("expected an sftp connection");
    };
    assert_eq!(sftp.port, 22);
    assert_eq!(sftp.root.as_deref(), Some("/mnt"));
    assert_eq!(
        sftp.key.as_deref(),
        Some(Path::new("/srv/plans/keys/id_ed25519"))
    );
    assert_eq!(
        sftp.known_hosts.as_deref(),
        Some(Path::new("/etc/ssh/known"))
    );
    assert_eq!(plan.migrations[0].name, "wave-1");
    assert_eq!(plan.migrations[0].mounts[0].as_written(), "d:");
}

#[test]
fn a_source_migrated_twice_gets_source_to_target_names() {
    let mut plan = sample_plan();
    plan["targets"]["aws-2"] = plan["targets"]["aws-1"].clone();
    plan["targets"]["aws-2"]["vm"]["ip"] = json!("10.1.0.3");
    plan["migrations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"source": "web-01", "target": "aws-2", "mounts": ["C:\\"]}));
    assert!(check_plan(&plan).is_empty());
    let plan = resolved(&plan).expect("resolves");
    let names: Vec<&str> = plan
        .migrations
        .iter()
        .map(|migration| migration.name.as_str())
        .collect();
    assert_eq!(names, ["web-01-to-aws-1", "db-01", "web-01-to-aws-2"]);
}

#[test]
fn returns_none_rather_than_panicking_on_plans_with_errors() {
    let broken: [fn(&mut serde_json::Value); 6] = [
        |plan| plan["sources"]["web-01"]["ip"] = json!("not an ip"),
        |plan| plan["sources"]["web-01"]["mountpoints"][0]["size"] = json!("lots"),
        |plan| plan["migrations"][0]["source"] = json!("nowhere"),
        |plan| plan["migrations"][0]["mounts"] = json!(["C:\\", "Z:"]),
        |plan| plan["sources"]["db-01"]["mountpoints"][1]["path"] = json!("../escape"),
        |plan| {
            plan["sources"]["db-01"]["mountpoints"][0]["system"] = json!(true);
            plan["sources"]["db-01"]["mountpoints"][1]["system"] = json!(true);
        },
    ];
    for (index, breaks) in broken.iter().enumerate() {
        let mut plan = sample_plan();
        breaks(&mut plan);
        assert!(!check_plan(&plan).is_empty(), "case {index} has findings");
        assert!(resolved(&plan).is_none(), "case {index}");
    }
    // An entry that did not deserialise (the schema layer reports it).
    let mut plan = sample_plan();
    plan["sources"]["web-01"] = json!({"ip": 1});
    assert!(resolved(&plan).is_none());
}

#[test]
fn object_storage_takes_the_target_credentials() {
    let mut plan = sample_plan();
    plan["targets"]["aws-1"]["vm"]["connection"] =
        json!({"s3": {"bucket": "staging", "prefix": "/wave-1//web-01/"}});
    plan["targets"]["azure-1"]["credentials"]["username"] = json!("ferrystaging");
    plan["targets"]["azure-1"]["vm"]["connection"] = json!({"azblob": {
        "container": "staging",
        "endpoint": "http://127.0.0.1:10000/devstoreaccount1"
    }});
    assert!(check_plan(&plan).is_empty(), "{:#?}", check_plan(&plan));
    let resolved_plan = resolved(&plan).expect("resolves");
    let Some(Connection::S3(s3)) = &resolved_plan.targets["aws-1"].vm.connection else {
        panic!("expected an s3 connection");
    };
    assert_eq!(
        (s3.bucket.as_str(), s3.prefix.as_str()),
        ("staging", "wave-1/web-01")
    );
    assert_eq!(
        s3.region, "eu-west-1",
        "the credentials' domain is the region"
    );
    assert_eq!(s3.access_key_id, "AKIAEXAMPLE");
    assert!(matches!(&s3.secret_access_key.value, SecretRef::Env(name) if name == "AWS_SECRET"));
    assert_eq!(s3.endpoint, None);
    let Some(Connection::AzureBlob(blob)) = &resolved_plan.targets["azure-1"].vm.connection else {
        panic!("expected an azblob connection");
    };
    assert_eq!(
        (blob.account.as_str(), blob.prefix.as_str()),
        ("ferrystaging", "")
    );
    assert_eq!(
        blob.endpoint.as_deref(),
        Some("http://127.0.0.1:10000/devstoreaccount1")
    );
    assert!(
        matches!(&blob.key, AzureBlobKey::AccountKey(Spanned { value: SecretRef::Env(name), .. }) if name == "AZURE_SECRET")
    );

    plan["targets"]["aws-1"]["vm"]["connection"]["s3"]["region"] = json!("us-west-2");
    plan["targets"]["azure-1"]["vm"]["connection"]["azblob"]["account"] = json!("other");
    plan["targets"]["azure-1"]["vm"]["connection"]["azblob"]["sas_token"] =
        json!({"file": "sas.txt"});
    let resolved_plan = resolved(&plan).expect("resolves");
    let Some(Connection::S3(s3)) = &resolved_plan.targets["aws-1"].vm.connection else {
        panic!("expected an s3 connection");
    };
    assert_eq!(s3.region, "us-west-2");
    let Some(Connection::AzureBlob(blob)) = &resolved_plan.targets["azure-1"].vm.connection else {
        panic!("expected an azblob connection");
    };
    assert_eq!(blob.account, "other");
    assert!(matches!(
        &blob.key,
        AzureBlobKey::SasToken(Spanned { value: SecretRef::File(path), .. }) if path == Path::new("/srv/plans/sas.txt")
    ));
}

#[test]
fn object_storage_on_a_source_does_not_resolve() {
    let mut plan = sample_plan();
    plan["sources"]["web-01"]["connection"] = json!({"s3": {"bucket": "staging"}});
    assert!(resolved(&plan).is_none());
}

#[test]
fn the_plan_keeps_where_it_writes_each_ip_and_secret() {
    let mut plan = sample_plan();
    plan["targets"]["aws-1"]["vm"]["connection"] = json!({"s3": {"bucket": "staging"}});
    plan["targets"]["azure-1"]["vm"]["connection"] = json!({"azblob": {
        "container": "staging",
        "sas_token": {"env": "SAS"}
    }});
    let locator = PointerLocator::default();
    let resolved_plan = resolved_with(&plan, &locator).expect("resolves");
    let at = |span: &std::ops::Range<usize>| locator.describe(span);
    let web = &resolved_plan.sources["web-01"];
    assert_eq!(at(&web.ip.span), "value /sources/web-01/ip");
    assert_eq!(
        at(&web.credentials.password.span),
        "value /sources/web-01/credentials/password"
    );
    let aws = &resolved_plan.targets["aws-1"];
    assert_eq!(at(&aws.vm.ip.span), "value /targets/aws-1/vm/ip");
    assert_eq!(
        at(&aws.vm.credentials.password.span),
        "value /targets/aws-1/vm/credentials/password"
    );
    let Some(Connection::S3(s3)) = &aws.vm.connection else {
        panic!("expected an s3 connection");
    };
    // The store's key is the target's cloud password, labelled where the target writes it.
    assert_eq!(
        at(&s3.secret_access_key.span),
        "value /targets/aws-1/credentials/password"
    );
    let Some(Connection::AzureBlob(blob)) = &resolved_plan.targets["azure-1"].vm.connection else {
        panic!("expected an azblob connection");
    };
    let AzureBlobKey::SasToken(token) = &blob.key else {
        panic!("expected a SAS token");
    };
    assert_eq!(
        at(&token.span),
        "value /targets/azure-1/vm/connection/azblob/sas_token"
    );
}
