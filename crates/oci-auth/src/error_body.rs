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
    /// Reads `body`. A document cut short (callers read at most so much of
    /// an error reply) still gives the fields it held whole — the code comes
    /// first, before a long message.
    pub fn parse(body: &[u8]) -> ErrorBody {
        let mut found = Fields::default();
        let complete = serde::Deserializer::deserialize_map(
            &mut serde_json::Deserializer::from_slice(body),
            FieldsVisitor(&mut found),
        )
        .is_ok();
        let message = found.message.as_deref().map(Self::shorten).or_else(|| {
            let raw = String::from_utf8_lossy(body);
            (!complete && !raw.trim().is_empty()).then(|| Self::shorten(&raw))
        });
        ErrorBody { code: found.code.as_deref().map(Self::shorten), message }
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

/// `code` and `message`, as far as the document went.
#[derive(Default)]
struct Fields {
    code: Option<String>,
    message: Option<String>,
}

/// Fills [`Fields`] entry by entry, so that what came before an error (the
/// end of a truncated body) is kept even though the whole parse fails.
struct FieldsVisitor<'a>(&'a mut Fields);

impl<'de> serde::de::Visitor<'de> for FieldsVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an OCI error document")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "code" => self.0.code = map.next_value::<Option<String>>()?,
                "message" => self.0.message = map.next_value::<Option<String>>()?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_document_keeps_its_code() {
        let cut = format!(r#"{{"code":"InvalidParameter","message":"{}"#, "m".repeat(5000));
        let body = ErrorBody::parse(cut.as_bytes());
        assert_eq!(body.code.as_deref(), Some("InvalidParameter"));
        assert!(body.message.unwrap().ends_with("more bytes)"), "the raw text, cut");
        let whole = ErrorBody::parse(br#"{"message":"no code","extra":[1,{"a":null}]}"#);
        assert_eq!((whole.code, whole.message.as_deref()), (None, Some("no code")));
        assert_eq!(ErrorBody::parse(b"{}"), ErrorBody::default());
        assert_eq!(ErrorBody::parse(b"not json").message.as_deref(), Some("not json"));
        assert_eq!(ErrorBody::parse(b""), ErrorBody::default());
        assert_eq!(ErrorBody::parse(br#"{"code":null}"#), ErrorBody::default());
    }
}
