//! What some models refuse, as the service answers them (400
//! `InvalidParameter`), so that clients' model profiles are tested against
//! something: a model's `refuses` parameters, Responses-only models on chat
//! completions, Gemini's JSON Schema subset, Llama's tools after a system message.

use serde_json::Value;

use crate::config::ModelConfig;

/// Which API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `/20231130/actions/chat` (the `chatRequest` object).
    Native,
    /// `/openai/v1/chat/completions`.
    ChatCompletions,
    /// `/openai/v1/responses`.
    Responses,
}

/// Keywords Gemini's schema subset refuses.
const GEMINI_REFUSES: [&str; 4] = ["exclusiveMinimum", "exclusiveMaximum", "anyOf", "oneOf"];

/// The refusal of `request` (the native `chatRequest`, or the OpenAI body) by `model`, if any.
pub(crate) fn refusal(model: &ModelConfig, api: Api, request: &Value) -> Option<String> {
    if model.responses_only && api != Api::Responses {
        return Some(format!("{} is only available through the Responses API (/openai/v1/responses)", model.id));
    }
    if let Some(name) = model.refuses.iter().find(|name| request.get(name.as_str()).is_some_and(|v| !v.is_null())) {
        return Some(format!("Unsupported parameter: '{name}' is not supported with this model."));
    }
    let id = model.id.to_ascii_lowercase();
    let tools = request.get("tools").and_then(Value::as_array).filter(|t| !t.is_empty());
    if id.starts_with("google.") {
        if let Some(keyword) =
            tools.and_then(|tools| GEMINI_REFUSES.iter().find(|k| holds(&Value::from(tools.clone()), k)))
        {
            return Some(format!("Invalid JSON payload: function parameters: unknown field \"{keyword}\""));
        }
    }
    if id.starts_with("meta.llama") && tools.is_some() {
        let messages = request.get("messages").and_then(Value::as_array);
        let first_role = messages.and_then(|m| m.first()).and_then(|m| m.get("role")).and_then(Value::as_str);
        if first_role.is_some_and(|role| role.eq_ignore_ascii_case("system")) {
            return Some("Tool calling is not supported with a leading system message for this model".into());
        }
    }
    None
}

/// What an OpenAI-compatible request's body is refused for: an option's
/// value (`options`), else [`refusal`].
pub(crate) fn openai_refusal(model: &ModelConfig, responses: bool, body: &[u8]) -> Option<String> {
    if let Err(message) = crate::options::check_openai(body) {
        return Some(message);
    }
    let api = if responses { Api::Responses } else { Api::ChatCompletions };
    refusal(model, api, &serde_json::from_slice(body).unwrap_or_default())
}

fn holds(value: &Value, keyword: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k == keyword || holds(v, keyword)),
        Value::Array(items) => items.iter().any(|v| holds(v, keyword)),
        _ => false,
    }
}
