//! The OpenAI-compatible API (`/openai/v1/chat/completions`,
//! `/openai/v1/responses`), checked as the service checks it: a signature or
//! a configured Generative AI API key, `opc-compartment-id` with a
//! signature, the model by name (unknown → 404; a dedicated endpoint or a
//! Cohere R model → 400), bodies read as the wire types.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use hyper::Response;
use oci_genai_transport::openai::chat_completions::{ChatCompletionRequest, ChatMessage, Content, ContentPart};
use oci_genai_transport::openai::responses::{InputContent, InputItem, ResponseRequest};
use serde_json::{Value, json};

use crate::behaviour::{View, answer};
use crate::config::{Fault, ModelConfig, Turn};
use crate::render::{call_id, finish_reason, pieces, token_counts};
use crate::state::{Outcome, State, authenticate, fault_for, full};
use crate::stream_body::{Style, before_answer, stream_body};

/// An OpenAI-shaped error: `{"error": {"message", "type", "code"}}`.
fn error(status: u16, code: &str, message: &str, request_id: &str) -> Outcome {
    let kind = match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        500.. => "server_error",
        _ => "invalid_request_error",
    };
    let body = json!({"error": {"message": message, "type": kind, "code": code}}).to_string();
    let mut response = crate::state::error(status, code, message, request_id)?;
    *response.body_mut() = full(Bytes::from(body));
    Ok(response)
}

/// One request to either route.
pub(crate) async fn handle(
    state: &State,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    request_id: &str,
    style: Style,
) -> Outcome {
    let bearer = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match bearer {
        Some(key) if state.config.genai_api_keys.iter().any(|k| k == key) => {}
        Some(_) => return error(401, "NotAuthenticated", "The API key is not valid for this region", request_id),
        None => {
            if let Err(reason) = authenticate(state, parts, body) {
                return error(401, "NotAuthenticated", &reason, request_id);
            }
        }
    }
    let compartment = parts.headers.get("opc-compartment-id").and_then(|v| v.to_str().ok()).map(str::trim);
    if bearer.is_none() && compartment.is_none_or(str::is_empty) {
        return error(400, "InvalidParameter", "the opc-compartment-id header is required", request_id);
    }
    let request = match Request::parse(style, body) {
        Ok(request) => request,
        Err(e) => return error(400, "InvalidParameter", &format!("Invalid request body: {e}"), request_id),
    };
    let model = match find_model(state, request.model(), compartment) {
        Ok(model) => model,
        Err((status, code, message)) => return error(status, code, &message, request_id),
    };
    if let Some(message) = crate::quirks::openai_refusal(model, style == Style::Responses, body) {
        return error(400, "InvalidParameter", &message, request_id);
    }
    let streaming = request.streaming();
    let fault = fault_for(state, parts, model);
    if let Some(outcome) = before_answer(fault.as_ref(), streaming, request_id, error).await {
        return outcome;
    }
    let view = request.view();
    let turn = answer(&model.behaviour, &view);
    let (prompt, completion) = token_counts(body.len(), &turn);
    // As the service's prompt cache does: a follow-up call finds half its prompt cached.
    let cached = if view.assistant_turns > 0 { prompt / 2 } else { 0 };
    let serial = state.requests.load(Ordering::SeqCst);
    let service_tier = crate::options::service_tier(body);
    let render = Render { model, turn: &turn, prompt, completion, serial, service_tier, cached };
    let mut response = if streaming {
        let mut events = match style {
            Style::Responses => render.response_events(),
            _ => render.chunks(request.include_usage()),
        };
        match &fault {
            Some(Fault::NoFinish) => events.retain(|e| !style.is_final(e)),
            Some(Fault::UsageEveryChunk) if style == Style::ChatCompletions => {
                let usage = render.chat_usage();
                events.iter_mut().for_each(|e| e["usage"] = usage.clone());
            }
            _ => {}
        }
        let mut response = Response::new(stream_body(events, model, fault, state.config.hold_open_ms, style));
        // The service's Responses streams may name no charset: clients must assume UTF-8.
        let content_type =
            if style == Style::Responses { "text/event-stream" } else { "text/event-stream; charset=utf-8" };
        response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static(content_type));
        response
    } else {
        let whole = match style {
            Style::Responses => render.response("completed"),
            _ => render.completion(),
        };
        let mut response = Response::new(full(Bytes::from(whole.to_string())));
        response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
        response
    };
    crate::state::answer_headers(&mut response, request_id, model);
    Ok(response)
}

type Lookup<'a> = Result<&'a ModelConfig, (u16, &'static str, String)>;

/// The model by name, as the OpenAI-compatible API finds it.
fn find_model<'a>(state: &'a State, id: &str, compartment: Option<&str>) -> Lookup<'a> {
    let lower = id.trim().to_ascii_lowercase();
    if lower.starts_with("ocid1.generativeaiendpoint.") {
        let message = "Dedicated AI cluster endpoints are not served by the OpenAI-compatible API; use the chat action";
        return Err((400, "InvalidParameter", message.into()));
    }
    let not_found =
        || (404, "NotAuthorizedOrNotFound", format!("Authorization failed or requested resource not found: {id}"));
    let model = state.config.models.iter().find(|m| m.id.eq_ignore_ascii_case(id.trim())).ok_or_else(not_found)?;
    if lower.starts_with("cohere.command-r") || model.api_format.as_deref() == Some("COHERE") {
        return Err((400, "InvalidParameter", "Unsupported OpenAI operation".into()));
    }
    let own = model.compartment_id.as_deref().unwrap_or(&state.config.compartment_id);
    match compartment {
        Some(given) if !given.is_empty() && given != own => Err(not_found()),
        _ => Ok(model),
    }
}

/// A request to either route, read as the wire types.
enum Request {
    Completions(Box<ChatCompletionRequest>),
    Responses(Box<ResponseRequest>),
}

impl Request {
    fn parse(style: Style, body: &[u8]) -> Result<Request, serde_json::Error> {
        Ok(match style {
            Style::Responses => Request::Responses(Box::new(serde_json::from_slice(body)?)),
            _ => Request::Completions(Box::new(serde_json::from_slice(body)?)),
        })
    }

    fn model(&self) -> &str {
        match self {
            Request::Completions(r) => &r.model,
            Request::Responses(r) => &r.model,
        }
    }

    fn streaming(&self) -> bool {
        match self {
            Request::Completions(r) => r.stream == Some(true),
            Request::Responses(r) => r.stream == Some(true),
        }
    }

    fn include_usage(&self) -> bool {
        matches!(self, Request::Completions(r) if r.stream_options.is_some_and(|o| o.include_usage))
    }

    /// What a scripted model looks at: the last user text, the results
    /// ending the conversation, the tools, the assistant turns so far.
    fn view(&self) -> View {
        let mut view = View::default();
        let mut names = std::collections::HashMap::new();
        let mut results = Vec::new();
        match self {
            Request::Completions(r) => {
                for message in &r.messages {
                    match message {
                        ChatMessage::User { content, .. } => (view.user_text, results) = (text(content), Vec::new()),
                        ChatMessage::Assistant { tool_calls, .. } => {
                            view.assistant_turns += 1;
                            results.clear();
                            for call in tool_calls.iter().flatten() {
                                names.insert(call.id.clone(), call.function.name.clone());
                            }
                        }
                        ChatMessage::Tool { tool_call_id, content } => {
                            results.push((tool_call_id.clone(), text(content)))
                        }
                        _ => {}
                    }
                }
                view.schema = r
                    .response_format
                    .as_ref()
                    .and_then(|f| f["json_schema"]["schema"].as_object().cloned())
                    .map(serde_json::Value::Object);
                (view.tools, view.schemas) = r
                    .tools
                    .iter()
                    .flatten()
                    .map(|t| (t.function.name.clone(), t.function.parameters.clone().unwrap_or_default()))
                    .unzip();
            }
            Request::Responses(r) => {
                let mut in_turn = false;
                for item in &r.input {
                    match item {
                        InputItem::Message { role, content } if role == "user" => {
                            view.user_text = input_text(content);
                            (results, in_turn) = (Vec::new(), false);
                        }
                        InputItem::Message { role, .. } if role == "assistant" => {
                            view.assistant_turns += usize::from(!in_turn);
                            (results, in_turn) = (Vec::new(), true);
                        }
                        InputItem::FunctionCall { call_id, name, .. } => {
                            view.assistant_turns += usize::from(!in_turn);
                            in_turn = true;
                            names.insert(call_id.clone(), name.clone());
                        }
                        InputItem::FunctionCallOutput { call_id, output } => {
                            in_turn = false;
                            results.push((call_id.clone(), output.clone()));
                        }
                        InputItem::Message { .. } => {}
                    }
                }
                (view.tools, view.schemas) = r
                    .tools
                    .iter()
                    .flatten()
                    .filter_map(|t| t.function())
                    .map(|t| (t.name.clone(), t.parameters.clone().unwrap_or_default()))
                    .unzip();
            }
        }
        view.tool_results =
            results.into_iter().map(|(id, output)| (names.get(&id).cloned().unwrap_or_default(), output)).collect();
        view
    }
}

fn text(content: &Content) -> String {
    match content {
        Content::Text(text) => text.clone(),
        Content::Parts(parts) => parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } => Some(text.as_str()),
                ContentPart::ImageUrl { .. } => None,
            })
            .collect(),
    }
}

fn input_text(content: &[InputContent]) -> String {
    content
        .iter()
        .filter_map(|c| match c {
            InputContent::InputText { text } | InputContent::OutputText { text } => Some(text.as_str()),
            InputContent::InputImage { .. } => None,
        })
        .collect()
}

/// A scripted turn in the OpenAI-compatible API's forms.
struct Render<'a> {
    model: &'a ModelConfig,
    turn: &'a Turn,
    prompt: usize,
    completion: usize,
    serial: usize,
    /// The tier the answer names.
    service_tier: String,
    /// Prompt tokens read from the cache (follow-up calls).
    cached: usize,
}

impl Render<'_> {
    fn chat_usage(&self) -> Value {
        let details = json!({"reasoning_tokens": self.turn.reasoning.len() / 4});
        let mut usage = json!({"prompt_tokens": self.prompt, "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion, "completion_tokens_details": details});
        if self.cached > 0 {
            usage["prompt_tokens_details"] = json!({"cached_tokens": self.cached});
        }
        usage
    }

    fn tool_calls(&self) -> Vec<Value> {
        let calls = self.turn.tool_calls.iter().enumerate();
        calls
            .map(|(i, c)| json!({"id": call_id(i), "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
            .collect()
    }

    /// A whole chat completion.
    fn completion(&self) -> Value {
        let mut message = json!({"role": "assistant", "content": self.turn.text});
        if !self.turn.tool_calls.is_empty() {
            message["tool_calls"] = self.tool_calls().into();
        }
        if !self.turn.reasoning.is_empty() {
            message["reasoning_content"] = self.turn.reasoning.clone().into();
        }
        json!({
            "id": format!("chatcmpl-emu{:04}", self.serial), "object": "chat.completion", "created": now(),
            "model": self.model.id,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(self.turn)}],
            "usage": self.chat_usage(),
            "service_tier": self.service_tier,
        })
    }

    /// A streamed chat completion: text, tool calls addressed by index
    /// (id and name first, then argument fragments), the finish chunk
    /// (Gemini's with `delta: null`), and usage when asked.
    fn chunks(&self, include_usage: bool) -> Vec<Value> {
        let id = format!("chatcmpl-emu{:04}", self.serial);
        let chunk = |delta: Value, finish: Value| {
            json!({"id": id, "object": "chat.completion.chunk", "created": now(), "model": self.model.id,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), Value::Null)];
        if !self.turn.reasoning.is_empty() {
            events.push(chunk(json!({"reasoning_content": self.turn.reasoning}), Value::Null));
        }
        for piece in pieces(&self.turn.text, self.model.chunk_chars) {
            events.push(chunk(json!({"content": piece}), Value::Null));
        }
        for (i, call) in self.turn.tool_calls.iter().enumerate() {
            let opening = json!({"index": i, "id": call_id(i), "type": "function", "function": {"name": call.name, "arguments": ""}});
            events.push(chunk(json!({"tool_calls": [opening]}), Value::Null));
            for fragment in pieces(&call.arguments.to_string(), 5) {
                events.push(chunk(
                    json!({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]}),
                    Value::Null,
                ));
            }
        }
        let gemini = self.model.id.to_ascii_lowercase().starts_with("google.");
        let last = if gemini { Value::Null } else { json!({}) };
        events.push(chunk(last, finish_reason(self.turn).into()));
        if include_usage {
            let mut usage = chunk(Value::Null, Value::Null);
            usage["choices"] = json!([]);
            usage["usage"] = self.chat_usage();
            events.push(usage);
        }
        events
    }

    fn output(&self) -> Vec<Value> {
        let mut output = Vec::new();
        if !self.turn.reasoning.is_empty() {
            output.push(json!({"type": "reasoning", "id": "rs_emu", "summary": [{"type": "summary_text", "text": self.turn.reasoning}]}));
        }
        if !self.turn.text.is_empty() || self.turn.tool_calls.is_empty() {
            output.push(json!({"type": "message", "id": "msg_emu", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": self.turn.text, "annotations": []}]}));
        }
        for (i, call) in self.turn.tool_calls.iter().enumerate() {
            output.push(json!({"type": "function_call", "id": format!("fc_emu{i}"), "call_id": call_id(i),
                "name": call.name, "arguments": call.arguments.to_string(), "status": "completed"}));
        }
        output
    }

    /// A whole response; a turn cut at its token limit is `incomplete`.
    fn response(&self, status: &str) -> Value {
        let cut = self.turn.finish_reason.as_deref() == Some("length");
        let status = if cut && status == "completed" { "incomplete" } else { status };
        json!({
            "id": format!("resp_emu{:04}", self.serial), "object": "response", "created_at": now(), "status": status,
            "model": self.model.id, "output": if status == "in_progress" { json!([]) } else { self.output().into() },
            "incomplete_details": if status == "incomplete" { json!({"reason": "max_output_tokens"}) } else { Value::Null },
            "usage": if status == "in_progress" { Value::Null } else { json!({"input_tokens": self.prompt,
                "output_tokens": self.completion, "total_tokens": self.prompt + self.completion,
                "output_tokens_details": {"reasoning_tokens": self.turn.reasoning.len() / 4},
                "input_tokens_details": {"cached_tokens": self.cached}}) },
        })
    }

    /// A streamed response: `response.created`, each output item added,
    /// filled by deltas and done, then `response.completed` (or `.incomplete`).
    fn response_events(&self) -> Vec<Value> {
        let mut events = vec![json!({"type": "response.created", "response": self.response("in_progress")})];
        for (index, item) in self.output().into_iter().enumerate() {
            let mut opened = item.clone();
            match item["type"].as_str() {
                Some("message") => opened["content"] = json!([]),
                Some("function_call") => opened["arguments"] = "".into(),
                _ => {}
            }
            events.push(json!({"type": "response.output_item.added", "output_index": index, "item": opened}));
            match item["type"].as_str() {
                Some("reasoning") => {
                    let text = item["summary"][0]["text"].as_str().unwrap_or_default();
                    events.push(json!({"type": "response.reasoning_summary_part.added", "item_id": item["id"],
                        "output_index": index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}));
                    events.push(json!({"type": "response.reasoning_summary_text.delta", "item_id": item["id"],
                        "output_index": index, "summary_index": 0, "delta": text}));
                }
                Some("message") => {
                    let part = json!({"type": "output_text", "text": "", "annotations": []});
                    events.push(json!({"type": "response.content_part.added", "item_id": item["id"],
                        "output_index": index, "content_index": 0, "part": part}));
                    for piece in pieces(&self.turn.text, self.model.chunk_chars) {
                        events.push(json!({"type": "response.output_text.delta", "item_id": item["id"],
                            "output_index": index, "content_index": 0, "delta": piece}));
                    }
                    events.push(json!({"type": "response.output_text.done", "item_id": item["id"],
                        "output_index": index, "content_index": 0, "text": self.turn.text}));
                    events.push(json!({"type": "response.content_part.done", "item_id": item["id"],
                        "output_index": index, "content_index": 0, "part": item["content"][0]}));
                }
                Some("function_call") => {
                    let arguments = item["arguments"].as_str().unwrap_or_default();
                    for piece in pieces(arguments, 5) {
                        events.push(json!({"type": "response.function_call_arguments.delta", "item_id": item["id"],
                            "output_index": index, "delta": piece}));
                    }
                }
                _ => {}
            }
            events.push(json!({"type": "response.output_item.done", "output_index": index, "item": item}));
        }
        let last = self.response("completed");
        let kind = if last["status"] == "incomplete" { "response.incomplete" } else { "response.completed" };
        events.push(json!({"type": kind, "response": last}));
        for (n, event) in events.iter_mut().enumerate() {
            event["sequence_number"] = n.into();
        }
        events
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
