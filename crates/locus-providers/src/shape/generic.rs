//! The GENERIC shape (OpenAI-like): Meta, OpenAI, xAI, Google, Mistral, Qwen,
//! and most dedicated endpoints.

use std::borrow::Cow;

use oci_genai_transport::ServingMode;
use oci_genai_transport::models as wire;
use oci_genai_transport::sse::SseEvent;
use serde::Deserialize;

use super::chunk_view::{JoinedText, Str, UsageView, keep_range, neutral_usage, range_in};

use super::{RequestShape, StreamState};
use crate::error::Error;
use crate::types::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, Message, ModelEvent, ReasoningEffort, ResponseFormat, Role,
    ToolCall, ToolChoice, Usage,
};

/// The GENERIC request shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenericShape;

/// OpenAI reasoning models take `maxCompletionTokens` and only the default temperature.
pub(crate) fn is_openai_reasoning(model: &str) -> bool {
    crate::profiles::profile(model).reasoning
}

/// The temperature to send to `model`: none to a reasoning model unless it
/// is the default (1), with a warning, since those models refuse any other.
pub(crate) fn sendable_temperature(model: &str, temperature: Option<f64>) -> Option<f64> {
    match temperature {
        Some(t) if is_openai_reasoning(model) && (t - 1.0).abs() > f64::EPSILON => {
            tracing::warn!(
                model,
                temperature = t,
                "reasoning models accept only the default temperature; not sending it"
            );
            None
        }
        other => other,
    }
}

/// Google models reject tool results whose content is a list of parts.
fn wants_flat_tool_results(model: &str) -> bool {
    crate::profiles::profile(model).flat_tool_results
}

fn text_content(text: String) -> wire::ChatContent {
    wire::ChatContent::Text(wire::TextContent { text: Some(text) })
}

fn content(parts: &[ContentPart]) -> Option<Vec<wire::ChatContent>> {
    if parts.is_empty() {
        return None;
    }
    Some(
        parts
            .iter()
            .map(|part| match part {
                ContentPart::Text(text) => text_content(text.clone()),
                ContentPart::Image { source, detail } => wire::ChatContent::Image(wire::ImageContent {
                    image_url: Some(wire::ImageUrl {
                        url: source.to_url(),
                        detail: detail.as_deref().map(|d| wire::Detail::from(d.to_ascii_uppercase().as_str())),
                    }),
                }),
            })
            .collect(),
    )
}

/// A tool result's text; the service has no error flag, so errors say so in words.
pub(crate) fn tool_result_text(message: &Message) -> String {
    if message.is_error { format!("ERROR: {}", message.text()) } else { message.text() }
}

fn message(message: &Message, model: &str) -> wire::Message {
    match message.role {
        Role::System => wire::Message::System(wire::SystemMessage { content: content(&message.content), name: None }),
        Role::Developer => wire::Message::Developer(wire::DeveloperMessage {
            content: content(&message.content),
            ..Default::default()
        }),
        Role::User => wire::Message::User(wire::UserMessage { content: content(&message.content), name: None }),
        Role::Assistant => wire::Message::Assistant(wire::AssistantMessage {
            content: content(&message.content),
            tool_calls: (!message.tool_calls.is_empty()).then(|| {
                message
                    .tool_calls
                    .iter()
                    .map(|call| {
                        wire::ToolCall::Function(wire::FunctionCall {
                            id: call.id.clone(),
                            name: Some(call.name.clone()),
                            arguments: Some(call.arguments_text()),
                        })
                    })
                    .collect()
            }),
            ..Default::default()
        }),
        Role::Tool if wants_flat_tool_results(model) => wire::Message::Unknown(serde_json::json!({
            "role": "TOOL",
            "toolCallId": message.tool_call_id,
            "content": tool_result_text(message),
        })),
        Role::Tool => wire::Message::Tool(wire::ToolMessage {
            content: Some(vec![text_content(tool_result_text(message))]),
            tool_call_id: message.tool_call_id.clone(),
        }),
    }
}

fn upper(value: &str) -> String {
    value.to_ascii_uppercase()
}

impl RequestShape for GenericShape {
    fn name(&self) -> &'static str {
        "GENERIC"
    }

    fn build_request(&self, request: &ChatRequest, serving: &ServingMode) -> Result<wire::BaseChatRequest, Error> {
        let model = serving.id();
        let params = &request.params;
        if !request.documents.is_empty() || params.citations.is_some() {
            let advice = "put them in a message, or use a Cohere model (COHERE, COHEREV2)";
            let what = if request.documents.is_empty() { "citations" } else { "documents" };
            return Err(Error::unsupported(what, model, "GENERIC", advice));
        }
        let reasoning_model = is_openai_reasoning(model);
        let temperature = sendable_temperature(model, params.temperature);
        let max_tokens = params.max_tokens.map(i64::from);
        let generic = wire::GenericChatRequest {
            messages: Some(request.messages.iter().map(|m| message(m, model)).collect()),
            reasoning_effort: params.reasoning_effort.map(|effort| {
                wire::GenericChatRequestReasoningEffort::from(match effort {
                    ReasoningEffort::None => "NONE",
                    ReasoningEffort::Minimal => "MINIMAL",
                    ReasoningEffort::Low => "LOW",
                    ReasoningEffort::Medium => "MEDIUM",
                    ReasoningEffort::High => "HIGH",
                })
            }),
            seed: params.seed,
            top_k: params.top_k.map(i64::from),
            top_p: params.top_p,
            temperature,
            frequency_penalty: params.frequency_penalty,
            presence_penalty: params.presence_penalty,
            stop: (!params.stop.is_empty()).then(|| params.stop.clone()),
            max_tokens: if reasoning_model { None } else { max_tokens },
            max_completion_tokens: if reasoning_model { max_tokens } else { None },
            response_format: params.response_format.as_ref().map(|format| match format {
                ResponseFormat::Text => wire::ResponseFormat::Text(wire::TextResponseFormat {}),
                ResponseFormat::JsonObject => wire::ResponseFormat::JsonObject(wire::JsonObjectResponseFormat {}),
                ResponseFormat::JsonSchema { name, schema, strict } => {
                    wire::ResponseFormat::JsonSchema(wire::JsonSchemaResponseFormat {
                        json_schema: Some(wire::ResponseJsonSchema {
                            name: name.clone(),
                            description: None,
                            schema: Some(schema.clone()),
                            is_strict: Some(*strict),
                        }),
                    })
                }
            }),
            tool_choice: params.tool_choice.as_ref().map(|choice| match choice {
                ToolChoice::Auto => wire::ToolChoice::Auto(wire::ToolChoiceAuto {}),
                ToolChoice::None => wire::ToolChoice::None(wire::ToolChoiceNone {}),
                ToolChoice::Required => wire::ToolChoice::Required(wire::ToolChoiceRequired {}),
                ToolChoice::Named(name) => {
                    wire::ToolChoice::Function(wire::ToolChoiceFunction { name: Some(name.clone()) })
                }
            }),
            is_parallel_tool_calls: params.parallel_tool_calls,
            verbosity: params.verbosity.map(|v| wire::GenericChatRequestVerbosity::from(upper(v.as_str()).as_str())),
            service_tier: params
                .service_tier
                .map(|t| wire::GenericChatRequestServiceTier::from(upper(t.as_str()).as_str())),
            web_search_options: params.web_search.as_ref().map(|search| wire::WebSearchOptions {
                search_context_size: search
                    .context_size
                    .map(|s| wire::WebSearchOptionsSearchContextSize::from(upper(s.as_str()).as_str())),
                user_location: search.user_location.as_ref().map(|l| wire::ApproximateLocation {
                    city: l.city.clone(),
                    region: l.region.clone(),
                    country: l.country.clone(),
                    timezone: l.timezone.clone(),
                }),
            }),
            tools: (!request.tools.is_empty()).then(|| {
                request
                    .tools
                    .iter()
                    .map(|tool| {
                        wire::ToolDefinition::Function(wire::FunctionDefinition {
                            name: Some(tool.name.clone()),
                            description: Some(tool.description.clone()),
                            parameters: Some(tool.parameters.clone()),
                        })
                    })
                    .collect()
            }),
            ..Default::default()
        };
        Ok(wire::BaseChatRequest::Generic(generic))
    }

    fn parse_response(&self, result: wire::ChatResult) -> Result<ChatResponse, Error> {
        let Some(wire::BaseChatResponse::Generic(reply)) = result.chat_response else {
            return Err(Error::UnexpectedReply("expected a GENERIC chat response".into()));
        };
        let choice = reply.choices.unwrap_or_default().into_iter().next();
        let (text, tool_calls, reasoning) = match choice.as_ref().and_then(|c| c.message.as_ref()) {
            Some(wire::Message::Assistant(m)) => (
                texts(m.content.as_deref()),
                m.tool_calls
                    .iter()
                    .flatten()
                    .filter_map(|call| match call {
                        wire::ToolCall::Function(f) => Some(ToolCall::from_text(
                            if f.id.is_empty() { crate::types::new_call_id() } else { f.id.clone() },
                            f.name.clone().unwrap_or_default(),
                            f.arguments.as_deref().unwrap_or_default(),
                        )),
                        wire::ToolCall::Unknown(_) => None,
                    })
                    .collect(),
                m.reasoning_content.clone(),
            ),
            _ => (String::new(), Vec::new(), None),
        };
        let finish = choice.and_then(|c| c.finish_reason).map(|r| FinishReason::from_wire(&r));
        let finish_reason = FinishReason::settle(finish, !tool_calls.is_empty(), "none given");
        Ok(ChatResponse {
            message: Message::assistant_with_tool_calls(text, tool_calls),
            reasoning,
            finish_reason,
            usage: reply.usage.as_ref().map(usage),
            citations: Vec::new(),
        })
    }

    fn parse_stream_chunk(
        &self,
        event: SseEvent,
        _state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error> {
        // Text borrowed from the event (nearly every delta) is cut out of the event's own buffer afterwards.
        let mut borrowed_text = None;
        let chunk: Chunk<'_> = serde_json::from_str(&event.data)
            .map_err(|e| Error::UnexpectedReply(format!("a stream chunk is not GENERIC JSON: {e}")))?;
        if let Some(message) = chunk.message {
            if let Some(Str(reasoning)) = message.reasoning_content.filter(|r| !r.0.is_empty()) {
                out.push(ModelEvent::ReasoningDelta(reasoning.into_owned()));
            }
            if let Some(text) = message.content.0 {
                let range = match &text {
                    Cow::Borrowed(text) => range_in(&event.data, text),
                    Cow::Owned(_) => None,
                };
                match range {
                    Some(range) => borrowed_text = Some((out.len(), range)),
                    None => out.push(ModelEvent::TextDelta(text.into_owned())),
                }
            }
            for (position, call) in message.tool_calls.into_iter().flatten().enumerate() {
                out.push(ModelEvent::ToolCallDelta {
                    index: call.index.unwrap_or(position),
                    id: call.id.map(|s| s.0.into_owned()),
                    name: call.name.map(|s| s.0.into_owned()),
                    arguments: call.arguments.map(|s| s.0.into_owned()).unwrap_or_default(),
                });
            }
        }
        if let Some(reason) = chunk.finish_reason {
            out.push(ModelEvent::Finished(FinishReason::from_wire(&reason.0)));
        }
        if let Some(usage) = chunk.usage {
            out.push(ModelEvent::Usage(usage.usage()));
        }
        if let Some((at, range)) = borrowed_text {
            out.insert(at, ModelEvent::TextDelta(keep_range(event.data, range)));
        }
        Ok(())
    }
}

fn texts(content: Option<&[wire::ChatContent]>) -> String {
    content
        .unwrap_or_default()
        .iter()
        .filter_map(|part| match part {
            wire::ChatContent::Text(t) => t.text.as_deref(),
            _ => None,
        })
        .collect()
}

pub(crate) fn usage(u: &wire::Usage) -> Usage {
    let reasoning = u.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens);
    let cached = u.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens);
    neutral_usage(u.prompt_tokens, u.completion_tokens, u.total_tokens, reasoning, cached)
}

/// A GENERIC stream chunk, read in place (see [`chunk_view`](super::chunk_view)):
/// unknown fields such as `pad` are skipped.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    message: Option<ChunkMessage<'a>>,
    #[serde(rename = "finishReason", borrow)]
    finish_reason: Option<Str<'a>>,
    usage: Option<UsageView>,
}

#[derive(Deserialize)]
struct ChunkMessage<'a> {
    #[serde(borrow, default)]
    content: JoinedText<'a>,
    #[serde(rename = "toolCalls", borrow)]
    tool_calls: Option<Vec<ChunkToolCall<'a>>>,
    #[serde(rename = "reasoningContent", borrow)]
    reasoning_content: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct ChunkToolCall<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    arguments: Option<Str<'a>>,
    index: Option<usize>,
}
