//! An OCI chat model from the three builders it takes, and the environment
//! workflow that fills them.

use std::sync::Arc;

use locus_providers::{OciChatModel, OciChatModelBuilder};
use oci_auth::{Auth, AuthBuilder, Env, OsEnv, SharedEnv};
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

/// The variables [`OciSetup::from_env`] reads: LOCUS_* first, then the OCI one.
const VARIABLES: [(&str, &str); 5] = [
    ("LOCUS_OCI_PROFILE", "OCI_CLI_PROFILE"),
    ("LOCUS_OCI_COMPARTMENT", "OCI_COMPARTMENT_ID"),
    ("LOCUS_OCI_REGION", "OCI_REGION"),
    ("LOCUS_OCI_AUTH_TYPE", "OCI_CLI_AUTH"),
    ("LOCUS_OCI_SERVICE_ENDPOINT", "OCI_GENAI_ENDPOINT"),
];

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
        let e = env.as_ref();
        let mut setup = OciSetup {
            auth: Auth::builder().env(Arc::clone(&env)),
            client: GenAiClient::builder().env(Arc::clone(&env)),
            model: OciChatModelBuilder::default(),
        };
        if let Some(model) = e.var("LOCUS_MODEL_ID").filter(|m| !m.trim().is_empty()) {
            let provider =
                e.var("LOCUS_MODEL_PROVIDER").filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "oci".into());
            let qualified = match model.contains(':') || oci_genai_transport::is_ocid(&model) {
                true => model,
                false => format!("{provider}:{model}"),
            };
            setup.model = setup.model.model_id(oci_id(&qualified)?);
        }
        let [profile, compartment, region, auth, endpoint] = VARIABLES.map(|(locus, oci)| var(e, locus, oci));
        if let Some(profile) = profile {
            setup.auth = setup.auth.profile(profile);
        }
        if let Some(auth) = auth {
            setup.auth = setup.auth.auth_type(auth.parse()?);
        }
        if let Some(region) = region {
            setup.client = setup.client.region(region);
        }
        if let Some(endpoint) = endpoint {
            setup.client = setup.client.service_endpoint(endpoint);
        }
        if let Some(compartment) = compartment {
            setup.model = setup.model.compartment_id(compartment);
        }
        if let Some(format) = e.var("LOCUS_OCI_API_FORMAT") {
            setup.model = setup.model.api_format(format.parse()?);
        }
        if let Some(transport) = e.var("LOCUS_OCI_TRANSPORT").filter(|t| !t.trim().is_empty()) {
            setup.model = setup.model.transport(transport.parse()?);
        }
        if let Some(key) = var(e, "LOCUS_OCI_GENAI_API_KEY", "OCI_GENAI_API_KEY") {
            setup.client = setup.client.genai_api_key(key);
        }
        if let Some(project) = var(e, "LOCUS_OCI_PROJECT", "OCI_GENAI_PROJECT_ID") {
            setup.client = setup.client.project_id(project);
        }
        Ok(setup)
    }

    /// Builds the auth, then the client with it, then the model on the
    /// client. With a Generative AI API key, OCI credentials are optional:
    /// when they cannot be built (no config file, say), the client goes
    /// without them, and only the OpenAI-compatible API can be called.
    pub fn build(self) -> Result<OciChatModel, Error> {
        let client = match (self.auth.build(), self.client.has_genai_api_key()) {
            (Ok(auth), _) => self.client.auth(auth),
            (Err(e), true) => {
                tracing::debug!(
                    "no OCI credentials ({e}); the Generative AI API key authenticates the OpenAI-compatible API"
                );
                self.client
            }
            (Err(e), false) => return Err(e.into()),
        };
        Ok(self.model.client(client.build()?).build()?)
    }
}

impl crate::Agent {
    /// An agent on the model the process environment names (see [`OciSetup::from_env`]).
    pub fn from_env() -> Result<crate::Agent, Error> {
        let model = OciSetup::from_env(Arc::new(OsEnv))?.build()?;
        crate::Agent::builder().model(model).build()
    }
}

fn var(env: &dyn Env, locus: &str, oci: &str) -> Option<String> {
    env.var(locus).or_else(|| env.var(oci)).filter(|v| !v.trim().is_empty())
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
