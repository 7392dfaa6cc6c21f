//! The tools `locus chat` offers — the built-in ones and those of MCP
//! servers (`--mcp`, `--mcp-url`, `[mcp.servers.*]` in the defaults file) —
//! and the question asked before a tool that may change things runs.

use std::io::{BufRead, Write};
use std::time::Duration;

use locus_agent::mcp::{McpServer, McpTools};
use locus_agent::tools::{Approval, ApproveToolCall, PendingCall};
use oci_auth::Env;

use crate::defaults::DefaultsFile;
use crate::error::CliError;
use crate::terminal::one_line;

/// The MCP servers the flags and (unless `emulator`) the defaults file name, connected.
pub(crate) async fn connect_mcp(
    commands: &[String],
    urls: &[String],
    bearer_env: Option<&str>,
    defaults: Option<&DefaultsFile>,
    env: &dyn Env,
) -> Result<Option<McpTools>, CliError> {
    let mut servers = Vec::new();
    for (name, entry) in defaults.map(|d| &d.mcp.servers).into_iter().flatten() {
        let place = format!("[mcp.servers.{name}] in the defaults file");
        let server = match (&entry.command, &entry.url) {
            (Some(command), None) => {
                let (program, args) =
                    command.split_first().ok_or_else(|| CliError::Usage(format!("{place}: `command` is empty")))?;
                entry.env.iter().fold(McpServer::stdio(program, args), |server, (k, v)| server.env(k, v))
            }
            (None, Some(url)) => {
                let server = McpServer::http(url);
                match entry.bearer_token_env.as_deref().map(|var| (var, env.var(var))) {
                    Some((_, Some(token))) => server.bearer_token(token),
                    Some((var, None)) => {
                        tracing::warn!("{var} is not set ({place} names it): connecting without a bearer token");
                        server
                    }
                    None => server,
                }
            }
            _ => return Err(CliError::Usage(format!("{place}: set `command` (a list) or `url`, not both"))),
        };
        let trusted = entry.trust == Some(crate::defaults::McpTrust::ReadOnlyHints);
        servers.push(server.named(name).trust_read_only_hints(trusted));
    }
    for command in commands {
        servers.push(McpServer::command_line(command).map_err(|e| CliError::Usage(format!("--mcp: {e}")))?);
    }
    let token =
        match bearer_env {
            Some(var) => Some(env.var(var).filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                CliError::Usage(format!("--mcp-bearer-env {var}: the variable is not set (or empty)"))
            })?),
            None => None,
        };
    for url in urls {
        let server = McpServer::http(url);
        servers.push(match &token {
            Some(token) => server.bearer_token(token.trim()),
            None => server,
        });
    }
    if servers.is_empty() {
        return Ok(None);
    }
    // Starting a server can take seconds (`npx` fetching a package): say what is being waited for.
    let names: Vec<String> = servers.iter().map(|s| format!("`{}`", crate::terminal::one_line(s.name()))).collect();
    let plural = if names.len() == 1 { "server" } else { "servers" };
    eprintln!("starting MCP {plural} {}…", names.join(", "));
    Ok(Some(McpTools::builder().servers(servers).call_timeout(Duration::from_secs(60)).connect().await))
}

/// Allows safe tools (the built-in calculator and clock; MCP tools only from
/// a server trusted with `trust = "read-only-hints"`); asks on a terminal
/// about the others; refuses them off a terminal unless `--yes`.
#[derive(Debug)]
pub(crate) struct CliApproval {
    /// `--yes`: allow everything.
    pub yes: bool,
    /// Standard input and error are a terminal: a person can be asked.
    pub can_ask: bool,
}

#[async_trait::async_trait]
impl ApproveToolCall for CliApproval {
    async fn approve(&self, call: &PendingCall<'_>) -> Approval {
        if call.safe || self.yes {
            return Approval::Allow;
        }
        if !self.can_ask {
            tracing::warn!(
                "`{}` was not run: it may change things and there is no terminal to ask; pass --yes",
                call.name
            );
            return Approval::Deny("the user was not there to allow it (locus runs it with --yes)".into());
        }
        let question = format!("allow `{}` {}? [y/N] ", one_line(call.name), one_line(&call.arguments.to_string()));
        let answer = tokio::task::spawn_blocking(move || {
            let mut stderr = std::io::stderr();
            let _ = write!(stderr, "{question}");
            let _ = stderr.flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| line)
        })
        .await;
        match answer.ok().and_then(Result::ok).map(|a| a.trim().to_ascii_lowercase()) {
            Some(a) if a == "y" || a == "yes" => Approval::Allow,
            _ => Approval::Deny("the user did not allow it".into()),
        }
    }
}
