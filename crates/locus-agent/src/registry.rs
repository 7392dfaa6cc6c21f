//! Model strings (`<prefix>:<id>`) to chat models, for code that picks models by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use locus_providers::{OciChatModelBuilder, SharedChatModel};
use oci_genai_transport::GenAiClient;

use crate::error::Error;

/// The OCI id in a model string as a user writes it: `oci:<id>`, a bare
/// OCI model name, or an OCID; another provider's prefix is an error naming
/// the one this crate knows. The one reading of a model string: the
/// environment, the defaults file, flags and [`OciSetup::new`](crate::OciSetup::new) all go through it.
///
/// ```
/// use locus_agent::oci_id;
/// assert_eq!(oci_id("oci:meta.llama-3.3-70b-instruct")?, "meta.llama-3.3-70b-instruct");
/// assert_eq!(oci_id(" meta.llama-3.3-70b-instruct ")?, "meta.llama-3.3-70b-instruct");
/// assert_eq!(oci_id("ocid1.generativeaiendpoint.oc1.iad.x")?, "ocid1.generativeaiendpoint.oc1.iad.x");
/// assert!(oci_id("anthropic:claude").is_err());
/// assert!(oci_id("oci:").is_err());
/// # Ok::<(), locus_agent::Error>(())
/// ```
pub fn oci_id(model: &str) -> Result<String, Error> {
    let model = model.trim();
    if !model.contains(':') {
        return Ok(model.to_owned());
    }
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

/// Makes chat models for one prefix.
pub trait ModelProvider: Send + Sync + std::fmt::Debug {
    /// A model for `model_id` (the part after `prefix:`).
    fn create(&self, model_id: &str) -> Result<SharedChatModel, Error>;
}

/// OCI Generative AI models on one client (built once): on-demand model
/// names, model OCIDs and endpoint OCIDs, each configured as `template` is
/// (compartment, request shape, fallback).
#[derive(Debug, Clone)]
pub struct OciProvider {
    client: GenAiClient,
    template: OciChatModelBuilder,
}

impl OciProvider {
    /// Models on `client`, configured as `template` (its model id is replaced).
    pub fn new(client: GenAiClient, template: OciChatModelBuilder) -> Self {
        OciProvider { client, template }
    }
}

impl ModelProvider for OciProvider {
    fn create(&self, model_id: &str) -> Result<SharedChatModel, Error> {
        let model = self.template.clone().model_id(model_id).client(self.client.clone()).build()?;
        Ok(Arc::new(model))
    }
}

/// Model providers by prefix.
///
/// ```
/// use locus_agent::ModelRegistry;
/// let registry = ModelRegistry::default();
/// assert!(registry.prefixes().is_empty());
/// assert_eq!(ModelRegistry::split("oci:meta.llama-3.3-70b-instruct").unwrap(), ("oci", "meta.llama-3.3-70b-instruct"));
/// assert_eq!(ModelRegistry::split("ocid1.generativeaiendpoint.oc1.iad.x").unwrap(), ("oci", "ocid1.generativeaiendpoint.oc1.iad.x"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ModelRegistry {
    providers: BTreeMap<String, Arc<dyn ModelProvider>>,
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
        if oci_genai_transport::is_ocid(model) {
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
    pub fn create(&self, model: &str) -> Result<SharedChatModel, Error> {
        let (prefix, id) = Self::split(model)?;
        let provider = self.providers.get(prefix).ok_or_else(|| Error::UnknownProvider {
            prefix: prefix.to_owned(),
            model: model.to_owned(),
            known: self.providers.keys().cloned().collect(),
        })?;
        provider.create(id)
    }
}
