//! The few requests `object_store` does not offer, signed with its own SigV4 / Shared Key authorizers:
//! replacing an object's metadata in place, and listing the multipart uploads left under a prefix.

use std::collections::BTreeMap;

use ::object_store::aws::AwsAuthorizer;
use ::object_store::azure::AzureAuthorizer;
use ::object_store::client::{HttpRequest, HttpRequestBody};
use reqwest::{Method, Url};

use super::connect::Service;
use super::errors::{Redactor, kind_of_reqwest, kind_of_status};
use crate::exec::transport::{ErrorKind, TransportError, TransportResult};

/// The largest object S3's CopyObject (used to replace metadata in place) accepts.
pub(super) const S3_COPY_LIMIT: u64 = 5 << 30;

/// Every byte but RFC 3986's unreserved ones percent-encoded, as SigV4 wants each key segment.
fn encode_strict(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A key with each `/`-separated segment encoded.
fn encode_key(key: &str) -> String {
    key.split('/')
        .map(encode_strict)
        .collect::<Vec<_>>()
        .join("/")
}

/// Signs and sends a request with an empty body; the response text on success.
async fn send(
    http: &reqwest::Client,
    service: &Service,
    method: Method,
    url: &str,
    headers: &[(String, String)],
    what: &str,
    redactor: &Redactor,
) -> TransportResult<String> {
    let failure = |kind: ErrorKind, reason: String| {
        TransportError::new(kind, redactor.redact(&format!("{what}: {reason}")))
    };
    let mut builder = http::Request::builder().method(method.clone()).uri(url);
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut request: HttpRequest = builder
        .body(HttpRequestBody::empty())
        .map_err(|error| failure(ErrorKind::Other, error.to_string()))?;
    let signed = match service {
        Service::S3 {
            region, credential, ..
        } => AwsAuthorizer::new(credential, "s3", region).try_authorize(&mut request, None),
        Service::Azure {
            account,
            credential,
            ..
        } => AzureAuthorizer::new(credential, account).try_authorize(&mut request),
    };
    signed.map_err(|error| failure(ErrorKind::Other, error.to_string()))?;
    let url = Url::parse(&request.uri().to_string())
        .map_err(|error| failure(ErrorKind::Other, error.to_string()))?;
    let mut outgoing = http.request(method, url);
    for (name, value) in request.headers() {
        outgoing = outgoing.header(name, value);
    }
    let response = outgoing
        .send()
        .await
        .map_err(|error| failure(kind_of_reqwest(&error), error.without_url().to_string()))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|error| failure(kind_of_reqwest(&error), error.without_url().to_string()))?;
    // S3's CopyObject may answer 200 with an error document.
    if !status.is_success() || body.contains("<Error>") {
        let kind = match kind_of_status(status, &body) {
            ErrorKind::Other if status.is_success() => ErrorKind::Connection,
            kind => kind,
        };
        let code = xml_values(&body, "Code")
            .into_iter()
            .next()
            .unwrap_or_default();
        return Err(failure(
            kind,
            format!("the server answered {status} {code}"),
        ));
    }
    Ok(body)
}

/// Replaces all user metadata of the object at `key` with `metadata` (names without the
/// `x-amz-meta-`/`x-ms-meta-` prefix). S3 copies the object onto itself (up to 5 GiB); Azure
/// sets blob metadata without touching the data.
pub(super) async fn replace_metadata(
    http: &reqwest::Client,
    service: &Service,
    key: &str,
    metadata: &BTreeMap<String, String>,
    redactor: &Redactor,
) -> TransportResult<()> {
    let what = format!("setting the metadata of `{key}`");
    match service {
        Service::S3 {
            bucket_url, bucket, ..
        } => {
            let mut headers = vec![
                (
                    "x-amz-copy-source".to_string(),
                    format!("/{}/{}", encode_strict(bucket), encode_key(key)),
                ),
                (
                    "x-amz-metadata-directive".to_string(),
                    "REPLACE".to_string(),
                ),
            ];
            headers.extend(
                metadata
                    .iter()
                    .map(|(name, value)| (format!("x-amz-meta-{name}"), value.clone())),
            );
            let url = format!("{bucket_url}/{}", encode_key(key));
            send(http, service, Method::PUT, &url, &headers, &what, redactor).await?;
        }
        Service::Azure { container_url, .. } => {
            let headers: Vec<_> = metadata
                .iter()
                .map(|(name, value)| (format!("x-ms-meta-{name}"), value.clone()))
                .collect();
            let url = format!("{container_url}/{}?comp=metadata", encode_key(key));
            send(http, service, Method::PUT, &url, &headers, &what, redactor).await?;
        }
    }
    Ok(())
}

/// An unfinished S3 multipart upload: its key and upload id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PendingUpload {
    pub(super) key: String,
    pub(super) upload_id: String,
}

/// Every unfinished S3 multipart upload whose key starts with `prefix` (ListMultipartUploads, all pages).
pub(super) async fn list_multipart_uploads(
    http: &reqwest::Client,
    service: &Service,
    prefix: &str,
    redactor: &Redactor,
) -> TransportResult<Vec<PendingUpload>> {
    let Service::S3 { bucket_url, .. } = service else {
        return Ok(Vec::new());
    };
    let mut uploads = Vec::new();
    let mut markers: Option<(String, String)> = None;
    loop {
        let mut url = format!("{bucket_url}?uploads=&prefix={}", encode_strict(prefix));
        if let Some((key, upload_id)) = &markers {
            url.push_str(&format!(
                "&key-marker={}&upload-id-marker={}",
                encode_strict(key),
                encode_strict(upload_id)
            ));
        }
        let body = send(
            http,
            service,
            Method::GET,
            &url,
            &[],
            "listing unfinished uploads",
            redactor,
        )
        .await?;
        uploads.extend(uploads_under(&body, prefix));
        let truncated =
            xml_values(&body, "IsTruncated").first().map(String::as_str) == Some("true");
        let next_key = xml_values(&body, "NextKeyMarker").into_iter().next();
        let next_id = xml_values(&body, "NextUploadIdMarker").into_iter().next();
        match (truncated, next_key, next_id) {
            (true, Some(key), Some(id)) if markers.as_ref() != Some(&(key.clone(), id.clone())) => {
                markers = Some((key, id));
            }
            _ => return Ok(uploads),
        }
    }
}

/// The uploads a ListMultipartUploads page lists whose keys start with `prefix`. The server was
/// asked for that prefix already, but a server that ignores it must not get another tree's
/// uploads aborted.
fn uploads_under(body: &str, prefix: &str) -> Vec<PendingUpload> {
    let mut uploads = Vec::new();
    for upload in xml_values(body, "Upload") {
        let key = xml_values(&upload, "Key").into_iter().next();
        let upload_id = xml_values(&upload, "UploadId").into_iter().next();
        if let (Some(key), Some(upload_id)) = (key, upload_id)
            && key.starts_with(prefix)
        {
            uploads.push(PendingUpload { key, upload_id });
        }
    }
    uploads
}

/// The unescaped text of every `<tag>...</tag>` element in `xml` (flat scan; S3's documents are simple).
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        values.push(unescape_xml(&rest[..end]));
        rest = &rest[end + close.len()..];
    }
    values
}

fn unescape_xml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_per_segment() {
        assert_eq!(
            encode_key("C/My Files/a+b&c.txt"),
            "C/My%20Files/a%2Bb%26c.txt"
        );
        assert_eq!(encode_strict("ü"), "%C3%BC");
    }

    #[test]
    fn upload_listings_are_read_and_kept_to_the_prefix() {
        // The last upload is another tree's, listed by a server that ignored the prefix.
        let xml = "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>\
            <Upload><Key>p/a&amp;b</Key><UploadId>id-1</UploadId></Upload>\
            <Upload><Key>p/c</Key><UploadId>id-2</UploadId></Upload>\
            <Upload><Key>other/d</Key><UploadId>id-3</UploadId></Upload></ListMultipartUploadsResult>";
        let uploads: Vec<_> = uploads_under(xml, "p/")
            .into_iter()
            .map(|upload| (upload.key, upload.upload_id))
            .collect();
        assert_eq!(
            uploads,
            [
                ("p/a&b".to_string(), "id-1".to_string()),
                ("p/c".to_string(), "id-2".to_string())
            ]
        );
        assert_eq!(uploads_under(xml, "").len(), 3);
    }
}
