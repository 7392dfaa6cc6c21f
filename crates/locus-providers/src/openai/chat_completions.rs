//! Chat completions: neutral requests to `ChatCompletionRequest`, and answers
//! and chunks back.

use std::borrow::Cow;
use std::fmt;

use oci_genai_transport::openai::chat_completions as wire;
use oci_genai_transport::sse::SseEvent;
use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde_json::json;

use super::{effort, rejects_penalties, tool_schema, unsupported};
use crate::error::Error;
use crate::shape::chunk_view::{Str, keep_range, neutral_usage, range_in};
use crate::shape::{is_openai_reasoning, sendable_temperature, tool_result_text};
use crate::types::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, Message, ModelEvent, ResponseFormat, Role, ToolCall,
    ToolChoice, Usage,
};

const API: &str = "chat completions";

fn content(parts: &[ContentPart]) -> wire::Content {
    match parts {
        [] => wire::Content::Text(String::new()),
        [ContentPart::Text(text)] => wire::Content::Text(text.clone()),
        parts => wire::Content::Parts(
            parts
                .iter()
                .map(|part| match part {
                    ContentPart::Text(text) => wire::ContentPart::Text { text: text.clone() },
                    ContentPart::Image { source, detail } => wire::ContentPart::ImageUrl {
                        image_url: wire::ImageUrl { url: source.to_url(), detail: detail.clone() },
                    },
                })
                .collect(),
        ),
    }
}

fn message(message: &Message) -> wire::ChatMessage {
    match message.role {
        Role::System => wire::ChatMessage::System { content: content(&message.content) },
        Role::Developer => wire::ChatMessage::Developer { content: content(&message.content) },
        Role::User => wire::ChatMessage::User { content: content(&message.content), name: None },
        Role::Assistant => wire::ChatMessage::Assistant {
            content: (!message.content.is_empty()).then(|| content(&message.content)),
            tool_calls: (!message.tool_calls.is_empty()).then(|| {
                message
                    .tool_calls
                    .iter()
                    .map(|call| wire::ToolCall {
                        id: call.id.clone(),
                        kind: "function".into(),
                        function: wire::FunctionCall { name: call.name.clone(), arguments: call.arguments_text() },
                    })
                    .collect()
            }),
        },
        Role::Tool => wire::ChatMessage::Tool {
            tool_call_id: message.tool_call_id.clone().unwrap_or_default(),
            content: wire::Content::Text(tool_result_text(message)),
        },
    }
}

/// The wire request for `model`: every neutral parameter, or a typed error
/// for the one this API lacks (`top_k`), with the model quirks applied.
pub fn build(request: &ChatRequest, model: &str) -> Result<wire::ChatCompletionRequest, Error> {
    let params = &request.params;
    if !request.documents.is_empty() || params.citations.is_some() {
        return Err(unsupported(
            if request.documents.is_empty() { "citations" } else { "documents" },
            model,
            API,
            "a message holding them, or a Cohere model on --transport native",
        ));
    }
    if params.top_k.is_some() {
        return Err(unsupported("top_k", model, API, "--transport native (the GENERIC shape takes topK)"));
    }
    let (frequency_penalty, presence_penalty) = match (params.frequency_penalty, params.presence_penalty) {
        (None, None) => (None, None),
        (frequency, presence) if rejects_penalties(model) => {
            tracing::warn!(
                model,
                ?frequency,
                ?presence,
                "xAI models reject presence and frequency penalties; not sending them"
            );
            (None, None)
        }
        penalties => penalties,
    };
    let reasoning_model = is_openai_reasoning(model);
    let tools = request
        .tools
        .iter()
        .map(|tool| {
            Ok(wire::Tool::function(&tool.name, &tool.description, tool_schema(model, &tool.name, &tool.parameters)?))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(wire::ChatCompletionRequest {
        model: model.to_owned(),
        messages: request.messages.iter().map(message).collect(),
        max_tokens: params.max_tokens.filter(|_| !reasoning_model),
        max_completion_tokens: params.max_tokens.filter(|_| reasoning_model),
        temperature: sendable_temperature(model, request.params.temperature),
        top_p: params.top_p,
        frequency_penalty,
        presence_penalty,
        seed: params.seed,
        stop: (!params.stop.is_empty()).then(|| params.stop.clone()),
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice: params.tool_choice.as_ref().map(|choice| match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
        }),
        parallel_tool_calls: params.parallel_tool_calls,
        response_format: params.response_format.as_ref().map(|format| match format {
            ResponseFormat::Text => json!({"type": "text"}),
            ResponseFormat::JsonObject => json!({"type": "json_object"}),
            ResponseFormat::JsonSchema { name, schema, strict } => {
                json!({"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}})
            }
        }),
        reasoning_effort: params.reasoning_effort.map(|e| effort(e).to_owned()),
        verbosity: params.verbosity.map(|v| v.as_str().to_owned()),
        service_tier: params.service_tier.map(|t| t.as_str().to_owned()),
        web_search_options: params.web_search.as_ref().map(|search| {
            let mut options = json!({});
            if let Some(size) = search.context_size {
                options["search_context_size"] = size.as_str().into();
            }
            if let Some(location) = &search.user_location {
                options["user_location"] = json!({"type": "approximate", "approximate": location});
            }
            options
        }),
        ..Default::default()
    })
}

fn usage(u: &wire::CompletionUsage) -> Usage {
    Usage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        total_tokens: u.total_tokens,
        reasoning_tokens: u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
        cached_tokens: u.prompt_tokens_details.and_then(|d| d.cached_tokens),
    }
}

/// The neutral answer from a whole completion (its first choice).
pub fn parse_response(reply: wire::ChatCompletion) -> Result<ChatResponse, Error> {
    let choice = reply.choices.into_iter().next();
    let finish = choice.as_ref().and_then(|c| c.finish_reason.as_deref()).map(FinishReason::from_wire);
    let message = choice.and_then(|c| c.message).unwrap_or_default(); // Gemini: `message: null`
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|call| {
            let id = if call.id.is_empty() { crate::types::new_call_id() } else { call.id };
            ToolCall::from_text(id, call.function.name, &call.function.arguments)
        })
        .collect();
    let text = message.content.or(message.refusal).unwrap_or_default();
    let finish_reason = FinishReason::settle(finish, !tool_calls.is_empty(), "none given");
    Ok(ChatResponse {
        message: Message::assistant_with_tool_calls(text, tool_calls),
        reasoning: message.reasoning_content.filter(|r| !r.is_empty()),
        finish_reason,
        usage: reply.usage.as_ref().map(usage),
        citations: Vec::new(),
    })
}

/// Appends the neutral events of one chunk. The text delta — nearly every
/// chunk — is cut out of the event's own buffer.
pub fn parse_chunk(event: SseEvent, out: &mut Vec<ModelEvent>) -> Result<(), Error> {
    let mut borrowed_text = None;
    let chunk: Chunk<'_> = serde_json::from_str(&event.data)
        .map_err(|e| Error::UnexpectedReply(format!("a stream chunk is not a chat completion chunk: {e}")))?;
    if let Some(choice) = chunk.choices.0 {
        if let Some(delta) = choice.delta {
            let reasoning = delta.reasoning_content.or(delta.reasoning).filter(|r| !r.0.is_empty());
            if let Some(Str(reasoning)) = reasoning {
                out.push(ModelEvent::ReasoningDelta(reasoning.into_owned()));
            }
            if let Some(Str(text)) = delta.content.filter(|t| !t.0.is_empty()) {
                let range = match &text {
                    Cow::Borrowed(text) => range_in(&event.data, text),
                    Cow::Owned(_) => None,
                };
                match range {
                    Some(range) => borrowed_text = Some((out.len(), range)),
                    None => out.push(ModelEvent::TextDelta(text.into_owned())),
                }
            }
            for (position, call) in delta.tool_calls.into_iter().flatten().enumerate() {
                let function = call.function.unwrap_or_default();
                out.push(ModelEvent::ToolCallDelta {
                    index: call.index.unwrap_or(position),
                    id: call.id.map(|s| s.0.into_owned()).filter(|id| !id.is_empty()),
                    name: function.name.map(|s| s.0.into_owned()).filter(|n| !n.is_empty()),
                    arguments: function.arguments.map(|s| s.0.into_owned()).unwrap_or_default(),
                });
            }
        }
        if let Some(reason) = choice.finish_reason {
            out.push(ModelEvent::Finished(FinishReason::from_wire(&reason.0)));
        }
    }
    if let Some(u) = chunk.usage {
        let reasoning = u.completion_tokens_details.and_then(|d| d.reasoning_tokens);
        let cached = u.prompt_tokens_details.and_then(|d| d.cached_tokens);
        out.push(ModelEvent::Usage(neutral_usage(
            u.prompt_tokens,
            u.completion_tokens,
            u.total_tokens,
            reasoning,
            cached,
        )));
    }
    if let Some((at, range)) = borrowed_text {
        out.insert(at, ModelEvent::TextDelta(keep_range(event.data, range)));
    }
    Ok(())
}

/// A chunk read in place: the first choice only (`n` is 1), strings borrowed.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    choices: FirstChoice<'a>,
    usage: Option<UsageView>,
}

/// The first element of `choices`, without a list allocated for it.
#[derive(Default)]
struct FirstChoice<'a>(Option<ChoiceView<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for FirstChoice<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct First;
        impl<'de> Visitor<'de> for First {
            type Value = FirstChoice<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of choices")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq.next_element::<ChoiceView<'de>>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstChoice(first))
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(FirstChoice(None))
            }
        }
        deserializer.deserialize_any(First)
    }
}

#[derive(Deserialize)]
struct ChoiceView<'a> {
    #[serde(borrow)]
    delta: Option<DeltaView<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct DeltaView<'a> {
    #[serde(borrow)]
    content: Option<Str<'a>>,
    #[serde(borrow)]
    reasoning_content: Option<Str<'a>>,
    #[serde(borrow)]
    reasoning: Option<Str<'a>>,
    #[serde(borrow)]
    tool_calls: Option<Vec<ToolCallView<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallView<'a> {
    index: Option<usize>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    function: Option<FunctionView<'a>>,
}

#[derive(Deserialize, Default)]
struct FunctionView<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    arguments: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct UsageView {
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
    total_tokens: Option<i64>,
    completion_tokens_details: Option<DetailsView>,
    prompt_tokens_details: Option<PromptDetailsView>,
}

#[derive(Deserialize)]
struct DetailsView {
    reasoning_tokens: Option<i64>,
}

#[derive(Deserialize)]
struct PromptDetailsView {
    cached_tokens: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(data: &str) -> Vec<ModelEvent> {
        let mut out = Vec::new();
        parse_chunk(SseEvent { data: data.into(), ..Default::default() }, &mut out).unwrap();
        out
    }

    /// Cached prompt tokens are read from a chunk and from a whole completion (issue 29, item 4).
    #[test]
    fn cached_and_reasoning_tokens_are_read_streamed_and_whole() {
        let usage = r#"{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,
            "prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":5}}"#;
        let streamed = events(&format!(r#"{{"choices":[],"usage":{usage}}}"#));
        let expected = Usage {
            prompt_tokens: 100,
            completion_tokens: 20,
            total_tokens: 120,
            reasoning_tokens: Some(5),
            cached_tokens: Some(64),
        };
        assert_eq!(streamed, vec![ModelEvent::Usage(expected)]);
        let whole: wire::ChatCompletion = serde_json::from_str(&format!(
            r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"hi"}},"finish_reason":"stop"}}],"usage":{usage}}}"#
        ))
        .unwrap();
        assert_eq!(parse_response(whole).unwrap().usage, Some(expected));
    }

    #[test]
    fn a_delta_null_chunk_carries_only_its_finish_reason() {
        assert_eq!(
            events(r#"{"choices":[{"index":0,"delta":null,"finish_reason":"stop"}]}"#),
            vec![ModelEvent::Finished(FinishReason::Stop)]
        );
        assert_eq!(events(r#"{"choices":null,"usage":null}"#), vec![]);
    }

    #[test]
    fn text_reasoning_and_tool_fragments_keep_their_order() {
        let got = events(
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"hm","content":"Hi","tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"clock","arguments":""}}]}}],"usage":null}"#,
        );
        assert_eq!(got[0], ModelEvent::ReasoningDelta("hm".into()));
        assert_eq!(got[1], ModelEvent::TextDelta("Hi".into()));
        assert!(matches!(&got[2], ModelEvent::ToolCallDelta { index: 1, id: Some(id), .. } if id == "call_1"));
    }

    #[test]
    fn a_value_of_another_type_is_an_error_not_a_panic() {
        let mut out = Vec::new();
        let event = SseEvent { data: r#"{"choices":[{"delta":{"content":7}}]}"#.into(), ..Default::default() };
        assert!(parse_chunk(event, &mut out).is_err());
    }
}
