//! `locus serve`: the OpenAI-compatible gateway ([`locus_gateway`]) on this
//! machine's OCI credentials.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use locus_gateway::{Alias, Gateway, GatewayConfig};
use oci_auth::{OsEnv, Secret, SharedEnv};

use crate::error::{CliError, ExitCode};
use crate::setup_args::SetupArgs;

/// The arguments of `locus serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen (an address other than loopback needs --api-keys).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// A file of client API keys, one per line; clients send `Authorization: Bearer <key>`.
    #[arg(long, value_name = "FILE")]
    pub api_keys: Option<PathBuf>,
    /// The largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Streams at once; more get 429.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_streams: usize,
    /// Requests per minute per client key; more get 429 (default: no limit).
    #[arg(long, value_name = "N")]
    pub requests_per_minute: Option<u32>,
    /// Auth, region, compartment and client bounds as `locus chat` takes them;
    /// the defaults file's `[aliases]` become model names clients may use.
    #[command(flatten)]
    pub setup: SetupArgs,
}

/// Runs the gateway until interrupted.
pub async fn run(args: ServeArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let env: SharedEnv = Arc::new(OsEnv);
    let defaults = args.setup.defaults_file(env.as_ref())?;
    let settings = args.setup.settings_with(env.as_ref(), &defaults)?;
    let mut aliases = std::collections::BTreeMap::new();
    for name in defaults.aliases.keys() {
        if let Some(alias) = defaults.alias(name)? {
            aliases.insert(
                name.clone(),
                Alias {
                    model: alias.model.map(|m| m.value).unwrap_or_default(),
                    compartment_id: alias.compartment_id.map(|c| c.value),
                    api_format: alias.api_format.map(|f| f.value),
                    transport: alias.transport.map(|t| t.value),
                },
            );
        }
    }
    let api_keys = match &args.api_keys {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("--api-keys {}: {e}", path.display())))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(Secret::new)
            .collect(),
        None => Vec::new(),
    };
    let config = GatewayConfig {
        listen: args.listen,
        api_keys,
        max_body_bytes: args.max_body_bytes,
        max_concurrent_streams: args.max_streams,
        requests_per_minute: args.requests_per_minute,
        compartment_id: settings.compartment_id.clone().map(|c| c.value),
        aliases,
        ..Default::default()
    };
    config.check().map_err(CliError::Usage)?;
    let setup = args.setup.oci_setup_from(settings, env);
    let announce = crate::terminal::announce_retry(crate::terminal::Terminal::detect());
    let client = locus_agent::OciSetup::build_client(setup.auth, setup.client.on_retry(announce))?;
    let gateway = Gateway::start(config, client).await.map_err(|e| CliError::Usage(e.to_string()))?;
    writeln!(out, "locus gateway on {url}: OpenAI base URL {url}/v1", url = gateway.url())?;
    out.flush()?;
    let _ = tokio::signal::ctrl_c().await;
    Ok(ExitCode::Ok)
}
