//! An error answer from an OCI auth service.

/// An error answer from an OCI auth service (federation, resource principal tokens).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the {service} at {url} answered {status} {code}: {message} (opc-request-id: {request_id}){}",
    hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default()
)]
#[non_exhaustive]
pub struct AuthServiceError {
    /// Which service.
    pub service: &'static str,
    /// The URL.
    pub url: String,
    /// The HTTP status (200 for a success answer we could not use).
    pub status: u16,
    /// The service's error code.
    pub code: String,
    /// The service's message.
    pub message: String,
    /// The request id to quote to Oracle support.
    pub request_id: String,
    /// What to check, when we know.
    pub hint: Option<String>,
}
