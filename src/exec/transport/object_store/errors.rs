//! Mapping `object_store` and HTTP failures to `TransportError` kinds (retryable or not), with secrets scrubbed.

use std::error::Error as _;

use ::object_store::client::{HttpError, HttpErrorKind};
use reqwest::StatusCode;

use crate::exec::transport::{ErrorKind, TransportError};

/// Removes known secret values (keys, SAS signatures) from any text before it leaves the tree.
#[derive(Debug, Clone, Default)]
pub(super) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub(super) fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let secrets = secrets
            .into_iter()
            .map(|secret| secret.as_ref().trim().to_string())
            .filter(|secret| secret.len() >= 4)
            .collect();
        Self { secrets }
    }

    pub(super) fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "<redacted>");
        }
        redact_signatures(&text)
    }
}

/// `sig=...` (a SAS signature in a URL) and `Signature=...` (a presigned S3 URL) as `<redacted>`.
fn redact_signatures(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = ["sig=", "Signature="]
        .iter()
        .filter_map(|marker| rest.find(marker).map(|at| at + marker.len()))
        .min()
    {
        output.push_str(&rest[..index]);
        output.push_str("<redacted>");
        rest = &rest[index..];
        let end = rest
            .find(['&', ' ', '"', '\'', ')', '\n'])
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    output.push_str(rest);
    output
}

/// The kind an HTTP status stands for; `body` tells S3's and Azure's 403s apart (a bad key or
/// signature is `Authentication`, a policy refusal `PermissionDenied`).
pub(super) fn kind_of_status(status: StatusCode, body: &str) -> ErrorKind {
    const AUTHENTICATION_CODES: [&str; 5] = [
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AuthenticationFailed",
        "InvalidAuthenticationInfo",
        "AuthorizationFailure",
    ];
    match status {
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::UNAUTHORIZED => ErrorKind::Authentication,
        StatusCode::FORBIDDEN
            if body.is_empty() || AUTHENTICATION_CODES.iter().any(|code| body.contains(code)) =>
        {
            ErrorKind::Authentication
        }
        StatusCode::FORBIDDEN => ErrorKind::PermissionDenied,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ErrorKind::Timeout,
        StatusCode::TOO_MANY_REQUESTS => ErrorKind::Connection,
        StatusCode::NOT_IMPLEMENTED => ErrorKind::Other,
        status if status.is_server_error() => ErrorKind::Connection,
        _ => ErrorKind::Other,
    }
}

fn kind_of_http(kind: HttpErrorKind) -> ErrorKind {
    match kind {
        HttpErrorKind::Timeout => ErrorKind::Timeout,
        HttpErrorKind::Connect | HttpErrorKind::Request | HttpErrorKind::Interrupted => {
            ErrorKind::Connection
        }
        _ => ErrorKind::Other,
    }
}

/// The kind of an `object_store` error: a failure on the wire first, then the variant and the
/// HTTP status in its text (`object_store` keeps its retry error type private).
fn kind_of(error: &::object_store::Error) -> ErrorKind {
    use ::object_store::Error;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        if let Some(http) = inner.downcast_ref::<HttpError>() {
            match kind_of_http(http.kind()) {
                ErrorKind::Other => {}
                kind => return kind,
            }
        }
        if let Some(reqwest) = inner.downcast_ref::<reqwest::Error>() {
            match kind_of_reqwest(reqwest) {
                ErrorKind::Other => {}
                kind => return kind,
            }
        }
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    match error {
        Error::NotFound { .. } => ErrorKind::NotFound,
        Error::Unauthenticated { .. } => ErrorKind::Authentication,
        Error::PermissionDenied { .. } => {
            kind_of_status(StatusCode::FORBIDDEN, forbidden_body(&text))
        }
        _ => status_in(&text).map_or(ErrorKind::Other, |status| kind_of_status(status, &text)),
    }
}

/// What follows the status in a 403's text (a HEAD's 403 has no body at all).
fn forbidden_body(text: &str) -> &str {
    text.rfind("403 Forbidden").map_or(text, |at| {
        text[at + "403 Forbidden".len()..].trim_start_matches([':', ' '])
    })
}

/// The HTTP status in `object_store`'s "non-2xx status code: 503 Service Unavailable" text.
fn status_in(text: &str) -> Option<StatusCode> {
    let at = text.find("status code: ")? + "status code: ".len();
    let digits = text.get(at..at + 3)?;
    StatusCode::from_bytes(digits.as_bytes()).ok()
}

pub(super) fn kind_of_reqwest(error: &reqwest::Error) -> ErrorKind {
    if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_connect() || error.is_request() || error.is_body() {
        ErrorKind::Connection
    } else if let Some(status) = error.status() {
        kind_of_status(status, "")
    } else {
        ErrorKind::Other
    }
}

/// A `TransportError` for an `object_store` failure while doing `what` (e.g. "reading `C/a.txt` from s3://b/p").
pub(super) fn store_error(
    error: &::object_store::Error,
    what: &str,
    redactor: &Redactor,
) -> TransportError {
    let kind = kind_of(error);
    let reason = match kind {
        ErrorKind::Authentication => {
            "the storage refused the credentials (check the access key or account key)".to_string()
        }
        ErrorKind::PermissionDenied => format!("access denied: {error}"),
        ErrorKind::NotFound => "not found".to_string(),
        _ => error.to_string(),
    };
    TransportError::new(kind, redactor.redact(&format!("{what}: {reason}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_signatures_are_scrubbed() {
        let redactor = Redactor::new(["s3cr3t-key", "x"]);
        assert_eq!(
            redactor.redact("GET https://a/b?sv=1&sig=abc%2Fdef&se=2 failed with s3cr3t-key"),
            "GET https://a/b?sv=1&sig=<redacted>&se=2 failed with <redacted>"
        );
        assert_eq!(
            redactor.redact("X-Amz-Signature=0123abcd end"),
            "X-Amz-Signature=<redacted> end"
        );
    }

    #[test]
    fn forbidden_tells_bad_keys_from_policy_refusals() {
        assert_eq!(
            kind_of_status(StatusCode::FORBIDDEN, "<Code>SignatureDoesNotMatch</Code>"),
            ErrorKind::Authentication
        );
        assert_eq!(
            kind_of_status(StatusCode::FORBIDDEN, "<Code>AccessDenied</Code>"),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            kind_of_status(StatusCode::SERVICE_UNAVAILABLE, ""),
            ErrorKind::Connection
        );
        assert_eq!(
            kind_of_status(StatusCode::NOT_FOUND, ""),
            ErrorKind::NotFound
        );
        assert_eq!(
            status_in("Server returned non-2xx status code: 503 Service Unavailable: "),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(
            forbidden_body("HEAD failed: 403 Forbidden: : HEAD failed: 403 Forbidden: "),
            ""
        );
        assert_eq!(
            kind_of_status(StatusCode::NOT_IMPLEMENTED, ""),
            ErrorKind::Other
        );
    }
}
