//! The `locus` binary.

use std::fmt;

use locus_cli::Io;
use locus_cli::telemetry::{Plan, Telemetry};
use locus_cli::terminal::escape_controls;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer as _;
use tracing_subscriber::Registry;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

fn main() {
    let io = Io::process();
    let terminal = io.terminal;
    let env = oci_auth::OsEnv;
    let serving = std::env::args_os().nth(1).is_some_and(|command| command == "serve");
    let directives = locus_cli::log_filter_for(&env, serving);
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter `{directives}` ({e}); logging warnings only");
        tracing_subscriber::EnvFilter::new("warn")
    });
    // Built before the runtime: the exporters send from threads of their own.
    let plan = Plan::from_env(&env);
    let (telemetry, exported) = Telemetry::start::<Registry>(&plan, &env);
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(terminal.color);
    // Asked-for logs (RUST_LOG, LOCUS_LOG) look like logs; otherwise a warning is a sentence.
    let logs = if locus_cli::logging_asked(&env) { logs.boxed() } else { logs.event_format(Plain).boxed() };
    tracing_subscriber::registry().with(exported).with(logs.with_filter(filter)).init();
    if let Some(warning) = &plan.warning {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code =
        runtime.block_on(locus_cli::run_with(std::env::args_os(), io, &mut std::io::stdout(), &mut std::io::stderr()));
    drop(runtime);
    telemetry.shutdown();
    std::process::exit(code);
}

/// `warning: <message> (<field>: <value>, …)`: no time, no module path.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warning",
            _ => "note",
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        write!(writer, "{level}: {}", fields.message)?;
        if !fields.rest.is_empty() {
            write!(writer, " ({})", fields.rest.join(", "))?;
        }
        writeln!(writer)
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<String>,
}

impl Visit for Fields {
    // Warnings carry text from servers, models and MCP tools: their control characters are escaped, so
    // nothing they send moves the cursor, retitles the window or rings the bell.
    fn record_str(&mut self, field: &Field, value: &str) {
        let value = escape_controls(value);
        match field.name() {
            "message" => self.message = value.into_owned(),
            name => self.rest.push(format!("{name}: {value}")),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let value = format!("{value:?}");
        let value = escape_controls(&value);
        match field.name() {
            "message" => self.message = value.into_owned(),
            name => self.rest.push(format!("{name}: {value}")),
        }
    }
}
