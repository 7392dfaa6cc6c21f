//! The crate's one error type.

use oci_genai_transport as transport;

/// What can go wrong asking a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service or the connection failed.
    #[error(transparent)]
    Transport(#[from] transport::Error),

    /// A request this model's shape cannot express.
    #[error("{parameter} is not supported by {model} ({shape} shape): {advice}")]
    Unsupported {
        /// What was asked for.
        parameter: &'static str,
        /// The model.
        model: String,
        /// The request shape.
        shape: &'static str,
        /// What to do instead.
        advice: String,
    },

    /// A request that cannot be sent at all.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A reply we could not understand.
    #[error("unexpected reply: {0}")]
    UnexpectedReply(String),

    /// Streaming failed and falling back was not allowed.
    #[error("streaming failed ({reason}) and fallback to a non-streaming call is disabled")]
    StreamingFailed {
        /// Why streaming failed.
        reason: String,
    },
}

impl Error {
    /// What to do about it, when known (see [`transport::Error::hint`]). A 400
    /// from a dedicated endpoint sent the Generic shape suggests the Cohere one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Transport(e) => e.hint(),
            _ => None,
        }
    }

    /// Whether retrying later may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_retryable())
    }
}
