//! The JSON error document every OCI service answers with.

/// The most of a service's message shown: enough for any real one; the rest
/// is cut (logged whole at trace level by the callers that read it).
const MAX_MESSAGE_CHARS: usize = 1000;

/// `{"code": "...", "message": "..."}`, as every OCI service (and its auth
/// services) answers an error, read leniently: a body that is not that JSON
/// gives its text as the message. Messages are cut at 1,000 characters.
///
/// ```
/// use oci_auth::ErrorBody;
/// let body = ErrorBody::parse(br#"{"code":"NotAuthenticated","message":"bad signature"}"#);
/// assert_eq!((body.code.as_deref(), body.message.as_deref()), (Some("NotAuthenticated"), Some("bad signature")));
/// let long = ErrorBody::parse("m".repeat(5000).as_bytes());
/// assert!(long.message.unwrap().ends_with("… (4000 more bytes)"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// The service's error code (`NotAuthorizedOrNotFound`, …).
    pub code: Option<String>,
    /// The service's message, or the body's text when it is not the JSON document.
    pub message: Option<String>,
}

impl ErrorBody {
    /// Reads `body`.
    pub fn parse(body: &[u8]) -> ErrorBody {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(Self::shorten);
        let message = text("message").or_else(|| {
            let raw = String::from_utf8_lossy(body);
            (!raw.trim().is_empty() && json.is_null()).then(|| Self::shorten(&raw))
        });
        ErrorBody { code: text("code"), message }
    }

    /// A service's text as errors show it: cut at 1,000
    /// characters, with a note of how much was left out.
    pub fn shorten(text: &str) -> String {
        match text.char_indices().nth(MAX_MESSAGE_CHARS) {
            None => text.to_owned(),
            Some((end, _)) => format!("{}… ({} more bytes)", &text[..end], text.len() - end),
        }
    }
}
