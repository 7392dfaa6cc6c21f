//! The crate's one error type.

/// What can stop an agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model failed.
    #[error(transparent)]
    Model(#[from] locus_providers::Error),
    /// The model's answer stopped part way (the stream broke, ended before
    /// its finish event, or passed the answer cap): what arrived is kept.
    #[error("{source} (the answer so far, {} bytes, is incomplete)", partial_text.len())]
    Incomplete {
        /// The text that arrived before the failure.
        partial_text: String,
        /// Why the answer stopped.
        #[source]
        source: Box<locus_providers::Error>,
    },
    /// Building the client or model failed (configuration, auth).
    #[error(transparent)]
    Transport(#[from] oci_genai_transport::Error),
    /// Authentication or its configuration failed.
    #[error(transparent)]
    Auth(#[from] oci_auth::Error),
    /// A model string with an unknown provider prefix.
    #[error("unknown model provider `{prefix}` in `{model}`; known providers: {}", known.join(", "))]
    UnknownProvider {
        /// The prefix found.
        prefix: String,
        /// The whole model string.
        model: String,
        /// The prefixes the registry knows.
        known: Vec<String>,
    },
    /// The agent's configuration is incomplete or contradictory.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// Whether the error is about configuration or authentication (exit code 3 in the CLI).
    pub fn is_config(&self) -> bool {
        match self {
            Error::Auth(_) | Error::UnknownProvider { .. } | Error::Config(_) => true,
            Error::Transport(e) => matches!(
                e,
                oci_genai_transport::Error::Auth(_)
                    | oci_genai_transport::Error::Config(_)
                    | oci_genai_transport::Error::NoRegion { .. }
                    | oci_genai_transport::Error::InvalidModelId { .. }
                    | oci_genai_transport::Error::MissingCompartment { .. }
            ),
            Error::Model(locus_providers::Error::Transport(e)) => matches!(
                e,
                oci_genai_transport::Error::Auth(_)
                    | oci_genai_transport::Error::NoRegion { .. }
                    | oci_genai_transport::Error::InvalidModelId { .. }
                    | oci_genai_transport::Error::MissingCompartment { .. }
            ),
            Error::Model(_) | Error::Incomplete { .. } => false,
        }
    }

    /// The answer that arrived before the failure, for [`Error::Incomplete`].
    pub fn partial_text(&self) -> Option<&str> {
        match self {
            Error::Incomplete { partial_text, .. } => Some(partial_text),
            _ => None,
        }
    }

    /// What to do about it, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Model(e) => e.hint(),
            Error::Incomplete { source, .. } => source.hint(),
            Error::Transport(e) => e.hint(),
            _ => None,
        }
    }
}
