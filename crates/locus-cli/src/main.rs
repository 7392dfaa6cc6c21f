//! The `locus` binary.

use std::fmt;

use locus_cli::Io;
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

fn main() {
    let io = Io::process();
    let terminal = io.terminal;
    let directives = locus_cli::log_filter(&oci_auth::OsEnv);
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter `{directives}` ({e}); logging warnings only");
        tracing_subscriber::EnvFilter::new("warn")
    });
    let builder =
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(terminal.color).with_env_filter(filter);
    // Asked-for logs (RUST_LOG, LOCUS_LOG) look like logs; otherwise a warning is a sentence.
    if locus_cli::logging_asked(&oci_auth::OsEnv) {
        builder.init();
    } else {
        builder.event_format(Plain).init();
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
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            name => self.rest.push(format!("{name}: {value}")),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            name => self.rest.push(format!("{name}: {value:?}")),
        }
    }
}
