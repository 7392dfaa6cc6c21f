//! The HTTP that instance and resource principals need, behind a trait.
//!
//! `oci-auth` sends nothing itself: the providers that must fetch tokens
//! (instance principal, resource principal) call an [`HttpClient`], so the
//! crate stays free of any particular HTTP stack. With the `reqwest` feature,
//! [`ReqwestHttpClient`] is provided and used by default.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A request for an [`HttpClient`] to send.
#[derive(Clone)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// The absolute URL.
    pub url: String,
    /// Headers to send, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// The whole exchange must finish within this time.
    pub timeout: Duration,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), if n == "authorization" { "<redacted>" } else { v.as_str() }))
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What an [`HttpClient`] received.
#[derive(Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A header's value by (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpResponse {
    // Bodies hold tokens and private keys: only their size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse").field("status", &self.status).field("body_len", &self.body.len()).finish()
    }
}

/// Why a request got no response.
pub type HttpError = Box<dyn std::error::Error + Send + Sync>;

/// Sends requests and sleeps between retries: the runtime services that the
/// token-fetching providers need.
///
/// ```
/// use std::time::Duration;
/// use oci_auth::{HttpClient, HttpError, HttpRequest, HttpResponse};
///
/// /// Answers every request with 503, for tests.
/// #[derive(Debug)]
/// struct Unavailable;
///
/// #[async_trait::async_trait]
/// impl HttpClient for Unavailable {
///     async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, HttpError> {
///         Ok(HttpResponse { status: 503, headers: vec![], body: vec![] })
///     }
///     async fn sleep(&self, _duration: Duration) {}
/// }
/// ```
#[async_trait::async_trait]
pub trait HttpClient: Send + Sync + fmt::Debug {
    /// Sends `request`; `Err` only when no response arrived (connection
    /// refused, timeout…), never for an error status.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
    /// Waits `duration` (for retry backoff).
    async fn sleep(&self, duration: Duration);
}

/// A shared [`HttpClient`].
pub type SharedHttpClient = Arc<dyn HttpClient>;

/// The default [`SharedHttpClient`]: reqwest with the `reqwest` feature, else none.
pub(crate) fn default_http_client() -> Option<SharedHttpClient> {
    #[cfg(feature = "reqwest")]
    {
        Some(Arc::new(ReqwestHttpClient::default()))
    }
    #[cfg(not(feature = "reqwest"))]
    {
        None
    }
}

/// An [`HttpClient`] on reqwest and tokio (feature `reqwest`).
#[cfg(feature = "reqwest")]
#[derive(Debug, Clone, Default)]
pub struct ReqwestHttpClient {
    client: reqwest::Client,
}

#[cfg(feature = "reqwest")]
impl ReqwestHttpClient {
    /// Uses `client` (its proxy, TLS and pool settings).
    pub fn new(client: reqwest::Client) -> Self {
        ReqwestHttpClient { client }
    }
}

#[cfg(feature = "reqwest")]
#[async_trait::async_trait]
impl HttpClient for ReqwestHttpClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())?;
        let mut builder = self.client.request(method, &request.url).timeout(request.timeout).body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let mut response = builder.send().await?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        // Metadata, certificates and tokens are a few KiB: a larger answer is not one of them.
        let limit = crate::MAX_CREDENTIAL_FILE_SIZE as usize;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > limit {
                return Err(format!("the answer from {} is larger than 1 MiB", request.url).into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body })
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
