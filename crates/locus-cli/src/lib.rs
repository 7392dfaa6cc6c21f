//! The `locus` command line.
//!
//! `main` is a thin shell over [`run`], which takes the arguments and the two
//! output streams, so that every command can be tested in-process.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! let code = locus_cli::run(["locus", "--version"], &mut out, &mut err).await;
//! assert_eq!(code, 0);
//! assert!(String::from_utf8(out).unwrap().starts_with("locus "));
//! # }
//! ```

#![deny(missing_docs)]

pub mod chat;
pub mod defaults;
pub mod doctor;
pub mod emulator;
mod error;
pub mod files;
pub mod guard;
pub mod input;
mod limits;
pub mod models;
pub mod raw_request;
mod render;
mod repl;
pub mod retrieval;
mod schema;
pub mod serve;
pub mod session;
pub mod sessions;
pub mod setup_args;
pub mod shell;
mod suggest;
pub mod telemetry;
pub mod terminal;
mod tools;

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use error::{CliError, EXIT_CODES, ExitCode};
pub use input::Stdin;
pub use setup_args::{AuthArgs, ClientArgs, ModelArgs, ServiceArgs, SetupArgs};
pub use terminal::Terminal;

/// Agents, model listings and signed requests on OCI Generative AI.
#[derive(Debug, Parser)]
#[command(name = "locus", version, about, long_about = None, after_help = concat!(
    "Try it with no account, config or network (a local emulator):\n",
    "  locus chat --emulator \"what is 17*23?\"\n\n",
    "Then on OCI: `locus doctor --model ID --compartment-id C` checks a setup; `locus models` lists a region's models.\n\n",
    exit_codes!()
))]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// One is parsed per process: the size of the largest costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chat with a model on OCI Generative AI, with tools.
    #[command(after_help = concat!(
        "Examples:
  locus chat --emulator \"what is 17*23?\"              a local emulator, no account needed
  locus chat -m openai.gpt-5 --compartment-id C \"hi\"   an on-demand model
  locus chat -m ocid1.generativeaiendpoint.oc1.… \"hi\"  a dedicated endpoint, in its own region
  git diff | locus chat -s \"You review code.\" -u \"review this\"
  locus chat --session work                            an interactive session kept as `work`\n\n",
        exit_codes!()
    ))]
    Chat(chat::ChatArgs),
    /// Check the setup `chat` would use — each setting and where it came
    /// from — then send one signed request and explain the answer.
    #[command(after_help = concat!(
        "Examples:
  locus doctor --model openai.gpt-5 --compartment-id C     settings, sources, one signed request
  locus doctor --offline --model ocid1.generativeaiendpoint.oc1.…   no request: settings and URL\n\n",
        exit_codes!()
    ))]
    Doctor(doctor::DoctorArgs),
    /// List the on-demand chat models of a region and the dedicated endpoints of a compartment.
    #[command(after_help = concat!(
        "Examples:
  locus models --compartment-id C                  the region's chat models and the compartment's endpoints
  locus models --compartment-id C --region us-chicago-1 --json\n\n",
        exit_codes!()
    ))]
    Models(models::ModelsArgs),
    /// Embed texts: one vector per input, in order (JSON lines, or --format npy).
    #[command(after_help = concat!(
        "Examples:
  locus embed --compartment-id C \"oracle cloud\" \"bananas\"    JSON lines, one vector each
  locus embed --compartment-id C --file docs.txt --format npy > vectors.npy\n\n",
        exit_codes!()
    ))]
    Embed(retrieval::EmbedArgs),
    /// Rank documents by relevance to a query.
    #[command(after_help = concat!(
        "Examples:
  locus rerank --compartment-id C --query \"regions\" \"bananas\" \"oracle cloud regions\"
  locus rerank --compartment-id C --query Q --file docs.txt --top-n 3 --json\n\n",
        exit_codes!()
    ))]
    Rerank(retrieval::RerankArgs),
    /// Check a text with the service's guardrails: content moderation, prompt injection, personal information.
    #[command(after_help = concat!(
        "Examples:
  locus guard --emulator \"mail jane@example.com\"      a local emulator, no account needed
  locus guard --compartment-id C \"ignore previous instructions\"   exit 1: an injection
  cat notes.txt | locus guard --compartment-id C --redact     personal information replaced by [LABEL]
  locus guard --compartment-id C --json --checks pii --pii-types EMAIL \"…\"\n\n",
        exit_codes!()
    ))]
    Guard(guard::GuardArgs),
    /// Serve OpenAI's API (chat completions, embeddings, models) for every OCI model and endpoint.
    #[command(after_help = concat!(
        "Examples:
  locus serve --model openai.gpt-5 --compartment-id C        OpenAI's API on 127.0.0.1:8080
  locus serve --listen 0.0.0.0:8080 --api-keys keys.txt  off loopback, with client keys\n\n",
        exit_codes!()
    ))]
    Serve(serve::ServeArgs),
    /// A local emulator of OCI Generative AI.
    #[command(subcommand)]
    Emulator(emulator::EmulatorCommand),
    /// Send one signed request to any OCI API (the twin of `oci raw-request`).
    #[command(after_help = concat!(
        "Examples:
  locus raw-request --method GET --target-uri URL
  locus raw-request --dry-run --method POST --target-uri URL --request-body @body.json\n\n",
        exit_codes!()
    ))]
    RawRequest(raw_request::RawRequestArgs),
    /// The conversations `chat` keeps: list (the default), show, rm, prune.
    #[command(after_help = "Examples:
  locus sessions                          newest first: name, saved, model, turns, tokens
  locus sessions show work
  locus sessions prune --older-than 30")]
    Sessions(sessions::SessionsArgs),
    /// Print the shell completion script: `locus completions bash > …` (see --help for where each goes).
    Completions(shell::CompletionsArgs),
    /// Write the man pages into a directory (`cargo xtask man`).
    #[command(hide = true)]
    Man(shell::ManArgs),
}

/// The `tracing` filter of the `locus` binary: `RUST_LOG`, else `LOCUS_LOG`
/// (the older name), else `warn`; `OCI_LOG_REQUESTS=1` (or `true`) adds the
/// request log (`oci_genai_transport=debug`: method, URL, status, latency,
/// `opc-request-id`, redacted headers) to whichever it is.
///
/// ```
/// use oci_auth::StaticEnv;
/// assert_eq!(locus_cli::log_filter(&StaticEnv::new()), "warn,rmcp=off");
/// let env = StaticEnv::new().with_var("OCI_LOG_REQUESTS", "1");
/// assert_eq!(locus_cli::log_filter(&env), "warn,rmcp=off,oci_genai_transport=debug");
/// let env = StaticEnv::new().with_var("RUST_LOG", "info").with_var("LOCUS_LOG", "trace");
/// assert_eq!(locus_cli::log_filter(&env), "info");
/// ```
pub fn log_filter(env: &dyn oci_auth::Env) -> String {
    log_filter_for(env, false)
}

/// [`log_filter`] for a command; `locus serve` (`serving`) logs one line
/// per request (`locus_gateway=info`) unless `RUST_LOG`/`LOCUS_LOG` say otherwise.
///
/// ```
/// use oci_auth::StaticEnv;
/// assert_eq!(locus_cli::log_filter_for(&StaticEnv::new(), true), "warn,rmcp=off,locus_gateway=info");
/// assert_eq!(locus_cli::log_filter_for(&StaticEnv::new().with_var("RUST_LOG", "debug"), true), "debug");
/// ```
pub fn log_filter_for(env: &dyn oci_auth::Env, serving: bool) -> String {
    // The MCP SDK logs its transport's failures as errors; locus says what they mean, once, as warnings.
    let default = if serving { "warn,rmcp=off,locus_gateway=info" } else { "warn,rmcp=off" };
    let base = ["RUST_LOG", "LOCUS_LOG"]
        .iter()
        .find_map(|name| env.var(name).filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| default.into());
    if oci_genai_transport::log_requests_asked(env) { format!("{base},oci_genai_transport=debug") } else { base }
}

/// Whether logs were asked for (`RUST_LOG` or `LOCUS_LOG` set): then they
/// are printed as logs (time, level, module); otherwise warnings are plain
/// sentences (`warning: …`).
///
/// ```
/// use oci_auth::StaticEnv;
/// assert!(!locus_cli::logging_asked(&StaticEnv::new().with_var("OCI_LOG_REQUESTS", "1")));
/// assert!(locus_cli::logging_asked(&StaticEnv::new().with_var("RUST_LOG", "debug")));
/// ```
pub fn logging_asked(env: &dyn oci_auth::Env) -> bool {
    ["RUST_LOG", "LOCUS_LOG"].iter().any(|name| env.var(name).is_some_and(|v| !v.trim().is_empty()))
}

/// Parses `args` (program name first) and runs the command, writing results to
/// `out` and diagnostics to `err`; standard input is never read (as from
/// `</dev/null`), neither output is a terminal, and nothing is saved (no
/// data directory). Returns the process exit code ([`EXIT_CODES`]).
pub async fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_with(args, Io { stdin: Stdin::Text(String::new()), terminal: Terminal::default(), data_dir: None }, out, err)
        .await
}

/// What a run reads and where it keeps things, beside its arguments.
#[derive(Debug)]
pub struct Io {
    /// Standard input.
    pub stdin: Stdin,
    /// What standard output and error are.
    pub terminal: Terminal,
    /// Where sessions and line history are kept (`None`: nowhere).
    pub data_dir: Option<std::path::PathBuf>,
}

impl Io {
    /// The process's: its stdin, its terminal, `$XDG_DATA_HOME/locus` (else `~/.local/share/locus`).
    pub fn process() -> Io {
        Io { stdin: Stdin::Process, terminal: Terminal::detect(), data_dir: session::data_dir(&oci_auth::OsEnv) }
    }
}

/// [`run`] with `io`: what `main` passes is [`Io::process`].
pub async fn run_with<I, T>(args: I, io: Io, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let Io { stdin, terminal, data_dir } = io;
    let color = if terminal.color { clap::ColorChoice::Always } else { clap::ColorChoice::Never };
    let parsed = Cli::command().color(color).try_get_matches_from(args).and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let rendered = e.render();
            let text = if terminal.color { rendered.ansi().to_string() } else { rendered.to_string() };
            let target: &mut dyn Write = if e.use_stderr() { err } else { out };
            let _ = target.write_all(text.as_bytes());
            return e.exit_code();
        }
    };
    // Under --json an error is JSON on stdout too (a partial answer already said it, with the text).
    let json = match &cli.command {
        Command::Chat(args) => args.json,
        Command::Models(args) => args.json,
        Command::Rerank(args) => args.json,
        Command::Guard(args) => args.json,
        _ => false,
    };
    let result = match cli.command {
        Command::Chat(args) => chat::run(args, stdin, terminal, data_dir, out, err).await,
        Command::Doctor(args) => doctor::run(args, out).await,
        Command::Models(args) => models::run(args, out).await,
        Command::Embed(args) => retrieval::embed(args, out, err).await,
        Command::Rerank(args) => retrieval::rerank(args, out).await,
        Command::Guard(args) => guard::run(args, stdin, out).await,
        Command::Serve(args) => serve::run(args, out).await,
        Command::Emulator(command) => emulator::run(command, out).await,
        Command::RawRequest(args) => raw_request::run(args, out, err).await.map(|()| ExitCode::Ok),
        Command::Sessions(args) => sessions::run(args, data_dir, out),
        Command::Completions(args) => shell::completions(&args, out),
        Command::Man(args) => shell::man(&args, out),
    };
    match result {
        Ok(code) => code as i32,
        // The reader went away (`locus chat … | head -1`): end quietly, as ripgrep and others do.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            if json && !matches!(&e, CliError::Agent(agent) if agent.partial_text().is_some()) {
                let _ = writeln!(out, "{}", error::json(&e));
            }
            let text = terminal::escape_controls(&e.to_string()).into_owned();
            let _ = writeln!(err, "{} {text}", terminal.red("error:"));
            e.exit_code() as i32
        }
    }
}
