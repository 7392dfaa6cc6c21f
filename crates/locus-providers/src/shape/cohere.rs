//! The COHERE shape: `message` (the latest user turn), `chatHistory`,
//! `toolResults` carrying the original calls, a preamble for system text.

use std::collections::{BTreeMap, HashMap};

use oci_genai_transport::ServingMode;
use oci_genai_transport::models as wire;
use oci_genai_transport::sse::SseEvent;
use serde::Deserialize;

use super::chunk_view::{Str, UsageView};

use super::generic::{tool_result_text, usage};
use super::{RequestShape, StreamState};
use crate::error::Error;
use crate::types::{
    ChatRequest, ChatResponse, Citation, CitationMode, ContentPart, FinishReason, Message, ModelEvent, ResponseFormat,
    Role, ToolCall, ToolChoice, new_call_id,
};

/// The COHERE request shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct CohereShape;

fn unsupported(parameter: &'static str, model: &str, advice: &str) -> Error {
    Error::unsupported(parameter, model, "COHERE", advice)
}

/// Verbosity, service tier and web search: options of OpenAI-style models that
/// Cohere's shapes cannot carry, refused rather than dropped.
pub(super) fn refuse_openai_options(
    params: &crate::types::GenerationParams,
    model: &str,
    shape: &'static str,
) -> Result<(), Error> {
    let refused = [
        ("verbosity", params.verbosity.is_some()),
        ("service_tier", params.service_tier.is_some()),
        ("web_search", params.web_search.is_some()),
    ];
    match refused.iter().find(|(_, set)| *set) {
        Some((parameter, _)) => Err(Error::unsupported(parameter, model, shape, "remove it for Cohere models")),
        None => Ok(()),
    }
}

/// A tool's output as Cohere wants it: a list of JSON objects.
fn outputs(message: &Message) -> Vec<serde_json::Value> {
    let text = message.text();
    if message.is_error {
        return vec![serde_json::json!({ "error": text })];
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(object @ serde_json::Value::Object(_)) => vec![object],
        Ok(serde_json::Value::Array(items)) if items.iter().all(serde_json::Value::is_object) && !items.is_empty() => {
            items
        }
        _ => vec![serde_json::json!({ "result": tool_result_text(message) })],
    }
}

/// JSON-schema type → Cohere parameter type.
fn parameter_type(schema: &serde_json::Value) -> String {
    match schema.get("type").and_then(|t| t.as_str()) {
        Some("string") => "str",
        Some("integer") => "int",
        Some("number") => "float",
        Some("boolean") => "bool",
        Some("array") => "list",
        Some("object") => "dict",
        _ => "str",
    }
    .to_owned()
}

fn parameter_definitions(schema: &serde_json::Value) -> Option<BTreeMap<String, wire::CohereParameterDefinition>> {
    let properties = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    Some(
        properties
            .iter()
            .map(|(name, property)| {
                (
                    name.clone(),
                    wire::CohereParameterDefinition {
                        description: property.get("description").and_then(|d| d.as_str()).map(str::to_owned),
                        r#type: parameter_type(property),
                        is_required: Some(required.contains(&name.as_str())),
                    },
                )
            })
            .collect(),
    )
}

impl RequestShape for CohereShape {
    fn name(&self) -> &'static str {
        "COHERE"
    }

    fn build_request(&self, request: &ChatRequest, serving: &ServingMode) -> Result<wire::BaseChatRequest, Error> {
        let model = serving.id();
        let params = &request.params;
        if params.reasoning_effort.is_some() {
            return Err(unsupported("reasoning_effort", model, "remove it for Cohere models"));
        }
        refuse_openai_options(params, model, "COHERE")?;
        let citation_quality = match params.citations {
            None => None,
            Some(CitationMode::Fast) => Some(wire::CohereChatRequestCitationQuality::Fast),
            Some(CitationMode::Accurate) => Some(wire::CohereChatRequestCitationQuality::Accurate),
            Some(CitationMode::Off) => {
                return Err(unsupported("citations = off", model, "COHERE cites whenever it has documents; send none"));
            }
        };
        let send_tools = match &params.tool_choice {
            None | Some(ToolChoice::Auto) => true,
            Some(ToolChoice::None) => false,
            Some(ToolChoice::Required | ToolChoice::Named(_)) => {
                return Err(unsupported("tool_choice required/named", model, "use auto or none"));
            }
        };
        if params.parallel_tool_calls.is_some() {
            tracing::warn!(model, "Cohere decides on parallel tool calls itself; parallel_tool_calls is not sent");
        }

        // Leading system and developer messages become the preamble.
        let leading = request.messages.iter().take_while(|m| matches!(m.role, Role::System | Role::Developer)).count();
        let preamble: Vec<String> = request.messages[..leading].iter().map(Message::text).collect();
        let rest = &request.messages[leading..];

        // Trailing tool results answer the calls of the assistant turn before them.
        let trailing = rest.iter().rev().take_while(|m| m.role == Role::Tool).count();
        let (history, results) = rest.split_at(rest.len() - trailing);
        let (history, message) = if trailing > 0 {
            (history, String::new())
        } else {
            match history.split_last() {
                Some((last, earlier)) if last.role == Role::User => (earlier, user_text(last, model)?),
                _ => {
                    return Err(Error::InvalidRequest(
                        "the Cohere shape needs the conversation to end with a user message or tool results".into(),
                    ));
                }
            }
        };

        let mut calls: HashMap<&str, &ToolCall> = HashMap::new();
        for m in rest {
            for call in &m.tool_calls {
                calls.insert(call.id.as_str(), call);
            }
        }
        let result_for = |m: &Message| -> Result<wire::CohereToolResult, Error> {
            let id = m.tool_call_id.as_deref().unwrap_or_default();
            let call = calls.get(id).ok_or_else(|| {
                Error::InvalidRequest(format!("tool result for `{id}` has no matching assistant tool call"))
            })?;
            Ok(wire::CohereToolResult {
                call: wire::CohereToolCall { name: call.name.clone(), parameters: call.arguments.clone() },
                outputs: outputs(m),
            })
        };

        let mut chat_history: Vec<wire::CohereMessage> = Vec::new();
        for m in history {
            match m.role {
                Role::User => chat_history
                    .push(wire::CohereMessage::User(wire::CohereUserMessage { message: user_text(m, model)? })),
                Role::Assistant => chat_history.push(wire::CohereMessage::Chatbot(wire::CohereChatBotMessage {
                    message: Some(m.text()).filter(|t| !t.is_empty()),
                    tool_calls: (!m.tool_calls.is_empty()).then(|| {
                        m.tool_calls
                            .iter()
                            .map(|c| wire::CohereToolCall { name: c.name.clone(), parameters: c.arguments.clone() })
                            .collect()
                    }),
                })),
                Role::System | Role::Developer => {
                    chat_history.push(wire::CohereMessage::System(wire::CohereSystemMessage { message: m.text() }))
                }
                Role::Tool => {
                    let result = result_for(m)?;
                    // Consecutive results form one TOOL turn.
                    match chat_history.last_mut() {
                        Some(wire::CohereMessage::Tool(turn)) => turn.tool_results.push(result),
                        _ => chat_history
                            .push(wire::CohereMessage::Tool(wire::CohereToolMessage { tool_results: vec![result] })),
                    }
                }
            }
        }
        let tool_results = results.iter().map(result_for).collect::<Result<Vec<_>, _>>()?;

        let cohere = wire::CohereChatRequest {
            message,
            chat_history: (!chat_history.is_empty()).then_some(chat_history),
            preamble_override: (!preamble.is_empty()).then(|| preamble.join("\n\n")),
            response_format: params.response_format.as_ref().map(|format| match format {
                ResponseFormat::Text => wire::CohereResponseFormat::Text(wire::CohereResponseTextFormat {}),
                ResponseFormat::JsonObject => {
                    wire::CohereResponseFormat::JsonObject(wire::CohereResponseJsonFormat { schema: None })
                }
                ResponseFormat::JsonSchema { schema, .. } => {
                    wire::CohereResponseFormat::JsonObject(wire::CohereResponseJsonFormat {
                        schema: Some(schema.clone()),
                    })
                }
            }),
            max_tokens: params.max_tokens.map(i64::from),
            temperature: params.temperature,
            top_k: params.top_k.map(i64::from),
            top_p: params.top_p,
            frequency_penalty: params.frequency_penalty,
            presence_penalty: params.presence_penalty,
            seed: params.seed,
            tools: (send_tools && !request.tools.is_empty()).then(|| {
                request
                    .tools
                    .iter()
                    .map(|t| wire::CohereTool {
                        name: t.name.clone(),
                        description: t.description.clone(),
                        parameter_definitions: parameter_definitions(&t.parameters),
                    })
                    .collect()
            }),
            tool_results: (!tool_results.is_empty()).then_some(tool_results),
            stop_sequences: (!params.stop.is_empty()).then(|| params.stop.clone()),
            documents: (!request.documents.is_empty())
                .then(|| request.documents.iter().map(|d| document(d, serde_json::json!({"text": d.text}))).collect()),
            citation_quality,
            ..Default::default()
        };
        Ok(wire::BaseChatRequest::Cohere(cohere))
    }

    fn parse_response(&self, result: wire::ChatResult) -> Result<ChatResponse, Error> {
        let Some(wire::BaseChatResponse::Cohere(reply)) = result.chat_response else {
            return Err(Error::UnexpectedReply("expected a COHERE chat response".into()));
        };
        let tool_calls: Vec<ToolCall> = reply
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(|c| ToolCall::new(new_call_id(), c.name, c.parameters))
            .collect();
        let finish = reply.finish_reason.map(|r| FinishReason::from_wire(r.as_str()));
        let finish_reason = FinishReason::settle(finish, !tool_calls.is_empty(), "none given");
        Ok(ChatResponse {
            message: Message::assistant_with_tool_calls(reply.text.unwrap_or_default(), tool_calls),
            reasoning: None,
            finish_reason,
            usage: reply.usage.as_ref().map(usage),
            citations: reply.citations.iter().flatten().map(citation).collect(),
        })
    }

    fn parse_stream_chunk(
        &self,
        event: SseEvent,
        state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error> {
        let chunk: Chunk<'_> = serde_json::from_str(&event.data)
            .map_err(|e| Error::UnexpectedReply(format!("a stream chunk is not COHERE JSON: {e}")))?;
        let last = chunk.finish_reason.is_some();
        if let Some(Str(text)) = chunk.text.filter(|t| !t.0.is_empty()) {
            // The final event repeats the whole text: only send it if nothing was streamed.
            if !last || !state.text_streamed {
                state.text_streamed = true;
                out.push(ModelEvent::TextDelta(text.into_owned()));
            }
        }
        let calls = chunk.tool_calls.unwrap_or_default();
        if !(last && state.tool_calls > 0) {
            for call in calls {
                out.push(ModelEvent::ToolCallDelta {
                    index: state.tool_calls,
                    id: Some(new_call_id()),
                    name: Some(call.name),
                    arguments: call.parameters.to_string(),
                });
                state.tool_calls += 1;
            }
        }
        // The final event lists every citation again; the accumulator keeps each once.
        out.extend(chunk.citations.iter().flatten().map(|c| ModelEvent::Citation(citation(c))));
        if let Some(reason) = chunk.finish_reason {
            out.push(ModelEvent::Finished(FinishReason::from_wire(&reason.0)));
        }
        if let Some(usage) = chunk.usage {
            out.push(ModelEvent::Usage(usage.usage()));
        }
        Ok(())
    }
}

/// A document on the wire: `fields`, and its id when it has one (a null id is not sent).
pub(super) fn document(document: &crate::types::Document, mut fields: serde_json::Value) -> serde_json::Value {
    if let Some(id) = &document.id {
        fields["id"] = id.clone().into();
    }
    fields
}

/// A COHERE citation, neutral; missing offsets read as 0.
fn citation(c: &wire::Citation) -> Citation {
    let at = |v: Option<i64>| v.and_then(|v| usize::try_from(v).ok()).unwrap_or_default();
    Citation {
        start: at(c.start),
        end: at(c.end),
        text: c.text.clone().unwrap_or_default(),
        document_ids: c.document_ids.clone().unwrap_or_default(),
    }
}

fn user_text(message: &Message, model: &str) -> Result<String, Error> {
    if message.content.iter().any(|p| matches!(p, ContentPart::Image { .. })) {
        return Err(unsupported("images", model, "Cohere chat models take text only"));
    }
    Ok(message.text())
}

/// A COHERE stream chunk, read in place: the final event's `chatHistory`
/// (the whole conversation again) is skipped, not built.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(rename = "finishReason", borrow)]
    finish_reason: Option<Str<'a>>,
    #[serde(rename = "toolCalls")]
    tool_calls: Option<Vec<wire::CohereToolCall>>,
    citations: Option<Vec<wire::Citation>>,
    usage: Option<UsageView>,
}
