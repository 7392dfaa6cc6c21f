//! OCI request signing (draft-cavage HTTP signatures, `rsa-sha256`).
//!
//! Independent of any HTTP client: describe the request as a
//! [`SignableRequest`], call [`sign`], and apply the returned
//! [`SigningInstructions`] (headers to set) to whatever request type you send.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use oci_auth::{sign, Credentials, KeyId, PrivateKey, SignableBody, SignableRequest, SigningSettings};
//! # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
//! let key = PrivateKey::from_pem(&pem, None)?;
//! let credentials = Credentials::new(KeyId::api_key("ocid1.tenancy.oc1..t", "ocid1.user.oc1..u", key.fingerprint()), key);
//! let request = SignableRequest::new(
//!     "POST",
//!     "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat",
//!     [("content-type", "application/json")],
//!     SignableBody::Bytes(br#"{"compartmentId":"ocid1.compartment.oc1..c"}"#),
//! );
//! let settings = SigningSettings::default().with_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
//! let instructions = sign(&request, &credentials, &settings)?;
//! let names: Vec<&str> = instructions.headers().map(|(name, _)| name).collect();
//! assert_eq!(names, ["date", "host", "x-content-sha256", "content-length", "authorization"]);
//! assert_eq!(instructions.header("date"), Some("Tue, 14 Nov 2023 22:13:20 GMT"));
//! # Ok::<(), oci_auth::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;

use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// The body of a request to sign.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum SignableBody<'a> {
    /// The exact bytes that will be sent (empty for no body).
    Bytes(&'a [u8]),
    /// A body that cannot be read up front (a stream). Only signable with
    /// [`SigningSettings::without_content_headers`], or when the request
    /// already carries `x-content-sha256` and `content-length`.
    Stream,
}

/// A request, as it will be sent, described for signing.
///
/// `uri` must be the absolute URI exactly as sent on the wire: already
/// percent-encoded, query in its final order.
#[derive(Debug, Clone)]
pub struct SignableRequest<'a> {
    method: &'a str,
    uri: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: SignableBody<'a>,
}

impl<'a> SignableRequest<'a> {
    /// Describes a request: method, absolute URI, headers already on it, body.
    pub fn new(
        method: &'a str,
        uri: &'a str,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        body: SignableBody<'a>,
    ) -> Self {
        SignableRequest { method, uri, headers: headers.into_iter().collect(), body }
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    /// The method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The URI.
    pub fn uri(&self) -> &'a str {
        self.uri
    }

    /// The body.
    pub fn body(&self) -> SignableBody<'a> {
        self.body
    }
}

/// How to sign: which optional headers take part, and the time to put in `date`.
///
/// ```
/// use oci_auth::SigningSettings;
/// let streaming_upload = SigningSettings::default().without_content_headers();
/// # let _ = streaming_upload;
/// ```
#[derive(Debug, Clone, Default)]
pub struct SigningSettings {
    exclude_body_headers: bool,
    exclude_host: bool,
    time: Option<SystemTime>,
}

impl SigningSettings {
    /// Signs PUT/POST/PATCH requests without `content-length`, `content-type`
    /// and `x-content-sha256`, as the SDK's `without_content_headers` does for
    /// streaming uploads (the body is then not covered by the signature).
    pub fn without_content_headers(mut self) -> Self {
        self.exclude_body_headers = true;
        self
    }

    /// Leaves `host` out of the signed headers, as the instance-principal
    /// federation client does.
    pub fn without_host(mut self) -> Self {
        self.exclude_host = true;
        self
    }

    /// Uses `time` for the `date` header when the request has none
    /// (default: now).
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }
}

/// The headers to set on the request so that it is signed.
///
/// Holds only headers the request did not already have, plus
/// `authorization`. `Debug` redacts the `authorization` value.
#[derive(Clone)]
pub struct SigningInstructions {
    headers: Vec<(&'static str, String)>,
}

impl SigningInstructions {
    /// The headers to set, lowercase names, in the order they were computed;
    /// `authorization` last.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.headers.iter().map(|(n, v)| (*n, v.as_str()))
    }

    /// One header's value, if these instructions set it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Consumes the instructions, giving the headers to set.
    pub fn into_headers(self) -> Vec<(&'static str, String)> {
        self.headers
    }

    /// Sets the headers on an `http::HeaderMap`, marking `authorization` as
    /// sensitive (never indexed by HTTP/2 HPACK, hidden by `Debug`).
    #[cfg(feature = "http")]
    pub fn apply_to_header_map(self, map: &mut http::HeaderMap) -> Result<()> {
        for (name, value) in self.headers {
            let mut value =
                http::HeaderValue::from_str(&value).map_err(|_| Error::InvalidHeaderValue { name: name.to_owned() })?;
            if name == "authorization" {
                value.set_sensitive(true);
            }
            map.insert(http::HeaderName::from_static(name), value);
        }
        Ok(())
    }

    /// Sets the headers on an `http::Request`.
    #[cfg(feature = "http")]
    pub fn apply_to_http_request<B>(self, request: &mut http::Request<B>) -> Result<()> {
        self.apply_to_header_map(request.headers_mut())
    }
}

impl fmt::Debug for SigningInstructions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for (name, value) in &self.headers {
            if *name == "authorization" {
                list.entry(name, &"<redacted>");
            } else {
                list.entry(name, value);
            }
        }
        list.finish()
    }
}

/// Signs `request` with `credentials`.
///
/// The rules are the official SDKs': `date` (kept if present), `host` from the
/// URI authority (port included), `(request-target)` = lowercase method, space,
/// path and query as sent; GET, HEAD and DELETE sign `date (request-target)
/// host`; POST, PUT and PATCH also sign `content-length content-type
/// x-content-sha256` (the SHA-256 of the body, base64; an empty body is hashed
/// too). `content-type` defaults to `application/json`. Other methods are an
/// error.
pub fn sign(
    request: &SignableRequest<'_>,
    credentials: &Credentials,
    settings: &SigningSettings,
) -> Result<SigningInstructions> {
    let method = request.method.to_ascii_lowercase();
    let has_body = match method.as_str() {
        "get" | "head" | "delete" => false,
        "post" | "put" | "patch" => true,
        _ => return Err(Error::UnsupportedMethod { method: request.method.to_owned() }),
    };
    let target = RequestTarget::parse(request.uri)?;
    for (name, value) in &request.headers {
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(Error::InvalidHeaderValue { name: (*name).to_owned() });
        }
    }

    let mut added: Vec<(&'static str, String)> = Vec::with_capacity(7);
    let mut value_of = |name: &'static str, compute: &mut dyn FnMut() -> Result<String>| -> Result<String> {
        match request.header(name) {
            Some(given) => Ok(given.to_owned()),
            None => {
                let value = compute()?;
                added.push((name, value.clone()));
                Ok(value)
            }
        }
    };

    let date = value_of("date", &mut || Ok(httpdate::fmt_http_date(settings.time.unwrap_or_else(SystemTime::now))))?;
    let host = value_of("host", &mut || {
        target.authority.map(str::to_owned).ok_or_else(|| Error::InvalidUri {
            uri: request.uri.to_owned(),
            message: "no host: give an absolute URI (https://host/path) or a `host` header".into(),
        })
    })?;
    let content_type = value_of("content-type", &mut || Ok("application/json".to_owned()))?;

    let sign_body = has_body && !settings.exclude_body_headers;
    let mut signing_string = String::with_capacity(512);
    push_line(&mut signing_string, "date", &date);
    signing_string.push_str("\n(request-target): ");
    signing_string.push_str(&method);
    signing_string.push(' ');
    signing_string.push_str(&target.path_and_query);
    let mut header_list = String::from("date (request-target)");
    if !settings.exclude_host {
        signing_string.push('\n');
        push_line(&mut signing_string, "host", &host);
        header_list.push_str(" host");
    }
    if sign_body {
        let sha = value_of("x-content-sha256", &mut || match request.body {
            SignableBody::Bytes(bytes) => {
                Ok(base64::engine::general_purpose::STANDARD.encode(ring::digest::digest(&ring::digest::SHA256, bytes)))
            }
            SignableBody::Stream => Err(Error::UnsignableBody),
        })?;
        let length = value_of("content-length", &mut || match request.body {
            SignableBody::Bytes(bytes) => Ok(bytes.len().to_string()),
            SignableBody::Stream => Err(Error::UnsignableBody),
        })?;
        for (name, value) in [("content-length", &length), ("content-type", &content_type), ("x-content-sha256", &sha)]
        {
            signing_string.push('\n');
            push_line(&mut signing_string, name, value);
        }
        header_list.push_str(" content-length content-type x-content-sha256");
    }

    let signature = credentials.key().sign_base64(signing_string.as_bytes())?;
    let authorization = format!(
        "Signature algorithm=\"rsa-sha256\",headers=\"{header_list}\",keyId=\"{}\",signature=\"{signature}\",version=\"1\"",
        credentials.key_id().expose()
    );
    added.push(("authorization", authorization));
    Ok(SigningInstructions { headers: added })
}

fn push_line(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
}

/// The parts of a URI that take part in the signature.
#[derive(Debug, PartialEq, Eq)]
struct RequestTarget<'a> {
    /// Host and port, without user-info.
    authority: Option<&'a str>,
    /// Path and query as sent, never empty.
    path_and_query: Cow<'a, str>,
}

impl<'a> RequestTarget<'a> {
    fn parse(uri: &'a str) -> Result<Self> {
        let invalid = |message: &str| Error::InvalidUri { uri: redact_userinfo(uri), message: message.to_owned() };
        if let Some(bad) = uri.chars().find(|c| !c.is_ascii_graphic()) {
            let what = if bad.is_ascii() { "a space or control character" } else { "a non-ASCII character" };
            return Err(invalid(&format!("it contains {what}; percent-encode the URI exactly as it is sent")));
        }
        let without_fragment = uri.split('#').next().unwrap_or_default();
        let (authority, rest) = match without_fragment.split_once("://") {
            Some((scheme, after)) if !scheme.is_empty() && !scheme.contains('/') => {
                let end = after.find(['/', '?']).unwrap_or(after.len());
                let authority = &after[..end];
                let host = authority.rsplit('@').next().unwrap_or(authority);
                if host.is_empty() {
                    return Err(invalid("the URI has no host"));
                }
                (Some(host), &after[end..])
            }
            _ if without_fragment.starts_with('/') => (None, without_fragment),
            _ => return Err(invalid("expected an absolute URI such as https://host/path")),
        };
        // HTTP clients send an empty path as "/".
        let path_and_query =
            if rest.is_empty() || rest.starts_with('?') { Cow::Owned(format!("/{rest}")) } else { Cow::Borrowed(rest) };
        Ok(RequestTarget { authority, path_and_query })
    }
}

fn redact_userinfo(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, after)) => {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            match after[..end].rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://<user-info>@{host}{}", &after[end..]),
                None => uri.to_owned(),
            }
        }
        None => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_targets() {
        let t = RequestTarget::parse("https://h.example.com:8443/a/b?x=1&y=%20#frag").unwrap();
        assert_eq!(t.authority, Some("h.example.com:8443"));
        assert_eq!(t.path_and_query, "/a/b?x=1&y=%20");
        let t = RequestTarget::parse("https://user:pw@h/").unwrap();
        assert_eq!(t.authority, Some("h"));
        assert_eq!(RequestTarget::parse("https://h").unwrap().path_and_query, "/");
        assert_eq!(RequestTarget::parse("https://h?q=1").unwrap().path_and_query, "/?q=1");
        let t = RequestTarget::parse("/p?q").unwrap();
        assert_eq!((t.authority, t.path_and_query.as_ref()), (None, "/p?q"));
    }

    #[test]
    fn bad_uris_are_errors_that_hide_user_info() {
        for (uri, needle) in [
            ("https://h/a b", "space"),
            ("https://h/ü", "non-ASCII"),
            ("h/path", "absolute URI"),
            ("https:///p", "no host"),
        ] {
            let err = RequestTarget::parse(uri).unwrap_err().to_string();
            assert!(err.contains(needle), "{uri}: {err}");
        }
        let err = RequestTarget::parse("https://me:secret@h/ x").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
