//! Tools the model can call.

pub mod builtin;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

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
    /// How long a call may take (default: the agent's tool timeout).
    fn timeout(&self) -> Option<Duration> {
        None
    }
    /// Runs the tool.
    async fn call(&self, arguments: serde_json::Value) -> Result<ToolOutput, ToolError>;
}

/// A shared tool.
pub type SharedTool = Arc<dyn Tool>;

/// A tool from an async function of a typed argument struct; the schema is
/// derived from the struct with `schemars`.
///
/// ```
/// use locus_agent::{tool_fn, Tool, ToolError};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Weather {
///     /// The city.
///     city: String,
/// }
///
/// let tool = tool_fn("weather", "The weather in a city.", |args: Weather| async move {
///     Ok::<_, ToolError>(format!("Sunny in {}", args.city))
/// });
/// assert_eq!(tool.name(), "weather");
/// assert_eq!(tool.parameters()["required"][0], "city");
/// ```
pub fn tool_fn<A, F, Fut, O>(name: impl Into<String>, description: impl Into<String>, function: F) -> FnTool<A, F>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, ToolError>> + Send,
    O: Into<ToolOutput>,
{
    let mut schema =
        serde_json::to_value(schemars::schema_for!(A)).unwrap_or_else(|_| serde_json::json!({"type": "object"}));
    if let Some(object) = schema.as_object_mut() {
        // Models want the plain object schema.
        object.remove("$schema");
        object.remove("title");
    }
    FnTool {
        name: name.into(),
        description: description.into(),
        schema,
        terminal: false,
        function,
        arguments: PhantomData,
    }
}

/// A tool made by [`tool_fn`].
pub struct FnTool<A, F> {
    name: String,
    description: String,
    schema: serde_json::Value,
    terminal: bool,
    function: F,
    arguments: PhantomData<fn(A)>,
}

impl<A, F> FnTool<A, F> {
    /// Makes calling this tool end the run.
    pub fn terminal(mut self) -> Self {
        self.terminal = true;
        self
    }
}

impl<A, F> fmt::Debug for FnTool<A, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTool").field("name", &self.name).finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl<A, F, Fut, O> Tool for FnTool<A, F>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, ToolError>> + Send,
    O: Into<ToolOutput>,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> serde_json::Value {
        self.schema.clone()
    }

    fn is_terminal(&self) -> bool {
        self.terminal
    }

    async fn call(&self, arguments: serde_json::Value) -> Result<ToolOutput, ToolError> {
        let arguments: A =
            serde_json::from_value(arguments).map_err(|e| ToolError::new(format!("invalid arguments: {e}")))?;
        (self.function)(arguments).await.map(Into::into)
    }
}

/// A tool with its compiled argument validator.
pub(crate) struct RegisteredTool {
    pub tool: SharedTool,
    validator: Option<jsonschema::Validator>,
}

impl RegisteredTool {
    pub fn new(tool: SharedTool) -> Self {
        let validator = match jsonschema::validator_for(&tool.parameters()) {
            Ok(validator) => Some(validator),
            Err(e) => {
                tracing::warn!(
                    tool = tool.name(),
                    "the tool's parameter schema is not a valid JSON schema ({e}); arguments are not validated"
                );
                None
            }
        };
        RegisteredTool { tool, validator }
    }

    /// Every way `arguments` breaks the schema, joined; `None` when they fit.
    pub fn validate(&self, arguments: &serde_json::Value) -> Option<String> {
        let validator = self.validator.as_ref()?;
        let problems: Vec<String> = validator
            .iter_errors(arguments)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
            })
            .collect();
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}
