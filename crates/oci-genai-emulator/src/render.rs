//! Scripted answers in the service's wire format: whole replies and SSE events.

use serde_json::{Value, json};

use crate::config::{ToolPattern, Turn};

/// Token counts, roughly as a tokenizer would give them.
pub(crate) fn usage(prompt_bytes: usize, turn: &Turn) -> Value {
    let (prompt, completion) = token_counts(prompt_bytes, turn);
    json!({"promptTokens": prompt, "completionTokens": completion, "totalTokens": prompt + completion})
}

/// (prompt, completion) tokens, roughly as a tokenizer would count them.
pub(crate) fn token_counts(prompt_bytes: usize, turn: &Turn) -> (usize, usize) {
    ((prompt_bytes / 4).max(1), (turn.text.len() / 4 + turn.tool_calls.len() * 8).max(1))
}

pub(crate) fn call_id(i: usize) -> String {
    format!("call_emu{i:04}")
}

pub(crate) fn finish_reason(turn: &Turn) -> &str {
    match &turn.finish_reason {
        Some(reason) => reason,
        None if turn.tool_calls.is_empty() => "stop",
        None => "tool_calls",
    }
}

fn cohere_finish_reason(turn: &Turn) -> &str {
    turn.finish_reason.as_deref().unwrap_or("COMPLETE")
}

/// A whole reply (`ChatResult`).
pub(crate) fn whole(model_id: &str, cohere: bool, turn: &Turn, usage: Value) -> Value {
    let response = if cohere {
        json!({
            "apiFormat": "COHERE",
            "text": turn.text,
            "finishReason": cohere_finish_reason(turn),
            "toolCalls": turn.tool_calls.iter().map(|c| json!({"name": c.name, "parameters": c.arguments})).collect::<Vec<_>>(),
            "citations": v1_citations(turn),
            "usage": usage,
        })
    } else {
        let mut message = json!({"role": "ASSISTANT", "content": [{"type": "TEXT", "text": turn.text}]});
        if !turn.tool_calls.is_empty() {
            message["toolCalls"] = turn
                .tool_calls
                .iter()
                .enumerate()
                .map(|(i, c)| json!({"type": "FUNCTION", "id": call_id(i), "name": c.name, "arguments": c.arguments.to_string()}))
                .collect();
        }
        if !turn.reasoning.is_empty() {
            message["reasoningContent"] = turn.reasoning.clone().into();
        }
        json!({
            "apiFormat": "GENERIC",
            "timeCreated": httpdate::fmt_http_date(std::time::SystemTime::now()),
            "choices": [{"index": 0, "message": message, "finishReason": finish_reason(turn)}],
            "usage": usage,
        })
    };
    json!({"modelId": model_id, "modelVersion": "emulator", "chatResponse": response})
}

pub(crate) fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size.max(1)).map(|c| c.iter().collect()).collect()
}

/// The SSE event payloads of a streamed answer.
pub(crate) fn stream_events(
    cohere: bool,
    turn: &Turn,
    pattern: ToolPattern,
    chunk_chars: usize,
    usage: Option<Value>,
) -> Vec<Value> {
    if cohere {
        let mut events: Vec<Value> =
            pieces(&turn.text, chunk_chars).into_iter().map(|t| json!({"apiFormat": "COHERE", "text": t})).collect();
        if !turn.citations.is_empty() {
            // As the service: citations once generated, and again in the last event.
            events.push(json!({"apiFormat": "COHERE", "citations": v1_citations(turn)}));
        }
        let mut last = json!({
            "apiFormat": "COHERE",
            "text": turn.text,
            "finishReason": cohere_finish_reason(turn),
            "chatHistory": [],
            "citations": v1_citations(turn),
        });
        if !turn.tool_calls.is_empty() {
            last["toolCalls"] =
                turn.tool_calls.iter().map(|c| json!({"name": c.name, "parameters": c.arguments})).collect();
        }
        if let Some(usage) = usage {
            last["usage"] = usage;
        }
        events.push(last);
        return events;
    }
    let pad = |n: usize| "a".repeat(1 + n % 7);
    let message = |m: Value, n: usize| json!({"index": 0, "message": m, "pad": pad(n)});
    let mut events = vec![message(json!({"role": "ASSISTANT", "content": [{"type": "TEXT", "text": ""}]}), 0)];
    if !turn.reasoning.is_empty() {
        events.push(message(json!({"role": "ASSISTANT", "reasoningContent": turn.reasoning}), 1));
    }
    for (n, piece) in pieces(&turn.text, chunk_chars).into_iter().enumerate() {
        events.push(message(json!({"role": "ASSISTANT", "content": [{"type": "TEXT", "text": piece}]}), n));
    }
    let calls = |parts: Vec<Value>| json!({"role": "ASSISTANT", "toolCalls": parts});
    for (i, call) in turn.tool_calls.iter().enumerate() {
        let args = call.arguments.to_string();
        let fragments = pieces(&args, 5);
        match pattern {
            ToolPattern::A | ToolPattern::B => {
                let first = if pattern == ToolPattern::A {
                    String::new()
                } else {
                    fragments.first().cloned().unwrap_or_default()
                };
                events.push(message(
                    calls(vec![json!({"type": "FUNCTION", "id": call_id(i), "name": call.name, "arguments": first})]),
                    i,
                ));
                let rest =
                    if pattern == ToolPattern::A { &fragments[..] } else { fragments.get(1..).unwrap_or_default() };
                for fragment in rest {
                    events.push(message(calls(vec![json!({"type": "FUNCTION", "arguments": fragment})]), i));
                }
            }
            ToolPattern::C => {
                events.push(message(calls(vec![json!({"type": "FUNCTION", "name": call.name, "arguments": args})]), i))
            }
            ToolPattern::D => {
                let (head, tail) = args.split_at(args.len() / 2);
                events.push(message(
                    calls(vec![
                        json!({"type": "FUNCTION", "id": call_id(i), "name": call.name, "arguments": head, "index": 0}),
                    ]),
                    i,
                ));
                events.push(message(
                    calls(vec![json!({"type": "FUNCTION", "id": call_id(i), "arguments": tail, "index": i + 5})]),
                    i,
                ));
            }
            ToolPattern::E => events.push(message(
                calls(vec![json!({"type": "FUNCTION", "id": call_id(i), "name": call.name, "arguments": args})]),
                i,
            )),
        }
    }
    events.push(
        json!({"index": 0, "message": {"role": "ASSISTANT"}, "finishReason": finish_reason(turn), "pad": "aaaa"}),
    );
    if let Some(usage) = usage {
        events.push(json!({"usage": usage}));
    }
    events
}

fn v2_tool_calls(turn: &Turn) -> Vec<Value> {
    turn.tool_calls
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"id": call_id(i), "type": "FUNCTION", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
        .collect()
}

fn v2_finish_reason(turn: &Turn) -> &str {
    match turn.finish_reason.as_deref() {
        Some("length") => "MAX_TOKENS",
        Some(other) => other,
        None if turn.tool_calls.is_empty() => "COMPLETE",
        None => "TOOL_CALL",
    }
}

/// A whole COHEREV2 reply.
pub(crate) fn whole_v2(model_id: &str, turn: &Turn, usage: Value) -> Value {
    let mut content = Vec::new();
    if !turn.reasoning.is_empty() {
        content.push(json!({"type": "THINKING", "thinking": turn.reasoning}));
    }
    if !turn.text.is_empty() {
        content.push(json!({"type": "TEXT", "text": turn.text}));
    }
    let mut message = json!({"role": "ASSISTANT", "content": content});
    if !turn.tool_calls.is_empty() {
        message["toolCalls"] = v2_tool_calls(turn).into();
    }
    if !turn.citations.is_empty() {
        message["citations"] = v2_citations(turn);
    }
    let response =
        json!({"apiFormat": "COHEREV2", "message": message, "finishReason": v2_finish_reason(turn), "usage": usage});
    json!({"modelId": model_id, "modelVersion": "emulator", "chatResponse": response})
}

/// A streamed COHEREV2 answer: thinking and text deltas, each tool call
/// whole, then the finish event, and usage when asked.
pub(crate) fn stream_events_v2(turn: &Turn, chunk_chars: usize, usage: Option<Value>) -> Vec<Value> {
    let message =
        |content: Value| json!({"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT", "content": content}});
    let mut events = Vec::new();
    for piece in pieces(&turn.reasoning, chunk_chars) {
        events.push(message(json!([{"type": "THINKING", "thinking": piece}])));
    }
    for piece in pieces(&turn.text, chunk_chars) {
        events.push(message(json!([{"type": "TEXT", "text": piece}])));
    }
    for (i, call) in v2_tool_calls(turn).into_iter().enumerate() {
        let mut call = call;
        call["index"] = i.into();
        events.push(json!({"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT", "toolCalls": [call]}}));
    }
    if !turn.citations.is_empty() {
        events
            .push(json!({"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT", "citations": v2_citations(turn)}}));
    }
    events.push(
        json!({"apiFormat": "COHEREV2", "message": {"role": "ASSISTANT"}, "finishReason": v2_finish_reason(turn)}),
    );
    if let Some(usage) = usage {
        events.push(json!({"usage": usage}));
    }
    events
}

/// COHERE citations: `{start, end, text, documentIds}`.
fn v1_citations(turn: &Turn) -> Value {
    turn.citations
        .iter()
        .map(|c| json!({"start": c.start, "end": c.end, "text": c.text, "documentIds": c.document_ids}))
        .collect()
}

/// COHEREV2 citations: text-content spans with document sources.
fn v2_citations(turn: &Turn) -> Value {
    turn.citations
        .iter()
        .map(|c| {
            let sources: Vec<Value> =
                c.document_ids.iter().map(|id| json!({"type": "DOCUMENT", "document": {"id": id}})).collect();
            json!({"start": c.start, "end": c.end, "text": c.text, "type": "TEXT_CONTENT", "sources": sources})
        })
        .collect()
}
