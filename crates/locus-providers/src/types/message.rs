//! Messages: who says what, tool calls and their results.

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

/// A user message of this text (what an agent is asked).
impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::user(text)
    }
}

/// A user message of this text (what an agent is asked).
impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::user(text)
    }
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
