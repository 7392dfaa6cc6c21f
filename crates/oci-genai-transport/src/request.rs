//! One attempt's HTTP request, built once for either connection: every
//! header checked as an `http::HeaderValue` (a CR, LF or NUL is an error
//! before anything is sent), then signed or given the API key.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use oci_auth::{Credentials, Secret, SignableBody, SignableRequest, SigningSettings};

use crate::error::Error;
use crate::prepare::PreparedRequest;

const ACCEPT_STREAM_OR_JSON: &str = "application/json, text/event-stream";

/// How one attempt is authenticated.
#[derive(Clone, Copy)]
pub(crate) enum Authorization<'a> {
    /// An OCI request signature.
    Sign(&'a Credentials),
    /// A Generative AI API key (OpenAI-compatible API only).
    Bearer(&'a Secret),
}

/// The request `prepared` describes, authenticated by `auth`.
pub(crate) fn build(prepared: &PreparedRequest, auth: Authorization<'_>) -> Result<http::Request<Bytes>, Error> {
    let get = prepared.method == "GET";
    let mut request = http::Request::builder()
        .method(prepared.method)
        .uri(prepared.url.as_str())
        .body(if get { Bytes::new() } else { prepared.body.clone() })
        .map_err(|e| Error::InvalidRequest(format!("cannot send a request to `{}`: {e}", prepared.url)))?;
    let headers = request.headers_mut();
    if get {
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    } else {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_STREAM_OR_JSON));
        headers.insert("opc-retry-token", value("opc-retry-token", &prepared.retry_token)?);
    }
    headers.insert("opc-request-id", value("opc-request-id", &prepared.opc_request_id)?);
    for (name, text) in &prepared.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::InvalidRequest(format!("`{name}` is not a header name")))?;
        headers.insert(name.clone(), value(name.as_str(), text)?);
    }
    match auth {
        Authorization::Bearer(key) => {
            let mut bearer = value("authorization", &format!("Bearer {}", key.expose()))?;
            bearer.set_sensitive(true);
            headers.insert(AUTHORIZATION, bearer);
        }
        Authorization::Sign(credentials) => {
            // Every value came through `HeaderValue::from_str`: visible ASCII, so `to_str` cannot fail.
            let pairs =
                request.headers().iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
            let body = SignableBody::Bytes(request.body());
            let signable = SignableRequest::new(prepared.method, &prepared.url, pairs, body);
            let instructions = oci_auth::sign(&signable, credentials, &SigningSettings::default())?;
            instructions.apply_to_http_request(&mut request)?;
        }
    }
    Ok(request)
}

/// `text` as the value of header `name`; the error names the header, never the value (it may be a secret).
fn value(name: &str, text: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(text).map_err(|_| {
        Error::InvalidRequest(format!(
            "the `{name}` header holds a character HTTP does not allow (CR, LF, NUL or another control character)"
        ))
    })
}

/// Whether `text` can be sent as a header value as it is.
pub(crate) fn sendable_header_value(text: &str) -> bool {
    HeaderValue::from_str(text).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::end::StreamEnd;
    use crate::error::RequestContext;
    use crate::transport::Transport;

    fn prepared(method: &'static str, headers: Vec<(&'static str, String)>) -> PreparedRequest {
        PreparedRequest {
            method,
            url: "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1/chat/completions".into(),
            body: Bytes::from_static(b"{}"),
            transport: Transport::ChatCompletions,
            headers,
            context: RequestContext::default(),
            end: StreamEnd::Native { usage_requested: false },
            opc_request_id: "REQ".into(),
            retry_token: "RETRY".into(),
        }
    }

    #[test]
    fn a_bearer_request_carries_the_common_headers_and_a_hidden_key() {
        let key = Secret::from("sk-1");
        let request =
            build(&prepared("POST", vec![("openai-project", "p".into())]), Authorization::Bearer(&key)).unwrap();
        let h = request.headers();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["accept"], ACCEPT_STREAM_OR_JSON);
        assert_eq!((h["opc-request-id"].to_str().unwrap(), h["opc-retry-token"].to_str().unwrap()), ("REQ", "RETRY"));
        assert_eq!(h["openai-project"], "p");
        assert!(h["authorization"].is_sensitive());
        assert!(!format!("{request:?}").contains("sk-1"));
        assert_eq!(request.body().as_ref(), b"{}");
    }

    #[test]
    fn a_get_has_no_body_and_no_retry_token() {
        let key = Secret::from("sk-1");
        let request = build(&prepared("GET", Vec::new()), Authorization::Bearer(&key)).unwrap();
        assert!(request.body().is_empty());
        assert!(request.headers().get("opc-retry-token").is_none());
        assert_eq!(request.headers()["accept"], "application/json");
    }

    /// A key or header value with a line break would write headers of its
    /// own (response splitting); it is refused before anything is sent, and
    /// the error does not repeat the value.
    #[test]
    fn a_line_break_in_any_header_value_is_an_error_naming_the_header_only() {
        let key = Secret::from("sk\r\nx-injected: 1");
        let err = build(&prepared("POST", Vec::new()), Authorization::Bearer(&key)).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
        assert!(err.to_string().contains("`authorization`") && !err.to_string().contains("injected"), "{err}");
        let err = build(
            &prepared("POST", vec![("opc-compartment-id", "c\nx: 1".into())]),
            Authorization::Bearer(&Secret::from("k")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`opc-compartment-id`"), "{err}");
    }
}
