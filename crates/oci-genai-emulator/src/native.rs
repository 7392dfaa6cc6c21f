//! The native chat action (`POST /20231130/actions/chat`): the request
//! checked as the service checks it, answered whole or as an SSE stream.

use bytes::Bytes;
use hyper::Response;
use oci_genai_transport::models::{BaseChatRequest, ChatDetails};
use serde_json::json;

use crate::behaviour::{View, answer};
use crate::config::Fault;
use crate::render;
use crate::state::{Outcome, State, authenticate, error, fault_for, find_model, full};
use crate::stream_body::{Style, before_answer, stream_body};

pub(crate) async fn chat(
    state: &State,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    request_id: &str,
) -> Outcome {
    if let Err(reason) = authenticate(state, parts, body) {
        return error(401, "NotAuthenticated", &reason, request_id);
    }
    let mut json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(json) => json,
        Err(e) => return error(400, "InvalidParameter", &format!("Invalid request body: {e}"), request_id),
    };
    if let Err(message) = tool_content_forms(&mut json) {
        return error(400, "InvalidParameter", &message, request_id);
    }
    let details: ChatDetails = match serde_json::from_value(json) {
        Ok(details) => details,
        Err(e) => return error(400, "InvalidParameter", &format!("Invalid request body: {e}"), request_id),
    };
    if details.compartment_id.trim().is_empty() {
        return error(400, "InvalidParameter", "compartmentId is required", request_id);
    }
    let model = match find_model(&state.config, &details.serving_mode, &details.compartment_id) {
        Ok(model) => model,
        Err((status, code, message)) => return error(status, code, &message, request_id),
    };
    let cohere = matches!(details.chat_request, BaseChatRequest::Cohere(_));
    let v2 = matches!(details.chat_request, BaseChatRequest::CohereV2(_));
    let wanted = model.api_format.as_deref().unwrap_or("GENERIC");
    let sent = if cohere {
        "COHERE"
    } else if v2 {
        "COHEREV2"
    } else {
        "GENERIC"
    };
    if wanted != sent {
        let message = format!(
            "Please pass in correct format of request: apiFormat {sent} is not supported by this model; use {wanted}"
        );
        return error(400, "InvalidParameter", &message, request_id);
    }
    let chat_request = serde_json::to_value(&details.chat_request).unwrap_or_default();
    if let Some(message) = crate::quirks::refusal(model, crate::quirks::Api::Native, &chat_request) {
        return error(400, "InvalidParameter", &message, request_id);
    }
    if let BaseChatRequest::Generic(generic) = &details.chat_request {
        if let Err(message) = crate::options::check_generic(generic) {
            return error(400, "InvalidParameter", &message, request_id);
        }
    }
    let streaming = match &details.chat_request {
        BaseChatRequest::Generic(g) => g.is_stream == Some(true),
        BaseChatRequest::Cohere(c) => c.is_stream == Some(true),
        BaseChatRequest::CohereV2(c) => c.is_stream == Some(true),
        _ => false,
    };
    let usage_requested = match &details.chat_request {
        BaseChatRequest::Generic(g) => g.stream_options.as_ref().and_then(|o| o.is_include_usage) == Some(true),
        BaseChatRequest::CohereV2(c) => c.stream_options.as_ref().and_then(|o| o.is_include_usage) == Some(true),
        _ => cohere,
    };

    let fault = fault_for(state, parts, model);
    if let Some(outcome) = before_answer(fault.as_ref(), streaming, request_id, error).await {
        return outcome;
    }

    let view = View::of(&details.chat_request);
    let turn = crate::behaviour::grounded(answer(&model.behaviour, &view), &view);
    let mut usage = render::usage(body.len(), &turn);
    // As the service's prompt cache does: a follow-up call finds the conversation so far cached.
    if view.assistant_turns > 0 {
        let cached = usage["promptTokens"].as_u64().unwrap_or(0) / 2;
        usage["promptTokensDetails"] = json!({ "cachedTokens": cached });
    }
    let mut response = if streaming {
        let mut events = if v2 {
            render::stream_events_v2(&turn, model.chunk_chars, usage_requested.then_some(usage.clone()))
        } else {
            render::stream_events(
                cohere,
                &turn,
                model.tool_pattern,
                model.chunk_chars,
                usage_requested.then_some(usage.clone()),
            )
        };
        match &fault {
            Some(Fault::NoFinish) => events.retain(|e| !Style::Native.is_final(e)),
            Some(Fault::UsageEveryChunk) => events.iter_mut().for_each(|e| e["usage"] = usage.clone()),
            _ => {}
        }
        let mut response = Response::new(stream_body(events, model, fault, state.config.hold_open_ms, Style::Native));
        response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/event-stream"));
        response
    } else {
        let whole =
            if v2 { render::whole_v2(&model.id, &turn, usage) } else { render::whole(&model.id, cohere, &turn, usage) }
                .to_string();
        let mut response = Response::new(full(Bytes::from(whole)));
        response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
        response
    };
    crate::state::answer_headers(&mut response, request_id, model);
    Ok(response)
}

/// As the service: Google models take tool results only as a plain string
/// (and reject content arrays); the others take either. Strings are turned
/// into content arrays here so the wire types can read them.
fn tool_content_forms(json: &mut serde_json::Value) -> Result<(), String> {
    let google = json["servingMode"]["modelId"].as_str().is_some_and(|m| m.to_ascii_lowercase().starts_with("google."));
    let Some(messages) = json["chatRequest"]["messages"].as_array_mut() else { return Ok(()) };
    for message in messages.iter_mut().filter(|m| m["role"] == "TOOL") {
        match message["content"].take() {
            serde_json::Value::String(text) => message["content"] = json!([{ "type": "TEXT", "text": text }]),
            serde_json::Value::Array(_) if google => {
                return Err("Tool message content must be a string for this model".into());
            }
            other => message["content"] = other,
        }
    }
    Ok(())
}
