//! What a model answers: the message, why it stopped, tokens used, and stream events.

use serde::{Deserialize, Serialize};

use super::message::Message;

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
    /// Of the prompt, read from the service's prompt cache (when the service says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
}

impl Usage {
    /// Adds `other` to this.
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
        let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.reasoning_tokens = sum(self.reasoning_tokens, other.reasoning_tokens);
        self.cached_tokens = sum(self.cached_tokens, other.cached_tokens);
    }
}

/// A span of an answer that rests on documents the request carried
/// (Cohere models cite them).
///
/// ```
/// let citation = locus_providers::Citation { start: 0, end: 3, text: "OCI".into(), document_ids: vec!["doc-1".into()] };
/// assert_eq!(serde_json::to_value(&citation)?["document_ids"][0], "doc-1");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Citation {
    /// Where the span starts in the answer, in characters, as the service counts.
    pub start: usize,
    /// Where it ends.
    pub end: usize,
    /// The answer's text there.
    pub text: String,
    /// The documents it rests on, by the ids the request gave them.
    pub document_ids: Vec<String>,
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
    /// Spans of the answer grounded in the request's documents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
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
    /// A span of the answer grounded in documents.
    Citation(Citation),
    /// Streaming failed or was refused; the answer comes from a non-streaming call.
    Fallback {
        /// Why.
        reason: String,
    },
}
