//! The OpenAI-compatible API's two shapes: chat completions and Responses.
//! Each turns a neutral request into its wire request (every neutral
//! parameter, or a typed error for one the API lacks; model quirks applied
//! and logged), and its whole reply or stream events into neutral ones.
//! [`OciChatModel`](crate::OciChatModel) uses them; they are public for
//! code that speaks the wire itself (a gateway, tests).
//!
//! ```
//! use locus_providers::{ChatRequest, Message, openai};
//! let request = ChatRequest { messages: vec![Message::user("Hi")], ..Default::default() };
//! let wire = openai::chat_completions::build(&request, "meta.llama-3.3-70b-instruct")?;
//! assert_eq!(serde_json::to_value(&wire).unwrap()["messages"][0]["content"], "Hi");
//! # Ok::<(), locus_providers::Error>(())
//! ```

pub mod chat_completions;
pub mod responses;

use serde_json::Value;

use crate::error::Error;
use crate::types::ReasoningEffort;

/// Google models on the OpenAI-compatible API reject `$ref` in tool schemas.
fn rejects_schema_refs(model: &str) -> bool {
    !crate::profiles::profile(model).schema_refs
}

/// xAI models reject presence and frequency penalties.
fn rejects_penalties(model: &str) -> bool {
    !crate::profiles::profile(model).penalties
}

/// A tool's parameters as `model` takes them: for Google models, every
/// `$ref` into `$defs`/`definitions` inlined (a recursive schema cannot be,
/// and is an error naming the tool).
fn tool_schema(model: &str, tool: &str, schema: &Value) -> Result<Value, Error> {
    if !rejects_schema_refs(model) || !schema.to_string().contains("\"$ref\"") {
        return Ok(schema.clone());
    }
    let mut inlined = inline_refs(schema, schema, 0).map_err(|reason| {
        let advice = format!("tool `{tool}`: {reason}; flatten the schema, or use --transport native");
        Error::unsupported("a tool schema with $ref", model, "OpenAI-compatible", advice)
    })?;
    if let Some(object) = inlined.as_object_mut() {
        object.remove("$defs");
        object.remove("definitions");
    }
    Ok(inlined)
}

fn inline_refs(value: &Value, root: &Value, depth: usize) -> Result<Value, String> {
    if depth > 32 {
        return Err("its $ref chain is recursive or deeper than 32".into());
    }
    Ok(match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let pointer = target.strip_prefix('#').ok_or_else(|| format!("`{target}` is not a local $ref"))?;
                let found = root.pointer(pointer).ok_or_else(|| format!("`{target}` points nowhere"))?;
                let mut inlined = inline_refs(found, root, depth + 1)?;
                // Keywords beside the $ref (a description, say) are kept.
                if let Value::Object(target_map) = &mut inlined {
                    for (key, value) in map.iter().filter(|(key, _)| key.as_str() != "$ref") {
                        target_map.insert(key.clone(), inline_refs(value, root, depth + 1)?);
                    }
                }
                return Ok(inlined);
            }
            let mut out = serde_json::Map::with_capacity(map.len());
            for (key, value) in map {
                out.insert(key.clone(), inline_refs(value, root, depth + 1)?);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| inline_refs(v, root, depth + 1)).collect::<Result<_, _>>()?)
        }
        other => other.clone(),
    })
}

fn effort(effort: ReasoningEffort) -> &'static str {
    match effort {
        ReasoningEffort::None => "none",
        ReasoningEffort::Minimal => "minimal",
        ReasoningEffort::Low => "low",
        ReasoningEffort::Medium => "medium",
        ReasoningEffort::High => "high",
    }
}

/// An error for a parameter `api` has no field for.
fn unsupported(parameter: &'static str, model: &str, api: &'static str, instead: &str) -> Error {
    Error::unsupported(parameter, model, api, format!("the {api} API has no such parameter; use {instead}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_are_inlined_for_google_only() {
        let schema = json!({"type": "object", "properties": {"when": {"$ref": "#/$defs/time", "description": "at"}},
            "$defs": {"time": {"type": "string"}}});
        let inlined = tool_schema("google.gemini-2.5-flash", "clock", &schema).unwrap();
        assert_eq!(inlined, json!({"type": "object", "properties": {"when": {"type": "string", "description": "at"}}}));
        assert_eq!(tool_schema("openai.gpt-5", "clock", &schema).unwrap(), schema);
        let recursive =
            json!({"$defs": {"node": {"properties": {"next": {"$ref": "#/$defs/node"}}}}, "$ref": "#/$defs/node"});
        let err = tool_schema("google.gemini-2.5-pro", "tree", &recursive).unwrap_err().to_string();
        assert!(err.contains("tree") && err.contains("recursive"), "{err}");
    }
}
