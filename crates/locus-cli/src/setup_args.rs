//! The flags that configure authentication, the client and the model — the
//! one place where `chat`, `doctor` and `raw-request` turn them into builders.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use locus_agent::OciSetup;
use locus_providers::{ApiFormat, OciChatModelBuilder};
use oci_auth::{AuthBuilder, AuthType, OsEnv};
use oci_genai_transport::{GenAiClientBuilder, Limits, Transport};

use crate::error::CliError;

/// `--profile`, `--config-file` and `--auth`.
#[derive(Debug, Clone, Default, Args)]
pub struct AuthArgs {
    /// Config profile (default: OCI_CLI_PROFILE, else DEFAULT).
    #[arg(long)]
    pub profile: Option<String>,
    /// Config file (default: OCI_CONFIG_FILE, else ~/.oci/config).
    #[arg(long)]
    pub config_file: Option<PathBuf>,
    /// api_key, security_token (session_token), instance_principal or resource_principal
    /// (default: OCI_CLI_AUTH, else api_key).
    #[arg(long = "auth", value_name = "TYPE", value_parser = parse_auth_type)]
    pub auth: Option<AuthType>,
}

fn parse_auth_type(value: &str) -> Result<AuthType, String> {
    value.parse().map_err(|e: oci_auth::Error| e.to_string())
}

impl AuthArgs {
    /// `builder` with these flags applied.
    pub fn apply(&self, mut builder: AuthBuilder) -> AuthBuilder {
        if let Some(path) = &self.config_file {
            builder = builder.config_file(path);
        }
        if let Some(profile) = &self.profile {
            builder = builder.profile(profile);
        }
        if let Some(auth) = self.auth {
            builder = builder.auth_type(auth);
        }
        builder
    }

    /// An `Auth` builder with these flags applied.
    pub fn builder(&self) -> AuthBuilder {
        self.apply(oci_auth::Auth::builder())
    }
}

/// The client's flags: where to call, and its bounds.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Region to call (default: LOCUS_OCI_REGION, OCI_REGION, the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// Service endpoint instead of the regional one.
    #[arg(long)]
    pub service_endpoint: Option<String>,
    /// Allow a plain-http --service-endpoint on a host that is not loopback
    /// (signed requests and their bodies would cross the network unencrypted).
    #[arg(long)]
    pub allow_http: bool,
    /// Seconds a streamed answer may take in all, retries included.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub stream_deadline: u64,
    /// Seconds without data (keep-alive comments do not count) before a stream is given up.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub idle_timeout: u64,
}

impl ClientArgs {
    /// `builder` with these flags applied.
    pub fn apply(&self, mut builder: GenAiClientBuilder) -> GenAiClientBuilder {
        if let Some(region) = &self.region {
            builder = builder.region(region);
        }
        if let Some(endpoint) = &self.service_endpoint {
            builder = builder.service_endpoint(endpoint);
        }
        let limits = Limits::default()
            .with_stream_deadline(Duration::from_secs(self.stream_deadline))
            .with_read_timeout(Duration::from_secs(self.idle_timeout));
        builder.allow_http(self.allow_http).limits(limits)
    }
}

/// The model's flags.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// `oci:<model name | model OCID | endpoint OCID>` (default: LOCUS_MODEL_ID).
    #[arg(long)]
    pub model: Option<String>,
    /// The compartment (required for dedicated endpoints; default: LOCUS_OCI_COMPARTMENT).
    #[arg(long)]
    pub compartment_id: Option<String>,
    /// Request shape: generic, cohere or auto (a Cohere model on a dedicated endpoint needs cohere).
    #[arg(long, value_name = "FORMAT", value_parser = parse_api_format)]
    pub api_format: Option<ApiFormat>,
    /// The API: native, chat-completions or responses (default:
    /// LOCUS_OCI_TRANSPORT, else chat-completions for on-demand models and
    /// native for endpoint OCIDs, model OCIDs, Cohere R models, or when
    /// --api-format is given).
    #[arg(long, value_name = "API", value_parser = parse_transport)]
    pub transport: Option<Transport>,
    /// Fail when an endpoint refuses to stream, instead of falling back to a
    /// whole answer (the fallback is announced on stderr).
    #[arg(long)]
    pub no_fallback: bool,
}

fn parse_transport(value: &str) -> Result<Transport, String> {
    value.parse().map_err(|e: oci_genai_transport::Error| e.to_string())
}

fn parse_api_format(value: &str) -> Result<ApiFormat, String> {
    value.parse().map_err(|e: locus_providers::Error| e.to_string())
}

impl ModelArgs {
    /// `builder` with these flags applied.
    pub fn apply(&self, mut builder: OciChatModelBuilder) -> Result<OciChatModelBuilder, CliError> {
        if let Some(model) = &self.model {
            builder = builder.model_id(locus_agent::oci_id(model)?);
        }
        if let Some(compartment) = &self.compartment_id {
            builder = builder.compartment_id(compartment);
        }
        if let Some(format) = self.api_format {
            builder = builder.api_format(format);
        }
        if let Some(transport) = self.transport {
            builder = builder.transport(transport);
        }
        Ok(builder.allow_fallback(!self.no_fallback))
    }
}

/// Every flag of a model call: the model, how to authenticate, where to call.
#[derive(Debug, Clone, Args)]
pub struct SetupArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// How to authenticate.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Where to call, and the client's bounds.
    #[command(flatten)]
    pub client: ClientArgs,
}

impl SetupArgs {
    /// The environment workflow (`LOCUS_*`, `OCI_*`), then these flags over it.
    pub fn oci_setup(&self) -> Result<OciSetup, CliError> {
        let setup = OciSetup::from_env(Arc::new(OsEnv))?;
        Ok(OciSetup {
            auth: self.auth.apply(setup.auth),
            client: self.client.apply(setup.client),
            model: self.model.apply(setup.model)?,
        })
    }
}
