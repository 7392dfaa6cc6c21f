//! The crate's one error type.

/// Everything that can go wrong talking to OCI Generative AI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An SSE event grew past the parser's limit.
    #[error("a server-sent event exceeded {limit} bytes; the stream is malformed or the limit too small")]
    SseEventTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}
