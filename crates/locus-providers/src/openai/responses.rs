//! Responses: neutral requests to `ResponseRequest` (the whole conversation
//! as input items, `store: false`), and responses and typed stream events
//! back.

use oci_genai_transport::Error as TransportError;
use oci_genai_transport::openai::responses::{self as wire, StreamEvent};
use oci_genai_transport::sse::SseEvent;
use serde_json::json;

use super::{effort, tool_schema, unsupported};
use crate::error::Error;
use crate::shape::{StreamState, sendable_temperature, tool_result_text};
use crate::types::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, Message, ModelEvent, ResponseFormat, Role, ToolCall,
    ToolChoice, Usage,
};

const API: &str = "Responses";

fn input_content(parts: &[ContentPart], assistant: bool) -> Vec<wire::InputContent> {
    parts
        .iter()
        .map(|part| match part {
            ContentPart::Text(text) if assistant => wire::InputContent::OutputText { text: text.clone() },
            ContentPart::Text(text) => wire::InputContent::InputText { text: text.clone() },
            ContentPart::Image { source, detail } => {
                wire::InputContent::InputImage { image_url: source.to_url(), detail: detail.clone() }
            }
        })
        .collect()
}

fn push_items(message: &Message, input: &mut Vec<wire::InputItem>) {
    let role = match message.role {
        Role::System => "system",
        Role::Developer => "developer",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => {
            input.push(wire::InputItem::FunctionCallOutput {
                call_id: message.tool_call_id.clone().unwrap_or_default(),
                output: tool_result_text(message),
            });
            return;
        }
    };
    if !message.content.is_empty() {
        let content = input_content(&message.content, message.role == Role::Assistant);
        input.push(wire::InputItem::Message { role: role.into(), content });
    }
    for call in &message.tool_calls {
        input.push(wire::InputItem::FunctionCall {
            call_id: call.id.clone(),
            name: call.name.clone(),
            arguments: call.arguments_text(),
        });
    }
}

/// The wire request for `model`. The whole conversation goes as input with
/// `store: false`: nothing is kept by the service, so it works in
/// zero-data-retention tenancies too. Parameters Responses lacks (`top_k`,
/// `seed`, `stop`, penalties) are typed errors naming the transports that take them.
pub fn build(request: &ChatRequest, model: &str) -> Result<wire::ResponseRequest, Error> {
    let params = &request.params;
    if !request.documents.is_empty() || params.citations.is_some() {
        return Err(unsupported(
            if request.documents.is_empty() { "citations" } else { "documents" },
            model,
            API,
            "a message holding them, or a Cohere model on --transport native",
        ));
    }
    let other = "--transport chat-completions or native";
    if params.top_k.is_some() {
        return Err(unsupported("top_k", model, API, "--transport native"));
    }
    if params.seed.is_some() {
        return Err(unsupported("seed", model, API, other));
    }
    if !params.stop.is_empty() {
        return Err(unsupported("stop", model, API, other));
    }
    if params.frequency_penalty.is_some() || params.presence_penalty.is_some() {
        return Err(unsupported("frequency_penalty/presence_penalty", model, API, other));
    }
    let mut input = Vec::with_capacity(request.messages.len());
    for message in &request.messages {
        push_items(message, &mut input);
    }
    let tools = request
        .tools
        .iter()
        .map(|tool| {
            Ok(wire::ResponseTool::Function(wire::FunctionTool {
                kind: "function".into(),
                name: tool.name.clone(),
                description: Some(tool.description.clone()),
                parameters: Some(tool_schema(model, &tool.name, &tool.parameters)?),
                strict: None,
            }))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let mut tools = tools;
    // Web search is a tool the service runs, beside the caller's functions.
    if let Some(search) = &params.web_search {
        let mut hosted = json!({"type": "web_search"});
        if let Some(size) = search.context_size {
            hosted["search_context_size"] = size.as_str().into();
        }
        if let Some(location) = &search.user_location {
            let mut approximate = serde_json::to_value(location).unwrap_or_default();
            approximate["type"] = "approximate".into();
            hosted["user_location"] = approximate;
        }
        tools.push(wire::ResponseTool::Hosted(hosted));
    }
    Ok(wire::ResponseRequest {
        model: model.to_owned(),
        input,
        max_output_tokens: params.max_tokens,
        temperature: sendable_temperature(model, request.params.temperature),
        top_p: params.top_p,
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice: params.tool_choice.as_ref().map(|choice| match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(name) => json!({"type": "function", "name": name}),
        }),
        parallel_tool_calls: params.parallel_tool_calls,
        text: text(params),
        reasoning: params.reasoning_effort.map(|e| json!({"effort": effort(e)})),
        service_tier: params.service_tier.map(|t| t.as_str().to_owned()),
        store: Some(false),
        ..Default::default()
    })
}

/// `text`: the answer's format and its verbosity, when either is set.
fn text(params: &crate::GenerationParams) -> Option<serde_json::Value> {
    let mut text = serde_json::Map::new();
    if let Some(format) = &params.response_format {
        let format = match format {
            ResponseFormat::Text => json!({"type": "text"}),
            ResponseFormat::JsonObject => json!({"type": "json_object"}),
            ResponseFormat::JsonSchema { name, schema, strict } => {
                json!({"type": "json_schema", "name": name, "schema": schema, "strict": strict})
            }
        };
        text.insert("format".into(), format);
    }
    if let Some(verbosity) = params.verbosity {
        text.insert("verbosity".into(), verbosity.as_str().into());
    }
    (!text.is_empty()).then_some(serde_json::Value::Object(text))
}

fn usage(u: &wire::ResponseUsage) -> Usage {
    Usage {
        prompt_tokens: u.input_tokens,
        completion_tokens: u.output_tokens,
        total_tokens: u.total_tokens,
        reasoning_tokens: u.output_tokens_details.and_then(|d| d.reasoning_tokens),
        cached_tokens: u.input_tokens_details.and_then(|d| d.cached_tokens),
    }
}

/// Why a response ended: `completed` (with or without tool calls), or the
/// reason it is `incomplete`.
fn finish_reason(response: &wire::Response, has_tool_calls: bool) -> FinishReason {
    match response.status.as_deref() {
        Some("incomplete") => match response.incomplete_details.as_ref().and_then(|d| d.reason.as_deref()) {
            Some("max_output_tokens") => FinishReason::Length,
            Some("content_filter") => FinishReason::ContentFilter,
            Some(other) => FinishReason::Other(other.to_owned()),
            None => FinishReason::Other("incomplete".into()),
        },
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// The neutral answer from a whole response.
pub fn parse_response(response: wire::Response) -> Result<ChatResponse, Error> {
    if response.status.as_deref() == Some("failed") {
        let error = response.error.unwrap_or_default();
        return Err(Error::Transport(TransportError::StreamFailed {
            code: error.code_or_type().unwrap_or("failed").to_owned(),
            message: error.message.unwrap_or_default(),
            opc_request_id: None,
        }));
    }
    let (mut text, mut reasoning, mut calls) = (String::new(), String::new(), Vec::new());
    for item in &response.output {
        match item {
            wire::OutputItem::Message { content } => {
                for part in content {
                    match part {
                        wire::OutputContent::OutputText { text: t } => text.push_str(t),
                        wire::OutputContent::Refusal { refusal } => text.push_str(refusal),
                        wire::OutputContent::Other => {}
                    }
                }
            }
            wire::OutputItem::FunctionCall { call_id, name, arguments, .. } => {
                let id = if call_id.is_empty() { crate::types::new_call_id() } else { call_id.clone() };
                calls.push(ToolCall::from_text(id, name.clone(), arguments));
            }
            wire::OutputItem::Reasoning { summary } => summary.iter().for_each(|s| reasoning.push_str(&s.text)),
            wire::OutputItem::Other => {}
        }
    }
    let finish_reason = finish_reason(&response, !calls.is_empty());
    Ok(ChatResponse {
        message: Message::assistant_with_tool_calls(text, calls),
        reasoning: (!reasoning.is_empty()).then_some(reasoning),
        finish_reason,
        usage: response.usage.as_ref().map(usage),
        citations: Vec::new(),
    })
}

/// Appends the neutral events of one stream event. Tool calls are
/// addressed by their output item: `output_item.added` opens one (its
/// `call_id` and name), argument deltas extend it, and `output_item.done`
/// supplies the arguments only when none were streamed.
pub fn parse_event(event: SseEvent, state: &mut StreamState, out: &mut Vec<ModelEvent>) -> Result<(), Error> {
    if event.is_done() {
        return Ok(());
    }
    let parsed: StreamEvent = serde_json::from_str(&event.data)
        .map_err(|e| Error::UnexpectedReply(format!("a Responses stream event could not be read: {e}")))?;
    match parsed {
        StreamEvent::OutputTextDelta { delta, .. } if !delta.is_empty() => out.push(ModelEvent::TextDelta(delta)),
        StreamEvent::ReasoningSummaryTextDelta { delta } | StreamEvent::ReasoningTextDelta { delta }
            if !delta.is_empty() =>
        {
            out.push(ModelEvent::ReasoningDelta(delta))
        }
        StreamEvent::OutputItemAdded {
            output_index,
            item: wire::OutputItem::FunctionCall { call_id, name, arguments, .. },
        } => {
            let index = state.open_item(output_index);
            state.item_mut(output_index).streamed |= !arguments.is_empty();
            out.push(ModelEvent::ToolCallDelta {
                index,
                id: Some(call_id).filter(|id| !id.is_empty()),
                name: Some(name),
                arguments,
            });
        }
        StreamEvent::FunctionCallArgumentsDelta { output_index, delta, .. } => {
            let index = state.open_item(output_index);
            state.item_mut(output_index).streamed = true;
            out.push(ModelEvent::ToolCallDelta { index, id: None, name: None, arguments: delta });
        }
        StreamEvent::OutputItemDone {
            output_index,
            item: wire::OutputItem::FunctionCall { call_id, name, arguments, .. },
        } => {
            let known = state.items.iter().any(|i| i.output_index == output_index);
            let index = state.open_item(output_index);
            let streamed = state.item_mut(output_index).streamed;
            if !known {
                out.push(ModelEvent::ToolCallDelta {
                    index,
                    id: Some(call_id).filter(|id| !id.is_empty()),
                    name: Some(name),
                    arguments,
                });
            } else if !streamed && !arguments.is_empty() {
                out.push(ModelEvent::ToolCallDelta { index, id: None, name: None, arguments });
            }
            state.item_mut(output_index).streamed = true;
        }
        StreamEvent::Completed { response } | StreamEvent::Incomplete { response } => {
            let has_calls = !state.items.is_empty()
                || response.output.iter().any(|i| matches!(i, wire::OutputItem::FunctionCall { .. }));
            out.push(ModelEvent::Finished(finish_reason(&response, has_calls)));
            if let Some(u) = &response.usage {
                out.push(ModelEvent::Usage(usage(u)));
            }
        }
        StreamEvent::Failed { response } => {
            let error = response.error.unwrap_or_default();
            return Err(Error::Transport(TransportError::StreamFailed {
                code: error.code_or_type().unwrap_or("failed").to_owned(),
                message: error.message.unwrap_or_default(),
                opc_request_id: None,
            }));
        }
        StreamEvent::Error { code, message } => {
            return Err(Error::Transport(TransportError::StreamFailed {
                code: code.unwrap_or_else(|| "error".into()),
                message: message.unwrap_or_default(),
                opc_request_id: None,
            }));
        }
        _ => {}
    }
    Ok(())
}
