//! The COHEREV2 shape: Cohere's V2 chat (`cohere.command-a-*`): messages
//! with roles, tool calls and tool messages, documents, thinking.

use std::borrow::Cow;

use oci_genai_transport::ServingMode;
use oci_genai_transport::models as wire;
use oci_genai_transport::sse::SseEvent;
use serde::Deserialize;

use super::chunk_view::{Str, UsageView};
use super::generic::tool_result_text;
use super::{RequestShape, StreamState};
use crate::error::Error;
use crate::types::{
    ChatRequest, ChatResponse, Citation, CitationMode, ContentPart, FinishReason, Message, ModelEvent, ResponseFormat,
    Role, ToolCall, ToolChoice,
};

/// The COHEREV2 request shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct CohereV2Shape;

fn text(text: &str) -> wire::CohereContentV2 {
    wire::CohereContentV2::Text(wire::CohereTextContentV2 { text: Some(text.to_owned()) })
}

fn content(parts: &[ContentPart]) -> Vec<wire::CohereContentV2> {
    parts
        .iter()
        .map(|part| match part {
            ContentPart::Text(t) => text(t),
            ContentPart::Image { source, detail } => wire::CohereContentV2::ImageUrl(wire::CohereImageContentV2 {
                image_url: Some(wire::CohereImageUrlV2 {
                    url: source.to_url(),
                    detail: detail.as_deref().map(|d| wire::Detail::from(d.to_ascii_uppercase().as_str())),
                }),
            }),
        })
        .collect()
}

fn message(message: &Message) -> wire::CohereMessageV2 {
    match message.role {
        Role::System | Role::Developer => {
            wire::CohereMessageV2::System(wire::CohereSystemMessageV2 { content: content(&message.content) })
        }
        Role::User => wire::CohereMessageV2::User(wire::CohereUserMessageV2 { content: content(&message.content) }),
        Role::Assistant => wire::CohereMessageV2::Assistant(wire::CohereAssistantMessageV2 {
            content: content(&message.content),
            tool_calls: (!message.tool_calls.is_empty()).then(|| {
                message
                    .tool_calls
                    .iter()
                    .map(|call| wire::CohereToolCallV2 {
                        id: Some(call.id.clone()),
                        r#type: Some(wire::CohereToolCallV2Type::Function),
                        function: Some(serde_json::json!({"name": call.name, "arguments": call.arguments_text()})),
                    })
                    .collect()
            }),
            ..Default::default()
        }),
        Role::Tool => wire::CohereMessageV2::Tool(wire::CohereToolMessageV2 {
            content: vec![text(&tool_result_text(message))],
            tool_call_id: message.tool_call_id.clone().unwrap_or_default(),
        }),
    }
}

fn unsupported(parameter: &'static str, model: &str, advice: &str) -> Error {
    Error::unsupported(parameter, model, "COHEREV2", advice)
}

impl RequestShape for CohereV2Shape {
    fn name(&self) -> &'static str {
        "COHEREV2"
    }

    fn build_request(&self, request: &ChatRequest, serving: &ServingMode) -> Result<wire::BaseChatRequest, Error> {
        let model = serving.id();
        let params = &request.params;
        super::cohere::refuse_openai_options(params, model, "COHEREV2")?;
        if params.parallel_tool_calls == Some(false) {
            return Err(unsupported("parallel_tool_calls = false", model, "Cohere V2 decides; leave it unset"));
        }
        let tools_choice = match &params.tool_choice {
            None | Some(ToolChoice::Auto) => None,
            Some(ToolChoice::Required) => Some(wire::CohereChatRequestV2ToolsChoice::Required),
            Some(ToolChoice::None) => Some(wire::CohereChatRequestV2ToolsChoice::None),
            Some(ToolChoice::Named(_)) => {
                return Err(unsupported("a named tool choice", model, "use required, and offer only that tool"));
            }
        };
        let response_format = match &params.response_format {
            None => None,
            Some(ResponseFormat::Text) => Some(wire::CohereResponseFormat::Text(Default::default())),
            Some(ResponseFormat::JsonObject) => Some(wire::CohereResponseFormat::JsonObject(Default::default())),
            Some(ResponseFormat::JsonSchema { schema, .. }) => {
                Some(wire::CohereResponseFormat::JsonObject(wire::CohereResponseJsonFormat {
                    schema: Some(schema.clone()),
                }))
            }
        };
        let thinking = params.reasoning_effort.map(|effort| wire::CohereThinkingV2 {
            r#type: if effort == crate::types::ReasoningEffort::None {
                wire::CohereThinkingV2Type::Disabled
            } else {
                wire::CohereThinkingV2Type::Enabled
            },
            token_budget: None,
        });
        Ok(wire::BaseChatRequest::CohereV2(wire::CohereChatRequestV2 {
            messages: request.messages.iter().map(message).collect(),
            tools: (!request.tools.is_empty()).then(|| {
                request
                    .tools
                    .iter()
                    .map(|tool| wire::CohereToolV2 {
                        r#type: wire::CohereToolV2Type::Function,
                        function: wire::Function {
                            name: tool.name.clone(),
                            description: Some(tool.description.clone()),
                            parameters: tool.parameters.clone(),
                        },
                    })
                    .collect()
            }),
            tools_choice,
            thinking,
            response_format,
            max_tokens: params.max_tokens.map(i64::from),
            temperature: params.temperature,
            top_k: params.top_k.map(i64::from),
            top_p: params.top_p,
            frequency_penalty: params.frequency_penalty,
            presence_penalty: params.presence_penalty,
            seed: params.seed,
            stop_sequences: (!params.stop.is_empty()).then(|| params.stop.clone()),
            documents: (!request.documents.is_empty()).then(|| {
                request
                    .documents
                    .iter()
                    .map(|d| super::cohere::document(d, serde_json::json!({"data": {"text": d.text}})))
                    .collect()
            }),
            citation_options: params.citations.map(|mode| wire::CitationOptionsV2 {
                mode: Some(match mode {
                    CitationMode::Fast => wire::CitationOptionsV2Mode::Fast,
                    CitationMode::Accurate => wire::CitationOptionsV2Mode::Accurate,
                    CitationMode::Off => wire::CitationOptionsV2Mode::Off,
                }),
            }),
            ..Default::default()
        }))
    }

    fn parse_response(&self, result: wire::ChatResult) -> Result<ChatResponse, Error> {
        let Some(wire::BaseChatResponse::CohereV2(reply)) = result.chat_response else {
            return Err(Error::UnexpectedReply("expected a COHEREV2 chat response".into()));
        };
        let message = reply.message.unwrap_or_default();
        let (mut answer, mut thinking) = (String::new(), String::new());
        for part in &message.content {
            match part {
                wire::CohereContentV2::Text(t) => answer.push_str(t.text.as_deref().unwrap_or_default()),
                wire::CohereContentV2::Thinking(t) => thinking.push_str(t.thinking.as_deref().unwrap_or_default()),
                _ => {}
            }
        }
        let tool_calls: Vec<ToolCall> = message
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(|call| {
                let function = call.function.unwrap_or_default();
                let id = call.id.filter(|id| !id.is_empty()).unwrap_or_else(crate::types::new_call_id);
                let arguments = match &function["arguments"] {
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                ToolCall::from_text(id, function["name"].as_str().unwrap_or_default(), &arguments)
            })
            .collect();
        let finish = reply.finish_reason.map(|r| finish_reason(r.as_str()));
        let finish_reason = FinishReason::settle(finish, !tool_calls.is_empty(), "none given");
        Ok(ChatResponse {
            message: Message::assistant_with_tool_calls(answer, tool_calls),
            reasoning: (!thinking.is_empty()).then_some(thinking),
            finish_reason,
            usage: reply.usage.as_ref().map(super::generic::usage),
            citations: message.citations.iter().flatten().filter_map(citation).collect(),
        })
    }

    fn parse_stream_chunk(
        &self,
        event: SseEvent,
        state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error> {
        let chunk: Chunk<'_> = serde_json::from_str(&event.data)
            .map_err(|e| Error::UnexpectedReply(format!("a stream chunk is not COHEREV2 JSON: {e}")))?;
        if let Some(message) = chunk.message {
            for part in message.content.into_iter().flatten() {
                match (part.kind.as_deref(), part.text, part.thinking) {
                    (Some("THINKING"), _, Some(Str(thinking))) if !thinking.is_empty() => {
                        out.push(ModelEvent::ReasoningDelta(thinking.into_owned()))
                    }
                    (_, Some(Str(text)), _) if !text.is_empty() => out.push(ModelEvent::TextDelta(text.into_owned())),
                    _ => {}
                }
            }
            out.extend(message.citations.iter().flatten().filter_map(citation).map(ModelEvent::Citation));
            for (position, call) in message.tool_calls.into_iter().flatten().enumerate() {
                let function = call.function.unwrap_or_default();
                let index = call.index.unwrap_or(state.tool_calls + position);
                out.push(ModelEvent::ToolCallDelta {
                    index,
                    id: call.id.map(|s| s.0.into_owned()).filter(|id| !id.is_empty()),
                    name: function.name.map(|s| s.0.into_owned()).filter(|n| !n.is_empty()),
                    arguments: function.arguments.map(|s| s.0.into_owned()).unwrap_or_default(),
                });
            }
        }
        if let Some(reason) = chunk.finish_reason {
            out.push(ModelEvent::Finished(finish_reason(&reason.0)));
        }
        out.extend(chunk.citations.iter().flatten().filter_map(citation).map(ModelEvent::Citation));
        if let Some(usage) = chunk.usage {
            out.push(ModelEvent::Usage(usage.usage()));
        }
        Ok(())
    }
}

/// A COHEREV2 citation of the answer's text, neutral: the documents it
/// rests on (tool sources are not documents); a citation of thinking or a
/// plan is not one of the answer.
fn citation(c: &wire::CohereCitationV2) -> Option<Citation> {
    if c.r#type.as_ref().is_some_and(|t| *t != wire::CohereCitationV2Type::TextContent) {
        return None;
    }
    let at = |v: Option<i64>| v.and_then(|v| usize::try_from(v).ok()).unwrap_or_default();
    let document_ids =
        c.sources.iter().flatten().filter_map(|s| s.document.as_ref().and_then(|d| d.id.clone())).collect();
    Some(Citation { start: at(c.start), end: at(c.end), text: c.text.clone().unwrap_or_default(), document_ids })
}

/// Cohere's words for why it stopped.
fn finish_reason(reason: &str) -> FinishReason {
    match reason.to_ascii_uppercase().as_str() {
        "COMPLETE" | "STOP_SEQUENCE" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "TOOL_CALL" => FinishReason::ToolCalls,
        _ => FinishReason::from_wire(reason),
    }
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    message: Option<ChunkMessage<'a>>,
    /// Citations, when the stream carries them beside the message.
    citations: Option<Vec<wire::CohereCitationV2>>,
    #[serde(rename = "finishReason", borrow)]
    finish_reason: Option<Str<'a>>,
    usage: Option<UsageView>,
}

#[derive(Deserialize)]
struct ChunkMessage<'a> {
    #[serde(borrow)]
    content: Option<Vec<Part<'a>>>,
    #[serde(rename = "toolCalls", borrow)]
    tool_calls: Option<Vec<ChunkToolCall<'a>>>,
    citations: Option<Vec<wire::CohereCitationV2>>,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    thinking: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct ChunkToolCall<'a> {
    index: Option<usize>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    function: Option<ChunkFunction<'a>>,
}

#[derive(Deserialize, Default)]
struct ChunkFunction<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    arguments: Option<Str<'a>>,
}
