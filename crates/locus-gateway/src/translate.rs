//! OpenAI chat completions in, neutral requests to the providers; neutral
//! answers and events out, as OpenAI completions and chunks.

use locus_providers::{
    ChatRequest, ChatResponse, CitationMode, ContentPart, FinishReason, GenerationParams, ImageSource, Message,
    ModelEvent, ReasoningEffort, ResponseFormat, ServiceTier, ToolCall, ToolChoice, ToolSpec, Usage, Verbosity,
    WebSearch,
};
use oci_genai_transport::openai::chat_completions::{ChatCompletionRequest, ChatMessage, Content, ContentPart as Part};
use serde_json::{Value, json};

use crate::error::GatewayError;

fn parts(content: &Content) -> Vec<ContentPart> {
    match content {
        Content::Text(text) => vec![ContentPart::Text(text.clone())],
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                Part::Text { text } => ContentPart::Text(text.clone()),
                Part::ImageUrl { image_url } => ContentPart::Image {
                    source: ImageSource::Url(image_url.url.clone()),
                    detail: image_url.detail.clone(),
                },
            })
            .collect(),
    }
}

fn text(content: &Content) -> String {
    parts(content)
        .into_iter()
        .filter_map(|p| match p {
            ContentPart::Text(t) => Some(t),
            ContentPart::Image { .. } => None,
        })
        .collect()
}

/// The neutral request for an OpenAI one; what it cannot carry is a 400.
pub fn request(openai: &ChatCompletionRequest) -> Result<ChatRequest, GatewayError> {
    let messages = openai
        .messages
        .iter()
        .map(|message| match message {
            ChatMessage::System { content } => Message::system(text(content)),
            ChatMessage::Developer { content } => Message::developer(text(content)),
            ChatMessage::User { content, .. } => Message { content: parts(content), ..Message::user("") },
            ChatMessage::Assistant { content, tool_calls } => {
                let calls = tool_calls
                    .iter()
                    .flatten()
                    .map(|c| ToolCall::from_text(c.id.clone(), c.function.name.clone(), &c.function.arguments))
                    .collect();
                Message::assistant_with_tool_calls(content.as_ref().map(text).unwrap_or_default(), calls)
            }
            ChatMessage::Tool { tool_call_id, content } => {
                Message::tool_result(tool_call_id.clone(), text(content), false)
            }
        })
        .collect();
    let tools = openai
        .tools
        .iter()
        .flatten()
        .map(|tool| ToolSpec {
            name: tool.function.name.clone(),
            description: tool.function.description.clone().unwrap_or_default(),
            parameters: tool.function.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        })
        .collect();
    let tool_choice = match &openai.tool_choice {
        None => None,
        Some(Value::String(choice)) => Some(match choice.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                return Err(GatewayError::bad_request(format!("tool_choice `{other}` is not auto, none or required")));
            }
        }),
        Some(object) => match object["function"]["name"].as_str() {
            Some(name) => Some(ToolChoice::Named(name.to_owned())),
            None => return Err(GatewayError::bad_request("tool_choice: an object needs function.name")),
        },
    };
    let response_format = match &openai.response_format {
        None => None,
        Some(format) => Some(match format["type"].as_str() {
            Some("text") => ResponseFormat::Text,
            Some("json_object") => ResponseFormat::JsonObject,
            Some("json_schema") => ResponseFormat::JsonSchema {
                name: format["json_schema"]["name"].as_str().unwrap_or("answer").to_owned(),
                schema: format["json_schema"]["schema"].clone(),
                strict: format["json_schema"]["strict"].as_bool().unwrap_or(false),
            },
            _ => return Err(GatewayError::bad_request("response_format.type: use text, json_object or json_schema")),
        }),
    };
    let reasoning_effort = match openai.reasoning_effort.as_deref() {
        None => None,
        Some("none") => Some(ReasoningEffort::None),
        Some("minimal") => Some(ReasoningEffort::Minimal),
        Some("low") => Some(ReasoningEffort::Low),
        Some("medium") => Some(ReasoningEffort::Medium),
        Some("high") => Some(ReasoningEffort::High),
        Some(other) => return Err(GatewayError::bad_request(format!("reasoning_effort `{other}` is not known"))),
    };
    let level = |name: &str, value: Option<&str>| match value {
        None => Ok(None),
        Some("low") => Ok(Some(Verbosity::Low)),
        Some("medium") => Ok(Some(Verbosity::Medium)),
        Some("high") => Ok(Some(Verbosity::High)),
        Some(other) => Err(GatewayError::bad_request(format!("{name} `{other}`: use low, medium or high"))),
    };
    let verbosity = level("verbosity", openai.verbosity.as_deref())?;
    let service_tier = match openai.service_tier.as_deref() {
        None => None,
        Some("auto") => Some(ServiceTier::Auto),
        Some("default") => Some(ServiceTier::Default),
        Some("priority") => Some(ServiceTier::Priority),
        Some(other) => {
            return Err(GatewayError::bad_request(format!("service_tier `{other}`: use auto, default or priority")));
        }
    };
    let web_search = match &openai.web_search_options {
        None => None,
        Some(options) => {
            let size = options.get("search_context_size").and_then(Value::as_str);
            let location = options.pointer("/user_location/approximate").cloned();
            let user_location = location
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| GatewayError::bad_request(format!("web_search_options.user_location: {e}")))?;
            Some(WebSearch { context_size: level("web_search_options.search_context_size", size)?, user_location })
        }
    };
    let documents = documents(openai.extra.get("documents"))?;
    // Not OpenAI's either: how Cohere models cite the documents.
    let citations = match openai.extra.get("citation_mode").and_then(Value::as_str) {
        None => None,
        Some("fast") => Some(CitationMode::Fast),
        Some("accurate") => Some(CitationMode::Accurate),
        Some("off") => Some(CitationMode::Off),
        Some(other) => {
            return Err(GatewayError::bad_request(format!("citation_mode `{other}`: use fast, accurate or off")));
        }
    };
    Ok(ChatRequest {
        documents,
        messages,
        tools,
        params: GenerationParams {
            max_tokens: openai.max_completion_tokens.or(openai.max_tokens),
            temperature: openai.temperature,
            top_p: openai.top_p,
            top_k: openai.extra.get("top_k").and_then(Value::as_u64).map(|k| k as u32),
            frequency_penalty: openai.frequency_penalty,
            presence_penalty: openai.presence_penalty,
            seed: openai.seed,
            stop: openai.stop.clone().unwrap_or_default(),
            tool_choice,
            parallel_tool_calls: openai.parallel_tool_calls,
            response_format,
            reasoning_effort,
            verbosity,
            service_tier,
            web_search,
            citations,
        },
    })
}

/// Not OpenAI's: `documents` (strings, or `{"id", "text"}`) for Cohere models to ground their answer in.
fn documents(value: Option<&Value>) -> Result<Vec<locus_providers::Document>, GatewayError> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let items = value.as_array().ok_or_else(|| GatewayError::bad_request("documents: give a list"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(text) => Ok(locus_providers::Document { id: None, text: text.clone() }),
            Value::Object(o) => match o.get("text").and_then(Value::as_str) {
                Some(text) => Ok(locus_providers::Document {
                    id: o.get("id").and_then(Value::as_str).map(str::to_owned),
                    text: text.to_owned(),
                }),
                None => {
                    Err(GatewayError::bad_request(format!("documents[{i}]: give a string or {{\"id\", \"text\"}}")))
                }
            },
            _ => Err(GatewayError::bad_request(format!("documents[{i}]: give a string or {{\"id\", \"text\"}}"))),
        })
        .collect()
}

/// OpenAI's word for why the model stopped.
pub fn finish_reason(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Other(other) if other == "none given" => "stop",
        other => other.as_str(),
    }
}

/// Usage as OpenAI reports it.
pub fn usage(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens.unwrap_or(0)},
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens.unwrap_or(0)},
    })
}

/// A whole completion.
pub fn completion(id: &str, model: &str, created: u64, response: &ChatResponse) -> Value {
    let mut message = json!({"role": "assistant", "content": response.message.text()});
    if !response.message.tool_calls.is_empty() {
        message["tool_calls"] = response
            .message
            .tool_calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_text()}}))
            .collect();
    }
    if let Some(reasoning) = &response.reasoning {
        message["reasoning_content"] = reasoning.clone().into();
    }
    // Not OpenAI's: Cohere models' citations of the request's documents, as locus-rs names them.
    if !response.citations.is_empty() {
        message["citations"] = serde_json::to_value(&response.citations).unwrap_or_default();
    }
    let mut value = json!({
        "id": id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(&response.finish_reason)}],
    });
    if let Some(u) = &response.usage {
        value["usage"] = usage(u);
    }
    value
}

/// Turns model events into SSE chunk frames (`data: {…}\n\n`), written
/// straight into a buffer — the parts every chunk shares are made once —
/// keeping what OpenAI clients expect: a role chunk first, tool calls by
/// index with the id and name in their first fragment, the finish chunk,
/// and usage in a last chunk with empty `choices` when asked for.
#[derive(Debug)]
pub struct ChunkWriter {
    /// `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":`
    head: Vec<u8>,
    started: bool,
    include_usage: bool,
    /// Tool-call indexes as the model gave them → OpenAI's, dense from 0.
    indexes: Vec<usize>,
}

impl ChunkWriter {
    /// Chunks of the completion `id` by `model`, created at `created`; a usage chunk when `include_usage`.
    pub fn new(id: String, model: String, created: u64, include_usage: bool) -> Self {
        let mut head = b"data: {\"id\":".to_vec();
        let _ = serde_json::to_writer(&mut head, &id);
        head.extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
        head.extend_from_slice(created.to_string().as_bytes());
        head.extend_from_slice(b",\"model\":");
        let _ = serde_json::to_writer(&mut head, &model);
        head.extend_from_slice(b",\"choices\":");
        ChunkWriter { head, started: false, include_usage, indexes: Vec::new() }
    }

    /// One chunk whose delta `write_delta` writes.
    fn chunk(&self, out: &mut Vec<u8>, finish: Option<&str>, write_delta: impl FnOnce(&mut Vec<u8>)) {
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b"[{\"index\":0,\"delta\":");
        write_delta(out);
        out.extend_from_slice(b",\"finish_reason\":");
        match finish {
            Some(reason) => {
                let _ = serde_json::to_writer(&mut *out, reason);
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}]}\n\n");
    }

    fn value_chunk(&self, out: &mut Vec<u8>, delta: &Value, finish: Option<&str>) {
        self.chunk(out, finish, |out| {
            let _ = serde_json::to_writer(out, delta);
        });
    }

    /// The frames for `event`, appended to `out`.
    pub fn event(&mut self, event: ModelEvent, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            self.value_chunk(out, &json!({"role": "assistant", "content": ""}), None);
        }
        match event {
            ModelEvent::TextDelta(text) => self.chunk(out, None, |out| {
                out.extend_from_slice(b"{\"content\":");
                let _ = serde_json::to_writer(&mut *out, &text);
                out.push(b'}');
            }),
            ModelEvent::ReasoningDelta(text) => self.value_chunk(out, &json!({"reasoning_content": text}), None),
            ModelEvent::Citation(citation) => {
                let citations = serde_json::to_value([citation]).unwrap_or_default();
                self.value_chunk(out, &json!({"citations": citations}), None);
            }
            ModelEvent::ToolCallDelta { index, id, name, arguments } => {
                // A new id (or a name without one) opens a call, as the accumulator decides.
                let opens = id.is_some() || name.is_some() || !self.indexes.contains(&index);
                let position = if opens && (id.is_some() || !self.indexes.contains(&index)) {
                    self.indexes.push(index);
                    self.indexes.len() - 1
                } else {
                    self.indexes.iter().rposition(|i| *i == index).unwrap_or(0)
                };
                let mut call = json!({"index": position, "function": {"arguments": arguments}});
                if let Some(id) = id {
                    call["id"] = id.into();
                    call["type"] = "function".into();
                } else if opens {
                    call["id"] = locus_providers::new_call_id().into();
                    call["type"] = "function".into();
                }
                if let Some(name) = name {
                    call["function"]["name"] = name.into();
                }
                self.value_chunk(out, &json!({"tool_calls": [call]}), None);
            }
            ModelEvent::Finished(reason) => {
                // A turn with tool calls ended for them, whatever word the model used (as the accumulator settles it).
                let reason = match reason {
                    FinishReason::Stop if !self.indexes.is_empty() => FinishReason::ToolCalls,
                    other => other,
                };
                self.value_chunk(out, &json!({}), Some(finish_reason(&reason)));
            }
            ModelEvent::Usage(u) if self.include_usage => {
                out.extend_from_slice(&self.head);
                out.extend_from_slice(b"[],\"usage\":");
                let _ = serde_json::to_writer(&mut *out, &usage(&u));
                out.extend_from_slice(b"}\n\n");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_openai_request_becomes_a_neutral_one() {
        let openai: ChatCompletionRequest = serde_json::from_value(json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": [{"type": "text", "text": "what is 2+2?"}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "calc", "arguments": "{\"e\":\"2+2\"}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "4"}
            ],
            "tools": [{"type": "function", "function": {"name": "calc", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "calc"}},
            "max_completion_tokens": 50, "stop": ["END"]
        }))
        .unwrap();
        let neutral = request(&openai).unwrap();
        assert_eq!(neutral.messages.len(), 4);
        assert_eq!(neutral.messages[2].tool_calls[0].arguments["e"], "2+2");
        assert_eq!(neutral.messages[3].tool_call_id.as_deref(), Some("c1"));
        assert_eq!(neutral.params.tool_choice, Some(ToolChoice::Named("calc".into())));
        assert_eq!((neutral.params.max_tokens, neutral.params.stop.len()), (Some(50), 1));
    }

    #[test]
    fn tool_call_fragments_keep_one_index_per_call() {
        let mut writer = ChunkWriter::new("id".into(), "m".into(), 0, true);
        let mut buffer = Vec::new();
        let delta = |id: Option<&str>, name: Option<&str>, arguments: &str| ModelEvent::ToolCallDelta {
            index: 0,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: arguments.into(),
        };
        // Two calls streamed one after another at the model's index 0 (pattern b).
        for event in [delta(Some("a"), Some("x"), ""), delta(None, None, "{}"), delta(Some("b"), Some("y"), "{}")] {
            writer.event(event, &mut buffer);
        }
        writer.event(ModelEvent::TextDelta("a \"quoted\"\n text".into()), &mut buffer);
        writer.event(ModelEvent::Usage(Usage::default()), &mut buffer);
        let text = String::from_utf8(buffer).unwrap();
        let out: Vec<&str> = text.split("\n\n").filter_map(|c| c.strip_prefix("data: ")).collect();
        let indexes: Vec<Value> = out[1..4]
            .iter()
            .map(|c| serde_json::from_str::<Value>(c).unwrap()["choices"][0]["delta"]["tool_calls"][0]["index"].clone())
            .collect();
        assert_eq!(indexes, [json!(0), json!(0), json!(1)]);
        let delta: Value = serde_json::from_str(out[4]).unwrap();
        assert_eq!(delta["choices"][0]["delta"]["content"], "a \"quoted\"\n text");
        assert_eq!(delta["object"], "chat.completion.chunk");
        assert_eq!(serde_json::from_str::<Value>(out[5]).unwrap()["choices"], json!([]));
    }
}
