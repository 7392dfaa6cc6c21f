//! Errors as OpenAI clients read them: `{"error": {"message", "type", "code", "param"}}`.

use serde_json::json;

/// A failed request, with the status and OpenAI-shaped body it is answered with.
#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct GatewayError {
    /// The HTTP status.
    pub status: u16,
    /// OpenAI's error type (`invalid_request_error`, …).
    pub kind: &'static str,
    /// The code: OCI's when the service answered (`NotAuthorizedOrNotFound`), else the gateway's.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
    /// The service's request id, when there is one.
    pub opc_request_id: Option<String>,
}

impl GatewayError {
    /// A 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        GatewayError {
            status: 400,
            kind: "invalid_request_error",
            code: "invalid_request".into(),
            message: message.into(),
            opc_request_id: None,
        }
    }

    /// Any status, of the gateway's own.
    pub fn new(status: u16, kind: &'static str, code: &str, message: impl Into<String>) -> Self {
        GatewayError { status, kind, code: code.into(), message: message.into(), opc_request_id: None }
    }

    /// The body.
    pub fn body(&self) -> String {
        let mut message = self.message.clone();
        if let Some(id) = self.opc_request_id.as_deref().filter(|id| !message.contains(id)) {
            message.push_str(&format!(" (opc-request-id: {id})"));
        }
        json!({"error": {"message": message, "type": self.kind, "code": self.code, "param": null}}).to_string()
    }
}

impl From<locus_providers::Error> for GatewayError {
    fn from(error: locus_providers::Error) -> Self {
        use oci_genai_transport::ErrorKind;
        let opc_request_id = error.transport().and_then(|e| e.opc_request_id()).map(str::to_owned);
        let mut message = error.to_string();
        if let Some(hint) = error.hint() {
            message.push_str(&format!("; {hint}"));
        }
        let (status, kind, code) = match error.transport().and_then(oci_genai_transport::Error::service) {
            Some(e) => {
                let kind = match e.status {
                    401 => "authentication_error",
                    403 => "permission_error",
                    404 => "not_found_error",
                    429 => "rate_limit_error",
                    400..=499 => "invalid_request_error",
                    _ => "api_error",
                };
                (e.status, kind, e.code.clone())
            }
            None if is_the_clients(&error) => (400, "invalid_request_error", "invalid_request".to_owned()),
            None => match error.kind() {
                // The gateway's own settings (no compartment, no region, credentials): not the client's to fix.
                ErrorKind::Configuration => (500, "api_error", "gateway_configuration".to_owned()),
                ErrorKind::Authentication => (401, "authentication_error", "upstream_authentication".to_owned()),
                ErrorKind::Timeout => (504, "api_error", "upstream_timeout".to_owned()),
                _ => (502, "api_error", "upstream_error".to_owned()),
            },
        };
        GatewayError { status, kind, code, message, opc_request_id }
    }
}

/// Whether the request itself cannot be sent as asked: a model id that names
/// nothing, a parameter the model's shape cannot carry.
fn is_the_clients(error: &locus_providers::Error) -> bool {
    matches!(error, locus_providers::Error::Unsupported { .. } | locus_providers::Error::InvalidRequest(_))
        || error.transport().is_some_and(oci_genai_transport::Error::is_request_mistake)
}
