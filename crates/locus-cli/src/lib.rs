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
pub mod doctor;
pub mod emulator;
mod error;
pub mod raw_request;
pub mod setup_args;
pub mod terminal;

use std::ffi::OsString;
use std::io::Write;

use clap::{Parser, Subcommand};

pub use error::{CliError, ExitCode};
pub use setup_args::{AuthArgs, ClientArgs, ModelArgs, SetupArgs};

/// Agents and signed requests on OCI Generative AI.
#[derive(Debug, Parser)]
#[command(name = "locus", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chat with a model on OCI Generative AI, with tools.
    Chat(chat::ChatArgs),
    /// Check the OCI configuration, key, region and model settings, and say what to fix.
    Doctor(doctor::DoctorArgs),
    /// A local emulator of OCI Generative AI.
    #[command(subcommand)]
    Emulator(emulator::EmulatorCommand),
    /// Send one signed request to any OCI API (the twin of `oci raw-request`).
    RawRequest(raw_request::RawRequestArgs),
}

/// The `tracing` filter of the `locus` binary: `RUST_LOG`, else `LOCUS_LOG`
/// (the older name), else `warn`; `OCI_LOG_REQUESTS=1` (or `true`) adds the
/// request log (`oci_genai_transport=debug`: method, URL, status, latency,
/// `opc-request-id`, redacted headers) to whichever it is.
///
/// ```
/// use oci_auth::StaticEnv;
/// assert_eq!(locus_cli::log_filter(&StaticEnv::new()), "warn");
/// let env = StaticEnv::new().with_var("OCI_LOG_REQUESTS", "1");
/// assert_eq!(locus_cli::log_filter(&env), "warn,oci_genai_transport=debug");
/// let env = StaticEnv::new().with_var("RUST_LOG", "info").with_var("LOCUS_LOG", "trace");
/// assert_eq!(locus_cli::log_filter(&env), "info");
/// ```
pub fn log_filter(env: &dyn oci_auth::Env) -> String {
    let base = ["RUST_LOG", "LOCUS_LOG"]
        .iter()
        .find_map(|name| env.var(name).filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "warn".into());
    let requests = env.var("OCI_LOG_REQUESTS").is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    if requests { format!("{base},oci_genai_transport=debug") } else { base }
}

/// Parses `args` (program name first) and runs the command, writing results to
/// `out` and diagnostics to `err`. Returns the process exit code: 0 done,
/// 2 usage, 3 auth or config, 4 service error or an incomplete answer, 5 the
/// run did not complete (budget, max iterations, loop, an answer cut off at
/// its token limit or filtered).
pub async fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().ansi().to_string();
            let target: &mut dyn Write = if e.use_stderr() { err } else { out };
            let _ = target.write_all(text.as_bytes());
            return e.exit_code();
        }
    };
    let result = match cli.command {
        Command::Chat(args) => chat::run(args, out, err).await,
        Command::Doctor(args) => doctor::run(args, out).await,
        Command::Emulator(command) => emulator::run(command, out).await,
        Command::RawRequest(args) => raw_request::run(args, out, err).await.map(|()| ExitCode::Ok),
    };
    match result {
        Ok(code) => code as i32,
        Err(e) => {
            let _ = writeln!(err, "error: {}", terminal::escape_controls(&e.to_string()));
            e.exit_code() as i32
        }
    }
}
