//! Tools from [Model Context Protocol](https://modelcontextprotocol.io)
//! servers (feature `mcp`, on by default), through the official Rust SDK
//! (`rmcp`).
//!
//! Connect to servers over stdio (a command line) or streamable HTTP (a URL,
//! optionally with a bearer token); their tools become agent tools with
//! their JSON schemas, and calls go to the server:
//!
//! ```no_run
//! use locus_agent::Agent;
//! use locus_agent::mcp::{McpServer, McpTools};
//! # async fn run(model: locus_providers::OciChatModel) -> Result<(), locus_agent::Error> {
//! let mcp = McpTools::connect([
//!     McpServer::command_line("npx -y @modelcontextprotocol/server-filesystem /tmp")?,
//!     McpServer::http("https://mcp.example.com/mcp").bearer_token("…"),
//! ])
//! .await;
//! for failure in mcp.failures() {
//!     eprintln!("warning: {failure}");
//! }
//! let agent = Agent::builder().model(model).tools(mcp.tools()).build()?;
//! # Ok(()) }
//! ```
//!
//! - Results: text blocks joined by newlines (other blocks as short
//!   placeholders), or the structured content as JSON when there is no text;
//!   `isError` results are tool errors.
//! - A server that cannot be started is a [`McpFailure`] (and a warning); one
//!   that exits or breaks later makes its tools fail with the reason (its
//!   exit status and last stderr line) — the model reads it, the user gets a
//!   warning once. A call that does not answer within the call timeout
//!   (default 60 s) is a timed-out tool call.
//! - Two servers offering one name: both tools are renamed `<server>_<tool>`.
//! - A server's annotations are hints, not trust (the MCP specification
//!   says so): no MCP tool is [safe](crate::Tool::is_safe) unless its server
//!   was [trusted](McpServer::trust_read_only_hints), and then only a tool
//!   marked `readOnlyHint` and not `destructiveHint`.
//! - Nothing a server sends drives a terminal: tool names are cut to
//!   `[A-Za-z0-9_-]` (calls still use the server's own name), and its stderr
//!   and error text reach messages with control characters escaped.
//! - Bounded: a server's stderr is read in chunks and each line kept to
//!   4 KiB; a message larger than 16 MiB (what the SDK reads) fails the calls
//!   under way at once instead of leaving them to their timeout.
//! - An HTTP server that refuses the token says so (`refused the token
//!   (401)`), not the SDK's internals.
//! - A stdio server runs in its own process group, killed (with whatever it
//!   started) when the last tool holding it is dropped, i.e. with the agent.

mod connection;
mod limit;
mod process;
mod tool;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use oci_auth::Secret;
use rmcp::ServiceExt as _;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use crate::error::Error;
use crate::tools::SharedTool;
use connection::Connection;
use process::{ServerProcess, printable};
use tool::McpTool;

/// How long starting a server and listing its tools may take, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one call may take, by default.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// An MCP server to connect to.
#[derive(Debug, Clone)]
pub struct McpServer {
    name: String,
    endpoint: Endpoint,
    trust_read_only_hints: bool,
}

#[derive(Debug, Clone)]
enum Endpoint {
    /// Variable values may be keys: kept as secrets, out of Debug output.
    Stdio {
        program: String,
        args: Vec<String>,
        env: Vec<(String, Secret)>,
    },
    Http {
        url: String,
        bearer_token: Option<Secret>,
    },
}

impl McpServer {
    /// A server started as `program args…`, speaking over its stdin and stdout.
    /// Named after the program (`npx`, `uvx`, `my-server`) unless [`named`](Self::named).
    pub fn stdio(program: impl Into<String>, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let program = program.into();
        let name = std::path::Path::new(&program)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| program.clone());
        McpServer {
            name: sanitize(&name),
            endpoint: Endpoint::Stdio { program, args: args.into_iter().map(Into::into).collect(), env: Vec::new() },
            trust_read_only_hints: false,
        }
    }

    /// A stdio server from one command line, split as a shell splits words
    /// (single and double quotes, backslash escapes; no variables or globs).
    ///
    /// ```
    /// let server = locus_agent::mcp::McpServer::command_line("uvx 'mcp-server-git' --repository \"my repo\"")?;
    /// assert_eq!(server.name(), "uvx");
    /// # Ok::<(), locus_agent::Error>(())
    /// ```
    pub fn command_line(line: &str) -> Result<Self, Error> {
        let words = shlex::split(line).ok_or_else(|| {
            Error::Config(format!("the MCP command `{line}`: a quote is not closed, or it ends with a backslash"))
        })?;
        let mut words = words.into_iter();
        let program = words.next().ok_or_else(|| Error::Config("an empty MCP command".into()))?;
        Ok(McpServer::stdio(program, words))
    }

    /// A server at `url` over streamable HTTP. Named after the URL's host.
    pub fn http(url: impl Into<String>) -> Self {
        let url = url.into();
        let host = url.split("://").nth(1).unwrap_or(&url).split(['/', ':', '?']).next().unwrap_or("http");
        McpServer {
            name: sanitize(host),
            endpoint: Endpoint::Http { url, bearer_token: None },
            trust_read_only_hints: false,
        }
    }

    /// The name used in messages and, on collisions, as the tools' prefix.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = sanitize(&name.into());
        self
    }

    /// Believe this server's `readOnlyHint` annotations: its tools marked
    /// read-only (and not `destructiveHint`) become [safe](crate::Tool::is_safe),
    /// so an approval hook may run them without asking. Off by default:
    /// annotations are the server's claims, untrusted unless you trust it.
    ///
    /// ```
    /// let server = locus_agent::mcp::McpServer::http("https://mcp.example.com/mcp").trust_read_only_hints(true);
    /// # let _ = server;
    /// ```
    pub fn trust_read_only_hints(mut self, trust: bool) -> Self {
        self.trust_read_only_hints = trust;
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// An environment variable for a stdio server (it inherits ours besides).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        if let Endpoint::Stdio { env, .. } = &mut self.endpoint {
            env.push((key.into(), Secret::new(value)));
        }
        self
    }

    /// `Authorization: Bearer <token>` on every request to an HTTP server.
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        if let Endpoint::Http { bearer_token, .. } = &mut self.endpoint {
            *bearer_token = Some(token.into());
        }
        self
    }

    /// Starts or reaches the server and lists its tools.
    async fn connect(&self) -> Result<(Arc<Connection>, Vec<rmcp::model::Tool>), String> {
        let (service, process, cut) = match &self.endpoint {
            Endpoint::Stdio { program, args, env } => {
                let (process, stdout, stdin) = ServerProcess::spawn(&self.name, program, args, env)
                    .map_err(|e| format!("cannot start `{program}`: {e}"))?;
                let (stdout, cut) = limit::LineLimit::new(stdout, limit::MAX_MESSAGE_BYTES - 1);
                let process = std::sync::Mutex::new(Some(process));
                let service = match ().serve((stdout, stdin)).await {
                    Ok(service) => service,
                    Err(e) => {
                        let exit = ServerProcess::exit(&process).await;
                        return Err(format!("no MCP handshake: {}", exit.unwrap_or_else(|| printable(&e.to_string()))));
                    }
                };
                (service, process.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner), Some(cut))
            }
            Endpoint::Http { url, bearer_token } => {
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                if let Some(token) = bearer_token {
                    config = config.auth_header(token.expose());
                }
                let transport = StreamableHttpClientTransport::<reqwest13::Client>::from_config(config);
                let service = ().serve(transport).await.map_err(|e| http_failure(url, bearer_token.is_some(), &e))?;
                (service, None, None)
            }
        };
        let tools = service
            .list_all_tools()
            .await
            .map_err(|e| format!("cannot list its tools: {}", printable(&e.to_string())))?;
        let connection = Connection::new(self.name.clone(), service, process, cut, self.trust_read_only_hints);
        Ok((Arc::new(connection), tools))
    }
}

/// What a failed HTTP handshake means, in the user's terms: a refused token
/// is named as such, never as the SDK's worker and transport types.
fn http_failure(url: &str, had_token: bool, error: &dyn std::error::Error) -> String {
    let mut chain = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = cause {
        chain.push(e.to_string());
        cause = e.source();
    }
    let all = chain.join(": ");
    let refused = |status: &str| {
        let token = if had_token {
            "refused the token"
        } else {
            "needs a token (--mcp-bearer-env VAR, or bearer_token_env in the defaults file)"
        };
        format!("the MCP server at {url} {token} ({status})")
    };
    if all.contains("Auth required") || all.contains("401") {
        return refused("401");
    }
    if all.contains("Insufficient scope") || all.contains("403") {
        return refused("403");
    }
    // The innermost cause says what happened; the outer ones name the SDK's machinery.
    let inner = chain.last().map(String::as_str).unwrap_or("no answer");
    format!("no MCP handshake with {url}: {}", printable(inner))
}

/// A server that could not be used.
#[derive(Debug, Clone)]
pub struct McpFailure {
    /// The server's name.
    pub server: String,
    /// Why.
    pub message: String,
}

impl fmt::Display for McpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the MCP server `{}` is not used: {}", self.server, self.message)
    }
}

/// The tools of connected MCP servers, and the servers that failed.
#[derive(Debug)]
pub struct McpTools {
    tools: Vec<Arc<McpTool>>,
    failures: Vec<McpFailure>,
}

impl McpTools {
    /// Connects to every server at once, with the default timeouts.
    pub async fn connect(servers: impl IntoIterator<Item = McpServer>) -> McpTools {
        McpTools::builder().servers(servers).connect().await
    }

    /// Configures timeouts before connecting.
    pub fn builder() -> McpToolsBuilder {
        McpToolsBuilder {
            servers: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// The tools, for [`AgentBuilder::tools`](crate::AgentBuilder::tools).
    pub fn tools(&self) -> Vec<SharedTool> {
        self.tools.iter().map(|t| Arc::clone(t) as SharedTool).collect()
    }

    /// Each tool's name as the model sees it, with its server's name.
    pub fn names(&self) -> Vec<(String, String)> {
        self.tools.iter().map(|t| (t.name.clone(), t.connection.server.clone())).collect()
    }

    /// The servers that could not be started, reached or listed.
    pub fn failures(&self) -> &[McpFailure] {
        &self.failures
    }

    /// The process ids of the stdio servers still running.
    pub fn process_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.tools.iter().filter_map(|t| t.connection.process_id()).collect();
        ids.dedup();
        ids
    }
}

/// Configures [`McpTools`].
#[derive(Debug)]
pub struct McpToolsBuilder {
    servers: Vec<McpServer>,
    connect_timeout: Duration,
    call_timeout: Duration,
}

impl McpToolsBuilder {
    /// Adds servers.
    pub fn servers(mut self, servers: impl IntoIterator<Item = McpServer>) -> Self {
        self.servers.extend(servers);
        self
    }

    /// How long starting a server and listing its tools may take (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one call may take (default 60 s).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Connects to every server at once; failures are kept (and logged as warnings), not returned.
    pub async fn connect(self) -> McpTools {
        let mut servers = self.servers;
        dedupe_server_names(&mut servers);
        let attempts = servers.iter().map(|server| async move {
            match tokio::time::timeout(self.connect_timeout, server.connect()).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {} s", self.connect_timeout.as_secs_f64())),
            }
        });
        let results = futures::future::join_all(attempts).await;
        let mut listed = Vec::new();
        let mut failures = Vec::new();
        for (server, result) in servers.iter().zip(results) {
            match result {
                Ok((connection, tools)) => listed.extend(tools.into_iter().map(|t| (Arc::clone(&connection), t))),
                Err(message) => {
                    let failure = McpFailure { server: server.name.clone(), message };
                    tracing::warn!("{failure}");
                    failures.push(failure);
                }
            }
        }
        let mut count: HashMap<String, usize> = HashMap::new();
        for (_, tool) in &listed {
            *count.entry(tool.name.to_string()).or_default() += 1;
        }
        let tools = listed
            .into_iter()
            .map(|(connection, tool)| {
                let remote_name = tool.name.to_string();
                let name = match count[&remote_name] {
                    1 => sanitize(&remote_name),
                    _ => sanitize(&format!("{}_{remote_name}", connection.server)),
                };
                let hints = tool.annotations.as_ref();
                let read_only = connection.trust_read_only_hints
                    && hints.and_then(|a| a.read_only_hint) == Some(true)
                    && hints.and_then(|a| a.destructive_hint) != Some(true);
                Arc::new(McpTool {
                    name,
                    remote_name,
                    description: tool.description.as_deref().unwrap_or_default().to_owned(),
                    schema: serde_json::Value::Object((*tool.input_schema).clone()),
                    read_only,
                    timeout: self.call_timeout,
                    connection,
                })
            })
            .collect();
        McpTools { tools, failures }
    }
}

/// Two servers of one name get `-2`, `-3`…: names prefix tools and must differ.
fn dedupe_server_names(servers: &mut [McpServer]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for server in servers {
        let n = seen.entry(server.name.clone()).or_default();
        *n += 1;
        if *n > 1 {
            server.name = format!("{}-{n}", server.name);
        }
    }
}

/// A tool-name-safe form: `[A-Za-z0-9_-]`, at most 64 characters (what model APIs accept).
fn sanitize(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(64)
        .collect();
    if clean.is_empty() { "mcp".into() } else { clean }
}

#[cfg(test)]
mod tests {
    use super::{McpServer, sanitize};

    #[test]
    fn command_lines_split_like_a_shell() {
        assert_eq!(shlex::split(r#"a 'b c' "d \"e\"" f\ g ''"#).unwrap(), ["a", "b c", "d \"e\"", "f g", ""]);
        assert!(McpServer::command_line("a 'b").unwrap_err().to_string().contains("not closed"));
        assert!(McpServer::command_line("   ").is_err());
    }

    #[test]
    fn variables_and_tokens_stay_out_of_debug_output() {
        let stdio = McpServer::stdio("server", ["--x"]).env("API_KEY", "sk-hidden");
        let http = McpServer::http("https://mcp.example.com/mcp").bearer_token("tok-hidden");
        let shown = format!("{stdio:?} {http:?}");
        assert!(!shown.contains("sk-hidden") && !shown.contains("tok-hidden"), "{shown}");
        assert!(shown.contains("API_KEY"));
    }

    #[test]
    fn names_are_safe_for_model_apis() {
        assert_eq!(sanitize("mcp.example.com"), "mcp_example_com");
        assert_eq!(McpServer::http("https://mcp.example.com:8443/mcp").name(), "mcp_example_com");
        assert_eq!(McpServer::stdio("/usr/local/bin/git-server", ["x"]).name(), "git-server");
        assert_eq!(sanitize(&"x".repeat(100)).len(), 64);
    }
}
