//! One MCP tool as an agent tool: calls go to its server, results come back
//! as text.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};

use super::connection::Connection;
use crate::tools::{Tool, ToolError, ToolOutput};

/// A tool of an MCP server.
#[derive(Debug)]
pub(crate) struct McpTool {
    /// The name the model sees (prefixed with the server's when names collide).
    pub name: String,
    /// The name the server knows.
    pub remote_name: String,
    pub description: String,
    pub schema: serde_json::Value,
    pub read_only: bool,
    pub timeout: Duration,
    pub connection: Arc<Connection>,
}

#[async_trait::async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> serde_json::Value {
        self.schema.clone()
    }

    fn is_safe(&self) -> bool {
        self.read_only
    }

    fn timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    async fn call(&self, arguments: serde_json::Value) -> Result<ToolOutput, ToolError> {
        let mut params = CallToolRequestParams::new(self.remote_name.clone());
        if let serde_json::Value::Object(arguments) = arguments {
            params = params.with_arguments(arguments);
        }
        let result = self.connection.call(params).await?;
        output(result)
    }
}

/// Text blocks joined by newlines, else the structured content as JSON; an
/// error result is a tool error with its text.
fn output(result: CallToolResult) -> Result<ToolOutput, ToolError> {
    let texts: Vec<String> = result
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::Text(text) => text.text.clone(),
            ContentBlock::Image(image) => format!("[image: {}]", image.mime_type),
            ContentBlock::Audio(audio) => format!("[audio: {}]", audio.mime_type),
            ContentBlock::Resource(resource) => serde_json::to_string(&resource.resource).unwrap_or_default(),
            ContentBlock::ResourceLink(link) => format!("[resource: {}]", link.uri),
            _ => "[content of a kind this client does not read]".to_owned(),
        })
        .collect();
    let text = texts.join("\n");
    if result.is_error == Some(true) {
        return Err(ToolError::new(if text.is_empty() { "the tool reported an error".to_owned() } else { text }));
    }
    match (result.structured_content, text.is_empty()) {
        (Some(structured), true) => Ok(ToolOutput::Json(structured)),
        _ => Ok(ToolOutput::Text(text)),
    }
}
