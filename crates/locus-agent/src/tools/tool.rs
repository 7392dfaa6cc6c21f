//! The tool contract: what a tool says about itself, and what a call returns.

use std::sync::Arc;
use std::time::Duration;

/// What a tool returns.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    /// Text, sent as is.
    Text(String),
    /// JSON, sent as its text.
    Json(serde_json::Value),
}

impl ToolOutput {
    /// The text the model sees.
    pub fn to_text(&self) -> String {
        match self {
            ToolOutput::Text(text) => text.clone(),
            ToolOutput::Json(value) => value.to_string(),
        }
    }
}

impl From<String> for ToolOutput {
    fn from(text: String) -> Self {
        ToolOutput::Text(text)
    }
}

impl From<&str> for ToolOutput {
    fn from(text: &str) -> Self {
        ToolOutput::Text(text.to_owned())
    }
}

impl From<serde_json::Value> for ToolOutput {
    fn from(value: serde_json::Value) -> Self {
        ToolOutput::Json(value)
    }
}

/// A tool's failure: its message goes back to the model as an error result,
/// so the model can recover.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl ToolError {
    /// A failure with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError(message.into())
    }
}

/// A tool: a name, a description, a JSON schema for its arguments, and an
/// async call. Arguments are validated against the schema before `call`.
#[async_trait::async_trait]
pub trait Tool: Send + Sync {
    /// The name the model calls it by.
    fn name(&self) -> &str;
    /// What it does, for the model.
    fn description(&self) -> &str;
    /// The JSON schema of its arguments (an object schema).
    fn parameters(&self) -> serde_json::Value;
    /// Whether calling it ends the run (its output is the final answer).
    fn is_terminal(&self) -> bool {
        false
    }
    /// Whether calling it changes nothing (reads, computes): an approval
    /// hook may let such calls run without asking. Default `false`.
    fn is_safe(&self) -> bool {
        false
    }
    /// How long a call may take (default: the agent's tool timeout).
    fn timeout(&self) -> Option<Duration> {
        None
    }
    /// Runs the tool.
    async fn call(&self, arguments: serde_json::Value) -> Result<ToolOutput, ToolError>;
}

/// A shared tool.
pub type SharedTool = Arc<dyn Tool>;
