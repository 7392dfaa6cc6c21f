//! The flags that configure authentication, the client and the model — the
//! one place where every command turns them into settings and builders:
//! [`SetupArgs`] for the commands that call a chat model (`chat`, `doctor`,
//! `serve`), [`ServiceArgs`] for those that call the service without one
//! (`models`, `embed`, `rerank`), [`AuthArgs`] alone for `raw-request`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use locus_agent::OciSetup;
use locus_agent::oci_id;
use locus_agent::settings::{Setting, Settings, Source};
use locus_providers::ApiFormat;
use oci_auth::{AuthBuilder, AuthType, Env, OsEnv, SharedEnv};
use oci_genai_transport::{GenAiClientBuilder, Limits, RetryPolicy, Transport};

use crate::defaults::DefaultsFile;
use crate::error::CliError;

/// `--profile`, `--config-file` and `--auth`.
#[derive(Debug, Clone, Default, Args)]
pub struct AuthArgs {
    /// Config profile (default: LOCUS_OCI_PROFILE, OCI_CLI_PROFILE, else DEFAULT).
    #[arg(long)]
    pub profile: Option<String>,
    /// Config file (default: OCI_CONFIG_FILE, else ~/.oci/config).
    #[arg(long)]
    pub config_file: Option<PathBuf>,
    /// api_key, security_token (session_token), instance_principal, resource_principal or
    /// oke_workload_identity
    /// (default: LOCUS_OCI_AUTH_TYPE, OCI_CLI_AUTH, else api_key).
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

    /// The flags as settings.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            config_file: self.config_file.clone().map(|v| Setting::new(v, Source::Flag("--config-file"))),
            profile: self.profile.clone().map(|v| Setting::new(v, Source::Flag("--profile"))),
            auth_type: self.auth.map(|v| Setting::new(v, Source::Flag("--auth"))),
            ..Default::default()
        }
    }
}

/// The client's flags: where to call, and its bounds.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Region to call (default: LOCUS_OCI_REGION, OCI_REGION, the defaults file, the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// Service endpoint instead of the regional one (default: LOCUS_OCI_SERVICE_ENDPOINT, OCI_GENAI_ENDPOINT).
    #[arg(long)]
    pub service_endpoint: Option<String>,
    /// Allow a plain-http --service-endpoint on a host that is not loopback
    /// (signed requests and their bodies would cross the network unencrypted).
    #[arg(long)]
    pub allow_http: bool,
    /// Seconds a model call may take in all: retries, waits and the streamed answer.
    #[arg(long, value_name = "SECS", default_value_t = 600, alias = "stream-deadline")]
    pub timeout: u64,
    /// Retries of a failed call (429, 5xx, timeouts, connection failures), each announced on stderr.
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub max_retries: u32,
    /// Seconds without data (keep-alive comments do not count) before a stream is given up.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub idle_timeout: u64,
}

impl ClientArgs {
    /// `builder` with the bounds applied (where to call comes from [`SetupArgs::settings`]).
    pub fn apply(&self, builder: GenAiClientBuilder) -> GenAiClientBuilder {
        let timeout = Duration::from_secs(self.timeout.max(1));
        let limits = Limits::default()
            .with_stream_deadline(timeout)
            .with_read_timeout(Duration::from_secs(self.idle_timeout.max(1)).min(timeout));
        let retry =
            RetryPolicy::default().with_max_attempts(self.max_retries.saturating_add(1)).with_max_elapsed(timeout);
        builder.allow_http(self.allow_http).limits(limits).timeout(timeout).retry_policy(retry)
    }

    fn settings(&self) -> Settings {
        Settings {
            region: self.region.clone().map(|v| Setting::new(v, Source::Flag("--region"))),
            service_endpoint: self
                .service_endpoint
                .clone()
                .map(|v| Setting::new(v, Source::Flag("--service-endpoint"))),
            ..Default::default()
        }
    }
}

/// The model's flags.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// A model name, model OCID, endpoint OCID (`oci:` optional) or an alias
    /// of the defaults file (default: LOCUS_MODEL_ID, else the defaults file's `model`).
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// The compartment (required; for a dedicated endpoint, the endpoint's;
    /// default: LOCUS_OCI_COMPARTMENT, OCI_COMPARTMENT_ID, the defaults file).
    #[arg(long)]
    pub compartment_id: Option<String>,
    /// Request shape on the native API: generic, cohere, coherev2 or auto (a Cohere model on a dedicated
    /// endpoint needs cohere, or coherev2 for command-a).
    #[arg(long, value_name = "FORMAT", value_parser = parse_api_format)]
    pub api_format: Option<ApiFormat>,
    /// The API: native, chat-completions or responses (default:
    /// LOCUS_OCI_TRANSPORT, the defaults file, else chat-completions for
    /// on-demand models and native for endpoint OCIDs, model OCIDs, Cohere R
    /// models, or when --api-format is given).
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
    /// The flags as settings; `--model` is kept as written (it may be an alias).
    fn settings(&self) -> Settings {
        Settings {
            model: self.model.clone().map(|v| Setting::new(v.trim().to_owned(), Source::Flag("--model"))),
            compartment_id: self.compartment_id.clone().map(|v| Setting::new(v, Source::Flag("--compartment-id"))),
            api_format: self.api_format.map(|v| Setting::new(v, Source::Flag("--api-format"))),
            transport: self.transport.map(|v| Setting::new(v, Source::Flag("--transport"))),
            ..Default::default()
        }
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
    /// The defaults file (default: LOCUS_CONFIG, else ~/.config/locus/config.toml).
    #[arg(long, value_name = "FILE")]
    pub locus_config: Option<PathBuf>,
}

impl SetupArgs {
    /// Every setting and where it came from: flags over `LOCUS_*` over
    /// `OCI_*` over the defaults file. A model that names an alias of the
    /// defaults file brings the alias's settings, which only flags override.
    pub fn settings(&self, env: &dyn Env) -> Result<Settings, CliError> {
        self.settings_with(env, &self.defaults_file(env)?)
    }

    /// The defaults file these arguments name (`--locus-config`), else the usual one.
    pub fn defaults_file(&self, env: &dyn Env) -> Result<DefaultsFile, CliError> {
        let defaults = DefaultsFile::load(self.locus_config.as_deref(), env)?;
        // Its model profiles apply to every model this process builds.
        defaults.install_profiles()?;
        Ok(defaults)
    }

    /// [`settings`](Self::settings) with the defaults file already read.
    pub fn settings_with(&self, env: &dyn Env, defaults: &DefaultsFile) -> Result<Settings, CliError> {
        let flags = self.raw_flag_settings();
        let environment = Settings::from_env(env)?;
        let file = defaults.settings()?;
        let merged = flags.clone().or(environment.clone()).or(file.clone());
        let Some(model) = merged.model.clone() else { return Ok(merged) };
        match defaults.alias(&model.value)? {
            Some(alias) => {
                let flags = Settings { model: None, ..flags };
                Ok(flags.or(alias).or(Settings { model: None, ..environment }).or(file))
            }
            None => {
                let id = oci_id(&model.value).map_err(|e| CliError::Usage(format!("{}: {e}", model.source)))?;
                Ok(Settings { model: Some(Setting::new(id, model.source)), ..merged })
            }
        }
    }

    fn raw_flag_settings(&self) -> Settings {
        self.model.settings().or(self.client.settings()).or(self.auth.settings())
    }

    /// The flags alone (no environment, no defaults file): what `locus chat
    /// --emulator` uses, so that a real setup in the environment cannot send
    /// the demo elsewhere.
    pub fn flag_settings(&self) -> Result<Settings, CliError> {
        let mut flags = self.raw_flag_settings();
        if let Some(model) = flags.model.take() {
            let id = oci_id(&model.value).map_err(|e| CliError::Usage(format!("{}: {e}", model.source)))?;
            flags.model = Some(Setting::new(id, model.source));
        }
        Ok(flags)
    }

    /// The builders for these settings, with the client's bounds and the
    /// model's fallback choice applied.
    pub fn oci_setup_from(&self, settings: Settings, env: SharedEnv) -> OciSetup {
        let setup = locus_agent::OciSetup::from_settings(settings, env);
        OciSetup {
            auth: setup.auth,
            client: self.client.apply(setup.client),
            model: setup.model.allow_fallback(!self.model.no_fallback),
        }
    }

    /// [`settings`](Self::settings) from the process environment, as builders.
    pub fn oci_setup(&self) -> Result<OciSetup, CliError> {
        let env: SharedEnv = Arc::new(OsEnv);
        let settings = self.settings(env.as_ref())?;
        Ok(self.oci_setup_from(settings, env))
    }
}

/// The flags of a command that calls the service without a chat model
/// (`models`, `embed`, `rerank`): the compartment, how to authenticate,
/// where to call. The chat model's settings (`--model` of `chat`,
/// `LOCUS_MODEL_ID`, the defaults file's `model` and aliases) play no part.
#[derive(Debug, Clone, Args)]
pub struct ServiceArgs {
    /// The compartment (default: LOCUS_OCI_COMPARTMENT, OCI_COMPARTMENT_ID, the defaults file).
    #[arg(long)]
    pub compartment_id: Option<String>,
    /// How to authenticate.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Where to call, and the client's bounds.
    #[command(flatten)]
    pub client: ClientArgs,
    /// The defaults file (default: LOCUS_CONFIG, else ~/.config/locus/config.toml).
    #[arg(long, value_name = "FILE")]
    pub locus_config: Option<PathBuf>,
}

impl ServiceArgs {
    /// Every setting but the model's, and where it came from: flags over
    /// `LOCUS_*` over `OCI_*` over the defaults file.
    pub fn settings(&self, env: &dyn Env) -> Result<Settings, CliError> {
        let flags = Settings {
            compartment_id: self.compartment_id.clone().map(|v| Setting::new(v, Source::Flag("--compartment-id"))),
            ..Default::default()
        }
        .or(self.client.settings())
        .or(self.auth.settings());
        let defaults = DefaultsFile::load(self.locus_config.as_deref(), env)?;
        layered_without_model(flags, env, &defaults)
    }

    /// The builders for these settings, with the client's bounds applied.
    pub fn oci_setup_from(&self, settings: Settings, env: SharedEnv) -> OciSetup {
        let setup = locus_agent::OciSetup::from_settings(settings, env);
        OciSetup { auth: setup.auth, client: self.client.apply(setup.client), model: setup.model }
    }
}

/// `flags` over the environment over the defaults file, leaving out the
/// chat model's settings of the two (its id, and the transport and request
/// shape that go with it): for commands that call no chat model.
pub(crate) fn layered_without_model(
    flags: Settings,
    env: &dyn Env,
    defaults: &DefaultsFile,
) -> Result<Settings, CliError> {
    let chat_model_free = |s: Settings| Settings { model: None, transport: None, api_format: None, ..s };
    Ok(flags.or(chat_model_free(Settings::from_env(env)?)).or(chat_model_free(defaults.settings()?)))
}
