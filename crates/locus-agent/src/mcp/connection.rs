//! A live session with one MCP server, and how its failures are told.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService, ServiceError};

use super::limit::CutReason;
use super::process::{ServerProcess, printable};
use crate::tools::ToolError;

/// A connected server; dropping the last tool that holds it ends the session
/// and kills a stdio server's processes.
pub(crate) struct Connection {
    pub server: String,
    pub service: RunningService<RoleClient, ()>,
    pub process: Mutex<Option<ServerProcess>>,
    /// Why a stdio server's output was cut off, once it was.
    cut: Option<CutReason>,
    /// Whether its read-only hints are believed.
    pub trust_read_only_hints: bool,
    warned: AtomicBool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("server", &self.server).finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(
        server: String,
        service: RunningService<RoleClient, ()>,
        process: Option<ServerProcess>,
        cut: Option<CutReason>,
        trust_read_only_hints: bool,
    ) -> Self {
        let process = Mutex::new(process);
        Connection { server, service, process, cut, trust_read_only_hints, warned: AtomicBool::new(false) }
    }

    /// Calls a tool; a failure of the server (not of the tool) is a tool
    /// error the model reads, and a warning for the user the first time.
    pub(crate) async fn call(&self, params: CallToolRequestParams) -> Result<CallToolResult, ToolError> {
        match self.service.call_tool(params).await {
            Ok(result) => Ok(result),
            Err(ServiceError::McpError(error)) => Err(ToolError::new(format!(
                "the MCP server `{}` refused the call: {}",
                self.server,
                printable(&error.message)
            ))),
            Err(error) => {
                let cut = self.cut.as_ref().and_then(|c| c.lock().unwrap_or_else(PoisonError::into_inner).clone());
                let why = match cut {
                    Some(reason) => reason,
                    None => ServerProcess::exit(&self.process).await.unwrap_or_else(|| printable(&error.to_string())),
                };
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!("the MCP server `{}` stopped working: {why}; its tools now fail", self.server);
                }
                Err(ToolError::new(format!("the MCP server `{}` stopped working: {why}", self.server)))
            }
        }
    }

    /// A stdio server's process id, while it runs.
    pub(crate) fn process_id(&self) -> Option<u32> {
        self.process.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(ServerProcess::id)
    }
}
