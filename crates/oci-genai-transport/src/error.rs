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

impl RequestContext {
    /// `(the endpoint's own region, the region called)` when a dedicated
    /// endpoint was called outside its region — the first cause of a 404 on DAC.
    pub fn wrong_region(&self) -> Option<(&str, &str)> {
        match (self.dedicated, &self.endpoint_region, &self.region) {
            (true, Some(own), Some(called)) if own != called => Some((own, called)),
            _ => None,
        }
    }
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

    /// No answer: connection refused or reset, DNS, TLS, or a timeout. A
    /// request that never left (`connect`) shows no `opc-request-id`: the
    /// service never saw it, so support could not find it.
    #[error("request to {url} failed: {message}{}", if *connect { String::new() } else { request_id_suffix(opc_request_id) })]
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
        /// The HTTP client's or the socket's error, when there was one (its
        /// causes are in `message` too).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The server's reply broke HTTP itself (a malformed head, length or
    /// chunk framing): a fault of the server or of something between, not of
    /// the request.
    #[error("the reply from {url} was not valid HTTP: {message}{}", request_id_suffix(opc_request_id))]
    MalformedReply {
        /// The URL called.
        url: String,
        /// What was wrong.
        message: String,
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

    /// One batch of a batched call (embeddings) failed, and with it the call.
    #[error("batch {batch} (inputs {first_input} to {}) failed: {source}", first_input + inputs.saturating_sub(1))]
    BatchFailed {
        /// The batch, from 0.
        batch: usize,
        /// Its first input's position, from 0.
        first_input: usize,
        /// How many inputs it held.
        inputs: usize,
        /// Why it failed.
        source: Box<Error>,
    },

    /// The transport asked for cannot serve this model; nothing was sent.
    #[error(
        "{model} cannot go through the {transport} transport: {reason}; use --transport native (Transport::Native)"
    )]
    TransportCannotServe {
        /// The transport asked for.
        transport: crate::Transport,
        /// The model or endpoint.
        model: String,
        /// Why not.
        reason: &'static str,
    },

    /// The service reported a failure inside a stream that had started
    /// (a Responses `error` event or `response.failed`, an `error` chunk).
    #[error("the stream failed: {code}: {message}{}", request_id_suffix(opc_request_id))]
    StreamFailed {
        /// The service's code (`server_error`, `rate_limit_exceeded`, …).
        code: String,
        /// The service's message.
        message: String,
        /// The request id.
        opc_request_id: Option<String>,
    },
}

/// What kind of failure an [`Error`] is, for callers that act on it (exit
/// codes, retry decisions, metrics) without matching every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service did not accept the credentials (401).
    Authentication,
    /// Not allowed, or no such model or endpoint (403, 404): the service does not say which.
    PermissionOrNotFound,
    /// The service says not found, and the dedicated endpoint lives in another region than the one called.
    Region,
    /// Too many requests (429).
    Throttled,
    /// The service failed (5xx), or refused the request as sent (other 4xx).
    Service,
    /// No answer in time: connect, response headers, an idle stream, a deadline.
    Timeout,
    /// No connection, or it broke before an answer.
    Connection,
    /// The answer itself was wrong: not a stream, incomplete, too large, unreadable.
    Stream,
    /// Local configuration or credentials: a setting, a region, a key, a
    /// profile, a request that cannot be built.
    Configuration,
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(" (opc-request-id: {id})")).unwrap_or_default()
}

impl Error {
    /// The HTTP status, for service errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Service(e) => Some(e.status),
            Error::BatchFailed { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The service's error answer, when the service gave one (the batch's,
    /// for a failed batch).
    ///
    /// ```
    /// use oci_genai_transport::Error;
    /// assert!(Error::Config("x".into()).service().is_none());
    /// ```
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            Error::BatchFailed { source, .. } => source.service(),
            _ => None,
        }
    }

    /// Whether the call is the caller's own mistake, found before anything
    /// was sent: a model id that names nothing, a transport that cannot serve
    /// the model, a request that cannot be sent as built.
    pub fn is_request_mistake(&self) -> bool {
        matches!(self, Error::InvalidModelId { .. } | Error::TransportCannotServe { .. } | Error::InvalidRequest(_))
    }

    /// Whether the deployment answered a streaming request without a stream:
    /// a reply that is not SSE, an empty stream, or a 400 that names
    /// streaming — a whole answer may still work.
    pub fn is_stream_refused(&self) -> bool {
        match self {
            Error::NotAStream { .. } | Error::EmptyStream { .. } => true,
            Error::Service(e) => e.status == 400 && e.message.to_ascii_lowercase().contains("stream"),
            _ => false,
        }
    }

    /// A failed batch renumbered as part of a larger call whose first
    /// `inputs_before` inputs went in earlier batches; other errors as they are.
    pub fn after_inputs(self, inputs_before: usize) -> Error {
        match self {
            Error::BatchFailed { batch, first_input, inputs, source } => Error::BatchFailed {
                batch: batch + inputs_before / crate::MAX_EMBED_BATCH,
                first_input: first_input + inputs_before,
                inputs,
                source,
            },
            other => other,
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
            | Error::MalformedReply { opc_request_id, .. }
            | Error::NotAStream { opc_request_id, .. }
            | Error::EmptyStream { opc_request_id }
            | Error::IncompleteStream { opc_request_id, .. }
            | Error::StreamDeadline { opc_request_id, .. }
            | Error::ReplyTooLarge { opc_request_id, .. }
            | Error::StreamFailed { opc_request_id, .. }
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

    /// What kind of failure this is.
    ///
    /// ```
    /// use oci_genai_transport::{Error, ErrorKind};
    /// assert_eq!(Error::MissingCompartment { dedicated: true }.kind(), ErrorKind::Configuration);
    /// assert_eq!(Error::StreamIdle { seconds: 60, opc_request_id: None }.kind(), ErrorKind::Timeout);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Service(e) => match e.status {
                401 => ErrorKind::Authentication,
                404 if e.context.wrong_region().is_some() => ErrorKind::Region,
                403 | 404 => ErrorKind::PermissionOrNotFound,
                429 => ErrorKind::Throttled,
                _ => ErrorKind::Service,
            },
            Error::Auth(e) if e.is_transient() => ErrorKind::Connection,
            // A missing or malformed region is fixed locally, like any setting.
            Error::Auth(_)
            | Error::NoRegion { .. }
            | Error::InvalidModelId { .. }
            | Error::MissingCompartment { .. }
            | Error::TransportCannotServe { .. }
            | Error::Config(_) => ErrorKind::Configuration,
            Error::StreamFailed { .. } => ErrorKind::Service,
            Error::BatchFailed { source, .. } => source.kind(),
            Error::InvalidRequest(_) => ErrorKind::Configuration,
            Error::Transport { timeout: true, .. } | Error::StreamIdle { .. } | Error::StreamDeadline { .. } => {
                ErrorKind::Timeout
            }
            // Nothing listening here, no such host: a connection failure, only one not worth retrying.
            Error::Transport { url, message, .. } if cannot_heal(url, message) => ErrorKind::Connection,
            Error::Transport { retryable: false, .. } => ErrorKind::Configuration,
            Error::Transport { .. } => ErrorKind::Connection,
            Error::InvalidReply { .. }
            | Error::MalformedReply { .. }
            | Error::NotAStream { .. }
            | Error::EmptyStream { .. }
            | Error::IncompleteStream { .. }
            | Error::ReplyTooLarge { .. }
            | Error::SseEventTooLarge { .. } => ErrorKind::Stream,
        }
    }

    /// A failed request from the HTTP client's error: its causes in the
    /// message, whether a retry may help, and the error itself kept as the
    /// source. For callers that send requests of their own, as `locus
    /// raw-request` does.
    pub fn from_reqwest(url: &str, error: reqwest::Error, opc_request_id: Option<String>) -> Error {
        let (message, causes) = with_causes(&error);
        // rustls reports certificate and protocol failures as InvalidData.
        let refused_by_tls = causes.iter().any(|inner| {
            inner.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::InvalidData)
        });
        let failure = Failure {
            message,
            timeout: error.is_timeout(),
            connect: error.is_connect(),
            // (A head hyper cannot parse is a request error, retried, and a connection failure.)
            malformed: error.is_decode() && !error.is_timeout(),
            permanent: error.is_builder() || error.is_redirect() || error.is_decode() || refused_by_tls,
        };
        failure.into_error(url, opc_request_id, Some(Box::new(error)))
    }

    /// A failure of a stream's own connection (`connect`: before anything was sent).
    pub(crate) fn from_io(url: &str, error: std::io::Error, connect: bool, opc_request_id: Option<String>) -> Error {
        use std::io::ErrorKind as Io;
        let (message, _) = with_causes(&error);
        // rustls's refusals come as InvalidData too; any other InvalidData is the reply's own framing.
        let tls = error.get_ref().is_some_and(|inner| inner.is::<rustls::Error>());
        let failure = Failure {
            message,
            timeout: error.kind() == Io::TimedOut,
            connect,
            malformed: error.kind() == Io::InvalidData && !tls,
            permanent: matches!(error.kind(), Io::InvalidData | Io::InvalidInput),
        };
        failure.into_error(url, opc_request_id, Some(Box::new(error)))
    }

    /// No response headers within `wait`.
    pub(crate) fn no_headers(url: &str, wait: std::time::Duration, opc_request_id: Option<String>) -> Error {
        let message = format!("no response headers within {} s", wait.as_secs_f64());
        Failure { message, timeout: true, connect: false, malformed: false, permanent: false }.into_error(
            url,
            opc_request_id,
            None,
        )
    }

    /// Whether this is a timeout (connect, read, overall, or an idle stream).
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }
}

/// What a failed exchange showed, whichever connection carried it: the one
/// place a transport failure is classified (retried or not, and why).
struct Failure {
    /// The error's message and its causes'.
    message: String,
    timeout: bool,
    /// Nothing was sent.
    connect: bool,
    /// The reply broke HTTP (framing, encoding): the request was fine.
    malformed: bool,
    /// Trying again cannot help: the request cannot be sent as built, or a certificate was refused.
    permanent: bool,
}

impl Failure {
    fn into_error(
        self,
        url: &str,
        opc_request_id: Option<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        if self.malformed {
            return Error::MalformedReply { url: url.to_owned(), message: self.message, opc_request_id };
        }
        let retryable = !self.permanent && !cannot_heal(url, &self.message);
        Error::Transport {
            url: url.to_owned(),
            message: self.message,
            timeout: self.timeout,
            connect: self.connect,
            retryable,
            opc_request_id,
            source,
        }
    }
}

/// Whether a connection failure cannot heal within a call, so retrying it
/// for a minute only hides it: a host name that does not exist (a region
/// typo), or nothing listening on this machine.
fn cannot_heal(url: &str, message: &str) -> bool {
    let no_such_name = names_no_host(message);
    let host = url.split("://").nth(1).unwrap_or(url).split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, port)| if port.contains(']') { host } else { h });
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    no_such_name || (loopback && message.contains("onnection refused"))
}

/// Whether a connection failure's message says the host name does not exist
/// (the resolver's words on Linux, Android and the BSDs).
pub(crate) fn names_no_host(message: &str) -> bool {
    ["Name or service not known", "No address associated with hostname", "nodename nor servname"]
        .iter()
        .any(|m| message.contains(m))
}

/// `error`'s message followed by its causes' (`a: b: c`, each said once), and the causes.
pub(crate) fn with_causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> (String, Vec<&'a (dyn std::error::Error + 'static)>) {
    let mut message = error.to_string();
    let mut causes = Vec::new();
    let mut cause = error.source();
    while let Some(inner) = cause {
        // A layer that shows its cause's words (as this crate's wrappers do) is not repeated.
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        causes.push(inner);
        cause = inner.source();
    }
    (message, causes)
}

#[cfg(test)]
mod tests {
    use super::cannot_heal;

    #[test]
    fn a_missing_host_name_and_a_refusal_on_this_machine_cannot_heal() {
        let dns = "error sending request: client error (Connect): dns error: failed to lookup address information: \
                   Name or service not known";
        assert!(cannot_heal("https://inference.generativeai.us-chicgo-1.oci.oraclecloud.com/x", dns));
        let refused = "error sending request: tcp connect error: Connection refused (os error 111)";
        for url in ["http://127.0.0.1:9/x", "http://localhost:8080", "http://[::1]:9/x"] {
            assert!(cannot_heal(url, refused), "{url}");
        }
        assert!(!cannot_heal("https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/x", refused));
        let temporary = "dns error: failed to lookup address information: Temporary failure in name resolution";
        assert!(!cannot_heal("https://example.com/x", temporary));
    }
}
