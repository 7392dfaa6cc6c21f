//! A model provider of your own, registered under a prefix. Runs offline.
//!
//! ```sh
//! cargo run -p locus-agent --example custom_provider
//! ```

use std::sync::Arc;

use locus_agent::{Agent, ModelProvider, ModelRegistry};
use locus_providers::{
    ChatModel, ChatRequest, ChatResponse, EventStream, FinishReason, Message, SharedChatModel, response_events,
};

/// Answers every question by echoing it.
#[derive(Debug)]
struct Echo;

#[async_trait::async_trait]
impl ChatModel for Echo {
    fn name(&self) -> &str {
        "echo"
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, locus_providers::Error> {
        let last = request.messages.last().map(Message::text).unwrap_or_default();
        Ok(ChatResponse {
            message: Message::assistant(format!("You said: {last}")),
            reasoning: None,
            finish_reason: FinishReason::Stop,
            usage: None,
            citations: Vec::new(),
        })
    }

    async fn stream(&self, request: &ChatRequest) -> EventStream {
        use futures::StreamExt;
        let events = match self.complete(request).await {
            Ok(response) => response_events(response).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(events).boxed()
    }
}

#[derive(Debug)]
struct EchoProvider;

impl ModelProvider for EchoProvider {
    fn create(&self, _model_id: &str) -> Result<SharedChatModel, locus_agent::Error> {
        Ok(Arc::new(Echo))
    }
}

#[tokio::main]
async fn main() -> Result<(), locus_agent::Error> {
    let mut registry = ModelRegistry::default();
    registry.register("echo", EchoProvider);
    let agent = Agent::builder().chat_model(registry.create("echo:any")?).build()?;
    println!("{}", agent.run_to_completion("hello").await?.text);
    Ok(())
}
