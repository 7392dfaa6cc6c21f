//! What a request is signed with, and the providers that yield it.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::Result;
use crate::key::PrivateKey;
use crate::secret::Secret;

/// What kind of principal a [`KeyId`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyIdKind {
    /// `<tenancy>/<user>/<fingerprint>`: a user's API key.
    ApiKey,
    /// `ST$<token>`: a session token (security token, instance or resource principal).
    SecurityToken,
    /// `<tenancy>/fed-x509/<certificate fingerprint>`: an instance certificate,
    /// used only to obtain a token.
    Federation,
    /// `resource/v<version>/…`: a resource's own key, used only to obtain a
    /// resource principal token (v2.1.x).
    Resource,
}

/// The `keyId` of the `Authorization` header.
///
/// Security tokens are secrets: `Debug` and `Display` show `ST$<redacted>`.
///
/// ```
/// use oci_auth::{KeyId, KeyIdKind};
/// let id = KeyId::api_key("ocid1.tenancy.oc1..t", "ocid1.user.oc1..u", "aa:bb");
/// assert_eq!(id.expose(), "ocid1.tenancy.oc1..t/ocid1.user.oc1..u/aa:bb");
/// let st = KeyId::security_token("eyJ.payload.sig");
/// assert_eq!(st.kind(), KeyIdKind::SecurityToken);
/// assert_eq!(st.to_string(), "ST$<redacted>");
/// assert_eq!(st.expose(), "ST$eyJ.payload.sig");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyId {
    kind: KeyIdKind,
    value: Secret,
}

impl KeyId {
    /// An API key id.
    pub fn api_key(tenancy: &str, user: &str, fingerprint: &str) -> Self {
        KeyId { kind: KeyIdKind::ApiKey, value: Secret::new(format!("{tenancy}/{user}/{fingerprint}")) }
    }

    /// A session-token key id, `ST$<token>` (give the token without `ST$`).
    pub fn security_token(token: &str) -> Self {
        KeyId { kind: KeyIdKind::SecurityToken, value: Secret::new(format!("ST${token}")) }
    }

    /// A federation key id, `<tenancy>/fed-x509/<certificate fingerprint>`.
    pub fn federation(tenancy: &str, certificate_fingerprint: &str) -> Self {
        KeyId {
            kind: KeyIdKind::Federation,
            value: Secret::new(format!("{tenancy}/fed-x509/{certificate_fingerprint}")),
        }
    }

    /// A resource key id for resource principals v2.1.x:
    /// `resource/v2.1/<resource>` or `resource/v<version>/<tenancy>/<resource>`.
    pub fn resource(version: &str, tenancy: Option<&str>, resource_id: &str) -> Self {
        let value = match tenancy {
            Some(tenancy) => format!("resource/v{version}/{tenancy}/{resource_id}"),
            None => format!("resource/v{version}/{resource_id}"),
        };
        KeyId { kind: KeyIdKind::Resource, value: Secret::new(value) }
    }

    /// The kind of principal.
    pub fn kind(&self) -> KeyIdKind {
        self.kind
    }

    /// The full key id as it goes into the `Authorization` header.
    pub fn expose(&self) -> &str {
        self.value.expose()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            KeyIdKind::SecurityToken => f.write_str("ST$<redacted>"),
            _ => f.write_str(self.value.expose()),
        }
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A key id and the private key that signs for it, valid until `expires_at`
/// when that is known. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Credentials {
    key_id: KeyId,
    key: Arc<PrivateKey>,
    expires_at: Option<SystemTime>,
}

impl Credentials {
    /// Credentials that do not expire (an API key).
    pub fn new(key_id: KeyId, key: impl Into<Arc<PrivateKey>>) -> Self {
        Credentials { key_id, key: key.into(), expires_at: None }
    }

    /// Sets when these credentials stop working.
    pub fn with_expiry(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The key id.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The signing key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The signing key, shared.
    pub fn shared_key(&self) -> Arc<PrivateKey> {
        Arc::clone(&self.key)
    }

    /// When the credentials expire, if they do.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

/// A source of [`Credentials`]: one async trait for every auth type.
///
/// Callers ask for credentials before each request (providers cache them) and
/// call [`refresh`](Self::refresh) once after a service answers 401.
///
/// ```
/// use std::sync::Arc;
/// use oci_auth::{Credentials, KeyId, PrivateKey, ProvideCredentials, SharedCredentialsProvider};
///
/// #[derive(Debug)]
/// struct Fixed(Credentials);
///
/// #[async_trait::async_trait]
/// impl ProvideCredentials for Fixed {
///     async fn credentials(&self) -> oci_auth::Result<Credentials> {
///         Ok(self.0.clone())
///     }
/// }
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
/// let key = PrivateKey::from_pem(&pem, None)?;
/// let provider: SharedCredentialsProvider = Arc::new(Fixed(Credentials::new(KeyId::api_key("t", "u", "f"), key)));
/// # let _ = provider;
/// # Ok::<(), oci_auth::Error>(())
/// ```
#[async_trait::async_trait]
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Credentials to sign the next request with.
    async fn credentials(&self) -> Result<Credentials>;

    /// Drops anything cached and fetches fresh credentials (after a 401).
    /// The default re-asks [`credentials`](Self::credentials).
    async fn refresh(&self) -> Result<Credentials> {
        self.credentials().await
    }
}

/// A provider shared between clients.
pub type SharedCredentialsProvider = Arc<dyn ProvideCredentials>;
