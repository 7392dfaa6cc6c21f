//! `POST /openai/v1/responses`: the request, the response object, and stream events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::is_none;

/// A Responses request.
///
/// ```
/// use oci_genai_transport::openai::responses::{InputItem, ResponseRequest};
/// let request = ResponseRequest {
///     model: "openai.gpt-5".into(),
///     input: vec![InputItem::user_text("Hi")],
///     store: Some(false),
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&request)?;
/// assert_eq!(json["input"][0]["content"][0]["type"], "input_text");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseRequest {
    /// The OCI model name.
    pub model: String,
    /// The conversation as input items (read from a plain string too: one user message).
    #[serde(deserialize_with = "input_items")]
    pub input: Vec<InputItem>,
    /// System instructions.
    #[serde(default, skip_serializing_if = "is_none")]
    pub instructions: Option<String>,
    /// The most output tokens, reasoning included.
    #[serde(default, skip_serializing_if = "is_none")]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "is_none")]
    pub top_p: Option<f64>,
    /// Tools offered: functions, and tools the service runs (`web_search`).
    #[serde(default, skip_serializing_if = "is_none")]
    pub tools: Option<Vec<ResponseTool>>,
    /// `"auto"`, `"none"`, `"required"` or `{"type": "function", "name"}`.
    #[serde(default, skip_serializing_if = "is_none")]
    pub tool_choice: Option<Value>,
    /// Whether several tools may be called in one turn.
    #[serde(default, skip_serializing_if = "is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The answer's form: `{"format": {"type": "text" | "json_object" | "json_schema", …}}`.
    #[serde(default, skip_serializing_if = "is_none")]
    pub text: Option<Value>,
    /// `{"effort": "low" | …}` for reasoning models.
    #[serde(default, skip_serializing_if = "is_none")]
    pub reasoning: Option<Value>,
    /// `auto`, `default`, `priority`.
    #[serde(default, skip_serializing_if = "is_none")]
    pub service_tier: Option<String>,
    /// Whether the service keeps the response (needed by `previous_response_id`;
    /// zero-data-retention tenancies refuse `true`).
    #[serde(default, skip_serializing_if = "is_none")]
    pub store: Option<bool>,
    /// A stored response this one continues.
    #[serde(default, skip_serializing_if = "is_none")]
    pub previous_response_id: Option<String>,
    /// Streaming; the client sets it.
    #[serde(default, skip_serializing_if = "is_none")]
    pub stream: Option<bool>,
    /// Any other field, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One input item. Read as OpenAI clients send them too: a message without
/// `type`, its content a plain string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", remote = "InputItem")]
pub enum InputItem {
    /// A message (`user`, `assistant`, `system`, `developer`).
    Message {
        /// The role.
        role: String,
        /// Its parts.
        #[serde(deserialize_with = "input_contents")]
        content: Vec<InputContent>,
    },
    /// A tool call the model made earlier.
    FunctionCall {
        /// The call's id.
        call_id: String,
        /// The tool.
        name: String,
        /// The arguments, as JSON text.
        arguments: String,
    },
    /// A tool's result.
    FunctionCallOutput {
        /// The call answered.
        call_id: String,
        /// The result.
        output: String,
    },
}

impl Serialize for InputItem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        InputItem::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for InputItem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        if let Value::Object(map) = &mut value {
            if !map.contains_key("type") && map.contains_key("role") {
                map.insert("type".into(), "message".into());
            }
        }
        InputItem::deserialize(value).map_err(serde::de::Error::custom)
    }
}

/// Input items, or a plain string (one user message).
fn input_items<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<InputItem>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Input {
        Text(String),
        Items(Vec<InputItem>),
    }
    Ok(match Input::deserialize(deserializer)? {
        Input::Text(text) => vec![InputItem::user_text(text)],
        Input::Items(items) => items,
    })
}

/// Message parts, or a plain string (one text part).
fn input_contents<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<InputContent>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Content {
        Text(String),
        Parts(Vec<InputContent>),
    }
    Ok(match Content::deserialize(deserializer)? {
        Content::Text(text) => vec![InputContent::InputText { text }],
        Content::Parts(parts) => parts,
    })
}

impl InputItem {
    /// A user message of one text.
    pub fn user_text(text: impl Into<String>) -> InputItem {
        InputItem::Message { role: "user".into(), content: vec![InputContent::InputText { text: text.into() }] }
    }
}

/// A part of an input message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputContent {
    /// Text from the user, system or developer.
    InputText {
        /// The text.
        text: String,
    },
    /// Text the model wrote earlier.
    OutputText {
        /// The text.
        text: String,
    },
    /// An image.
    InputImage {
        /// `https://…` or a `data:` URL.
        image_url: String,
        /// `low`, `high` or `auto`.
        #[serde(default, skip_serializing_if = "is_none")]
        detail: Option<String>,
    },
}

/// A tool offered on the Responses API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseTool {
    /// A function the caller runs.
    Function(FunctionTool),
    /// A tool the service runs, as JSON (`{"type": "web_search", "search_context_size": …}`).
    Hosted(Value),
}

impl ResponseTool {
    /// The function, when it is one.
    pub fn function(&self) -> Option<&FunctionTool> {
        match self {
            ResponseTool::Function(function) => Some(function),
            ResponseTool::Hosted(_) => None,
        }
    }
}

/// A function tool (Responses' flat form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "is_none")]
    pub description: Option<String>,
    /// Its arguments' schema.
    #[serde(default, skip_serializing_if = "is_none")]
    pub parameters: Option<Value>,
    /// Whether arguments must follow the schema exactly.
    #[serde(default, skip_serializing_if = "is_none")]
    pub strict: Option<bool>,
}

/// A response: whole, or carried by `response.completed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Response {
    /// Its id (`resp_…`).
    pub id: Option<String>,
    /// `completed`, `incomplete`, `failed`, `in_progress`.
    pub status: Option<String>,
    /// What the model produced.
    pub output: Vec<OutputItem>,
    /// Tokens used.
    pub usage: Option<ResponseUsage>,
    /// Why it is incomplete.
    pub incomplete_details: Option<IncompleteDetails>,
    /// Why it failed.
    pub error: Option<super::ErrorDetail>,
}

/// Why a response is incomplete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    pub reason: Option<String>,
}

/// One output item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    /// A message from the model.
    Message {
        /// Its parts.
        #[serde(default)]
        content: Vec<OutputContent>,
    },
    /// A tool call.
    FunctionCall {
        /// The item's id.
        #[serde(default)]
        id: Option<String>,
        /// The call's id (what a `function_call_output` answers).
        #[serde(default)]
        call_id: String,
        /// The tool.
        #[serde(default)]
        name: String,
        /// The arguments, as JSON text.
        #[serde(default)]
        arguments: String,
    },
    /// Reasoning, with its summary.
    Reasoning {
        /// Summary parts.
        #[serde(default)]
        summary: Vec<SummaryText>,
    },
    /// Any other kind of item.
    #[serde(other)]
    Other,
}

/// A part of an output message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputContent {
    /// Text.
    OutputText {
        /// The text.
        #[serde(default)]
        text: String,
    },
    /// A refusal.
    Refusal {
        /// Why.
        #[serde(default)]
        refusal: String,
    },
    /// Any other kind of part.
    #[serde(other)]
    Other,
}

/// A reasoning summary part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryText {
    /// The text.
    pub text: String,
}

/// Tokens used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseUsage {
    /// In the input.
    pub input_tokens: u64,
    /// In the output.
    pub output_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Details of the output tokens.
    pub output_tokens_details: Option<OutputTokensDetails>,
    /// Details of the input tokens.
    pub input_tokens_details: Option<InputTokensDetails>,
}

/// Details of the input tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InputTokensDetails {
    /// Read from the service's prompt cache.
    pub cached_tokens: Option<u64>,
}

/// Details of the output tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputTokensDetails {
    /// Spent reasoning.
    pub reasoning_tokens: Option<u64>,
}

/// A stream event, by its `type` (which the `event:` line repeats).
///
/// ```
/// use oci_genai_transport::openai::responses::StreamEvent;
/// let event: StreamEvent = serde_json::from_str(r#"{"type": "response.output_text.delta", "output_index": 0, "delta": "Hel"}"#)?;
/// assert!(matches!(event, StreamEvent::OutputTextDelta { ref delta, .. } if delta == "Hel"));
/// let other: StreamEvent = serde_json::from_str(r#"{"type": "response.in_progress"}"#)?;
/// assert_eq!(other, StreamEvent::Other);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StreamEvent {
    /// Text for a message item.
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        /// The item's position in the output.
        #[serde(default)]
        output_index: u32,
        /// The text.
        #[serde(default)]
        delta: String,
    },
    /// Reasoning summary text.
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta {
        /// The text.
        #[serde(default)]
        delta: String,
    },
    /// Reasoning text.
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta {
        /// The text.
        #[serde(default)]
        delta: String,
    },
    /// A piece of a function call's arguments.
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta {
        /// The call item's position in the output.
        #[serde(default)]
        output_index: u32,
        /// The call item's id.
        #[serde(default)]
        item_id: Option<String>,
        /// The piece.
        #[serde(default)]
        delta: String,
    },
    /// An output item begins (a function call's id and name come here).
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        /// Its position in the output.
        #[serde(default)]
        output_index: u32,
        /// The item so far.
        item: OutputItem,
    },
    /// An output item is complete.
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        /// Its position in the output.
        #[serde(default)]
        output_index: u32,
        /// The whole item.
        item: OutputItem,
    },
    /// The response is complete: the last event.
    #[serde(rename = "response.completed")]
    Completed {
        /// The whole response, with its id and usage.
        response: Response,
    },
    /// The response stopped early (token limit, content filter): the last event.
    #[serde(rename = "response.incomplete")]
    Incomplete {
        /// The response so far.
        response: Response,
    },
    /// The response failed: the last event.
    #[serde(rename = "response.failed")]
    Failed {
        /// The response, with its error.
        response: Response,
    },
    /// An error: the last event.
    #[serde(rename = "error")]
    Error {
        /// The code.
        #[serde(default, deserialize_with = "super::code_text")]
        code: Option<String>,
        /// The message.
        #[serde(default)]
        message: Option<String>,
    },
    /// Any other event (`response.created`, `…done`, …).
    #[serde(other)]
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_read_as_openai_clients_send_it() {
        let plain: ResponseRequest = serde_json::from_str(r#"{"model": "m", "input": "Hi"}"#).unwrap();
        assert_eq!(plain.input, vec![InputItem::user_text("Hi")]);
        let easy: ResponseRequest = serde_json::from_str(
            r#"{"model": "m", "input": [{"role": "user", "content": "Hi"},
                {"type": "function_call_output", "call_id": "c", "output": "4"}]}"#,
        )
        .unwrap();
        assert_eq!(easy.input[0], InputItem::user_text("Hi"));
        assert!(matches!(&easy.input[1], InputItem::FunctionCallOutput { output, .. } if output == "4"));
        // Written back always in the explicit form.
        assert_eq!(serde_json::to_value(&easy.input[0]).unwrap()["type"], "message");
    }
}
