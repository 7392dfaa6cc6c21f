//! Configuring an agent: its model, tools and loop settings.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use locus_providers::{ChatModel, DEFAULT_MAX_ANSWER_BYTES, Document, GenerationParams, SharedChatModel};

use crate::agent::{Agent, Inner};
use crate::error::Error;
use crate::guard::Guard;
use crate::tools::{ApproveToolCall, RegisteredTool, SharedApproval, SharedTool, Tool};

/// Configures an [`Agent`]. The model comes ready-built — an
/// [`OciChatModel`](locus_providers::OciChatModel) (see
/// [`OciSetup`](crate::OciSetup)) or any [`ChatModel`] — so that auth and the
/// client are configured once, where they are built.
pub struct AgentBuilder {
    name: Option<String>,
    model: Option<SharedChatModel>,
    system_prompt: Option<String>,
    params: GenerationParams,
    tools: Vec<SharedTool>,
    max_iterations: u32,
    token_budget: Option<u64>,
    time_budget: Option<Duration>,
    streaming: bool,
    max_concurrent_tools: usize,
    tool_timeout: Duration,
    max_answer_bytes: usize,
    approval: Option<SharedApproval>,
    guard: Option<Arc<dyn Guard>>,
    documents: Vec<Document>,
}

impl std::fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentBuilder").field("model", &self.model.as_ref().map(|m| m.name())).finish_non_exhaustive()
    }
}

impl Default for AgentBuilder {
    fn default() -> Self {
        AgentBuilder {
            name: None,
            model: None,
            system_prompt: None,
            params: GenerationParams::default(),
            tools: Vec::new(),
            max_iterations: 20,
            token_budget: None,
            time_budget: None,
            streaming: true,
            max_concurrent_tools: 10,
            tool_timeout: Duration::from_secs(60),
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            approval: None,
            guard: None,
            documents: Vec::new(),
        }
    }
}

impl Agent {
    /// Starts configuring.
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }
}

impl AgentBuilder {
    /// The model.
    pub fn model(self, model: impl ChatModel + 'static) -> Self {
        self.chat_model(Arc::new(model))
    }

    /// A shared model (one model, several agents).
    pub fn chat_model(mut self, model: SharedChatModel) -> Self {
        self.model = Some(model);
        self
    }

    /// The agent's name, for telemetry (`gen_ai.agent.name` of its
    /// `invoke_agent` spans; default `locus`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The system prompt.
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.system_prompt = Some(prompt.into());
        self
    }

    /// Generation settings.
    pub fn params(mut self, params: GenerationParams) -> Self {
        self.params = params;
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: impl Tool + 'static) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds shared tools (for example [`McpTools::tools`](crate::mcp::McpTools::tools)).
    pub fn tools(mut self, tools: impl IntoIterator<Item = SharedTool>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// Adds a shared tool.
    pub fn shared_tool(mut self, tool: SharedTool) -> Self {
        self.tools.push(tool);
        self
    }

    /// The most model calls before a final summarising call (default 20).
    pub fn max_iterations(mut self, max: u32) -> Self {
        self.max_iterations = max.max(1);
        self
    }

    /// Stop once this many tokens have been used.
    pub fn token_budget(mut self, tokens: u64) -> Self {
        self.token_budget = Some(tokens);
        self
    }

    /// Stop once the run has taken this long.
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = Some(budget);
        self
    }

    /// Stream model calls (default) or not.
    pub fn streaming(mut self, on: bool) -> Self {
        self.streaming = on;
        self
    }

    /// The most tools running at once (default 10).
    pub fn max_concurrent_tools(mut self, max: usize) -> Self {
        self.max_concurrent_tools = max.max(1);
        self
    }

    /// How long a tool may run unless it says otherwise (default 60 s).
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.tool_timeout = timeout;
        self
    }

    /// The most bytes of text, reasoning and tool-call arguments one answer
    /// may hold (default 16 MiB); past it the run fails with the partial
    /// answer kept ([`Error::Incomplete`]).
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// A hook asked before each tool call (after its arguments are
    /// validated); a denial goes back to the model as the call's error
    /// result. Default: none, every valid call runs.
    pub fn approval(mut self, hook: impl ApproveToolCall + 'static) -> Self {
        self.approval = Some(Arc::new(hook));
        self
    }

    /// Guardrails around the run ([`guard`](crate::guard)): the user's input,
    /// tool results and answers are screened before they go on; screened
    /// answers arrive whole instead of token by token. Default: none.
    pub fn guard(mut self, guard: impl Guard + 'static) -> Self {
        self.guard = Some(Arc::new(guard));
        self
    }

    /// Documents every model call carries, for the model to ground its
    /// answers in: Cohere models (COHERE, COHEREV2) take them and cite them
    /// ([`AgentResult::citations`](crate::AgentResult::citations)); the other
    /// shapes refuse them with an error saying so. Default: none.
    ///
    /// ```
    /// use locus_providers::Document;
    /// let builder = locus_agent::Agent::builder()
    ///     .documents([Document { id: Some("handbook".into()), text: "Expenses are filed by Friday.".into() }]);
    /// # let _ = builder;
    /// ```
    pub fn documents(mut self, documents: impl IntoIterator<Item = Document>) -> Self {
        self.documents.extend(documents);
        self
    }

    /// Builds the agent; a missing model or two tools of one name are errors here.
    pub fn build(self) -> Result<Agent, Error> {
        let Some(model) = self.model else {
            return Err(Error::Config(
                "no model: hand one to .model(…) — an OciChatModel (OciSetup::from_env(…)?.build()?) or any ChatModel"
                    .into(),
            ));
        };
        let mut by_name = HashMap::new();
        for (position, tool) in self.tools.iter().enumerate() {
            if by_name.insert(tool.name().to_owned(), position).is_some() {
                return Err(Error::Config(format!("two tools are named `{}`", tool.name())));
            }
        }
        Ok(Agent {
            inner: Arc::new(Inner {
                name: self.name,
                model,
                system_prompt: self.system_prompt,
                params: self.params,
                tools: self.tools.into_iter().map(RegisteredTool::new).collect(),
                by_name,
                max_iterations: self.max_iterations,
                token_budget: self.token_budget,
                time_budget: self.time_budget,
                streaming: self.streaming,
                max_concurrent_tools: self.max_concurrent_tools,
                tool_timeout: self.tool_timeout,
                max_answer_bytes: self.max_answer_bytes,
                approval: self.approval,
                guard: self.guard,
                documents: self.documents,
            }),
        })
    }
}
