//! An OCI chat model from the three builders it takes, and the environment
//! workflow that fills them.

use std::sync::Arc;

use locus_providers::{OciChatModel, OciChatModelBuilder};
use oci_auth::{Auth, AuthBuilder, OsEnv, SharedEnv};
use oci_genai_transport::{GenAiClient, GenAiClientBuilder};

use crate::error::Error;
use crate::registry::oci_id;
use crate::settings::Settings;

/// Everything an OCI chat model needs, as the builders that own each part:
/// how to authenticate ([`AuthBuilder`]), the client (region, endpoint,
/// retries, limits: [`GenAiClientBuilder`]) and the model (id, compartment,
/// request shape, fallback: [`OciChatModelBuilder`]). Set any of them
/// directly; [`build`](Self::build) builds each once and hands it down.
///
/// ```no_run
/// use locus_agent::OciSetup;
/// # fn run() -> Result<(), locus_agent::Error> {
/// let mut setup = OciSetup::from_env(std::sync::Arc::new(oci_auth::OsEnv))?; // LOCUS_* and OCI_* variables
/// setup.client = setup.client.region("us-chicago-1");                          // a flag, say
/// let model = setup.build()?;
/// # let _ = model; Ok(()) }
/// ```
#[derive(Debug)]
pub struct OciSetup {
    /// How to authenticate.
    pub auth: AuthBuilder,
    /// The Generative AI client.
    pub client: GenAiClientBuilder,
    /// The model.
    pub model: OciChatModelBuilder,
}

impl OciSetup {
    /// `model` (a model name, model OCID or endpoint OCID, `oci:` optional,
    /// read by [`oci_id`](crate::oci_id)) with default builders; another
    /// provider's prefix is an error.
    ///
    /// ```
    /// use locus_agent::OciSetup;
    /// assert!(OciSetup::new("oci:meta.llama-3.3-70b-instruct").is_ok());
    /// assert!(OciSetup::new("anthropic:claude").is_err());
    /// ```
    pub fn new(model: &str) -> Result<Self, Error> {
        Ok(OciSetup {
            auth: Auth::builder(),
            client: GenAiClient::builder(),
            model: OciChatModel::builder(oci_id(model)?),
        })
    }

    /// The builders `settings` fill; `env` is what they read the rest from
    /// (home, config file, region tables).
    pub fn from_settings(settings: Settings, env: SharedEnv) -> Self {
        let mut auth = Auth::builder().env(Arc::clone(&env));
        let mut client = GenAiClient::builder().env(env);
        let mut model = OciChatModel::builder(settings.model.map(|m| m.value).unwrap_or_default());
        if let Some(path) = settings.config_file {
            auth = auth.config_file(path.value);
        }
        if let Some(profile) = settings.profile {
            auth = auth.profile(profile.value);
        }
        if let Some(auth_type) = settings.auth_type {
            auth = auth.auth_type(auth_type.value);
        }
        if let Some(region) = settings.region {
            client = client.region(region.value);
        }
        if let Some(endpoint) = settings.service_endpoint {
            client = client.service_endpoint(endpoint.value);
        }
        if let Some(key) = settings.genai_api_key {
            client = client.genai_api_key(key.value);
        }
        if let Some(project) = settings.project_id {
            client = client.project_id(project.value);
        }
        if let Some(compartment) = settings.compartment_id {
            model = model.compartment_id(compartment.value);
        }
        if let Some(format) = settings.api_format {
            model = model.api_format(format.value);
        }
        if let Some(transport) = settings.transport {
            model = model.transport(transport.value);
        }
        OciSetup { auth, client, model }
    }

    /// The compartment (required; a dedicated endpoint's own).
    pub fn compartment_id(mut self, compartment_id: impl Into<String>) -> Self {
        self.model = self.model.compartment_id(compartment_id);
        self
    }

    /// The environment workflow: `LOCUS_MODEL_ID` (with
    /// `LOCUS_MODEL_PROVIDER`, default and only `oci`), then
    /// `LOCUS_OCI_PROFILE`, `LOCUS_OCI_COMPARTMENT`, `LOCUS_OCI_REGION`,
    /// `LOCUS_OCI_AUTH_TYPE`, `LOCUS_OCI_SERVICE_ENDPOINT` — each falling back
    /// to `OCI_CLI_PROFILE`, `OCI_COMPARTMENT_ID`, `OCI_REGION`,
    /// `OCI_CLI_AUTH`, `OCI_GENAI_ENDPOINT` — and `LOCUS_OCI_API_FORMAT`,
    /// `LOCUS_OCI_TRANSPORT` (`sdk`/`native`, `v1`/`chat-completions`,
    /// `responses`), `LOCUS_OCI_GENAI_API_KEY` (else `OCI_GENAI_API_KEY`: a
    /// Generative AI API key for the OpenAI-compatible API) and
    /// `LOCUS_OCI_PROJECT` (else `OCI_GENAI_PROJECT_ID`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use locus_agent::OciSetup;
    /// use oci_auth::StaticEnv;
    /// let env = StaticEnv::new()
    ///     .with_var("LOCUS_MODEL_ID", "openai.gpt-5")
    ///     .with_var("LOCUS_OCI_TRANSPORT", "responses")
    ///     .with_var("OCI_GENAI_API_KEY", "sk-example")
    ///     .with_var("LOCUS_OCI_REGION", "us-chicago-1")
    ///     .with_var("OCI_CONFIG_FILE", "/nonexistent");
    /// let model = OciSetup::from_env(Arc::new(env))?.build()?;
    /// assert_eq!(model.transport(), oci_genai_transport::Transport::Responses);
    /// # Ok::<(), locus_agent::Error>(())
    /// ```
    pub fn from_env(env: SharedEnv) -> Result<Self, Error> {
        Ok(Self::from_settings(Settings::from_env(env.as_ref())?, env))
    }

    /// Builds the auth, then the client with it, then the model on the
    /// client (see [`build_client`](Self::build_client)).
    pub fn build(self) -> Result<OciChatModel, Error> {
        let client = Self::build_client(self.auth, self.client)?;
        Ok(self.model.client(client).build()?)
    }

    /// Builds the auth, then the client with it. With a Generative AI API
    /// key, OCI credentials are optional: when they cannot be built (no
    /// config file, say), the client goes without them, and only the
    /// OpenAI-compatible API can be called.
    pub fn build_client(auth: AuthBuilder, client: GenAiClientBuilder) -> Result<GenAiClient, Error> {
        let client = match (auth.build(), client.has_genai_api_key()) {
            (Ok(auth), _) => client.auth(auth),
            (Err(e), true) => {
                tracing::debug!(
                    "no OCI credentials ({e}); the Generative AI API key authenticates the OpenAI-compatible API"
                );
                client
            }
            (Err(e), false) => return Err(e.into()),
        };
        Ok(client.build()?)
    }
}

impl crate::Agent {
    /// An agent on the model the process environment names (see [`OciSetup::from_env`]).
    pub fn from_env() -> Result<crate::Agent, Error> {
        let model = OciSetup::from_env(Arc::new(OsEnv))?.build()?;
        crate::Agent::builder().model(model).build()
    }
}
