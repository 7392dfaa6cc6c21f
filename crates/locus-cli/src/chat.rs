//! `locus chat`: an agent on OCI Generative AI, from the command line.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use locus_agent::mcp::McpTools;
use locus_agent::settings::{Setting, Settings, Source};
use locus_agent::{Agent, AgentResult, tools::builtin};
use locus_providers::{
    CitationMode, DEFAULT_MAX_ANSWER_BYTES, GenerationParams, OciChatModel, ReasoningEffort, ResponseFormat,
    ServiceTier, SharedChatModel, Verbosity, WebSearch,
};
use oci_auth::{OsEnv, SharedEnv};

use crate::error::{CliError, ExitCode};
use crate::input::{self, Stdin};
use crate::render::{ShowOptions, show};
use crate::session::{Resume, SessionStore};
use crate::setup_args::SetupArgs;
use crate::terminal::interruptible;
use crate::terminal::{Terminal, announce_retry};
use crate::tools::CliApproval;

/// The arguments of `locus chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The prompt; `-` reads it from standard input, and piped input is
    /// appended to a prompt given here. None on a terminal: an interactive session.
    pub prompt: Option<String>,
    /// The model, its auth and client.
    #[command(flatten)]
    pub setup: SetupArgs,
    /// Attach a text file to the prompt (repeatable).
    #[arg(long = "file", short = 'f', value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// System prompt.
    #[arg(long, short = 's')]
    pub system: Option<String>,
    /// Print the token counts (in, out, reasoning) and model calls on stderr after each answer.
    #[arg(long, short = 'u')]
    pub usage: bool,
    /// Most tokens per answer.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// A JSON Schema the answer must follow (a file, or the JSON itself): sent as the
    /// model's response format, and the answer checked against it (exit 4 when it does not follow it).
    #[arg(long, value_name = "FILE|JSON")]
    pub schema: Option<String>,
    /// Sampling temperature.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// How hard a reasoning model thinks: none, minimal, low, medium, high.
    #[arg(long, value_name = "EFFORT", value_parser = ["none", "minimal", "low", "medium", "high"])]
    pub reasoning_effort: Option<String>,
    /// How much the model says: low, medium, high (GPT-5 and later; not Cohere).
    #[arg(long, value_name = "LEVEL", value_parser = ["low", "medium", "high"])]
    pub verbosity: Option<String>,
    /// The processing tier: auto, default, priority (not Cohere).
    #[arg(long, value_name = "TIER", value_parser = ["auto", "default", "priority"])]
    pub service_tier: Option<String>,
    /// Let the model search the web (not Cohere models).
    #[arg(long)]
    pub web_search: bool,
    /// With --web-search, how much found text the model reads: low, medium, high.
    #[arg(long, value_name = "SIZE", value_parser = ["low", "medium", "high"], requires = "web_search")]
    pub web_search_context: Option<String>,
    /// A document for the model to ground its answer in, cited by its file
    /// name (Cohere models: COHERE and COHEREV2; others refuse documents). Repeatable.
    #[arg(long = "doc", value_name = "FILE")]
    pub docs: Vec<std::path::PathBuf>,
    /// How the documents are cited: fast, accurate, off (off: COHEREV2 models only).
    #[arg(long, value_name = "MODE", value_parser = ["fast", "accurate", "off"], requires = "docs")]
    pub citations: Option<String>,
    /// One tool call per model turn (models call several at once by default).
    #[arg(long)]
    pub no_parallel_tool_calls: bool,
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
    /// An MCP server to start, as a command line; its tools are offered (repeatable).
    #[arg(long = "mcp", value_name = "COMMAND")]
    pub mcp: Vec<String>,
    /// An MCP server over streamable HTTP; its tools are offered (repeatable).
    #[arg(long = "mcp-url", value_name = "URL")]
    pub mcp_url: Vec<String>,
    /// The environment variable holding a bearer token for the --mcp-url servers.
    #[arg(long = "mcp-bearer-env", value_name = "VAR", requires = "mcp_url")]
    pub mcp_bearer_env: Option<String>,
    /// Run every tool call without asking. Without it, tools that may change
    /// things — every MCP tool, unless its server is trusted with `trust =
    /// "read-only-hints"` — are asked about on a terminal and refused elsewhere.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the model's reasoning as it streams (on stderr, dimmed on a terminal).
    #[arg(long)]
    pub show_reasoning: bool,
    /// Keep the conversation as the session NAME, going on from it when it
    /// exists (sessions live under $XDG_DATA_HOME/locus, else ~/.local/share/locus).
    #[arg(long, value_name = "NAME")]
    pub session: Option<String>,
    /// Go on from the most recent session.
    #[arg(long = "continue", short = 'c', conflicts_with = "session")]
    pub continue_session: bool,
    /// Save nothing: no session, no line history.
    #[arg(long, conflicts_with_all = ["session", "continue_session"])]
    pub no_save: bool,
    /// Run against a local emulator of OCI Generative AI, started here: no
    /// account, config or network needed. The default model is a dedicated
    /// endpoint serving a tool-calling model, with the built-in tools. Only
    /// flags configure it (not LOCUS_* variables or the defaults file).
    #[arg(long)]
    pub emulator: bool,
    /// Screen with the service's guardrails (applyGuardrails, in the model's
    /// region and compartment): the input and tool results before the model
    /// reads them, the answer before it is shown (it then arrives whole).
    /// Injections and harmful content block; personal information is redacted
    /// (see --guard-pii). On too when the defaults file has a `[guard]` table,
    /// whose policy is then used.
    #[arg(long)]
    pub guard: bool,
    /// What --guard does with personal information (default: redact, or the `[guard]` table's `pii`).
    #[arg(long, value_enum, value_name = "ACTION")]
    pub guard_pii: Option<PiiChoice>,
}

/// What `--guard` does with personal information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PiiChoice {
    /// Let it through.
    Allow,
    /// Replace it by `[LABEL]`.
    Redact,
    /// Stop the run.
    Block,
}

impl From<PiiChoice> for locus_agent::guard::PiiAction {
    fn from(choice: PiiChoice) -> Self {
        match choice {
            PiiChoice::Allow => locus_agent::guard::PiiAction::Allow,
            PiiChoice::Redact => locus_agent::guard::PiiAction::Redact,
            PiiChoice::Block => locus_agent::guard::PiiAction::Block,
        }
    }
}

/// The agent for these arguments: the model built once from the
/// environment and the flags, then the loop's settings and tools (with
/// `mcp`'s, asking as [`ChatArgs::yes`] and `can_ask` say), and `schema`
/// (`--schema`, read once by the caller) as the response format.
pub(crate) fn agent(
    args: &ChatArgs,
    model: SharedChatModel,
    mcp: Option<&McpTools>,
    can_ask: bool,
    schema: Option<&crate::schema::Schema>,
    guard: Option<locus_agent::guard::OciGuard>,
) -> Result<Agent, CliError> {
    let mut builder = Agent::builder()
        .chat_model(model)
        .tools(mcp.map(McpTools::tools).unwrap_or_default())
        .approval(CliApproval { yes: args.yes, can_ask })
        .params(GenerationParams {
            max_tokens: args.max_tokens,
            temperature: args.temperature,
            reasoning_effort: args.reasoning_effort.as_deref().map(|e| match e {
                "none" => ReasoningEffort::None,
                "minimal" => ReasoningEffort::Minimal,
                "low" => ReasoningEffort::Low,
                "medium" => ReasoningEffort::Medium,
                _ => ReasoningEffort::High,
            }),
            verbosity: args.verbosity.as_deref().map(level),
            service_tier: args.service_tier.as_deref().map(|t| match t {
                "auto" => ServiceTier::Auto,
                "default" => ServiceTier::Default,
                _ => ServiceTier::Priority,
            }),
            web_search: args.web_search.then(|| WebSearch {
                context_size: args.web_search_context.as_deref().map(level),
                user_location: None,
            }),
            parallel_tool_calls: args.no_parallel_tool_calls.then_some(false),
            citations: args.citations.as_deref().map(|mode| match mode {
                "fast" => CitationMode::Fast,
                "accurate" => CitationMode::Accurate,
                _ => CitationMode::Off,
            }),
            response_format: schema.map(|schema| ResponseFormat::JsonSchema {
                name: "answer".into(),
                schema: schema.value.clone(),
                strict: true,
            }),
            ..Default::default()
        })
        .max_iterations(args.max_iterations)
        .streaming(!args.no_stream)
        .max_answer_bytes(args.max_answer_bytes);
    if let Some(system) = &args.system {
        builder = builder.system_prompt(system);
    }
    if let Some(guard) = guard {
        builder = builder.guard(guard);
    }
    builder = builder.documents(documents(&args.docs)?);
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

/// Runs `locus chat`, the prompt from `stdin` as [`input::prompt`] says.
pub async fn run(
    args: ChatArgs,
    stdin: Stdin,
    terminal: Terminal,
    data_dir: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let interactive_possible = stdin.is_terminal();
    let env: SharedEnv = Arc::new(OsEnv);
    // The emulator is configured by flags alone (no defaults file); otherwise the file is read once,
    // for the model's settings and the MCP servers.
    let defaults = match args.emulator {
        true => None,
        false => Some(args.setup.defaults_file(env.as_ref())?),
    };
    let prompt = input::message(args.prompt.as_deref(), &args.files, stdin)?;
    let schema = crate::schema::load(args.schema.as_deref())?;
    // Kept alive for the whole session.
    let mut _emulator = None;
    let model = match &defaults {
        None => {
            let (model, emulator) = emulated(&args, terminal).await?;
            _emulator = Some(emulator);
            model
        }
        Some(defaults) => {
            let settings = args.setup.settings_with(env.as_ref(), defaults)?;
            if settings.model.is_none() {
                return Err(CliError::Usage(
                    "no model: pass --model (a model name, model OCID or endpoint OCID; `locus models` lists them), \
                     or set LOCUS_MODEL_ID, or `model` in the defaults file"
                        .into(),
                ));
            }
            let mut setup = oci_setup(&args, settings, Arc::clone(&env));
            setup.client = setup.client.on_retry(announce_retry(terminal));
            setup.build()?
        }
    };
    let transport = model.transport();
    let model_id = model.serving_mode().id().to_owned();
    let mcp = crate::tools::connect_mcp(
        &args.mcp,
        &args.mcp_url,
        args.mcp_bearer_env.as_deref(),
        defaults.as_ref(),
        env.as_ref(),
    )
    .await?;
    let can_ask = interactive_possible && terminal.stderr;
    // Kept to ask the region's listing when the model turns out to name nothing.
    let listed_by = model.clone();
    let file_guard = match &defaults {
        Some(defaults) => defaults.guard()?,
        None => None,
    };
    let guard =
        (args.guard || args.guard_pii.is_some() || file_guard.is_some()).then(|| guard_for(&args, file_guard, &model));
    let agent = agent(&args, Arc::new(model), mcp.as_ref(), can_ask, schema.as_ref(), guard.clone())?;
    let options = ShowOptions {
        json: args.json,
        escape_stdout: terminal.stdout,
        transport: Some(transport),
        show_reasoning: args.show_reasoning,
        terminal,
        usage: args.usage,
    };
    let resume = match (&args.session, args.continue_session) {
        (Some(name), _) => Resume::Named(name),
        (None, true) => Resume::Latest,
        (None, false) => Resume::New,
    };
    let mut store = SessionStore::open(resume, &model_id, if args.no_save { None } else { data_dir })?;
    let mut conversation = agent.conversation_with(std::mem::take(&mut store.session.messages));
    match prompt {
        Some(prompt) => {
            let result = match interruptible(show(conversation.run(prompt), options, out, err)).await {
                Some(Err(error)) => {
                    if let Some(note) = crate::suggest::unknown_model_note(&listed_by, &error).await {
                        writeln!(err, "note: {}", crate::terminal::one_line(&note))?;
                    }
                    return Err(error);
                }
                Some(Ok(result)) => result,
                None => {
                    writeln!(err, "\ninterrupted")?;
                    return Ok(ExitCode::Interrupted);
                }
            };
            conversation.settle();
            store.session.tokens += result.usage.total_tokens;
            store.save(conversation.history());
            if let Some(schema) = &schema {
                crate::schema::check(schema, &result.text)?;
            }
            Ok(exit_code(&result))
        }
        None if interactive_possible => {
            // `/model ID`: the same client, compartment and tools; the new model's own default transport.
            let switch = |id: &str| -> Result<Agent, CliError> {
                let id = locus_agent::oci_id(id).map_err(|e| CliError::Usage(e.to_string()))?;
                let model = OciChatModel::builder(id)
                    .client(listed_by.client().clone())
                    .compartment_id(listed_by.compartment())
                    .allow_fallback(!args.setup.model.no_fallback)
                    .build()
                    .map_err(locus_agent::Error::from)?;
                crate::chat::agent(&args, Arc::new(model), mcp.as_ref(), can_ask, schema.as_ref(), guard.clone())
            };
            crate::repl::run(&agent, &switch, &mut conversation, &mut store, options, out, err).await
        }
        None => Err(CliError::Usage("no prompt".into())),
    }
}

/// A model on an emulator started here, with a throwaway key: the demo
/// endpoint unless --model names another of its models; only flags count.
async fn emulated(
    args: &ChatArgs,
    terminal: Terminal,
) -> Result<(OciChatModel, oci_genai_emulator::RunningEmulator), CliError> {
    use oci_genai_emulator::{DEMO_COMPARTMENT, DEMO_ENDPOINT};
    let (emulator, provider) = crate::emulator::start_local().await?;
    let demo = Settings {
        model: Some(Setting::new(DEMO_ENDPOINT.to_owned(), Source::Flag("--emulator"))),
        compartment_id: Some(Setting::new(DEMO_COMPARTMENT.to_owned(), Source::Flag("--emulator"))),
        ..Default::default()
    };
    let settings = Settings { service_endpoint: None, ..args.setup.flag_settings()?.or(demo) };
    let setup = oci_setup(args, settings, Arc::new(OsEnv));
    let client = setup
        .client
        .credentials_provider(provider)
        .service_endpoint(emulator.url())
        .on_retry(announce_retry(terminal))
        .build()
        .map_err(locus_agent::Error::from)?;
    let model = setup.model.client(client).build().map_err(locus_agent::Error::from)?;
    Ok((model, emulator))
}

/// The builders for `settings`; `--doc` moves a Cohere model to the native
/// API when no transport was chosen (only Cohere's native shapes carry documents).
fn oci_setup(args: &ChatArgs, settings: Settings, env: SharedEnv) -> locus_agent::OciSetup {
    let cohere = settings.model.as_ref().is_some_and(|m| m.value.to_ascii_lowercase().starts_with("cohere."));
    let documents_go_native = !args.docs.is_empty() && cohere && settings.transport.is_none();
    let mut setup = args.setup.oci_setup_from(settings, env);
    if documents_go_native {
        setup.model = setup.model.transport(oci_genai_transport::Transport::Native);
    }
    setup
}

/// `--doc` files as documents, each named by its file name.
fn documents(paths: &[std::path::PathBuf]) -> Result<Vec<locus_providers::Document>, CliError> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Usage(format!("--doc {}: cannot read it as text: {e}", path.display())))?;
            if text.trim().is_empty() {
                return Err(CliError::Usage(format!("--doc {}: the file is empty", path.display())));
            }
            let id = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            Ok(locus_providers::Document { id: Some(id), text: text.trim_end().to_owned() })
        })
        .collect()
}

/// `low`, `medium`, `high` (clap has checked the value).
fn level(value: &str) -> Verbosity {
    match value {
        "low" => Verbosity::Low,
        "medium" => Verbosity::Medium,
        _ => Verbosity::High,
    }
}

/// `--guard`: the service's guardrails through the model's own client and compartment.
fn guard_for(
    args: &ChatArgs,
    policy: Option<locus_agent::guard::GuardPolicy>,
    model: &OciChatModel,
) -> locus_agent::guard::OciGuard {
    let mut policy = policy.unwrap_or_default();
    if let Some(pii) = args.guard_pii {
        policy.pii = pii.into();
    }
    locus_agent::guard::OciGuard::new(model.client().clone(), model.compartment()).policy(policy)
}

fn exit_code(result: &AgentResult) -> ExitCode {
    // Budgets, max iterations, loops, cut-off or filtered answers, any stop added later: not complete.
    if result.stop_reason.is_complete() { ExitCode::Ok } else { ExitCode::Budget }
}
