//! Opening S3 buckets and Azure Blob containers from a plan's `s3`/`azblob` settings and resolved secrets:
//! endpoint checks (plain HTTP for loopback only), retries, the TLS provider, and nothing read from the environment.

use std::net::IpAddr;
use std::sync::{Arc, Once};
use std::time::Duration;

use ::object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential};
use ::object_store::azure::{AzureAccessKey, AzureCredential, MicrosoftAzureBuilder, split_sas};
use ::object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use reqwest::Url;

use super::errors::Redactor;
use crate::exec::transport::{ErrorKind, TransportError, TransportResult};
use crate::plan::valid::{AzureBlobKey, AzureBlobSettings, S3Settings, SecretString};

/// Which service a tree talks to, with what its own signed requests need (listing and aborting
/// stale uploads, replacing metadata), beyond what `object_store` offers.
pub(super) enum Service {
    S3 {
        store: Arc<AmazonS3>,
        /// `https://BUCKET.s3.REGION.amazonaws.com` or `ENDPOINT/BUCKET`, without a trailing `/`.
        bucket_url: String,
        bucket: String,
        region: String,
        credential: AwsCredential,
    },
    Azure {
        /// `https://ACCOUNT.blob.core.windows.net/CONTAINER` or `ENDPOINT/CONTAINER`.
        container_url: String,
        account: String,
        credential: AzureCredential,
    },
}

/// An opened store: the `object_store` client, the service details and a redactor for its secrets.
pub(super) struct Opened {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) service: Service,
    pub(super) redactor: Redactor,
    /// `s3://bucket/prefix` or `azblob://account/container/prefix`, no secret.
    pub(super) description: String,
    pub(super) http: reqwest::Client,
}

/// Requests that fail on the wire are retried a little here; the copy engine retries the rest.
fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
    }
}

fn client_options(allow_http: bool) -> ClientOptions {
    install_crypto_provider();
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(15))
        .with_timeout(Duration::from_secs(300))
}

/// reqwest is built without a bundled crypto provider (no aws-lc-rs): install ring once.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An error means another part of the program installed one first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn configuration_error(message: impl Into<String>) -> TransportError {
    TransportError::new(ErrorKind::Other, message)
}

/// A custom endpoint without a trailing `/`, and whether it is plain HTTP (loopback only).
/// A store's custom endpoint (`None` for the cloud's own), checked, and whether it may be plain
/// HTTP (loopback only).
fn custom_endpoint(endpoint: Option<&str>) -> TransportResult<(Option<String>, bool)> {
    match endpoint.map(check_endpoint).transpose()? {
        Some((url, http)) => Ok((Some(url), http)),
        None => Ok((None, false)),
    }
}

fn check_endpoint(endpoint: &str) -> TransportResult<(String, bool)> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|error| {
        configuration_error(format!("endpoint `{trimmed}` is not a URL: {error}"))
    })?;
    match url.scheme() {
        "https" => Ok((trimmed.to_string(), false)),
        "http" => {
            let loopback = match url.host_str() {
                Some("localhost") => true,
                Some(host) => host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok_and(|address| address.is_loopback()),
                None => false,
            };
            if loopback {
                Ok((trimmed.to_string(), true))
            } else {
                Err(configuration_error(format!(
                    "endpoint `{trimmed}` uses plain http://, which ferry allows only for loopback addresses (test servers); use https://"
                )))
            }
        }
        scheme => Err(configuration_error(format!(
            "endpoint `{trimmed}` has scheme `{scheme}`; use https:// (or http:// on loopback)"
        ))),
    }
}

fn build_error(what: &str, error: ::object_store::Error, redactor: &Redactor) -> TransportError {
    configuration_error(redactor.redact(&format!("cannot configure {what}: {error}")))
}

pub(super) fn open_s3(
    settings: &S3Settings,
    secret_access_key: &SecretString,
) -> TransportResult<Opened> {
    let redactor = Redactor::new([secret_access_key.expose()]);
    let (endpoint, allow_http) = custom_endpoint(settings.endpoint.as_deref())?;
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&settings.bucket)
        .with_region(&settings.region)
        .with_access_key_id(&settings.access_key_id)
        .with_secret_access_key(secret_access_key.expose())
        // Requests are signed without hashing their bodies (`UNSIGNED-PAYLOAD`), and carry no
        // `x-amz-checksum-sha256` either: the bytes travel over TLS (plain HTTP is accepted for
        // loopback endpoints only), and ferry's BLAKE3, recorded with the object and checked by
        // the read-back, covers each object end to end. A SHA-256 of every byte was a quarter
        // of ferry's CPU time uploading 2 GiB (measured with `perf record`).
        .with_unsigned_payload(true)
        .with_retry(retry_config())
        .with_client_options(client_options(allow_http));
    let bucket_url = match &endpoint {
        Some(url) => {
            builder = builder
                .with_endpoint(url)
                .with_virtual_hosted_style_request(false);
            format!("{url}/{}", settings.bucket)
        }
        None => format!(
            "https://{}.s3.{}.amazonaws.com",
            settings.bucket, settings.region
        ),
    };
    let store = Arc::new(
        builder
            .build()
            .map_err(|error| build_error("the S3 bucket", error, &redactor))?,
    );
    let description = match &endpoint {
        Some(url) => format!("s3://{}/{} at {url}", settings.bucket, settings.prefix),
        None => format!("s3://{}/{}", settings.bucket, settings.prefix),
    };
    Ok(Opened {
        store: store.clone(),
        service: Service::S3 {
            store,
            bucket_url,
            bucket: settings.bucket.clone(),
            region: settings.region.clone(),
            credential: AwsCredential {
                key_id: settings.access_key_id.clone(),
                secret_key: secret_access_key.expose().to_string(),
                token: None,
            },
        },
        redactor,
        description,
        http: http_client(allow_http)?,
    })
}

/// `secret` is the account key or the SAS token, as `settings.key` says.
pub(super) fn open_azure(
    settings: &AzureBlobSettings,
    secret: &SecretString,
) -> TransportResult<Opened> {
    let (endpoint, allow_http) = custom_endpoint(settings.endpoint.as_deref())?;
    let account_url = match &endpoint {
        Some(url) => url.clone(),
        None => format!("https://{}.blob.core.windows.net", settings.account),
    };
    let (credential, redactor) = azure_credential(settings, secret)?;
    let builder = MicrosoftAzureBuilder::new()
        .with_account(&settings.account)
        .with_container_name(&settings.container)
        .with_endpoint(account_url.clone())
        .with_credentials(Arc::new(::object_store::StaticCredentialProvider::new(
            azure_credential(settings, secret)?.0,
        )))
        .with_retry(retry_config())
        .with_client_options(client_options(allow_http));
    let store = builder
        .build()
        .map_err(|error| build_error("the Azure Blob container", error, &redactor))?;
    Ok(Opened {
        store: Arc::new(store),
        service: Service::Azure {
            container_url: format!("{account_url}/{}", settings.container),
            account: settings.account.clone(),
            credential,
        },
        redactor,
        description: format!(
            "azblob://{}/{}/{}",
            settings.account, settings.container, settings.prefix
        ),
        http: http_client(allow_http)?,
    })
}

/// The credential `settings.key` names, and a redactor for its secret parts.
fn azure_credential(
    settings: &AzureBlobSettings,
    secret: &SecretString,
) -> TransportResult<(AzureCredential, Redactor)> {
    Ok(match &settings.key {
        AzureBlobKey::AccountKey(_) => {
            let redactor = Redactor::new([secret.expose()]);
            let key = AzureAccessKey::try_new(secret.expose().trim()).map_err(|_| {
                TransportError::new(
                    ErrorKind::Authentication,
                    format!(
                        "the account key for Azure storage account `{}` is not base64 text",
                        settings.account
                    ),
                )
            })?;
            (AzureCredential::AccessKey(key), redactor)
        }
        AzureBlobKey::SasToken(_) => {
            let pairs =
                split_sas(secret.expose().trim().trim_start_matches('?')).map_err(|_| {
                    TransportError::new(
                        ErrorKind::Authentication,
                        "the SAS token is not a query string such as `sv=...&sig=...`",
                    )
                })?;
            let mut secrets: Vec<String> = vec![secret.expose().to_string()];
            secrets.extend(
                pairs
                    .iter()
                    .filter(|(name, _)| name == "sig")
                    .map(|(_, value)| value.clone()),
            );
            (AzureCredential::SASToken(pairs), Redactor::new(secrets))
        }
    })
}

/// The client for the tree's own signed requests.
fn http_client(allow_http: bool) -> TransportResult<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .https_only(!allow_http)
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|error| configuration_error(format!("cannot build an HTTP client: {error}")))
}

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    #[test]
    fn plain_http_is_for_loopback_only() {
        assert_eq!(
            check_endpoint("http://127.0.0.1:9000/").unwrap(),
            ("http://127.0.0.1:9000".to_string(), true)
        );
        assert!(
            check_endpoint("http://localhost:10000/devstoreaccount1")
                .unwrap()
                .1
        );
        assert!(check_endpoint("http://[::1]:9000").unwrap().1);
        assert!(!check_endpoint("https://s3.example.com").unwrap().1);
        for refused in [
            "http://10.0.0.5:9000",
            "http://s3.example.com",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            assert!(
                check_endpoint(refused).is_err(),
                "{refused} must be refused"
            );
        }
    }
}
