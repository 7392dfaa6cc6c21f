//! An OCI chat model from the three builders it takes, and the environment
//! workflow that fills them.

use std::sync::Arc;

use locus_providers::{OciChatModel, OciChatModelBuilder};
use oci_auth::{Auth, AuthBuilder, OsEnv, SharedEnv};
use oci_genai_transport::{GenAiClient, GenAiClientBuilder};

use crate::error::Error;
use crate::registry::ModelRegistry;

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
    /// `model_id` (a model name, model OCID or endpoint OCID, `oci:` optional) with default builders.
    pub fn new(model_id: impl Into<String>) -> Self {
        OciSetup {
            auth: Auth::builder(),
            client: GenAiClient::builder(),
            model: OciChatModel::builder(strip_provider(&model_id.into())),
        }
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
        Ok(crate::settings::Settings::from_env(env.as_ref())?.into_setup(env))
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

/// The OCI id in a model string: `oci:<id>`, or an OCID as it is; another
/// provider's prefix is an error naming the one this setup knows.
pub fn oci_id(model: &str) -> Result<String, Error> {
    let (prefix, id) = ModelRegistry::split(model)?;
    if prefix != "oci" {
        return Err(Error::UnknownProvider {
            prefix: prefix.to_owned(),
            model: model.to_owned(),
            known: vec!["oci".into()],
        });
    }
    Ok(id.to_owned())
}

fn strip_provider(model: &str) -> String {
    model.trim().strip_prefix("oci:").unwrap_or(model.trim()).to_owned()
}
