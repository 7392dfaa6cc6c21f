//! `locus chat`: an agent on OCI Generative AI, from the command line.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use futures::StreamExt;
use locus_agent::{Agent, AgentBuilder, AgentEvent, AgentResult, AgentStream, StopReason, tools::builtin};
use locus_providers::{ApiFormat, DEFAULT_MAX_ANSWER_BYTES, GenerationParams};
use oci_auth::OsEnv;
use oci_genai_transport::Limits;

use crate::auth_args::AuthArgs;
use crate::error::{CliError, ExitCode};
use crate::terminal::{escape_controls, one_line};

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
    /// Fail when an endpoint refuses to stream, instead of falling back to a
    /// whole answer (the fallback is announced on stderr).
    #[arg(long)]
    pub no_fallback: bool,
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
    /// Most bytes of one answer (text, reasoning, tool-call arguments).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_ANSWER_BYTES)]
    pub max_answer_bytes: usize,
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
        .streaming(!args.no_stream)
        .allow_fallback(!args.no_fallback)
        .allow_http(args.allow_http)
        .limits(limits(args))
        .max_answer_bytes(args.max_answer_bytes);
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

fn limits(args: &ChatArgs) -> Limits {
    Limits::default()
        .with_stream_deadline(Duration::from_secs(args.stream_deadline))
        .with_read_timeout(Duration::from_secs(args.idle_timeout))
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
    let options = ShowOptions { json: args.json, escape_stdout: std::io::stdout().is_terminal() };
    match prompt {
        Some(prompt) => {
            let result = show(agent.run(prompt), options, out, err).await?;
            Ok(exit_code(&result))
        }
        None => repl(&agent, options, out, err).await,
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
        .limits(limits(args))
        .build()
        .map_err(locus_agent::Error::from)?;
    let mut builder = Agent::builder().client(client).model(DEMO_ENDPOINT).compartment_id(DEMO_COMPARTMENT);
    if args.tools.is_empty() {
        builder = builder.tool(builtin::calculator()).tool(builtin::clock());
    }
    tracing::info!(url = emulator.url(), "emulator started");
    Ok((configure(builder, args)?, emulator))
}

async fn repl(
    agent: &Agent,
    options: ShowOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, CliError> {
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
        show(stream, options, out, err).await?;
        conversation.settle();
    }
}

/// How a run is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShowOptions {
    /// One JSON object on stdout instead of the streamed text.
    pub json: bool,
    /// Escape control characters in the model's text (stdout is a terminal);
    /// stderr is always escaped.
    pub escape_stdout: bool,
}

/// Prints a run: tokens to `out` as they stream, tool activity to `err`. An
/// answer cut short keeps what arrived: the streamed text stays on its own
/// line, and `--json` prints it with `"partial": true` before the error.
pub async fn show(
    mut stream: AgentStream,
    options: ShowOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<AgentResult, CliError> {
    let mut result = None;
    // Whether text was printed since the last line end: a tool call ends the line first.
    let mut line_open = false;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                if std::mem::take(&mut line_open) {
                    writeln!(out)?;
                }
                if let (true, Some(partial)) = (options.json, error.partial_text()) {
                    let value = serde_json::json!({"text": partial, "partial": true, "error": error.to_string()});
                    serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
                return Err(error.into());
            }
        };
        match event {
            AgentEvent::TextDelta(text) if !options.json => {
                let text = if options.escape_stdout { escape_controls(&text) } else { text.as_str().into() };
                out.write_all(text.as_bytes())?;
                out.flush()?;
                line_open = !text.ends_with('\n');
            }
            AgentEvent::ToolCallStarted { name, arguments, .. } => {
                if std::mem::take(&mut line_open) {
                    writeln!(out)?;
                }
                writeln!(err, "⚙ {} {}", one_line(&name), one_line(&arguments.to_string()))?;
            }
            AgentEvent::ToolCallFinished(record) => {
                let mark = if record.is_error { "✗" } else { "✓" };
                let output: String = record.output.chars().take(200).collect();
                writeln!(
                    err,
                    "{mark} {} → {} ({} ms)",
                    one_line(&record.name),
                    one_line(&output),
                    record.duration.as_millis()
                )?;
            }
            AgentEvent::ModelFallback { reason } => {
                if std::mem::take(&mut line_open) {
                    writeln!(out)?;
                }
                writeln!(
                    err,
                    "! the endpoint refused to stream; answering whole for the rest of this run (--no-fallback to refuse): {}",
                    one_line(&reason)
                )?;
            }
            AgentEvent::Finished(r) => result = Some(r),
            _ => {}
        }
    }
    let result = result.ok_or_else(|| CliError::Transport("the run ended without a result".into()))?;
    if options.json {
        let value = serde_json::json!({
            "text": result.text,
            "stop_reason": result.stop_reason,
            "finish_reason": result.finish_reason.as_ref().map(|f| f.as_str()),
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
    match result.stop_reason {
        StopReason::MaxTokens => writeln!(
            err,
            "warning: the answer was cut off at the model's token limit; raise --max-tokens for a whole answer"
        )?,
        StopReason::ContentFiltered => writeln!(err, "warning: the service's content filter stopped the answer")?,
        stop if !stop.is_complete() => writeln!(err, "stopped: {stop:?} after {} model calls", result.iterations)?,
        _ => {}
    }
    Ok(result)
}

fn exit_code(result: &AgentResult) -> ExitCode {
    // Budgets, max iterations, loops, cut-off or filtered answers, any stop added later: not complete.
    if result.stop_reason.is_complete() { ExitCode::Ok } else { ExitCode::Budget }
}
