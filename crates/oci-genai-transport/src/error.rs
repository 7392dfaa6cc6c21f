//! The crate's one error type.

use std::fmt;

/// An error answer from the Generative AI service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServiceError {
    /// HTTP status.
    pub status: u16,
    /// The service's code (`NotAuthorizedOrNotFound`, …).
    pub code: String,
    /// The service's message.
    pub message: String,
    /// The request id, to quote to Oracle support.
    pub opc_request_id: Option<String>,
    /// What was called, for the hint.
    pub context: RequestContext,
}

/// What a request was about, so that errors can say what to fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestContext {
    /// The model name or endpoint OCID.
    pub model: Option<String>,
    /// Whether it is a dedicated endpoint.
    pub dedicated: bool,
    /// The region called.
    pub region: Option<String>,
    /// The region in the dedicated endpoint's OCID.
    pub endpoint_region: Option<String>,
    /// The compartment.
    pub compartment_id: Option<String>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OCI Generative AI answered {} {}: {}", self.status, self.code, self.message)?;
        if let Some(id) = &self.opc_request_id {
            write!(f, " (opc-request-id: {id})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong talking to OCI Generative AI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an error status.
    #[error("{0}")]
    Service(Box<ServiceError>),

    /// Signing failed, or credentials could not be had.
    #[error(transparent)]
    Auth(#[from] oci_auth::Error),

    /// No answer: connection refused or reset, DNS, TLS, or a timeout.
    #[error("request to {url} failed: {message}{}", request_id_suffix(opc_request_id))]
    Transport {
        /// The URL called.
        url: String,
        /// What went wrong, with its causes.
        message: String,
        /// Whether it was a timeout (connect, read or overall).
        timeout: bool,
        /// Whether the failure happened before the request was sent (safe to retry).
        connect: bool,
        /// Whether trying again may help: connection failures, resets and
        /// timeouts, but not a malformed URL or a TLS certificate problem.
        retryable: bool,
        /// Our request id.
        opc_request_id: Option<String>,
    },

    /// A reply that is not the JSON we expect.
    #[error("the reply could not be read: {message}{}", request_id_suffix(opc_request_id))]
    InvalidReply {
        /// What is wrong.
        message: String,
        /// The request id.
        opc_request_id: Option<String>,
    },

    /// A streaming request was answered with a whole (non-SSE) body.
    #[error(
        "a streaming request was answered with {content_type}, not an event stream{}",
        request_id_suffix(opc_request_id)
    )]
    NotAStream {
        /// The content type received.
        content_type: String,
        /// The body received (a JSON reply, typically).
        body: String,
        /// The request id.
        opc_request_id: Option<String>,
    },

    /// The event stream ended without any event.
    #[error("the event stream ended without any event{}", request_id_suffix(opc_request_id))]
    EmptyStream {
        /// The request id.
        opc_request_id: Option<String>,
    },

    /// The event stream stopped before its finish event: the answer is cut
    /// short (what arrived was handed on, and is partial).
    #[error(
        "the event stream ended after {events} event(s) without its finish event: the answer is incomplete{}",
        request_id_suffix(opc_request_id)
    )]
    IncompleteStream {
        /// The events received.
        events: u64,
        /// The request id.
        opc_request_id: Option<String>,
    },

    /// The stream was silent (comment lines aside) longer than the read timeout.
    #[error("no data for {seconds} s on the event stream{}", request_id_suffix(opc_request_id))]
    StreamIdle {
        /// The read timeout in seconds.
        seconds: u64,
        /// The request id.
        opc_request_id: Option<String>,
    },

    /// The stream was still running at its deadline.
    #[error("the event stream was still running at its {seconds} s deadline{}", request_id_suffix(opc_request_id))]
    StreamDeadline {
        /// The deadline in seconds.
        seconds: u64,
        /// The request id.
        opc_request_id: Option<String>,
    },

    /// A whole reply (or an error reply) larger than the client accepts.
    #[error("the reply exceeded {limit} bytes and was not read further{}", request_id_suffix(opc_request_id))]
    ReplyTooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The request id.
        opc_request_id: Option<String>,
    },

    /// An SSE event grew past the parser's limit.
    #[error("a server-sent event exceeded {limit} bytes; the stream is malformed or the limit too small")]
    SseEventTooLarge {
        /// The limit in bytes.
        limit: usize,
    },

    /// A model id that names neither a model nor an endpoint.
    #[error("model id `{id}` cannot be used: {reason}")]
    InvalidModelId {
        /// The id given.
        id: String,
        /// Why.
        reason: String,
    },

    /// No region to call.
    #[error(
        "no region for {model}: set `region` in the OCI config profile or the client's region \
         (a dedicated endpoint OCID names its own region)"
    )]
    NoRegion {
        /// The model or endpoint.
        model: String,
    },

    /// A request without a compartment.
    #[error("{}", if *dedicated { "compartment_id is required for dedicated endpoints: use the compartment of the endpoint" } else { "compartment_id is required" })]
    MissingCompartment {
        /// Whether the request was for a dedicated endpoint.
        dedicated: bool,
    },

    /// A request body that cannot be serialised.
    #[error("the request cannot be serialised: {0}")]
    InvalidRequest(String),

    /// A client setting that cannot work.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(" (opc-request-id: {id})")).unwrap_or_default()
}

impl Error {
    /// The HTTP status, for service errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Service(e) => Some(e.status),
            _ => None,
        }
    }

    /// The service's error code, for service errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Service(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The `opc-request-id` of the failed request, when there was one.
    pub fn opc_request_id(&self) -> Option<&str> {
        match self {
            Error::Service(e) => e.opc_request_id.as_deref(),
            Error::Transport { opc_request_id, .. }
            | Error::InvalidReply { opc_request_id, .. }
            | Error::NotAStream { opc_request_id, .. }
            | Error::EmptyStream { opc_request_id }
            | Error::IncompleteStream { opc_request_id, .. }
            | Error::StreamDeadline { opc_request_id, .. }
            | Error::ReplyTooLarge { opc_request_id, .. }
            | Error::StreamIdle { opc_request_id, .. } => opc_request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether the SDK's default strategy retries this: timeouts, connection
    /// failures and resets, 409 `IncorrectState`/`LockConflict`, 429, and 5xx
    /// except 501. A request that cannot be sent as built (a bad URL scheme, a
    /// TLS certificate the client refuses) is not retried.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => match e.status {
                409 => matches!(e.code.as_str(), "IncorrectState" | "LockConflict"),
                429 => true,
                501 => false,
                status => status >= 500,
            },
            Error::Transport { retryable, .. } => *retryable,
            Error::Auth(e) => e.is_transient(),
            _ => false,
        }
    }

    /// Whether this is a timeout (connect, read, overall, or an idle stream).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport { timeout: true, .. } | Error::StreamIdle { .. } | Error::StreamDeadline { .. })
    }

    /// What to do about it, for the failures we know.
    pub fn hint(&self) -> Option<String> {
        let Error::Service(e) = self else {
            return match self {
                Error::StreamIdle { .. } => Some("the model stopped sending; raise the read timeout or retry".into()),
                Error::StreamDeadline { .. } => Some(
                    "the answer took longer than the stream deadline: raise it, or ask for a shorter answer".into(),
                ),
                Error::IncompleteStream { .. } => Some(
                    "the service or a proxy between closed the stream early; retry, and quote the opc-request-id \
                     if it persists"
                        .into(),
                ),
                Error::ReplyTooLarge { .. } => {
                    Some("raise the client's max body size if such a large reply is expected".into())
                }
                Error::NotAStream { .. } => {
                    Some("this deployment does not stream: send the request without isStream".into())
                }
                _ => None,
            };
        };
        let ctx = &e.context;
        let compartment = ctx.compartment_id.as_deref().unwrap_or("<compartment>");
        let policy = format!("allow group <your-group> to use generative-ai-family in compartment id {compartment}");
        Some(match (e.status, e.code.as_str()) {
            (404, _) if ctx.dedicated => match (&ctx.endpoint_region, &ctx.region) {
                (Some(own), Some(called)) if own != called => {
                    format!("the endpoint is in {own} but {called} was called: set the region to {own}")
                }
                _ => format!(
                    "check that the endpoint OCID is right, that compartment_id is the endpoint's compartment, \
                     and that a policy grants access: {policy}"
                ),
            },
            (404, _) => format!(
                "the model may not be offered in {} or you lack access: check the model name and region, and the policy: {policy}",
                ctx.region.as_deref().unwrap_or("this region")
            ),
            (400, _) if e.message.to_ascii_lowercase().contains("compartment") => {
                "check compartment_id: a valid compartment OCID (for a dedicated endpoint, the endpoint's compartment)"
                    .into()
            }
            (400, _) if e.message.to_ascii_lowercase().contains("apiformat") || e.message.contains("api format") => {
                "wrong request shape for this model: set the API format (GENERIC or COHERE) explicitly".into()
            }
            (401, _) => "authentication failed even after refreshing the credentials: check the key and fingerprint \
                         (API key), run `oci session refresh` (session token), and check the machine's clock"
                .into(),
            (403, _) => format!("not authorized: add a policy such as `{policy}`"),
            (429, _) => {
                "rate limited even after retries: lower the request rate or concurrency, or ask for a higher limit"
                    .into()
            }
            (status, _) if status >= 500 => {
                "the service failed; it was retried. Quote the opc-request-id to Oracle support if it persists".into()
            }
            _ => return None,
        })
    }
}
