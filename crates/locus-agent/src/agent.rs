//! The agent: a model, tools, and the loop between them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use locus_providers::{
    ApiFormat, ChatRequest, ChatResponse, DEFAULT_MAX_ANSWER_BYTES, FinishReason, GenerationParams, Message,
    ModelEvent, SharedChatModel, StreamAccumulator, ToolCall, ToolChoice, ToolSpec, Usage,
};
use oci_auth::{AuthType, SharedEnv};
use oci_genai_transport::{GenAiClient, Limits};

use crate::error::Error;
use crate::events::{AgentEvent, AgentResult, AgentStream, Emitter, StopReason, ToolCallRecord};
use crate::registry::{ModelRegistry, ModelSettings};
use crate::tools::{RegisteredTool, SharedTool, Tool};

const SUMMARY_REQUEST: &str = "You have reached the maximum number of steps. Do not call tools. Summarise what you \
                               found and give the best answer you can.";
/// The same call with the same arguments this many times is a loop.
const LOOP_THRESHOLD: usize = 3;

/// An agent: a chat model, tools, and the settings of its loop. Cheap to clone.
///
/// ```no_run
/// use locus_agent::{tools::builtin, Agent};
/// # async fn run() -> Result<(), locus_agent::Error> {
/// let agent = Agent::builder()
///     .model("oci:ocid1.generativeaiendpoint.oc1.us-chicago-1.example")
///     .compartment_id("ocid1.compartment.oc1..example")
///     .system_prompt("You are a careful assistant.")
///     .tool(builtin::calculator())
///     .build()?;
/// let result = agent.run_to_completion("What is 17*23?").await?;
/// println!("{} ({:?})", result.text, result.stop_reason);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Agent {
    inner: Arc<Inner>,
}

struct Inner {
    model: SharedChatModel,
    system_prompt: Option<String>,
    params: GenerationParams,
    tools: Vec<RegisteredTool>,
    by_name: HashMap<String, usize>,
    max_iterations: u32,
    token_budget: Option<u64>,
    time_budget: Option<Duration>,
    streaming: bool,
    max_concurrent_tools: usize,
    tool_timeout: Duration,
    max_answer_bytes: usize,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("model", &self.inner.model.name())
            .field("tools", &self.inner.tools.iter().map(|t| t.tool.name().to_owned()).collect::<Vec<_>>())
            .field("max_iterations", &self.inner.max_iterations)
            .field("streaming", &self.inner.streaming)
            .finish_non_exhaustive()
    }
}

/// Configures an [`Agent`].
pub struct AgentBuilder {
    model: Option<String>,
    chat_model: Option<SharedChatModel>,
    registry: ModelRegistry,
    settings: ModelSettings,
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
}

impl std::fmt::Debug for AgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentBuilder").field("model", &self.model).finish_non_exhaustive()
    }
}

impl Default for AgentBuilder {
    fn default() -> Self {
        AgentBuilder {
            model: None,
            chat_model: None,
            registry: ModelRegistry::default(),
            settings: ModelSettings::default(),
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
        }
    }
}

impl AgentBuilder {
    /// The model: `oci:<model name | model OCID | endpoint OCID>` (the prefix is optional for OCIDs).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// A ready chat model instead of a model string.
    pub fn chat_model(mut self, model: SharedChatModel) -> Self {
        self.chat_model = Some(model);
        self
    }

    /// The registry model strings are resolved with (default: `oci`).
    pub fn registry(mut self, registry: ModelRegistry) -> Self {
        self.registry = registry;
        self
    }

    /// The compartment (required for dedicated endpoints, checked before any request).
    pub fn compartment_id(mut self, compartment_id: impl Into<String>) -> Self {
        self.settings.compartment_id = Some(compartment_id.into());
        self
    }

    /// The OCI config profile.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.settings.profile = Some(profile.into());
        self
    }

    /// The OCI config file.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.config_file = Some(path.into());
        self
    }

    /// The auth type.
    pub fn auth_type(mut self, auth_type: AuthType) -> Self {
        self.settings.auth_type = Some(auth_type);
        self
    }

    /// The region, overriding the configuration.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.settings.region = Some(region.into());
        self
    }

    /// The service endpoint, instead of the regional one.
    pub fn service_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.service_endpoint = Some(url.into());
        self
    }

    /// The request shape (needed for a Cohere model on a dedicated endpoint).
    pub fn api_format(mut self, format: ApiFormat) -> Self {
        self.settings.api_format = Some(format);
        self
    }

    /// A ready GenAI client (its auth and endpoint) for `oci:` models.
    pub fn client(mut self, client: GenAiClient) -> Self {
        self.settings.client = Some(client);
        self
    }

    /// Where configuration variables come from (default: the process).
    pub fn env(mut self, env: SharedEnv) -> Self {
        self.settings.env = Some(env);
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

    /// Whether a stream the endpoint refuses falls back to a whole answer
    /// (default: yes, announced by [`AgentEvent::ModelFallback`](crate::AgentEvent::ModelFallback);
    /// the rest of the run then asks for whole answers).
    pub fn allow_fallback(mut self, allow: bool) -> Self {
        self.settings.allow_fallback = allow;
        self
    }

    /// The client's read timeout, stream deadline and body cap, for `oci:` models
    /// (default: [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.settings.limits = Some(limits);
        self
    }

    /// Allows a plain-http service endpoint off loopback (default: refused).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.settings.allow_http = allow;
        self
    }

    /// The most bytes of text, reasoning and tool-call arguments one answer
    /// may hold (default 16 MiB); past it the run fails with the partial
    /// answer kept ([`Error::Incomplete`]).
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes;
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

    /// Builds the agent; configuration problems (a DAC model without a
    /// compartment, an unknown provider, a broken profile) are reported here,
    /// before any request.
    pub fn build(self) -> Result<Agent, Error> {
        let model = match (self.chat_model, &self.model) {
            (Some(model), _) => model,
            (None, Some(name)) => self.registry.create(name, &self.settings)?,
            (None, None) => return Err(Error::Config("no model: set .model(\"oci:<model or endpoint OCID>\")".into())),
        };
        let mut by_name = HashMap::new();
        for (position, tool) in self.tools.iter().enumerate() {
            if by_name.insert(tool.name().to_owned(), position).is_some() {
                return Err(Error::Config(format!("two tools are named `{}`", tool.name())));
            }
        }
        Ok(Agent {
            inner: Arc::new(Inner {
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
            }),
        })
    }
}

impl Agent {
    /// Starts configuring.
    pub fn builder() -> AgentBuilder {
        AgentBuilder::default()
    }

    /// The model's name.
    pub fn model_name(&self) -> &str {
        self.inner.model.name()
    }

    /// A conversation that keeps its history across runs.
    pub fn conversation(&self) -> Conversation {
        Conversation { agent: self.clone(), history: Vec::new(), pending: None }
    }

    /// Runs the agent on `input`, streaming every event as it happens.
    pub fn run(&self, input: impl Into<String>) -> AgentStream {
        let agent = self.clone();
        let messages = vec![Message::user(input)];
        AgentStream::new(move |emitter| async move {
            agent.drive(messages, &emitter).await;
        })
    }

    /// Runs the agent on `input` and returns how it ended.
    pub async fn run_to_completion(&self, input: impl Into<String>) -> Result<AgentResult, Error> {
        finish(self.run(input)).await
    }

    /// The loop. Returns the new history (without the system prompt).
    async fn drive(&self, mut history: Vec<Message>, emitter: &Emitter) -> Option<Vec<Message>> {
        let inner = &self.inner;
        let started = Instant::now();
        let specs: Vec<ToolSpec> = inner
            .tools
            .iter()
            .map(|t| ToolSpec {
                name: t.tool.name().to_owned(),
                description: t.tool.description().to_owned(),
                parameters: t.tool.parameters(),
            })
            .collect();
        let mut total = Usage::default();
        let mut records: Vec<ToolCallRecord> = Vec::new();
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        let mut iteration = 0;
        // Cleared for the rest of the run once the endpoint has refused a stream.
        let mut streaming = inner.streaming;
        let mut last_finish: Option<FinishReason> = None;
        let conclude = |text: String,
                        stop_reason,
                        finish_reason: Option<FinishReason>,
                        total: Usage,
                        iterations,
                        records: Vec<ToolCallRecord>| {
            emitter.emit(AgentEvent::Finished(AgentResult {
                text,
                stop_reason,
                finish_reason,
                usage: total,
                iterations,
                tool_calls: records,
            }));
        };
        loop {
            let over_budget = inner.token_budget.is_some_and(|b| total.total_tokens >= b)
                || inner.time_budget.is_some_and(|b| started.elapsed() >= b);
            if over_budget {
                conclude(last_text(&history), StopReason::Budget, last_finish, total, iteration, records);
                return Some(history);
            }
            if iteration >= inner.max_iterations {
                // One last call, without tools, to summarise.
                history.push(Message::user(SUMMARY_REQUEST));
                let mut params = inner.params.clone();
                params.tool_choice = Some(ToolChoice::None);
                let request = self.request(&history, Vec::new(), params);
                iteration += 1;
                let response = match self.call_model(&request, iteration, emitter, &mut streaming).await {
                    Ok(response) => response,
                    Err(e) => return fail(emitter, e),
                };
                add_usage(&mut total, &response);
                history.push(response.message.clone());
                let finish = Some(response.finish_reason.clone());
                conclude(response.message.text(), StopReason::MaxIterations, finish, total, iteration, records);
                return Some(history);
            }

            iteration += 1;
            let request = self.request(&history, specs.clone(), inner.params.clone());
            let response = match self.call_model(&request, iteration, emitter, &mut streaming).await {
                Ok(response) => response,
                Err(e) => return fail(emitter, e),
            };
            add_usage(&mut total, &response);
            let calls = response.message.tool_calls.clone();
            history.push(response.message.clone());
            last_finish = Some(response.finish_reason.clone());
            // A cut-off or filtered answer ends the run as such; its tool calls may be cut too.
            let shortfall = match response.finish_reason {
                FinishReason::Length => Some(StopReason::MaxTokens),
                FinishReason::ContentFilter => Some(StopReason::ContentFiltered),
                _ => None,
            };
            if let Some(stop) = shortfall {
                conclude(response.message.text(), stop, last_finish, total, iteration, records);
                return Some(history);
            }
            if calls.is_empty() {
                conclude(response.message.text(), StopReason::Completed, last_finish, total, iteration, records);
                return Some(history);
            }

            let looping = calls.iter().any(|call| {
                let count = seen.entry((call.name.clone(), call.arguments_text())).or_default();
                *count += 1;
                *count >= LOOP_THRESHOLD
            });
            if looping {
                conclude(response.message.text(), StopReason::LoopDetected, last_finish, total, iteration, records);
                return Some(history);
            }

            for call in &calls {
                emitter.emit(AgentEvent::ToolCallStarted {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                });
            }
            let runs = calls.iter().cloned().map(|call| {
                let agent = self.clone();
                async move { agent.execute(&call).await }
            });
            let results: Vec<(ToolCallRecord, bool)> =
                futures::stream::iter(runs).buffered(inner.max_concurrent_tools).collect().await;
            let mut terminal_output = None;
            for (record, terminal) in results {
                emitter.emit(AgentEvent::ToolCallFinished(record.clone()));
                history.push(Message::tool_result(record.id.clone(), record.output.clone(), record.is_error));
                if terminal && !record.is_error && terminal_output.is_none() {
                    terminal_output = Some(record.output.clone());
                }
                records.push(record);
            }
            if let Some(output) = terminal_output {
                conclude(output, StopReason::TerminalTool, last_finish, total, iteration, records);
                return Some(history);
            }
        }
    }

    fn request(&self, history: &[Message], tools: Vec<ToolSpec>, params: GenerationParams) -> ChatRequest {
        let mut messages = Vec::with_capacity(history.len() + 1);
        if let Some(prompt) = &self.inner.system_prompt {
            messages.push(Message::system(prompt.clone()));
        }
        messages.extend_from_slice(history);
        ChatRequest { messages, tools, params }
    }

    /// One model call. A failure after the answer began keeps what arrived
    /// ([`Error::Incomplete`]); a stream without a finish event is one.
    async fn call_model(
        &self,
        request: &ChatRequest,
        iteration: u32,
        emitter: &Emitter,
        streaming: &mut bool,
    ) -> Result<ChatResponse, Error> {
        let model = &self.inner.model;
        let response = if *streaming {
            let mut stream = model.stream(request).await;
            let mut accumulator = StreamAccumulator::with_max_answer_bytes(self.inner.max_answer_bytes);
            let mut received = false;
            let interrupted = |received: bool, accumulator: &StreamAccumulator, source| match received {
                true => Error::Incomplete { partial_text: accumulator.text().to_owned(), source: Box::new(source) },
                false => Error::Model(source),
            };
            while let Some(event) = stream.next().await {
                let event = event.map_err(|e| interrupted(received, &accumulator, e))?;
                received = true;
                let announced = match &event {
                    ModelEvent::TextDelta(text) => Some(AgentEvent::TextDelta(text.clone())),
                    ModelEvent::ReasoningDelta(text) => Some(AgentEvent::ReasoningDelta(text.clone())),
                    ModelEvent::Fallback { reason } => {
                        *streaming = false;
                        Some(AgentEvent::ModelFallback { reason: reason.clone() })
                    }
                    _ => None,
                };
                accumulator.push(event).map_err(|e| interrupted(true, &accumulator, e))?;
                if let Some(announced) = announced {
                    emitter.emit(announced);
                }
            }
            if !accumulator.is_finished() {
                return Err(interrupted(received, &accumulator, locus_providers::Error::NoFinishReason));
            }
            accumulator.finish()
        } else {
            let response = model.complete(request).await?;
            let text = response.message.text();
            if !text.is_empty() {
                emitter.emit(AgentEvent::TextDelta(text));
            }
            response
        };
        emitter.emit(AgentEvent::IterationFinished { iteration, usage: response.usage });
        Ok(response)
    }

    /// Runs one call; every failure becomes an error result the model can read.
    async fn execute(&self, call: &ToolCall) -> (ToolCallRecord, bool) {
        let started = Instant::now();
        let inner = &self.inner;
        let (output, is_error, terminal) = match inner.by_name.get(&call.name).map(|&i| &inner.tools[i]) {
            None => {
                let known: Vec<&str> = inner.tools.iter().map(|t| t.tool.name()).collect();
                (format!("unknown tool `{}`; available tools: {}", call.name, known.join(", ")), true, false)
            }
            Some(_) if call.parse_error.is_some() => (
                format!(
                    "the arguments are not valid JSON ({}); send them again as a JSON object",
                    call.parse_error.as_deref().unwrap_or_default()
                ),
                true,
                false,
            ),
            Some(registered) => match registered.validate(&call.arguments) {
                Some(problems) => (format!("invalid arguments for `{}`: {problems}", call.name), true, false),
                None => {
                    let tool = &registered.tool;
                    let timeout = tool.timeout().unwrap_or(inner.tool_timeout);
                    match tokio::time::timeout(timeout, tool.call(call.arguments.clone())).await {
                        Ok(Ok(output)) => (output.to_text(), false, tool.is_terminal()),
                        Ok(Err(e)) => (format!("`{}` failed: {e}", call.name), true, false),
                        Err(_) => (format!("`{}` timed out after {} s", call.name, timeout.as_secs_f64()), true, false),
                    }
                }
            },
        };
        let record = ToolCallRecord {
            id: call.id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
            is_error,
            output,
            duration: started.elapsed(),
        };
        (record, terminal)
    }
}

fn fail(emitter: &Emitter, error: Error) -> Option<Vec<Message>> {
    emitter.fail(error);
    None
}

fn add_usage(total: &mut Usage, response: &ChatResponse) {
    if let Some(usage) = &response.usage {
        total.add(usage);
    }
}

fn last_text(history: &[Message]) -> String {
    history.iter().rev().find(|m| m.role == locus_providers::Role::Assistant).map(Message::text).unwrap_or_default()
}

/// Drains a run's events into its result.
async fn finish(mut stream: AgentStream) -> Result<AgentResult, Error> {
    let mut result = None;
    while let Some(event) = stream.next().await {
        if let AgentEvent::Finished(r) = event? {
            result = Some(r);
        }
    }
    result.ok_or_else(|| Error::Config("the run ended without a result".into()))
}

/// A conversation: history kept across runs.
///
/// ```no_run
/// # async fn run(agent: locus_agent::Agent) -> Result<(), locus_agent::Error> {
/// let mut conversation = agent.conversation();
/// conversation.send("My name is Ada.").await?;
/// let reply = conversation.send("What is my name?").await?;
/// # let _ = reply; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Conversation {
    agent: Agent,
    history: Vec<Message>,
    /// The history a run in progress will leave.
    pending: Option<futures::channel::oneshot::Receiver<Vec<Message>>>,
}

impl Conversation {
    /// The messages so far (without the system prompt).
    pub fn history(&self) -> &[Message] {
        &self.history
    }

    /// Runs the agent on `input` after the history, streaming its events; the
    /// history is updated when the stream has been read to its end.
    pub fn run(&mut self, input: impl Into<String>) -> AgentStream {
        let agent = self.agent.clone();
        let mut messages = self.history.clone();
        messages.push(Message::user(input));
        let (sender, receiver) = futures::channel::oneshot::channel();
        self.pending = Some(receiver);
        AgentStream::new(move |emitter| async move {
            if let Some(history) = agent.drive(messages, &emitter).await {
                let _ = sender.send(history);
            }
        })
    }

    /// Runs the agent on `input` and keeps the exchange in the history.
    pub async fn send(&mut self, input: impl Into<String>) -> Result<AgentResult, Error> {
        let stream = self.run(input);
        let result = finish(stream).await;
        self.settle();
        result
    }

    /// Takes the history of the last completed run.
    pub fn settle(&mut self) {
        if let Some(mut receiver) = self.pending.take() {
            if let Ok(Some(history)) = receiver.try_recv() {
                self.history = history;
            }
        }
    }
}
