//! The crate's one error type.

/// What can stop an agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model failed.
    #[error(transparent)]
    Model(#[from] locus_providers::Error),
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
            Error::Model(_) => false,
        }
    }

    /// What to do about it, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Model(e) => e.hint(),
            Error::Transport(e) => e.hint(),
            _ => None,
        }
    }
}
