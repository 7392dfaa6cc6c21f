//! The OpenAI-compatible API's wire types (`/openai/v1`), for the parts
//! locus-rs uses: chat completions and Responses, requests and what comes
//! back, streamed or whole.
//!
//! Requests serialise only what is set (`None` fields are left out) and
//! carry an `extra` map for any field not typed here. Replies are read
//! leniently: every field is optional or defaulted, unknown fields are
//! ignored, and unknown kinds of items become `Other`.

pub mod chat_completions;
pub mod responses;

use serde::{Deserialize, Serialize};

/// An OpenAI-shaped error document: `{"error": {"message", "type", "code"}}`.
///
/// ```
/// use oci_genai_transport::openai::ErrorDocument;
/// let doc: ErrorDocument = serde_json::from_str(r#"{"error": {"message": "no", "type": "invalid_request_error", "code": null}}"#)?;
/// assert_eq!(doc.error.code_or_type(), Some("invalid_request_error"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorDocument {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of an OpenAI-shaped error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    /// What went wrong.
    pub message: Option<String>,
    /// Its class (`invalid_request_error`, …).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its code (a string or a number on the wire).
    #[serde(deserialize_with = "code_text", skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The request parameter at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

impl ErrorDetail {
    /// The code, else the type.
    pub fn code_or_type(&self) -> Option<&str> {
        self.code.as_deref().or(self.kind.as_deref())
    }
}

fn code_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(deserializer)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    })
}

/// Drops `None` fields from the JSON written (the requests' convention).
pub(crate) fn is_none<T>(value: &Option<T>) -> bool {
    value.is_none()
}
