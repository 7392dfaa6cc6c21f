//! Model strings (`oci:<model | model OCID | endpoint OCID>`) to chat models.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use locus_providers::{ApiFormat, OciChatModel, SharedChatModel};
use oci_auth::{Auth, AuthType, SharedEnv};
use oci_genai_transport::{GenAiClient, Limits};

use crate::error::Error;

/// What a provider needs besides the model id.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    /// The compartment (required for dedicated endpoints).
    pub compartment_id: Option<String>,
    /// The OCI config profile.
    pub profile: Option<String>,
    /// The OCI config file.
    pub config_file: Option<PathBuf>,
    /// The auth type.
    pub auth_type: Option<AuthType>,
    /// The region, overriding the configuration.
    pub region: Option<String>,
    /// The service endpoint, instead of the regional one.
    pub service_endpoint: Option<String>,
    /// The request shape (default: from the model id).
    pub api_format: Option<ApiFormat>,
    /// Whether a refused stream falls back to a non-streaming call (default: yes).
    pub allow_fallback: bool,
    /// The client's read timeout, stream deadline and body cap (default: [`Limits::default`]).
    pub limits: Option<Limits>,
    /// Whether a plain-http service endpoint off loopback is allowed (default: no).
    pub allow_http: bool,
    /// Where environment variables come from (default: the process).
    pub env: Option<SharedEnv>,
    /// A ready client, instead of one built from the settings above.
    pub client: Option<GenAiClient>,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            compartment_id: None,
            profile: None,
            config_file: None,
            auth_type: None,
            region: None,
            service_endpoint: None,
            api_format: None,
            allow_fallback: true,
            limits: None,
            allow_http: false,
            env: None,
            client: None,
        }
    }
}

/// Makes chat models for one prefix.
pub trait ModelProvider: Send + Sync + std::fmt::Debug {
    /// A model for `model_id` (the part after `prefix:`).
    fn create(&self, model_id: &str, settings: &ModelSettings) -> Result<SharedChatModel, Error>;
}

/// OCI Generative AI: on-demand model names, model OCIDs, endpoint OCIDs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OciProvider;

impl ModelProvider for OciProvider {
    fn create(&self, model_id: &str, settings: &ModelSettings) -> Result<SharedChatModel, Error> {
        let client = match &settings.client {
            Some(client) => client.clone(),
            None => {
                let mut auth = Auth::builder();
                if let Some(env) = &settings.env {
                    auth = auth.env(Arc::clone(env));
                }
                if let Some(path) = &settings.config_file {
                    auth = auth.config_file(path);
                }
                if let Some(profile) = &settings.profile {
                    auth = auth.profile(profile);
                }
                if let Some(auth_type) = settings.auth_type {
                    auth = auth.auth_type(auth_type);
                }
                let mut client = GenAiClient::builder().auth(auth.build()?);
                if let Some(env) = &settings.env {
                    client = client.env(Arc::clone(env));
                }
                if let Some(region) = &settings.region {
                    client = client.region(region);
                }
                if let Some(endpoint) = &settings.service_endpoint {
                    client = client.service_endpoint(endpoint);
                }
                if let Some(limits) = settings.limits {
                    client = client.limits(limits);
                }
                client.allow_http(settings.allow_http).build()?
            }
        };
        let mut model = OciChatModel::builder(client, model_id).allow_fallback(settings.allow_fallback);
        if let Some(compartment) = &settings.compartment_id {
            model = model.compartment_id(compartment);
        }
        if let Some(format) = settings.api_format {
            model = model.api_format(format);
        }
        Ok(Arc::new(model.build()?))
    }
}

/// Model providers by prefix.
///
/// ```
/// use locus_agent::ModelRegistry;
/// let registry = ModelRegistry::default();
/// assert_eq!(registry.prefixes(), ["oci"]);
/// assert_eq!(ModelRegistry::split("oci:meta.llama-3.3-70b-instruct").unwrap(), ("oci", "meta.llama-3.3-70b-instruct"));
/// assert_eq!(ModelRegistry::split("ocid1.generativeaiendpoint.oc1.iad.x").unwrap(), ("oci", "ocid1.generativeaiendpoint.oc1.iad.x"));
/// ```
#[derive(Debug, Clone)]
pub struct ModelRegistry {
    providers: BTreeMap<String, Arc<dyn ModelProvider>>,
}

impl Default for ModelRegistry {
    /// A registry with `oci`.
    fn default() -> Self {
        let mut registry = ModelRegistry { providers: BTreeMap::new() };
        registry.register("oci", OciProvider);
        registry
    }
}

impl ModelRegistry {
    /// Adds (or replaces) the provider for `prefix`.
    pub fn register(&mut self, prefix: impl Into<String>, provider: impl ModelProvider + 'static) -> &mut Self {
        self.providers.insert(prefix.into(), Arc::new(provider));
        self
    }

    /// The known prefixes.
    pub fn prefixes(&self) -> Vec<&str> {
        self.providers.keys().map(String::as_str).collect()
    }

    /// `prefix:id` → (prefix, id); an OCID needs no prefix (it is `oci`).
    pub fn split(model: &str) -> Result<(&str, &str), Error> {
        let model = model.trim();
        if model.to_ascii_lowercase().starts_with("ocid1.") {
            return Ok(("oci", model));
        }
        match model.split_once(':') {
            Some((prefix, id)) if !prefix.is_empty() && !id.is_empty() => Ok((prefix, id)),
            _ => Err(Error::Config(format!(
                "model `{model}` needs a provider prefix, e.g. `oci:{model}` (an OCID may go without one)"
            ))),
        }
    }

    /// The chat model for `model`.
    pub fn create(&self, model: &str, settings: &ModelSettings) -> Result<SharedChatModel, Error> {
        let (prefix, id) = Self::split(model)?;
        let provider = self.providers.get(prefix).ok_or_else(|| Error::UnknownProvider {
            prefix: prefix.to_owned(),
            model: model.to_owned(),
            known: self.providers.keys().cloned().collect(),
        })?;
        provider.create(id, settings)
    }
}
