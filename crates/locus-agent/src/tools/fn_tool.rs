//! Tools from typed async functions, their schema derived from the argument type.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::tool::{Tool, ToolError, ToolOutput};

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
        safe: false,
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
    safe: bool,
    function: F,
    arguments: PhantomData<fn(A)>,
}

impl<A, F> FnTool<A, F> {
    /// Makes calling this tool end the run.
    pub fn terminal(mut self) -> Self {
        self.terminal = true;
        self
    }

    /// Marks the tool as changing nothing ([`Tool::is_safe`]).
    pub fn safe(mut self) -> Self {
        self.safe = true;
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

    fn is_safe(&self) -> bool {
        self.safe
    }

    async fn call(&self, arguments: serde_json::Value) -> Result<ToolOutput, ToolError> {
        let arguments: A =
            serde_json::from_value(arguments).map_err(|e| ToolError::new(format!("invalid arguments: {e}")))?;
        (self.function)(arguments).await.map(Into::into)
    }
}
