//! Checking OCI request signatures, as the service does: for test servers,
//! emulators and proxies.
//!
//! ```
//! use oci_auth::verify::{self, PublicKey, SignatureHeader};
//! use oci_auth::{sign, Credentials, KeyId, PrivateKey, SignableBody, SignableRequest, SigningSettings};
//! # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
//! let key = PrivateKey::from_pem(&pem, None)?;
//! let public = PublicKey::from_pem(&key.public_key_pem())?;
//! let credentials = Credentials::new(KeyId::api_key("t", "u", key.fingerprint()), key);
//!
//! let unsigned = SignableRequest::new("GET", "https://h.example/x?y=1", [], SignableBody::Bytes(b""));
//! let mut headers: Vec<(String, String)> =
//!     sign(&unsigned, &credentials, &SigningSettings::default())?.into_headers().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
//!
//! // What a server received:
//! let received = SignableRequest::new("GET", "/x?y=1", headers.iter().map(|(k, v)| (k.as_str(), v.as_str())), SignableBody::Bytes(b""));
//! let header = SignatureHeader::parse(&headers.iter().find(|(k, _)| k == "authorization").unwrap().1)?;
//! assert_eq!(header.key_id(), format!("t/u/{}", public.fingerprint()));
//! verify::verify(&received, &header, &public)?;
//! # Ok::<(), oci_auth::Error>(())
//! ```

use std::fmt;

use base64::Engine as _;
use md5::{Digest, Md5};
use pkcs8::spki::SubjectPublicKeyInfoRef;

use crate::error::{Error, Result};
use crate::sign::{SignableBody, SignableRequest};

fn invalid(reason: impl Into<String>) -> Error {
    Error::SignatureInvalid { reason: reason.into() }
}

/// An RSA public key to verify with.
#[derive(Clone)]
pub struct PublicKey {
    rsa_public_key: Vec<u8>,
    fingerprint: String,
}

impl PublicKey {
    /// From a PEM `BEGIN PUBLIC KEY` block (SubjectPublicKeyInfo).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let block = pem::parse(pem).map_err(|e| invalid(format!("public key is not PEM: {e}")))?;
        Self::from_spki_der(block.contents())
    }

    /// From DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let info = SubjectPublicKeyInfoRef::try_from(der).map_err(|e| invalid(format!("not a public key: {e}")))?;
        Ok(PublicKey {
            rsa_public_key: info.subject_public_key.raw_bytes().to_vec(),
            fingerprint: crate::key::colon_hex(&Md5::digest(der)),
        })
    }

    /// The API-key fingerprint (MD5 of the SubjectPublicKeyInfo).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("fingerprint", &self.fingerprint).finish()
    }
}

/// The parameters of a `Signature …` authorization header.
#[derive(Clone)]
pub struct SignatureHeader {
    key_id: String,
    headers: Vec<String>,
    signature: Vec<u8>,
}

impl SignatureHeader {
    /// Parses `Signature algorithm="rsa-sha256",headers="…",keyId="…",signature="…",version="1"`.
    pub fn parse(authorization: &str) -> Result<Self> {
        let params =
            authorization.strip_prefix("Signature ").ok_or_else(|| invalid("not a `Signature` authorization"))?;
        let mut algorithm = None;
        let mut version = None;
        let mut headers = None;
        let mut key_id = None;
        let mut signature = None;
        let mut rest = params.trim();
        while !rest.is_empty() {
            let (name, after) = rest.split_once("=\"").ok_or_else(|| invalid("malformed parameter list"))?;
            let (value, after) = after.split_once('"').ok_or_else(|| invalid("unterminated parameter"))?;
            match name.trim() {
                "algorithm" => algorithm = Some(value),
                "version" => version = Some(value),
                "headers" => headers = Some(value),
                "keyId" => key_id = Some(value),
                "signature" => signature = Some(value),
                _ => {}
            }
            rest = after.trim_start_matches(',').trim();
        }
        if algorithm != Some("rsa-sha256") {
            return Err(invalid("algorithm must be rsa-sha256"));
        }
        if version.is_some_and(|v| v != "1") {
            return Err(invalid("version must be 1"));
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.ok_or_else(|| invalid("no signature"))?)
            .map_err(|_| invalid("signature is not base64"))?;
        Ok(SignatureHeader {
            key_id: key_id.ok_or_else(|| invalid("no keyId"))?.to_owned(),
            headers: headers.unwrap_or("date").split(' ').map(str::to_owned).collect(),
            signature,
        })
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The signed header names, in order (`(request-target)` included).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }
}

impl fmt::Debug for SignatureHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_id = if self.key_id.starts_with("ST$") { "ST$<redacted>" } else { self.key_id.as_str() };
        f.debug_struct("SignatureHeader").field("key_id", &key_id).field("headers", &self.headers).finish()
    }
}

/// The headers OCI requires a request with `method` to sign.
///
/// ```
/// assert_eq!(oci_auth::verify::required_headers("get"), ["date", "(request-target)", "host"]);
/// ```
pub fn required_headers(method: &str) -> &'static [&'static str] {
    if matches!(method.to_ascii_lowercase().as_str(), "post" | "put" | "patch") {
        &["date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256"]
    } else {
        &["date", "(request-target)", "host"]
    }
}

/// Checks that `header`'s signature over `request` verifies with `key`, and
/// that a signed `x-content-sha256` (and `content-length`) matches the body.
///
/// `request.uri` may be the path and query alone (what a server sees). Which
/// headers must be signed, and how old `date` may be, are the caller's policy
/// (see [`required_headers`]).
pub fn verify(request: &SignableRequest<'_>, header: &SignatureHeader, key: &PublicKey) -> Result<()> {
    let path_and_query = match request.uri().split_once("://") {
        Some((_, after)) => after.find('/').map_or("/", |i| &after[i..]),
        None => request.uri(),
    };
    let value = |name: &str| request.header(name).ok_or_else(|| invalid(format!("signed header `{name}` is missing")));
    let mut lines = Vec::with_capacity(header.headers.len());
    for name in &header.headers {
        let line = match name.as_str() {
            "(request-target)" => {
                format!("(request-target): {} {path_and_query}", request.method().to_ascii_lowercase())
            }
            other => format!("{other}: {}", value(other)?),
        };
        lines.push(line);
    }
    if let SignableBody::Bytes(body) = request.body() {
        if header.headers.iter().any(|h| h == "x-content-sha256") {
            let digest = ring::digest::digest(&ring::digest::SHA256, body);
            if value("x-content-sha256")? != base64::engine::general_purpose::STANDARD.encode(digest) {
                return Err(invalid("x-content-sha256 does not match the body"));
            }
        }
        if header.headers.iter().any(|h| h == "content-length") && value("content-length")? != body.len().to_string() {
            return Err(invalid("content-length does not match the body"));
        }
    }
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &key.rsa_public_key)
        .verify(lines.join("\n").as_bytes(), &header.signature)
        .map_err(|_| invalid("the signature does not verify"))
}
