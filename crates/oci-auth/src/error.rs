//! The crate's one error type.

mod auth_service;
mod key_source;

pub use auth_service::AuthServiceError;
pub use key_source::KeySource;

use std::path::PathBuf;
use std::time::SystemTime;

/// A shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading OCI configuration, loading keys
/// or signing a request.
///
/// Every message names the file, profile or key involved and says what to do
/// next. No variant carries a private key, passphrase, token or signature.
///
/// ```
/// use oci_auth::Error;
/// let err = Error::UnsupportedMethod { method: "TRACE".into() };
/// assert!(err.to_string().contains("TRACE"));
/// assert!(!err.is_credential_expired());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read.
    #[error(
        "cannot read OCI config file {path}: {source}; create it with `oci setup config`, \
         or point OCI_CONFIG_FILE or --config-file at an existing one"
    )]
    ConfigFileUnreadable {
        /// The file we tried.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },

    /// The config file is not valid INI.
    #[error("{path}:{line}: {message}")]
    ConfigSyntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong on that line.
        message: String,
    },

    /// The requested profile is not in the config file.
    #[error(
        "profile [{profile}] not found in {path}; profiles there: {}; choose one with \
         --profile or OCI_CLI_PROFILE",
        list_or_none(available)
    )]
    ProfileNotFound {
        /// The config file.
        path: PathBuf,
        /// The profile asked for.
        profile: String,
        /// The profiles the file does define.
        available: Vec<String>,
    },

    /// A key the chosen auth type needs is missing from the profile.
    #[error("profile [{profile}] in {path} has no `{key}`, which {needed_for} needs{}", hint_suffix(hint))]
    MissingConfigKey {
        /// The config file.
        path: PathBuf,
        /// The profile.
        profile: String,
        /// The missing key.
        key: &'static str,
        /// What needs it, e.g. "API key authentication".
        needed_for: &'static str,
        /// An extra suggestion, when we have one.
        hint: Option<String>,
    },

    /// A value in the profile is malformed.
    #[error("profile [{profile}] in {path}: `{key}` {message}")]
    InvalidConfigValue {
        /// The config file.
        path: PathBuf,
        /// The profile.
        profile: String,
        /// The key whose value is wrong.
        key: &'static str,
        /// What is wrong with it (never the value of a secret).
        message: String,
    },

    /// A key file could not be read.
    #[error("cannot read private key file {path}: {source}; check `key_file` in your profile")]
    KeyFileUnreadable {
        /// The key file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },

    /// The key is encrypted and no passphrase was given.
    #[error("the {key} is encrypted; set `pass_phrase` in the profile (or pass a passphrase)")]
    PassphraseMissing {
        /// Which key.
        key: KeySource,
    },

    /// The passphrase did not decrypt the key.
    #[error("wrong passphrase for the {key}; check `pass_phrase` in the profile")]
    PassphraseWrong {
        /// Which key.
        key: KeySource,
    },

    /// A public key was given where a private key is needed.
    #[error(
        "the {key} holds a public key ({label}); `key_file` must point at the private key \
         (the public one is what you upload to the OCI console)"
    )]
    PublicKeyInsteadOfPrivate {
        /// Which key.
        key: KeySource,
        /// The PEM label found.
        label: String,
    },

    /// The key is not an RSA key; OCI request signing uses RSA.
    #[error("the {key} is not an RSA key ({found}); OCI API keys are RSA (2048 bits or more)")]
    KeyNotRsa {
        /// Which key.
        key: KeySource,
        /// What was found instead.
        found: String,
    },

    /// The key could not be understood.
    #[error("the {key} is not a usable private key: {message}")]
    InvalidKey {
        /// Which key.
        key: KeySource,
        /// What is wrong with it.
        message: String,
    },

    /// The session token file could not be read.
    #[error(
        "cannot read security token file {path}: {source}; run `oci session authenticate` \
         or check `security_token_file` in the profile"
    )]
    TokenFileUnreadable {
        /// The token file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },

    /// A token is not a well-formed JWT.
    #[error("the security token from {origin} is not a valid JWT: {message}")]
    InvalidToken {
        /// Where the token came from (a file path, or a description).
        origin: String,
        /// What is wrong with it.
        message: String,
    },

    /// The session token has expired.
    #[error(
        "the session token in {path} expired at {}; run `oci session refresh --profile {profile}` \
         (or `oci session authenticate` if the session can no longer be refreshed)",
        httpdate::fmt_http_date(*expired_at)
    )]
    SessionTokenExpired {
        /// The profile it belongs to.
        profile: String,
        /// The token file.
        path: PathBuf,
        /// When it expired.
        expired_at: SystemTime,
    },

    /// An auth type string that we do not know.
    #[error(
        "unknown auth type `{value}`; use one of: api_key, security_token (or session_token), \
         instance_principal, resource_principal"
    )]
    UnknownAuthType {
        /// What was given.
        value: String,
    },

    /// A region that is neither an OCI region identifier nor a short code:
    /// refused, because it becomes part of the host name requests go to.
    #[error(
        "`{region}` is not an OCI region: use an identifier such as us-chicago-1 or a short code such as ord \
         (lowercase letters, digits and single hyphens){}", origin.as_ref().map(|o| format!("; it came from {o}")).unwrap_or_default()
    )]
    InvalidRegion {
        /// The value given (control characters escaped).
        region: String,
        /// Where it came from, when known (a profile, a variable, the metadata service).
        origin: Option<String>,
    },

    /// OCI signs only GET, HEAD, DELETE, POST, PUT and PATCH.
    #[error("OCI request signing does not define method `{method}`; use GET, HEAD, DELETE, POST, PUT or PATCH")]
    UnsupportedMethod {
        /// The method given.
        method: String,
    },

    /// The URI cannot be signed.
    #[error("cannot sign URI `{uri}`: {message}")]
    InvalidUri {
        /// The URI (without any user-info part).
        uri: String,
        /// What is wrong with it.
        message: String,
    },

    /// A header value is not valid in HTTP.
    #[error("header `{name}` has a value that is not valid in HTTP (control characters or non-ASCII)")]
    InvalidHeaderValue {
        /// The header name.
        name: String,
    },

    /// The body is a stream, so it cannot be hashed for `x-content-sha256`.
    #[error(
        "the request body is a stream and cannot be hashed for x-content-sha256; buffer it, \
         or sign with SigningSettings::without_content_headers()"
    )]
    UnsignableBody,

    /// A received request's signature is missing, malformed or wrong
    /// (from [`verify`](crate::verify)).
    #[error("signature check failed: {reason}")]
    SignatureInvalid {
        /// What is wrong.
        reason: String,
    },

    /// The RSA operation itself failed.
    #[error("RSA signing failed")]
    SigningFailed,

    /// Generating a session key pair failed.
    #[error("cannot generate an RSA session key: {message}")]
    KeyGeneration {
        /// Why.
        message: String,
    },

    /// The instance metadata service did not answer.
    #[error(
        "cannot reach the instance metadata service at {url} ({message}); instance_principal works only \
         on an OCI compute instance (not on OCI? use api_key or security_token; OCI_METADATA_BASE_URL \
         overrides the address)"
    )]
    MetadataUnreachable {
        /// The URL tried.
        url: String,
        /// What went wrong.
        message: String,
    },

    /// The instance metadata service answered with an error status.
    #[error("the instance metadata service answered {status} for {url}")]
    MetadataStatus {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },

    /// A certificate from the instance metadata service is unusable.
    #[error("the {what} from the instance metadata service is unusable: {message}")]
    InvalidCertificate {
        /// Which certificate (leaf, intermediate).
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },

    /// An OCI auth service (federation, resource principal token) could not be reached.
    #[error("cannot reach the {service} at {url}: {message}")]
    AuthServiceUnreachable {
        /// Which service.
        service: &'static str,
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },

    /// An OCI auth service answered with an error.
    #[error("{0}")]
    AuthService(Box<AuthServiceError>),

    /// A required environment variable is not set.
    #[error("{name} is not set; {needed_for} needs it")]
    MissingEnvVar {
        /// The variable.
        name: &'static str,
        /// What needs it.
        needed_for: &'static str,
    },

    /// An environment variable has an unusable value.
    #[error("{name}: {message}")]
    InvalidEnvVar {
        /// The variable.
        name: &'static str,
        /// What is wrong (never the value of a secret).
        message: String,
    },

    /// A file that Kubernetes mounts into the pod (service account token,
    /// cluster CA certificate) cannot be read or used.
    #[error(
        "cannot use the Kubernetes {what} at {path}: {message}; mount the pod's service account token \
         (automountServiceAccountToken) or set {env_var} to the file"
    )]
    KubernetesFile {
        /// What the file holds.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// The variable that names another file.
        env_var: &'static str,
        /// What is wrong.
        message: String,
    },

    /// A resource principal version we do not implement.
    #[error(
        "OCI_RESOURCE_PRINCIPAL_VERSION={version} is not supported; supported versions: 2.2, 2.1, 2.1.1, \
         2.1.2, 1.1{}",
        if version == "3.0" { " (3.0, nested resource principals, is not implemented yet)" } else { "" }
    )]
    UnsupportedResourcePrincipalVersion {
        /// The version found.
        version: String,
    },

    /// An auth type whose code this build leaves out.
    #[error("{auth_type} authentication needs oci-auth's `principals` feature")]
    FeatureDisabled {
        /// The auth type asked for.
        auth_type: crate::AuthType,
    },

    /// A provider that must fetch tokens has no HTTP client.
    #[error(
        "{auth_type} authentication fetches tokens over HTTP: enable oci-auth's `reqwest` feature \
         or pass an HttpClient to the builder"
    )]
    NoHttpClient {
        /// The auth type that needs one.
        auth_type: crate::AuthType,
    },
}

impl Error {
    /// Whether the error means that a credential has expired and must be renewed
    /// (for example by `oci session refresh`).
    pub fn is_credential_expired(&self) -> bool {
        matches!(self, Error::SessionTokenExpired { .. })
    }

    /// Whether trying again later may succeed (a service unreachable, or
    /// answering 429 or 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::MetadataUnreachable { .. } | Error::AuthServiceUnreachable { .. } => true,
            Error::MetadataStatus { .. } | Error::AuthService(_) => {
                self.status().is_some_and(|status| status == 429 || status >= 500)
            }
            _ => false,
        }
    }

    /// The HTTP status a service answered with, for service errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::MetadataStatus { status, .. } => Some(*status),
            Error::AuthService(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether the error comes from the configuration (config file, profile,
    /// key or token files) rather than from the request being signed.
    pub fn is_config_error(&self) -> bool {
        !matches!(
            self,
            Error::UnsupportedMethod { .. }
                | Error::InvalidUri { .. }
                | Error::InvalidHeaderValue { .. }
                | Error::UnsignableBody
                | Error::SigningFailed
                | Error::SignatureInvalid { .. }
        )
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default()
}
