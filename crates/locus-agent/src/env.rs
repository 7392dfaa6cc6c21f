//! Configuring an agent from the environment.

use std::sync::Arc;

use locus_providers::ApiFormat;
use oci_auth::{Env, OsEnv, SharedEnv};

use crate::agent::AgentBuilder;
use crate::error::Error;

/// The variables `from_env` reads, LOCUS_* first, then the standard OCI_* one.
const VARIABLES: [(&str, &str); 5] = [
    ("LOCUS_OCI_PROFILE", "OCI_CLI_PROFILE"),
    ("LOCUS_OCI_COMPARTMENT", "OCI_COMPARTMENT_ID"),
    ("LOCUS_OCI_REGION", "OCI_REGION"),
    ("LOCUS_OCI_AUTH_TYPE", "OCI_CLI_AUTH"),
    ("LOCUS_OCI_SERVICE_ENDPOINT", "OCI_GENAI_ENDPOINT"),
];

fn var(env: &dyn Env, locus: &str, oci: &str) -> Option<String> {
    env.var(locus).or_else(|| env.var(oci)).filter(|v| !v.trim().is_empty())
}

impl AgentBuilder {
    /// Applies the environment workflow: `LOCUS_MODEL_PROVIDER` (default
    /// `oci`) and `LOCUS_MODEL_ID` make the model string; `LOCUS_OCI_PROFILE`,
    /// `LOCUS_OCI_COMPARTMENT`, `LOCUS_OCI_REGION`, `LOCUS_OCI_AUTH_TYPE`,
    /// `LOCUS_OCI_SERVICE_ENDPOINT` and `LOCUS_OCI_API_FORMAT` fall back to
    /// `OCI_CLI_PROFILE`, `OCI_COMPARTMENT_ID`, `OCI_REGION`, `OCI_CLI_AUTH`
    /// and `OCI_GENAI_ENDPOINT`. `LOCUS_OCI_TRANSPORT` is accepted for
    /// compatibility (there is one transport here).
    pub fn from_env_vars(mut self, env: SharedEnv) -> Result<Self, Error> {
        let e = env.as_ref();
        if let Some(model) = e.var("LOCUS_MODEL_ID").filter(|m| !m.trim().is_empty()) {
            let provider = e.var("LOCUS_MODEL_PROVIDER").unwrap_or_else(|| "oci".into());
            let model = if model.to_ascii_lowercase().starts_with("ocid1.") || model.contains(':') {
                model
            } else {
                format!("{provider}:{model}")
            };
            self = self.model(model);
        }
        let [profile, compartment, region, auth, endpoint] = VARIABLES.map(|(locus, oci)| var(e, locus, oci));
        if let Some(profile) = profile {
            self = self.profile(profile);
        }
        if let Some(compartment) = compartment {
            self = self.compartment_id(compartment);
        }
        if let Some(region) = region {
            self = self.region(region);
        }
        if let Some(auth) = auth {
            self = self.auth_type(auth.parse()?);
        }
        if let Some(endpoint) = endpoint {
            self = self.service_endpoint(endpoint);
        }
        if let Some(format) = e.var("LOCUS_OCI_API_FORMAT") {
            self = self.api_format(match format.to_ascii_lowercase().as_str() {
                "cohere" => ApiFormat::Cohere,
                "generic" => ApiFormat::Generic,
                "auto" | "" => ApiFormat::Auto,
                other => {
                    return Err(Error::Config(format!("LOCUS_OCI_API_FORMAT `{other}`: use generic, cohere or auto")));
                }
            });
        }
        if let Some(transport) = e.var("LOCUS_OCI_TRANSPORT") {
            tracing::debug!(
                transport,
                "LOCUS_OCI_TRANSPORT is accepted for compatibility; locus-rs has one OCI transport"
            );
        }
        Ok(self.env(env))
    }
}

impl crate::Agent {
    /// An agent configured from the process environment (see
    /// [`AgentBuilder::from_env_vars`]).
    pub fn from_env() -> Result<crate::Agent, Error> {
        crate::Agent::builder().from_env_vars(Arc::new(OsEnv))?.build()
    }
}
