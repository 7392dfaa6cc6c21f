//! The crate's one error type.

use oci_genai_transport as transport;

/// What can go wrong asking a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service or the connection failed. Its message is the transport
    /// error's, which is also its [`source`](std::error::Error::source).
    #[error("{0}")]
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

    /// A model that cannot be configured as asked.
    #[error("{0}")]
    Config(String),

    /// A request that cannot be sent at all.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A reply we could not understand.
    #[error("unexpected reply: {0}")]
    UnexpectedReply(String),

    /// Streaming failed and falling back was not allowed.
    #[error("streaming failed ({reason}) and falling back to a whole answer was turned off")]
    StreamingFailed {
        /// Why streaming failed.
        reason: String,
    },

    /// A model's stream ended without saying why it stopped (no
    /// [`ModelEvent::Finished`](crate::ModelEvent::Finished)): the answer
    /// may be cut short.
    #[error("the model's stream ended without a finish reason: the answer may be incomplete")]
    NoFinishReason,

    /// An answer larger than the accumulator's cap.
    #[error("the answer passed {limit} bytes (text, reasoning and tool-call arguments) and was not read further")]
    AnswerTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
}

impl Error {
    /// [`Error::Unsupported`]: `parameter` has no place in `shape`'s wire form for `model`.
    pub(crate) fn unsupported(
        parameter: &'static str,
        model: &str,
        shape: &'static str,
        advice: impl Into<String>,
    ) -> Self {
        Error::Unsupported { parameter, model: model.to_owned(), shape, advice: advice.into() }
    }

    /// The transport's error, when the service or the connection failed.
    ///
    /// ```
    /// use locus_providers::Error;
    /// let error = Error::from(oci_genai_transport::Error::Config("no region".into()));
    /// assert!(error.transport().is_some());
    /// assert!(Error::NoFinishReason.transport().is_none());
    /// ```
    pub fn transport(&self) -> Option<&transport::Error> {
        match self {
            Error::Transport(e) => Some(e),
            _ => None,
        }
    }

    /// What to do about it, when known, settings named by the library's
    /// builders (see [`transport::Error::hint`]).
    pub fn hint(&self) -> Option<String> {
        self.hint_for(&transport::BuilderNames)
    }

    /// [`hint`](Self::hint) with settings named by `names`.
    pub fn hint_for(&self, names: &dyn transport::SettingNames) -> Option<String> {
        use transport::Setting;
        match self {
            Error::Transport(e) => e.hint_for(names),
            Error::StreamingFailed { .. } => {
                Some(format!("allow the fallback to a whole answer ({})", names.name(Setting::Fallback)))
            }
            Error::AnswerTooLarge { .. } => Some(format!(
                "the model kept writing: lower max_tokens, or raise the cap ({}) if such an answer is expected",
                names.name(Setting::MaxAnswerBytes)
            )),
            _ => None,
        }
    }

    /// What kind of failure this is (the transport's kinds; a request the
    /// shape cannot express is configuration, a reply it cannot read is the stream's).
    pub fn kind(&self) -> transport::ErrorKind {
        match self {
            Error::Transport(e) => e.kind(),
            Error::Unsupported { .. } | Error::InvalidRequest(_) | Error::Config(_) => {
                transport::ErrorKind::Configuration
            }
            Error::UnexpectedReply(_)
            | Error::StreamingFailed { .. }
            | Error::NoFinishReason
            | Error::AnswerTooLarge { .. } => transport::ErrorKind::Stream,
        }
    }

    /// Whether retrying later may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_retryable())
    }
}
