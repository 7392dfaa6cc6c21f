//! The chat model interface agents use: a whole answer, or its events as
//! they arrive.

use std::fmt;
use std::sync::Arc;

use futures::stream::BoxStream;

use crate::error::Error;
use crate::types::{ChatRequest, ChatResponse, ModelEvent};

/// A stream of model events.
pub type EventStream = BoxStream<'static, Result<ModelEvent, Error>>;

/// A chat model: a whole answer, or its events as they arrive.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync + fmt::Debug {
    /// A name for logs and errors (the model id).
    fn name(&self) -> &str;

    /// The whole answer.
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, Error>;

    /// The answer as events; errors arrive as items.
    async fn stream(&self, request: &ChatRequest) -> EventStream;
}

/// A shared chat model.
pub type SharedChatModel = Arc<dyn ChatModel>;

/// A whole response as the events a stream would have carried.
pub fn response_events(response: ChatResponse) -> Vec<ModelEvent> {
    let mut events = Vec::new();
    if let Some(reasoning) = response.reasoning {
        events.push(ModelEvent::ReasoningDelta(reasoning));
    }
    let text = response.message.text();
    if !text.is_empty() {
        events.push(ModelEvent::TextDelta(text));
    }
    for (index, call) in response.message.tool_calls.into_iter().enumerate() {
        events.push(ModelEvent::ToolCallDelta {
            index,
            arguments: call.arguments_text(),
            id: Some(call.id),
            name: Some(call.name),
        });
    }
    events.extend(response.citations.into_iter().map(ModelEvent::Citation));
    events.push(ModelEvent::Finished(response.finish_reason));
    if let Some(usage) = response.usage {
        events.push(ModelEvent::Usage(usage));
    }
    events
}
