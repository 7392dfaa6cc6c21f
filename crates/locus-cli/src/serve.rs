//! `locus serve`: the OpenAI-compatible gateway ([`locus_gateway`]) on this
//! machine's OCI credentials, stopped gracefully by SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use locus_agent::guard::GuardPolicy;
use locus_agent::settings::{Setting, Source};
use locus_gateway::{Alias, Gateway, GatewayConfig, RouteGuard};
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
    /// Model calls at once, streamed or not; more get 429.
    #[arg(long, value_name = "N", default_value_t = 256, alias = "max-streams")]
    pub max_calls: usize,
    /// Client connections at once (lowered to what the open-file limit allows); more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 16_384)]
    pub max_connections: usize,
    /// Seconds a client may take to send a request head, from its connection or its previous answer
    /// (this also closes idle keep-alive connections).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds answers in flight get to finish after SIGTERM or Ctrl-C.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub drain_timeout: u64,
    /// Requests per minute per client key (per client address without keys); more get 429 (default: no limit).
    #[arg(long, value_name = "N")]
    pub requests_per_minute: Option<u32>,
    /// Screen every chat route with the service's guardrails (the defaults
    /// file's `[guard]` policy when it has one, else the default: injections
    /// and harmful content blocked, personal information redacted; an alias's
    /// `[aliases.NAME.guard]` is its own).
    #[arg(long)]
    pub guard: bool,
    /// Auth, region, compartment and client bounds as `locus chat` takes them;
    /// --model is the model of requests that name none, --transport and
    /// --api-format apply to every model without an alias saying otherwise;
    /// the defaults file's `[aliases]` become model names clients may use.
    #[command(flatten)]
    pub setup: SetupArgs,
}

/// Runs the gateway until SIGTERM or Ctrl-C, then drains it.
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
                    guard: match defaults.alias_guard(name)? {
                        None => RouteGuard::Inherit,
                        Some(None) => RouteGuard::Off,
                        Some(Some(policy)) => RouteGuard::Policy(policy),
                    },
                },
            );
        }
    }
    // A default model that is an alias stays one (resolved per request); its settings are not the gateway's.
    let default_model = settings.model.as_ref().map(|model| match &model.source {
        Source::Alias { name, .. } => name.clone(),
        _ => model.value.clone(),
    });
    let config = GatewayConfig {
        listen: args.listen,
        api_keys: match &args.api_keys {
            Some(path) => read_keys(path)?,
            None => Vec::new(),
        },
        max_body_bytes: args.max_body_bytes,
        max_concurrent_calls: args.max_calls,
        max_connections: connection_cap(args.max_connections),
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        requests_per_minute: args.requests_per_minute,
        compartment_id: settings.compartment_id.clone().filter(global).map(|c| c.value),
        aliases,
        default_model,
        transport: settings.transport.clone().filter(global).map(|t| t.value),
        api_format: settings.api_format.clone().filter(global).map(|f| f.value),
        // The file's `[guard]`, else --guard's default policy.
        guard: defaults.guard()?.or_else(|| args.guard.then(GuardPolicy::default)),
        ..Default::default()
    };
    config.check().map_err(CliError::Usage)?;
    let setup = args.setup.oci_setup_from(settings, env);
    let announce = crate::terminal::announce_retry(crate::terminal::Terminal::detect());
    let client = locus_agent::OciSetup::build_client(setup.auth, setup.client.on_retry(announce))?;
    let gateway = Gateway::start(config, client).await.map_err(|e| CliError::Usage(e.to_string()))?;
    writeln!(out, "locus gateway on {url}: OpenAI base URL {url}/v1", url = gateway.url())?;
    out.flush()?;
    let signal = stop_signal().await;
    let drain = Duration::from_secs(args.drain_timeout);
    tracing::warn!("{signal}: no new connections; answers in flight get {} s to finish", drain.as_secs());
    let report = gateway.shutdown(drain).await;
    tracing::info!(target: "locus_gateway::access", "stopped: {} connection(s) drained, {} cut", report.drained, report.cut);
    Ok(ExitCode::Ok)
}

/// Client keys, one per line (`#` comments and blank lines skipped); a file with none is an error,
/// not a gateway open to everyone.
fn read_keys(path: &Path) -> Result<Vec<Secret>, CliError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::Usage(format!("--api-keys {}: {e}", path.display())))?;
    let keys: Vec<Secret> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(Secret::new).collect();
    if keys.is_empty() {
        return Err(CliError::Usage(format!(
            "--api-keys {}: the file holds no keys (one key a line); without keys a gateway serves local programs \
             only — leave out --api-keys for that",
            path.display()
        )));
    }
    Ok(keys)
}

/// SIGTERM (what Kubernetes and systemd send) or SIGINT (Ctrl-C), by name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "interrupted"
}

/// `wanted`, lowered to what the open-file limit leaves for connections (each is one descriptor;
/// a few hundred are kept for upstream calls and files), with a warning when lowered.
fn connection_cap(wanted: usize) -> usize {
    let Some(limit) = crate::limits::open_files() else { return wanted };
    let room = usize::try_from(limit).unwrap_or(usize::MAX).saturating_sub(RESERVED_FILES).max(16);
    if room < wanted {
        tracing::warn!(
            "serving at most {room} connections at once: the open-file limit is {limit} (raise it with `ulimit -n` \
             for more)"
        );
        return room;
    }
    wanted
}

/// Descriptors kept for everything but client connections: upstream calls, logs, files.
const RESERVED_FILES: usize = 512;

/// A setting of the gateway's own, not brought by an alias named as the default model.
fn global<T>(setting: &Setting<T>) -> bool {
    !matches!(setting.source, Source::Alias { .. })
}
