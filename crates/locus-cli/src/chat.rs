//! `locus chat`: an agent on OCI Generative AI, from the command line.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::Arc;

use clap::Args;
use futures::StreamExt;
use locus_agent::{Agent, AgentEvent, AgentResult, AgentStream, StopReason, tools::builtin};
use locus_providers::{DEFAULT_MAX_ANSWER_BYTES, GenerationParams, OciChatModel, SharedChatModel};
use oci_genai_transport::GenAiClient;

use crate::error::{CliError, ExitCode};
use crate::setup_args::SetupArgs;
use crate::terminal::{escape_controls, one_line};

/// The arguments of `locus chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The prompt (default: standard input; a terminal opens an interactive session).
    pub prompt: Option<String>,
    /// The model, its auth and client.
    #[command(flatten)]
    pub setup: SetupArgs,
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

/// The agent for these arguments: the model built once from the
/// environment and the flags, then the loop's settings and tools.
pub fn agent(args: &ChatArgs, model: SharedChatModel) -> Result<Agent, CliError> {
    let mut builder = Agent::builder()
        .chat_model(model)
        .params(GenerationParams { max_tokens: args.max_tokens, temperature: args.temperature, ..Default::default() })
        .max_iterations(args.max_iterations)
        .streaming(!args.no_stream)
        .max_answer_bytes(args.max_answer_bytes);
    if let Some(system) = &args.system {
        builder = builder.system_prompt(system);
    }
    let tools = match (args.tools.is_empty(), args.emulator) {
        (true, true) => vec!["builtin".to_owned()], // the demo shows its tools
        _ => args.tools.clone(),
    };
    for name in &tools {
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
    Ok(builder.build()?)
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
    let model = if args.emulator {
        let (model, emulator) = emulated(&args).await?;
        _emulator = Some(emulator);
        model
    } else {
        args.setup.oci_setup()?.build()?
    };
    let transport = model.transport();
    let agent = agent(&args, Arc::new(model))?;
    let options =
        ShowOptions { json: args.json, escape_stdout: std::io::stdout().is_terminal(), transport: Some(transport) };
    match prompt {
        Some(prompt) => {
            let result = show(agent.run(prompt), options, out, err).await?;
            Ok(exit_code(&result))
        }
        None => repl(&agent, options, out, err).await,
    }
}

/// A model on an emulator started here, with a throwaway key: the demo
/// endpoint unless --model names another of its models.
async fn emulated(args: &ChatArgs) -> Result<(OciChatModel, oci_genai_emulator::RunningEmulator), CliError> {
    use oci_genai_emulator::{DEMO_COMPARTMENT, DEMO_ENDPOINT, Emulator, EmulatorConfig};
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .map_err(|e| CliError::Transport(format!("cannot start the emulator: {e}")))?;
    let key = oci_auth::PrivateKey::generate_session_key()?;
    let user = "ocid1.user.oc1..emulator";
    emulator.register_api_key(user, &key);
    let fingerprint = key.fingerprint().to_owned();
    let provider = oci_auth::ApiKeyProvider::new(&emulator.config().tenancy, user, &fingerprint, key);
    let client = args
        .setup
        .client
        .apply(GenAiClient::builder())
        .credentials_provider(Arc::new(provider))
        .service_endpoint(emulator.url())
        .build()
        .map_err(locus_agent::Error::from)?;
    let template = OciChatModel::builder(DEMO_ENDPOINT).compartment_id(DEMO_COMPARTMENT);
    let model = args.setup.model.apply(template)?.client(client).build().map_err(locus_agent::Error::from)?;
    tracing::info!(url = emulator.url(), "emulator started");
    Ok((model, emulator))
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
    /// The transport the model goes through, named in `--json` output.
    pub transport: Option<oci_genai_transport::Transport>,
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
    let result = result.ok_or(locus_agent::Error::NoResult)?;
    if options.json {
        let mut value = serde_json::json!({
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
        if let Some(transport) = options.transport {
            value["transport"] = transport.as_str().into();
        }
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
