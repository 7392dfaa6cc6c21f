//! Signing `reqwest::Request`s in place (feature `reqwest`).

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::sign::{SignableBody, SignableRequest, SigningSettings, sign};

/// Signs a built `reqwest::Request`: adds `date`, `host`, the body headers
/// and `authorization` as [`sign`] computes them.
///
/// A streaming body can only be signed with
/// [`SigningSettings::without_content_headers`].
///
/// ```
/// use oci_auth::{Credentials, KeyId, PrivateKey, SigningSettings};
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
/// let key = PrivateKey::from_pem(&pem, None)?;
/// let credentials = Credentials::new(KeyId::api_key("t", "u", key.fingerprint()), key);
/// let client = reqwest::Client::new();
/// let mut request = client
///     .post("https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat")
///     .body("{}")
///     .build()
///     .unwrap();
/// oci_auth::sign_reqwest_request(&mut request, &credentials, &SigningSettings::default())?;
/// assert!(request.headers()["authorization"].is_sensitive());
/// # Ok::<(), oci_auth::Error>(())
/// ```
pub fn sign_reqwest_request(
    request: &mut reqwest::Request,
    credentials: &Credentials,
    settings: &SigningSettings,
) -> Result<()> {
    let mut headers = Vec::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| Error::InvalidHeaderValue { name: name.to_string() })?;
        headers.push((name.as_str(), value));
    }
    let body = match request.body() {
        None => SignableBody::Bytes(&[]),
        Some(body) => body.as_bytes().map_or(SignableBody::Stream, SignableBody::Bytes),
    };
    let instructions = sign(
        &SignableRequest::new(request.method().as_str(), request.url().as_str(), headers, body),
        credentials,
        settings,
    )?;
    instructions.apply_to_header_map(request.headers_mut())
}
