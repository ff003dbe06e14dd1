//! Turning SSH and SFTP failures into `TransportError`s with the right kind and a clear message.
//!
//! SFTP status codes: "no such file" is `NotFound`, "permission denied" is `PermissionDenied`,
//! "no connection" / "connection lost", a closed channel and I/O errors are `Connection` (worth
//! retrying on a fresh connection), a request without reply is `Timeout`, the rest `Other`.

use std::io;

use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;

use crate::exec::transport::{ErrorKind, TransportError};

/// The kind of an SFTP client error.
pub(crate) fn sftp_kind(error: &SftpError) -> ErrorKind {
    match error {
        SftpError::Status(status) => match status.status_code {
            StatusCode::NoSuchFile => ErrorKind::NotFound,
            StatusCode::PermissionDenied => ErrorKind::PermissionDenied,
            StatusCode::NoConnection | StatusCode::ConnectionLost => ErrorKind::Connection,
            _ if looks_like_no_space(&status.error_message) => ErrorKind::NoSpace,
            _ => ErrorKind::Other,
        },
        SftpError::IO(_) => ErrorKind::Connection,
        SftpError::Timeout => ErrorKind::Timeout,
        // The request or reply channel of the SFTP session is gone: the connection dropped.
        SftpError::UnexpectedBehavior(message)
            if message.contains("SendError") || message.contains("RecvError") =>
        {
            ErrorKind::Connection
        }
        SftpError::Limited(_) | SftpError::UnexpectedPacket | SftpError::UnexpectedBehavior(_) => {
            ErrorKind::Other
        }
    }
}

fn looks_like_no_space(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("no space") || message.contains("quota")
}

/// Describes an SFTP error without its code noise: `No such file`, `Permission denied: ...`.
fn sftp_text(error: &SftpError) -> String {
    match error {
        SftpError::Status(status) => {
            let code = status.status_code.to_string();
            let detail = status.error_message.trim();
            if detail.is_empty() || detail.eq_ignore_ascii_case(&code) {
                code
            } else {
                format!("{code}: {detail}")
            }
        }
        other => other.to_string(),
    }
}

/// An error for `operation` (e.g. "cannot list") on `path` of tree `tree`.
pub(crate) fn sftp_error(
    error: &SftpError,
    operation: &str,
    path: &str,
    tree: &str,
) -> TransportError {
    TransportError::new(
        sftp_kind(error),
        format!("{operation} {path} on {tree}: {}", sftp_text(error)),
    )
}

/// The kind of an SSH (russh) error while connecting or opening channels.
pub(crate) fn ssh_kind(error: &russh::Error) -> ErrorKind {
    use russh::Error;
    match error {
        // A server that shares no algorithm with ferry will not change its mind on a retry.
        Error::NoCommonAlgo { .. } | Error::UnknownAlgo | Error::Version => ErrorKind::Other,
        Error::ConnectionTimeout
        | Error::KeepaliveTimeout
        | Error::InactivityTimeout
        | Error::Elapsed(_) => ErrorKind::Timeout,
        Error::NotAuthenticated | Error::NoAuthMethod | Error::UnsupportedAuthMethod => {
            ErrorKind::Authentication
        }
        _ => ErrorKind::Connection,
    }
}

/// Wraps a `TransportError` into an `io::Error` for the reader and writer streams, so a caller
/// can recover the kind with `error.get_ref()` and `downcast_ref::<TransportError>()`.
pub(crate) fn into_io(error: TransportError) -> io::Error {
    let kind = match error.kind {
        ErrorKind::NotFound => io::ErrorKind::NotFound,
        ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
        ErrorKind::Timeout => io::ErrorKind::TimedOut,
        ErrorKind::Connection => io::ErrorKind::ConnectionAborted,
        ErrorKind::NoSpace => io::ErrorKind::StorageFull,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, error)
}

/// Maps an `io::Error` from russh-sftp's file streams, which carry the SFTP error inside.
pub(crate) fn from_stream_io(
    error: io::Error,
    operation: &str,
    path: &str,
    tree: &str,
) -> io::Error {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<TransportError>())
    {
        return error;
    }
    let transport = match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<SftpError>())
    {
        Some(sftp) => sftp_error(sftp, operation, path, tree),
        None => {
            let kind = match error.kind() {
                io::ErrorKind::TimedOut => ErrorKind::Timeout,
                io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::UnexpectedEof => ErrorKind::Connection,
                _ if looks_like_no_space(&error.to_string()) => ErrorKind::NoSpace,
                _ => ErrorKind::Other,
            };
            TransportError::new(kind, format!("{operation} {path} on {tree}: {error}"))
        }
    };
    into_io(transport)
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh_sftp::protocol::Status;

    fn status(code: StatusCode, message: &str) -> SftpError {
        SftpError::Status(Status {
            id: 1,
            status_code: code,
            error_message: message.into(),
            language_tag: "en".into(),
        })
    }

    #[test]
    fn status_codes_map_to_kinds() {
        assert_eq!(
            sftp_kind(&status(StatusCode::NoSuchFile, "No such file")),
            ErrorKind::NotFound
        );
        assert_eq!(
            sftp_kind(&status(StatusCode::PermissionDenied, "Permission denied")),
            ErrorKind::PermissionDenied
        );
        let lost = sftp_error(
            &status(StatusCode::ConnectionLost, ""),
            "cannot read",
            "/a",
            "sftp://x",
        );
        assert!(lost.is_retryable());
        assert_eq!(lost.message, "cannot read /a on sftp://x: Connection lost");
        assert_eq!(sftp_kind(&SftpError::Timeout), ErrorKind::Timeout);
        assert_eq!(
            sftp_kind(&status(StatusCode::Failure, "Failure")),
            ErrorKind::Other
        );
    }

    #[test]
    fn stream_errors_keep_their_transport_error() {
        let inner = io::Error::other(status(StatusCode::PermissionDenied, "denied"));
        let mapped = from_stream_io(inner, "cannot read", "/x", "sftp://h");
        assert_eq!(mapped.kind(), io::ErrorKind::PermissionDenied);
        let transport = mapped
            .get_ref()
            .unwrap()
            .downcast_ref::<TransportError>()
            .unwrap();
        assert_eq!(transport.kind, ErrorKind::PermissionDenied);
    }
}
