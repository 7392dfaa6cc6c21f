//! What is asked of a model: messages, tools and generation settings.

use serde::{Deserialize, Serialize};

use super::message::Message;

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

/// How much a model says (GPT-5 and later): `low`, `medium`, `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verbosity {
    /// Terse.
    Low,
    /// The default.
    Medium,
    /// Thorough.
    High,
}

impl Verbosity {
    /// `low`, `medium`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verbosity::Low => "low",
            Verbosity::Medium => "medium",
            Verbosity::High => "high",
        }
    }
}

/// Which processing tier serves the request: `auto`, `default`, `priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceTier {
    /// The service chooses.
    Auto,
    /// The standard tier.
    Default,
    /// Faster, at a higher price, where offered.
    Priority,
}

impl ServiceTier {
    /// `auto`, `default`, `priority`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Auto => "auto",
            ServiceTier::Default => "default",
            ServiceTier::Priority => "priority",
        }
    }
}

/// How a Cohere model cites the request's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CitationMode {
    /// Quicker, coarser spans.
    Fast,
    /// Slower, finer spans.
    Accurate,
    /// No citations (COHEREV2 only; COHERE cites whenever it has documents).
    Off,
}

/// Web search by the model (models that search on the service's side).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebSearch {
    /// How much found text the model reads: `low`, `medium`, `high`.
    pub context_size: Option<Verbosity>,
    /// An approximate location to search from.
    pub user_location: Option<UserLocation>,
}

/// An approximate location for web search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserLocation {
    /// A city.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// A region or state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A two-letter ISO country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// An IANA time zone (`Europe/Paris`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
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
    /// How much the model says (GENERIC, chat completions, Responses).
    pub verbosity: Option<Verbosity>,
    /// The processing tier (GENERIC, chat completions, Responses).
    pub service_tier: Option<ServiceTier>,
    /// Let the model search the web (GENERIC, chat completions, Responses).
    pub web_search: Option<WebSearch>,
    /// How documents are cited (COHERE `citationQuality`, COHEREV2 `citationOptions`).
    pub citations: Option<CitationMode>,
}

/// A document the model may ground its answer in (Cohere models cite them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Document {
    /// An id to cite it by.
    pub id: Option<String>,
    /// Its text.
    pub text: String,
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
    /// Documents to ground the answer in (the COHERE and COHEREV2 shapes
    /// take them; the others refuse them: put them in a message instead).
    pub documents: Vec<Document>,
}
