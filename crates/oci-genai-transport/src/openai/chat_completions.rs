//! `POST /openai/v1/chat/completions`: the request, the whole answer, and stream chunks.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::is_none;

/// A chat completions request.
///
/// ```
/// use oci_genai_transport::openai::chat_completions::{ChatCompletionRequest, ChatMessage, Content};
/// let request = ChatCompletionRequest {
///     model: "meta.llama-3.3-70b-instruct".into(),
///     messages: vec![ChatMessage::User { content: Content::Text("Hi".into()), name: None }],
///     max_tokens: Some(100),
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&request)?;
/// assert_eq!(json["messages"][0]["role"], "user");
/// assert!(json.get("temperature").is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    /// The OCI model name (`openai.gpt-5`, `meta.llama-…`); empty when a
    /// request read by a gateway named none.
    #[serde(default)]
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// The most tokens to generate (most models).
    #[serde(default, skip_serializing_if = "is_none")]
    pub max_tokens: Option<u32>,
    /// The most tokens to generate, reasoning included (OpenAI reasoning models).
    #[serde(default, skip_serializing_if = "is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "is_none")]
    pub top_p: Option<f64>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "is_none")]
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "is_none")]
    pub presence_penalty: Option<f64>,
    /// Seed.
    #[serde(default, skip_serializing_if = "is_none")]
    pub seed: Option<i64>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "is_none")]
    pub stop: Option<Vec<String>>,
    /// Tools offered.
    #[serde(default, skip_serializing_if = "is_none")]
    pub tools: Option<Vec<Tool>>,
    /// `"auto"`, `"none"`, `"required"` or `{"type": "function", "function": {"name"}}`.
    #[serde(default, skip_serializing_if = "is_none")]
    pub tool_choice: Option<Value>,
    /// Whether several tools may be called in one turn.
    #[serde(default, skip_serializing_if = "is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `{"type": "text" | "json_object" | "json_schema", …}`.
    #[serde(default, skip_serializing_if = "is_none")]
    pub response_format: Option<Value>,
    /// `minimal`, `low`, `medium`, `high` (reasoning models).
    #[serde(default, skip_serializing_if = "is_none")]
    pub reasoning_effort: Option<String>,
    /// `low`, `medium`, `high`: how much the model says.
    #[serde(default, skip_serializing_if = "is_none")]
    pub verbosity: Option<String>,
    /// `auto`, `default`, `priority`.
    #[serde(default, skip_serializing_if = "is_none")]
    pub service_tier: Option<String>,
    /// `{"search_context_size": …, "user_location": {"type": "approximate", "approximate": {…}}}`: the model searches the web.
    #[serde(default, skip_serializing_if = "is_none")]
    pub web_search_options: Option<Value>,
    /// Streaming; the client sets it.
    #[serde(default, skip_serializing_if = "is_none")]
    pub stream: Option<bool>,
    /// `{"include_usage": true}` on streams; the client sets it.
    #[serde(default, skip_serializing_if = "is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Any other field, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Stream options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with usage (and no choices).
    pub include_usage: bool,
}

/// One message, by role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    /// Instructions.
    System {
        /// The text.
        content: Content,
    },
    /// Instructions (OpenAI's newer word for system).
    Developer {
        /// The text.
        content: Content,
    },
    /// The user.
    User {
        /// Text or parts.
        content: Content,
        /// A participant name.
        #[serde(default, skip_serializing_if = "is_none")]
        name: Option<String>,
    },
    /// The model.
    Assistant {
        /// The text (absent for a turn of tool calls only).
        #[serde(default, skip_serializing_if = "is_none")]
        content: Option<Content>,
        /// Tool calls.
        #[serde(default, skip_serializing_if = "is_none")]
        tool_calls: Option<Vec<ToolCall>>,
    },
    /// A tool's result.
    Tool {
        /// The call answered.
        tool_call_id: String,
        /// The result.
        content: Content,
    },
}

/// Message content: text, or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Text.
    Text(String),
    /// Parts (text, images).
    Parts(Vec<ContentPart>),
}

/// A part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image by URL (or `data:` URL).
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
    },
}

/// An image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// `https://…` or `data:image/…;base64,…`.
    pub url: String,
    /// `low`, `high` or `auto`.
    #[serde(default, skip_serializing_if = "is_none")]
    pub detail: Option<String>,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
}

impl Tool {
    /// A function tool.
    pub fn function(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Tool {
        Tool {
            kind: "function".into(),
            function: FunctionDefinition {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            },
        }
    }
}

/// A function's name, description and JSON schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
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

/// A tool call, in an assistant message or a whole answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolCall {
    /// The call's id.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function called.
    pub function: FunctionCall,
}

/// The function called, with its arguments as JSON text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionCall {
    /// The tool's name.
    pub name: String,
    /// The arguments, as JSON text.
    pub arguments: String,
}

/// A whole answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatCompletion {
    /// Its id.
    pub id: Option<String>,
    /// The model that answered.
    pub model: Option<String>,
    /// The choices (one, unless `n` was set).
    pub choices: Vec<Choice>,
    /// Tokens used.
    pub usage: Option<CompletionUsage>,
}

/// One choice of a whole answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Choice {
    /// Its position.
    pub index: u32,
    /// The message (Gemini may send `null`).
    pub message: Option<AnswerMessage>,
    /// `stop`, `length`, `tool_calls`, `content_filter`.
    pub finish_reason: Option<String>,
}

/// The assistant's message in a whole answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnswerMessage {
    /// The text.
    pub content: Option<String>,
    /// Reasoning text, from models that share it.
    pub reasoning_content: Option<String>,
    /// A refusal, instead of content.
    pub refusal: Option<String>,
    /// Tool calls.
    pub tool_calls: Option<Vec<ToolCall>>,
}

/// Tokens used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompletionUsage {
    /// In the prompt.
    pub prompt_tokens: u64,
    /// In the answer.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Details of the answer's tokens.
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Details of the prompt's tokens.
    pub prompt_tokens_details: Option<PromptTokensDetails>,
}

/// Details of the prompt's tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromptTokensDetails {
    /// Read from the service's prompt cache.
    pub cached_tokens: Option<u64>,
}

/// Details of the answer's tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompletionTokensDetails {
    /// Spent reasoning.
    pub reasoning_tokens: Option<u64>,
}

/// One chunk of a streamed answer.
///
/// ```
/// use oci_genai_transport::openai::chat_completions::ChatCompletionChunk;
/// let chunk: ChatCompletionChunk = serde_json::from_str(r#"{"choices": [{"index": 0, "delta": null, "finish_reason": "stop"}]}"#)?;
/// assert!(chunk.choices[0].delta.is_none()); // Gemini sends `delta: null`
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatCompletionChunk {
    /// The answer's id.
    pub id: Option<String>,
    /// The choices this chunk adds to (empty in the usage chunk).
    pub choices: Vec<ChunkChoice>,
    /// Tokens used: in the last chunk, when `include_usage` was asked.
    pub usage: Option<CompletionUsage>,
}

/// What a chunk adds to one choice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChunkChoice {
    /// The choice's position.
    pub index: u32,
    /// The new text and tool-call fragments.
    pub delta: Option<Delta>,
    /// Set in the choice's last chunk.
    pub finish_reason: Option<String>,
}

/// New text and tool-call fragments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delta {
    /// Text.
    pub content: Option<String>,
    /// Reasoning text.
    pub reasoning_content: Option<String>,
    /// Tool-call fragments, addressed by `index`.
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A fragment of a tool call: the first of a call carries its id and name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolCallDelta {
    /// Which call of the turn.
    pub index: Option<u32>,
    /// The call's id (first fragment).
    pub id: Option<String>,
    /// The name and an arguments fragment.
    pub function: Option<FunctionCallDelta>,
}

/// A function call fragment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionCallDelta {
    /// The tool's name (first fragment).
    pub name: Option<String>,
    /// A piece of the arguments' JSON text.
    pub arguments: Option<String>,
}
