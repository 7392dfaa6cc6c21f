//! CLI errors and exit codes.

/// The process exit codes `locus` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ExitCode {
    /// Done.
    Ok = 0,
    /// `locus guard` found something (as `grep` says 1 for a match it did not want).
    Flagged = 1,
    /// The command line was wrong.
    Usage = 2,
    /// Authentication or configuration failed (config file, key, token).
    AuthConfig = 3,
    /// The service answered with an error, or could not be reached.
    Service = 4,
    /// The run did not complete: a budget, max iterations, a loop, an answer
    /// cut at its token limit or filtered.
    Budget = 5,
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

/// The exit-code table as a literal, so that help texts can be put together with `concat!`.
#[macro_export]
#[doc(hidden)]
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0    done
  1    locus guard: the guardrails found something
  2    usage: a flag, an argument or the input is wrong
  3    the setup: config file, key, profile, region, compartment, model id — also when the service
       refuses them (401 credentials, 403 policy, 404 no such model or endpoint there)
  4    the service or the connection: another error answer (429, 5xx…), a timeout, a broken stream
  5    the run did not complete: a budget, max iterations, a loop, an answer cut off or filtered,
       or --guard blocked it
  130  interrupted (Ctrl-C)"
    };
}

/// The exit codes, as `--help` and the docs list them.
pub const EXIT_CODES: &str = exit_codes!();

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    /// Auth or configuration.
    #[error(transparent)]
    Auth(#[from] oci_auth::Error),
    /// The service answered with an error status.
    #[error("{status} {code}: {message} (opc-request-id: {request_id}){}", hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Service {
        /// HTTP status.
        status: u16,
        /// The service's error code (`NotAuthenticated`, …).
        code: String,
        /// The service's message.
        message: String,
        /// The request id to quote to Oracle support.
        request_id: String,
        /// What to check, when we know.
        hint: Option<String>,
    },
    /// The request could not be sent or the response not read.
    #[error("request failed: {0}")]
    Transport(String),
    /// A request of the CLI's own (`raw-request`, `models`, `doctor`) failed.
    #[error("{message}", message = request_message(.0))]
    Request(oci_genai_transport::Error),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// The agent failed.
    #[error("{message}", message = agent_message(.0))]
    Agent(#[from] locus_agent::Error),
    /// The answer does not follow `--schema`.
    #[error("the answer does not follow --schema: {0}")]
    Schema(String),
    /// Some `locus doctor` checks failed.
    #[error("{0} check(s) failed")]
    ChecksFailed(usize),
}

/// The command line's names of the settings hints point at: its flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlagNames;

impl oci_genai_transport::SettingNames for FlagNames {
    fn name(&self, setting: oci_genai_transport::Setting) -> String {
        use oci_genai_transport::Setting;
        match setting {
            Setting::Region => "--region, LOCUS_OCI_REGION, or the profile's `region`".into(),
            Setting::ServiceEndpoint => "--service-endpoint".into(),
            Setting::IdleTimeout => "--idle-timeout".into(),
            Setting::StreamDeadline => "--timeout".into(),
            Setting::Transport(transport) => format!("--transport {transport}"),
            Setting::ApiFormat => "--api-format".into(),
            Setting::WholeAnswers => "--no-stream".into(),
            Setting::Fallback => "drop --no-fallback".into(),
            Setting::MaxAnswerBytes => "--max-answer-bytes".into(),
            _ => format!("{setting:?}"),
        }
    }
}

/// A transport error with its hint, when there is one.
fn request_message(error: &oci_genai_transport::Error) -> String {
    match error.hint_for(&FlagNames) {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    }
}

/// The agent's error with its hint, when there is one.
fn agent_message(error: &locus_agent::Error) -> String {
    match error.hint_for(&FlagNames) {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    }
}

impl CliError {
    /// The exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::Usage,
            CliError::Auth(_) => ExitCode::AuthConfig,
            CliError::Service { status: 401 | 403 | 404, .. } => ExitCode::AuthConfig,
            CliError::Service { .. } | CliError::Transport(_) | CliError::Output(_) => ExitCode::Service,
            CliError::Request(e) if config_or_auth(e.kind()) => ExitCode::AuthConfig,
            CliError::Request(_) => ExitCode::Service,
            CliError::Agent(e) if config_or_auth(e.kind()) => ExitCode::AuthConfig,
            CliError::Agent(_) => ExitCode::Service,
            CliError::ChecksFailed(_) => ExitCode::AuthConfig,
            CliError::Schema(_) => ExitCode::Service,
        }
    }
}

/// Fixed in the setup (a setting, a key, a clock, a model id, a region, a
/// policy), also when the service is what refused it: exit 3.
fn config_or_auth(kind: oci_genai_transport::ErrorKind) -> bool {
    use oci_genai_transport::ErrorKind as K;
    matches!(kind, K::Configuration | K::Authentication | K::PermissionOrNotFound | K::Region)
}

/// `error` as `--json` prints it on stdout:
/// `{"error": {"kind", "message", "hint", "opc_request_id", "exit_code"}}`.
pub(crate) fn json(error: &CliError) -> serde_json::Value {
    let text = error.to_string();
    let (message, hint) = match text.split_once("\nhint: ") {
        Some((message, hint)) => (message, Some(hint)),
        None => (text.as_str(), None),
    };
    let opc_request_id = text.split("opc-request-id: ").nth(1).and_then(|rest| rest.split(')').next());
    let kind = match error {
        CliError::Request(e) => snake_case(&format!("{:?}", e.kind())),
        CliError::Agent(e) => snake_case(&format!("{:?}", e.kind())),
        CliError::Usage(_) => "usage".into(),
        CliError::Auth(_) => "configuration".into(),
        CliError::Service { .. } => "service".into(),
        CliError::Transport(_) => "connection".into(),
        CliError::Output(_) => "output".into(),
        CliError::ChecksFailed(_) => "checks_failed".into(),
        CliError::Schema(_) => "schema".into(),
    };
    serde_json::json!({"error": {
        "kind": kind,
        "message": message,
        "hint": hint,
        "opc_request_id": opc_request_id,
        "exit_code": error.exit_code() as i32,
    }})
}

/// `PermissionOrNotFound` → `permission_or_not_found`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library names settings by its builders; the command line by its flags.
    #[test]
    fn hints_name_the_command_lines_flags() {
        let idle = oci_genai_transport::Error::StreamIdle { seconds: 60, opc_request_id: None };
        assert!(idle.hint().is_some_and(|h| h.contains("GenAiClientBuilder::read_timeout")));
        let shown = CliError::Request(idle).to_string();
        assert!(shown.contains("hint:") && shown.contains("--idle-timeout"), "{shown}");
        assert!(!shown.contains("GenAiClientBuilder"), "{shown}");
        let agent = CliError::Agent(locus_providers::Error::AnswerTooLarge { limit: 10 }.into()).to_string();
        assert!(agent.contains("--max-answer-bytes") && !agent.contains("AgentBuilder"), "{agent}");
    }
}
