//! The crate's one error type.

pub use oci_genai_transport::ErrorKind;

/// What can stop an agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model failed. Its message is the model's error, which is also its
    /// [`source`](std::error::Error::source) (and so on down to the
    /// transport's and auth's errors).
    #[error("{0}")]
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
    /// The GenAI client could not be built ([`OciSetup::build`](crate::OciSetup::build)).
    #[error("{0}")]
    Transport(#[from] oci_genai_transport::Error),
    /// Authentication or its configuration failed.
    #[error("{0}")]
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
    /// The run's guard could not screen something; nothing unscreened passes.
    #[error("the guardrails could not screen {}: {source}", stage.describe())]
    Guard {
        /// What was being screened.
        stage: locus_providers::guard::GuardStage,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// The run's events ended without its result (the run was cut off from outside).
    #[error("the run ended without a result")]
    NoResult,
}

impl Error {
    /// What kind of failure this is: the model's or transport's kind, or
    /// configuration for the agent's own settings.
    ///
    /// ```
    /// use locus_agent::{Error, ErrorKind};
    /// assert_eq!(Error::Config("no model".into()).kind(), ErrorKind::Configuration);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Model(e) => e.kind(),
            Error::Incomplete { source, .. } => source.kind(),
            Error::Transport(e) => e.kind(),
            Error::Auth(e) if e.is_transient() => ErrorKind::Connection,
            Error::Auth(_) | Error::UnknownProvider { .. } | Error::Config(_) => ErrorKind::Configuration,
            Error::NoResult => ErrorKind::Stream,
            Error::Guard { source, .. } => source.kind(),
        }
    }

    /// Whether the error is about configuration or credentials: fix the
    /// setup, not the service (exit code 3 in the CLI).
    pub fn is_config(&self) -> bool {
        self.kind() == ErrorKind::Configuration
    }

    /// The transport's error under this one, when the service or the
    /// connection failed (through the model, or building the client).
    ///
    /// ```
    /// use locus_agent::Error;
    /// let error = Error::from(locus_providers::Error::from(oci_genai_transport::Error::Config("x".into())));
    /// assert!(error.transport().is_some());
    /// ```
    pub fn transport(&self) -> Option<&oci_genai_transport::Error> {
        match self {
            Error::Model(e) => e.transport(),
            Error::Incomplete { source, .. } => source.transport(),
            Error::Transport(e) => Some(e),
            Error::Guard { source, .. } => source.transport(),
            _ => None,
        }
    }

    /// The answer that arrived before the failure, for [`Error::Incomplete`].
    pub fn partial_text(&self) -> Option<&str> {
        match self {
            Error::Incomplete { partial_text, .. } => Some(partial_text),
            _ => None,
        }
    }

    /// What to do about it, when known, settings named by the library's builders.
    pub fn hint(&self) -> Option<String> {
        self.hint_for(&oci_genai_transport::BuilderNames)
    }

    /// [`hint`](Self::hint) with settings named by `names` (the CLI names its flags).
    pub fn hint_for(&self, names: &dyn oci_genai_transport::SettingNames) -> Option<String> {
        match self {
            Error::Model(e) => e.hint_for(names),
            Error::Incomplete { source, .. } => source.hint_for(names),
            Error::Transport(e) => e.hint_for(names),
            Error::Guard { source, .. } => source.hint_for(names),
            _ => None,
        }
    }
}
