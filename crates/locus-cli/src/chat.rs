//! `locus chat`: an agent on OCI Generative AI, from the command line.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use futures::StreamExt;
use locus_agent::{Agent, AgentBuilder, AgentEvent, AgentResult, AgentStream, StopReason, tools::builtin};
use locus_providers::{ApiFormat, GenerationParams};
use oci_auth::OsEnv;

use crate::auth_args::AuthArgs;
use crate::error::{CliError, ExitCode};

/// The request shape.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ApiFormatArg {
    /// OpenAI-like (Meta, OpenAI, xAI, Google, most DAC models).
    Generic,
    /// Cohere's chat API.
    Cohere,
}

/// The arguments of `locus chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The prompt (default: standard input; a terminal opens an interactive session).
    pub prompt: Option<String>,
    /// `oci:<model name | model OCID | endpoint OCID>` (default: LOCUS_MODEL_ID).
    #[arg(long)]
    pub model: Option<String>,
    /// The compartment (required for dedicated endpoints; default: LOCUS_OCI_COMPARTMENT).
    #[arg(long)]
    pub compartment_id: Option<String>,
    /// How to authenticate.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Region to call.
    #[arg(long)]
    pub region: Option<String>,
    /// Service endpoint instead of the regional one.
    #[arg(long)]
    pub service_endpoint: Option<String>,
    /// Request shape (needed for a Cohere model on a dedicated endpoint).
    #[arg(long, value_enum)]
    pub api_format: Option<ApiFormatArg>,
    /// System prompt.
    #[arg(long)]
    pub system: Option<String>,
    /// Most tokens per answer.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Most model calls per run.
    #[arg(long, default_value_t = 20)]
    pub max_iterations: u32,
    /// Wait for whole answers instead of streaming.
    #[arg(long)]
    pub no_stream: bool,
    /// Print one JSON object with the result instead of the text.
    #[arg(long)]
    pub json: bool,
    /// Tools: `builtin` (all), or names among calculator, clock.
    #[arg(long, value_delimiter = ',')]
    pub tools: Vec<String>,
    /// Run against a local emulator of OCI Generative AI, started here: no
    /// account, config or network needed. The default model is a dedicated
    /// endpoint serving a tool-calling model, with the built-in tools.
    #[arg(long)]
    pub emulator: bool,
}

/// The builder for these arguments (flags over environment variables).
pub fn builder(args: &ChatArgs) -> Result<AgentBuilder, CliError> {
    let builder = if args.emulator { Agent::builder() } else { Agent::builder().from_env_vars(Arc::new(OsEnv))? };
    configure(builder, args)
}

fn configure(mut builder: AgentBuilder, args: &ChatArgs) -> Result<AgentBuilder, CliError> {
    if let Some(model) = &args.model {
        builder = builder.model(model);
    }
    if let Some(compartment) = &args.compartment_id {
        builder = builder.compartment_id(compartment);
    }
    if let Some(profile) = &args.auth.profile {
        builder = builder.profile(profile);
    }
    if let Some(path) = &args.auth.config_file {
        builder = builder.config_file(path);
    }
    if let Some(auth) = args.auth.auth {
        builder = builder.auth_type(auth);
    }
    if let Some(region) = &args.region {
        builder = builder.region(region);
    }
    if let Some(endpoint) = &args.service_endpoint {
        builder = builder.service_endpoint(endpoint);
    }
    if let Some(format) = args.api_format {
        builder = builder.api_format(match format {
            ApiFormatArg::Generic => ApiFormat::Generic,
            ApiFormatArg::Cohere => ApiFormat::Cohere,
        });
    }
    if let Some(system) = &args.system {
        builder = builder.system_prompt(system);
    }
    builder = builder
        .params(GenerationParams { max_tokens: args.max_tokens, temperature: args.temperature, ..Default::default() })
        .max_iterations(args.max_iterations)
        .streaming(!args.no_stream);
    for name in &args.tools {
        builder = match name.trim() {
            "builtin" => builder.tool(builtin::calculator()).tool(builtin::clock()),
            "calculator" => builder.tool(builtin::calculator()),
            "clock" => builder.tool(builtin::clock()),
            "" => builder,
            other => {
                return Err(CliError::Usage(format!(
                    "--tools: unknown tool `{other}`; choose builtin or among: {}",
                    builtin::NAMES.join(", ")
                )));
            }
        };
    }
    Ok(builder)
}

/// Runs `locus chat`.
pub async fn run(args: ChatArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitCode, CliError> {
    let prompt = match &args.prompt {
        Some(prompt) => Some(prompt.clone()),
        None if std::io::stdin().is_terminal() => None,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::Usage(format!("cannot read the prompt from standard input: {e}")))?;
            Some(text)
        }
    };
    // Kept alive for the whole session.
    let mut _emulator = None;
    let agent = if args.emulator {
        let (builder, emulator) = emulated(&args).await?;
        _emulator = Some(emulator);
        builder.build()?
    } else {
        builder(&args)?.build()?
    };
    match prompt {
        Some(prompt) => {
            let result = show(agent.run(prompt), args.json, out, err).await?;
            Ok(exit_code(&result))
        }
        None => repl(&agent, args.json, out, err).await,
    }
}

/// An agent routed to an emulator started here, with a throwaway key.
async fn emulated(args: &ChatArgs) -> Result<(AgentBuilder, oci_genai_emulator::RunningEmulator), CliError> {
    use oci_genai_emulator::{DEMO_COMPARTMENT, DEMO_ENDPOINT, Emulator, EmulatorConfig};
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .map_err(|e| CliError::Transport(format!("cannot start the emulator: {e}")))?;
    let key = oci_auth::PrivateKey::generate_session_key()?;
    let user = "ocid1.user.oc1..emulator";
    emulator.register_api_key(user, &key);
    let fingerprint = key.fingerprint().to_owned();
    let provider = oci_auth::ApiKeyProvider::new(&emulator.config().tenancy, user, &fingerprint, key);
    let client = oci_genai_transport::GenAiClient::builder()
        .credentials_provider(Arc::new(provider))
        .service_endpoint(emulator.url())
        .build()
        .map_err(locus_agent::Error::from)?;
    let mut builder = Agent::builder().client(client).model(DEMO_ENDPOINT).compartment_id(DEMO_COMPARTMENT);
    if args.tools.is_empty() {
        builder = builder.tool(builtin::calculator()).tool(builtin::clock());
    }
    tracing::info!(url = emulator.url(), "emulator started");
    Ok((configure(builder, args)?, emulator))
}

async fn repl(agent: &Agent, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitCode, CliError> {
    writeln!(err, "locus chat with {} — an empty line or Ctrl-D ends the session", agent.model_name())?;
    let mut conversation = agent.conversation();
    let stdin = std::io::stdin();
    loop {
        write!(err, "> ")?;
        err.flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 || line.trim().is_empty() {
            return Ok(ExitCode::Ok);
        }
        let stream = conversation.run(line.trim());
        show(stream, json, out, err).await?;
        conversation.settle();
    }
}

/// Prints a run: tokens to `out` as they stream, tool activity to `err`.
pub async fn show(
    mut stream: AgentStream,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<AgentResult, CliError> {
    let mut result = None;
    // Whether text was printed since the last line end: a tool call ends the line first.
    let mut line_open = false;
    while let Some(event) = stream.next().await {
        match event? {
            AgentEvent::TextDelta(text) if !json => {
                out.write_all(text.as_bytes())?;
                out.flush()?;
                line_open = !text.ends_with('\n');
            }
            AgentEvent::ToolCallStarted { name, arguments, .. } => {
                if std::mem::take(&mut line_open) {
                    writeln!(out)?;
                }
                writeln!(err, "⚙ {name} {arguments}")?;
            }
            AgentEvent::ToolCallFinished(record) => {
                let mark = if record.is_error { "✗" } else { "✓" };
                let output: String = record.output.chars().take(200).collect();
                writeln!(err, "{mark} {} → {output} ({} ms)", record.name, record.duration.as_millis())?;
            }
            AgentEvent::ModelFallback { reason } => writeln!(err, "! streaming fell back to a whole answer: {reason}")?,
            AgentEvent::Finished(r) => result = Some(r),
            _ => {}
        }
    }
    let result = result.ok_or_else(|| CliError::Transport("the run ended without a result".into()))?;
    if json {
        let value = serde_json::json!({
            "text": result.text,
            "stop_reason": result.stop_reason,
            "usage": {
                "prompt_tokens": result.usage.prompt_tokens,
                "completion_tokens": result.usage.completion_tokens,
                "total_tokens": result.usage.total_tokens,
            },
            "iterations": result.iterations,
            "tool_calls": result.tool_calls.iter().map(|c| serde_json::json!({
                "name": c.name, "arguments": c.arguments, "is_error": c.is_error,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::from)?;
    }
    writeln!(out)?;
    if !matches!(result.stop_reason, StopReason::Completed | StopReason::TerminalTool) {
        writeln!(err, "stopped: {:?} after {} model calls", result.stop_reason, result.iterations)?;
    }
    Ok(result)
}

fn exit_code(result: &AgentResult) -> ExitCode {
    match result.stop_reason {
        StopReason::Completed | StopReason::TerminalTool => ExitCode::Ok,
        // Budgets, max iterations, loops, and any stop added later: the run did not complete.
        _ => ExitCode::Budget,
    }
}
