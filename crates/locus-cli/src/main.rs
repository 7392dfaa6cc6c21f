//! The `locus` binary.

use std::io::IsTerminal;

fn main() {
    let directives = locus_cli::log_filter(&oci_auth::OsEnv);
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter `{directives}` ({e}); logging warnings only");
        tracing_subscriber::EnvFilter::new("warn")
    });
    // Colour only for a person at a terminal, and never under NO_COLOR (no-color.org).
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(ansi).with_env_filter(filter).init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(locus_cli::run(std::env::args_os(), &mut std::io::stdout(), &mut std::io::stderr()));
    std::process::exit(code);
}
