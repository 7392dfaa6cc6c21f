//! The agent: a model, tools, and the settings of its loop.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use locus_providers::{GenerationParams, Message, SharedChatModel};

use crate::error::Error;
use crate::events::{AgentEvent, AgentResult, AgentStream};
use crate::tools::RegisteredTool;

/// An agent: a chat model, tools, and the settings of its loop. Cheap to clone.
///
/// ```no_run
/// use locus_agent::{tools::builtin, Agent, OciSetup};
/// # async fn run() -> Result<(), locus_agent::Error> {
/// let model = OciSetup::new("ocid1.generativeaiendpoint.oc1.us-chicago-1.example")?
///     .compartment_id("ocid1.compartment.oc1..example")
///     .build()?; // auth, client and model, each built once
/// let agent = Agent::builder()
///     .model(model)
///     .system_prompt("You are a careful assistant.")
///     .tool(builtin::calculator())
///     .build()?;
/// let result = agent.run_to_completion("What is 17*23?").await?;
/// println!("{} ({:?})", result.text, result.stop_reason);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Agent {
    pub(crate) inner: Arc<Inner>,
}

/// What every clone of an agent shares.
pub(crate) struct Inner {
    pub name: Option<String>,
    pub model: SharedChatModel,
    pub system_prompt: Option<String>,
    pub params: GenerationParams,
    pub tools: Vec<RegisteredTool>,
    pub by_name: HashMap<String, usize>,
    pub max_iterations: u32,
    pub token_budget: Option<u64>,
    pub time_budget: Option<Duration>,
    pub streaming: bool,
    pub max_concurrent_tools: usize,
    pub tool_timeout: Duration,
    pub max_answer_bytes: usize,
    pub approval: Option<crate::tools::SharedApproval>,
    pub guard: Option<std::sync::Arc<dyn crate::guard::Guard>>,
    pub documents: Vec<locus_providers::Document>,
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

impl Agent {
    /// The model's name.
    pub fn model_name(&self) -> &str {
        self.inner.model.name()
    }

    /// Runs the agent on `input` (text, or a [`Message`] with images), streaming every event as it happens.
    pub fn run(&self, input: impl Into<Message>) -> AgentStream {
        let agent = self.clone();
        let messages = vec![input.into()];
        AgentStream::new(move |emitter| async move {
            agent.drive(messages, &emitter).await;
        })
    }

    /// Runs the agent on `input` and returns how it ended.
    pub async fn run_to_completion(&self, input: impl Into<Message>) -> Result<AgentResult, Error> {
        finish(self.run(input)).await
    }
}

/// Drains a run's events into its result.
pub(crate) async fn finish(mut stream: AgentStream) -> Result<AgentResult, Error> {
    let mut result = None;
    while let Some(event) = stream.next().await {
        if let AgentEvent::Finished(r) = event? {
            result = Some(r);
        }
    }
    result.ok_or(Error::NoResult)
}
