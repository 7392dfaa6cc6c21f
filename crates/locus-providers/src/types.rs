//! Provider-neutral chat types: no OCI names here.

use serde::{Deserialize, Serialize};

/// Who speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions from the application.
    System,
    /// Instructions from the developer (OpenAI-style models distinguish them).
    Developer,
    /// The user.
    User,
    /// The model.
    Assistant,
    /// A tool's result.
    Tool,
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// An `https:` or `data:` URL.
    Url(String),
    /// Raw bytes, base64-encoded, with their media type (`image/png`).
    Base64 {
        /// The media type.
        media_type: String,
        /// The base64 data.
        data: String,
    },
}

impl ImageSource {
    /// The source as a URL (`data:` for inline bytes).
    pub fn to_url(&self) -> String {
        match self {
            ImageSource::Url(url) => url.clone(),
            ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        }
    }
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentPart {
    /// Text.
    Text(String),
    /// An image.
    Image {
        /// Where it is.
        source: ImageSource,
        /// `low`, `high` or `auto`, when the model supports it.
        detail: Option<String>,
    },
}

/// A call the model asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Links the call to its result.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, parsed once the call is complete (`{}` when none were sent).
    pub arguments: serde_json::Value,
    /// Why the arguments are not valid JSON, when they are not; `arguments`
    /// then holds the raw text, to show the model.
    #[serde(default)]
    pub parse_error: Option<String>,
}

impl ToolCall {
    /// A well-formed call.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: serde_json::Value) -> Self {
        ToolCall { id: id.into(), name: name.into(), arguments, parse_error: None }
    }

    /// A call from argument text, parsed here: empty text is `{}`; malformed
    /// JSON keeps the text and records the error.
    pub fn from_text(id: impl Into<String>, name: impl Into<String>, text: &str) -> Self {
        let trimmed = text.trim();
        let (arguments, parse_error) = if trimmed.is_empty() {
            (serde_json::Value::Object(Default::default()), None)
        } else {
            match serde_json::from_str(trimmed) {
                Ok(value) => (value, None),
                Err(e) => (serde_json::Value::String(text.to_owned()), Some(e.to_string())),
            }
        };
        ToolCall { id: id.into(), name: name.into(), arguments, parse_error }
    }

    /// The arguments as JSON text (the raw text for malformed arguments).
    pub fn arguments_text(&self) -> String {
        match (&self.parse_error, &self.arguments) {
            (Some(_), serde_json::Value::String(raw)) => raw.clone(),
            _ => self.arguments.to_string(),
        }
    }
}

/// A fresh, unique tool-call id: `call_` and 24 random hex digits.
pub fn new_call_id() -> String {
    let mut bytes = [0u8; 12];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("call_{hex}")
}

/// A chat message.
///
/// ```
/// use locus_providers::{Message, Role};
/// let m = Message::user("What is 17*23?");
/// assert_eq!((m.role, m.text()), (Role::User, "What is 17*23?".to_owned()));
/// let result = Message::tool_result("call_1", "391", false);
/// assert_eq!(result.tool_call_id.as_deref(), Some("call_1"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// Text and images.
    #[serde(default)]
    pub content: Vec<ContentPart>,
    /// For assistant messages: the calls the model made.
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    /// For tool messages: the call this answers.
    #[serde(default)]
    pub tool_call_id: Option<String>,
    /// For tool messages: whether the tool failed (the content says how).
    #[serde(default)]
    pub is_error: bool,
}

impl Message {
    fn text_message(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: vec![ContentPart::Text(text.into())],
            tool_calls: Vec::new(),
            tool_call_id: None,
            is_error: false,
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::text_message(Role::System, text)
    }

    /// A developer message.
    pub fn developer(text: impl Into<String>) -> Self {
        Self::text_message(Role::Developer, text)
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::text_message(Role::User, text)
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text_message(Role::Assistant, text)
    }

    /// An assistant message that calls tools (`text` may be empty).
    pub fn assistant_with_tool_calls(text: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        let text = text.into();
        let content = if text.is_empty() { Vec::new() } else { vec![ContentPart::Text(text)] };
        Message { role: Role::Assistant, content, tool_calls, tool_call_id: None, is_error: false }
    }

    /// A tool's result for call `tool_call_id`.
    pub fn tool_result(tool_call_id: impl Into<String>, content: impl Into<String>, is_error: bool) -> Self {
        Message {
            role: Role::Tool,
            content: vec![ContentPart::Text(content.into())],
            tool_calls: Vec::new(),
            tool_call_id: Some(tool_call_id.into()),
            is_error,
        }
    }

    /// Adds an image.
    pub fn with_image(mut self, source: ImageSource) -> Self {
        self.content.push(ContentPart::Image { source, detail: None });
        self
    }

    /// The text parts joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text(t) => Some(t.as_str()),
                ContentPart::Image { .. } => None,
            })
            .collect()
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Its name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// Its arguments as a JSON schema (an object schema).
    pub parameters: serde_json::Value,
}

/// Whether and which tools the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// This tool.
    Named(String),
}

/// The form of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema's name.
        name: String,
        /// The schema.
        schema: serde_json::Value,
        /// Whether the model must follow it exactly.
        strict: bool,
    },
}

/// How hard a reasoning model thinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningEffort {
    /// None.
    None,
    /// Minimal.
    Minimal,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

/// Sampling and output settings; `None` leaves the model's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationParams {
    /// The most tokens to generate.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Top-k sampling.
    pub top_k: Option<u32>,
    /// Frequency penalty.
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    pub presence_penalty: Option<f64>,
    /// A seed for reproducible sampling.
    pub seed: Option<i64>,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// Tool choice.
    pub tool_choice: Option<ToolChoice>,
    /// Whether several tools may be called in one turn.
    pub parallel_tool_calls: Option<bool>,
    /// The answer's form.
    pub response_format: Option<ResponseFormat>,
    /// Reasoning effort, for reasoning models.
    pub reasoning_effort: Option<ReasoningEffort>,
}

/// A request to a chat model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// The tools offered.
    pub tools: Vec<ToolSpec>,
    /// Generation settings.
    pub params: GenerationParams,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// It finished its answer (or hit a stop sequence).
    Stop,
    /// It ran out of tokens.
    Length,
    /// It wants tools called.
    ToolCalls,
    /// A content filter stopped it.
    ContentFilter,
    /// Something else, as the service said it.
    Other(String),
}

impl FinishReason {
    /// From the service's words (GENERIC or COHERE).
    pub fn from_wire(value: &str) -> Self {
        match value.to_ascii_lowercase().as_str() {
            "stop" | "complete" | "stop_sequence" | "end_turn" => FinishReason::Stop,
            "length" | "max_tokens" => FinishReason::Length,
            "tool_calls" | "tool_call" | "function_call" => FinishReason::ToolCalls,
            "content_filter" | "error_toxic" => FinishReason::ContentFilter,
            _ => FinishReason::Other(value.to_owned()),
        }
    }

    /// The reason as one word: `stop`, `length`, `tool_calls`,
    /// `content_filter`, or the service's own word.
    ///
    /// ```
    /// use locus_providers::FinishReason;
    /// assert_eq!(FinishReason::from_wire("MAX_TOKENS").as_str(), "length");
    /// assert_eq!(FinishReason::from_wire("recitation").as_str(), "recitation");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Other(reason) => reason,
        }
    }

    /// The finish reason of an answer: what the model `reported`, except that
    /// an answer with tool calls ended for them even when the model said
    /// "stop" (or nothing); `missing` describes a reason never given.
    pub(crate) fn settle(reported: Option<FinishReason>, has_tool_calls: bool, missing: &str) -> FinishReason {
        match reported {
            Some(FinishReason::Stop) | None if has_tool_calls => FinishReason::ToolCalls,
            Some(reason) => reason,
            None => FinishReason::Other(missing.to_owned()),
        }
    }
}

/// Tokens used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// In the prompt.
    pub prompt_tokens: u64,
    /// In the answer.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Of the answer, spent reasoning.
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    /// Adds `other` to this.
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
        self.reasoning_tokens = match (self.reasoning_tokens, other.reasoning_tokens) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
    }
}

/// A model's complete answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The assistant message (text and tool calls).
    pub message: Message,
    /// The model's reasoning text, when it shared it.
    pub reasoning: Option<String>,
    /// Why it stopped.
    pub finish_reason: FinishReason,
    /// Tokens used, when reported.
    pub usage: Option<Usage>,
}

/// What a streaming model emits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelEvent {
    /// Answer text.
    TextDelta(String),
    /// Reasoning text.
    ReasoningDelta(String),
    /// A piece of a tool call; see [`StreamAccumulator`](crate::StreamAccumulator) for how pieces combine.
    ToolCallDelta {
        /// The position the model gave (0 when it gave none).
        index: usize,
        /// The call's id, when this piece carries it.
        id: Option<String>,
        /// The tool's name, when this piece carries it.
        name: Option<String>,
        /// A fragment of the arguments' JSON text.
        arguments: String,
    },
    /// The model finished.
    Finished(FinishReason),
    /// Tokens used.
    Usage(Usage),
    /// Streaming failed or was refused; the answer comes from a non-streaming call.
    Fallback {
        /// Why.
        reason: String,
    },
}
