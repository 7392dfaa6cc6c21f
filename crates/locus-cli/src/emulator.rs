//! `locus emulator serve`: a local OCI Generative AI for other clients.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use oci_genai_emulator::{DEMO_COMPARTMENT, DEMO_ENDPOINT, Emulator, EmulatorConfig};

use crate::error::{CliError, ExitCode};

/// An emulator started here with its default configuration, and credentials
/// it knows (a throwaway key): what `--emulator` runs against.
pub(crate) async fn start_local()
-> Result<(oci_genai_emulator::RunningEmulator, oci_auth::SharedCredentialsProvider), CliError> {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .map_err(|e| CliError::Transport(format!("cannot start the emulator: {e}")))?;
    let key = oci_auth::PrivateKey::generate_session_key()?;
    let user = "ocid1.user.oc1..emulator";
    emulator.register_api_key(user, &key);
    let fingerprint = key.fingerprint().to_owned();
    let provider = oci_auth::ApiKeyProvider::new(&emulator.config().tenancy, user, &fingerprint, key);
    tracing::info!(url = emulator.url(), "emulator started");
    Ok((emulator, std::sync::Arc::new(provider)))
}

/// The emulator's subcommands.
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve until interrupted; writes a throwaway key and an OCI config file that clients can use.
    Serve(ServeArgs),
    /// A small MCP server for offline runs (tools echo, add, fail, crash, hang, garbage), over
    /// stdio: `locus chat --emulator --mcp 'locus emulator mcp-server' 'echo "hi"'`.
    McpServer(McpServerArgs),
}

/// The arguments of `locus emulator mcp-server`.
#[derive(Debug, Args)]
pub struct McpServerArgs {
    /// Serve streamable HTTP at this address (e.g. 127.0.0.1:0) instead of stdio.
    #[arg(long, value_name = "ADDRESS")]
    pub http: Option<String>,
    /// With --http, require `Authorization: Bearer TOKEN`.
    #[arg(long, requires = "http")]
    pub token: Option<String>,
}

/// The arguments of `locus emulator serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// An emulator configuration (JSON: region, tenancy, compartment_id, models, …).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where to write the throwaway key and OCI config (default: a new temporary directory).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Also serve the instance metadata service and the federation endpoint (instance principals).
    #[arg(long)]
    pub instance_identity: bool,
}

/// Runs an emulator subcommand.
pub async fn run(command: EmulatorCommand, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let args = match command {
        EmulatorCommand::Serve(args) => args,
        EmulatorCommand::McpServer(args) => {
            // Blocking std I/O, off the async runtime.
            let served = tokio::task::spawn_blocking(move || match args.http {
                Some(address) => oci_genai_emulator::mcp::serve_http(&address, args.token),
                None => oci_genai_emulator::mcp::serve_stdio(),
            });
            served.await.map_err(|e| CliError::Transport(format!("the MCP server stopped: {e}")))?;
            return Ok(ExitCode::Ok);
        }
    };
    let config: EmulatorConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
            serde_json::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?
        }
        None => EmulatorConfig::default(),
    };
    let mut config = EmulatorConfig { instance_identity: config.instance_identity || args.instance_identity, ..config };
    // A throwaway Generative AI API key, for OpenAI clients that send `Authorization: Bearer`.
    let api_key = format!("sk-emulator-{}", crate::files::random_hex(16));
    config.genai_api_keys.push(api_key.clone());
    let emulator = Emulator::start_on(config, args.port)
        .await
        .map_err(|e| CliError::Transport(format!("cannot start the emulator: {e}")))?;
    let (key, pem) = oci_auth::PrivateKey::generate_with_pem()?;
    let user = "ocid1.user.oc1..emulator";
    emulator.register_api_key(user, &key);

    // The key and the API key are secrets: a private directory (a new one unless named), files 0600.
    let dir = match args.state_dir {
        Some(dir) => {
            crate::files::create_private_dir(&dir)?;
            dir
        }
        None => crate::files::new_private_dir(&std::env::temp_dir(), "locus-emulator-")?,
    };
    let key_file = dir.join("key.pem");
    crate::files::replace_private(&key_file, pem.expose().as_bytes())?;
    let config_file = dir.join("config");
    let settings = emulator.config();
    crate::files::replace_private(
        &config_file,
        format!(
            "[DEFAULT]\nuser = {user}\nfingerprint = {}\ntenancy = {}\nregion = {}\nkey_file = {}\n",
            key.fingerprint(),
            settings.tenancy,
            settings.region,
            key_file.display()
        )
        .as_bytes(),
    )?;
    writeln!(out, "OCI Generative AI emulator on {}", emulator.url())?;
    writeln!(out, "OCI config: {} (profile DEFAULT)", config_file.display())?;
    writeln!(
        out,
        "try: locus chat --config-file {} --service-endpoint {} --model {DEMO_ENDPOINT} --compartment-id {DEMO_COMPARTMENT} --tools builtin \"what is 17*23?\"",
        config_file.display(),
        emulator.url()
    )?;
    let api_key_file = dir.join("genai-api-key");
    crate::files::replace_private(&api_key_file, api_key.as_bytes())?;
    writeln!(
        out,
        "OpenAI-compatible API: base URL {}/openai/v1, GenAI API key in {} (or sign, with opc-compartment-id: {DEMO_COMPARTMENT})",
        emulator.url(),
        api_key_file.display()
    )?;
    if emulator.config().instance_identity {
        writeln!(
            out,
            "instance principal: OCI_METADATA_BASE_URL={0}/opc/v2 OCI_SDK_AUTH_CLIENT_REGION_URL={0} locus chat --auth instance_principal --service-endpoint {0} …",
            emulator.url()
        )?;
    }
    out.flush()?;
    std::future::pending::<()>().await;
    Ok(ExitCode::Ok)
}
