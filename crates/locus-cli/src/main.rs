//! The `locus` binary.

fn main() {
    let directives = locus_cli::log_filter(&oci_auth::OsEnv);
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter `{directives}` ({e}); logging warnings only");
        tracing_subscriber::EnvFilter::new("warn")
    });
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init();
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
