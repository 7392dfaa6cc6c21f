//! Building the final answer from stream events.

use std::collections::HashMap;

use crate::error::Error;
use crate::types::{ChatResponse, Citation, FinishReason, Message, ModelEvent, ToolCall, Usage, new_call_id};

/// The default cap on an answer: text, reasoning and tool-call arguments together.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Collects [`ModelEvent`]s into the final [`ChatResponse`].
///
/// Tool-call pieces are combined by one rule set that covers every pattern
/// real models stream:
///
/// - a piece with an **id seen before** continues that call, whatever its index
///   (an id re-announced at another index is the same call);
/// - a piece with a **new id** starts a new call (parallel calls streamed one
///   after another at index 0);
/// - a piece with **a name but no id** starts a new call with a generated,
///   unique id — unless the call at its index has no name yet (Gemini sends
///   whole calls without ids);
/// - a piece with **neither** appends its argument text to the call at its
///   index (or the latest call).
///
/// Argument text is concatenated and parsed once, in [`finish`](Self::finish):
/// fragments may split JSON anywhere. Malformed arguments become a call with
/// a `parse_error`, never a panic. Work per event is constant: the whole
/// stream costs O(n), and its memory is capped: past
/// [`DEFAULT_MAX_ANSWER_BYTES`] (or [`with_max_answer_bytes`](Self::with_max_answer_bytes))
/// [`push`](Self::push) fails with [`Error::AnswerTooLarge`].
///
/// ```
/// use locus_providers::{StreamAccumulator, ModelEvent, FinishReason};
/// let mut acc = StreamAccumulator::new();
/// acc.push(ModelEvent::TextDelta("Let me check.".into()))?;
/// acc.push(ModelEvent::ToolCallDelta { index: 0, id: Some("call_1".into()), name: Some("clock".into()), arguments: String::new() })?;
/// acc.push(ModelEvent::ToolCallDelta { index: 0, id: None, name: None, arguments: r#"{"tz":"#.into() })?;
/// acc.push(ModelEvent::ToolCallDelta { index: 0, id: None, name: None, arguments: r#""UTC"}"#.into() })?;
/// acc.push(ModelEvent::Finished(FinishReason::ToolCalls))?;
/// assert!(acc.is_finished());
/// let response = acc.finish();
/// assert_eq!(response.message.tool_calls[0].arguments["tz"], "UTC");
/// # Ok::<(), locus_providers::Error>(())
/// ```
#[derive(Debug)]
pub struct StreamAccumulator {
    text: String,
    reasoning: String,
    calls: Vec<PartialCall>,
    by_id: HashMap<String, usize>,
    by_index: HashMap<usize, usize>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    fallback: Option<String>,
    citations: Vec<Citation>,
    /// Bytes of text, reasoning and arguments so far, and their cap.
    size: usize,
    max_size: usize,
}

impl Default for StreamAccumulator {
    fn default() -> Self {
        StreamAccumulator {
            text: String::new(),
            reasoning: String::new(),
            calls: Vec::new(),
            by_id: HashMap::new(),
            by_index: HashMap::new(),
            finish_reason: None,
            usage: None,
            fallback: None,
            citations: Vec::new(),
            size: 0,
            max_size: DEFAULT_MAX_ANSWER_BYTES,
        }
    }
}

#[derive(Debug)]
struct PartialCall {
    id: String,
    name: Option<String>,
    arguments: String,
}

impl StreamAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty accumulator that holds at most `bytes` of text, reasoning
    /// and tool-call arguments.
    pub fn with_max_answer_bytes(bytes: usize) -> Self {
        StreamAccumulator { max_size: bytes, ..Self::default() }
    }

    /// Takes one event; fails, keeping what came before, when the answer
    /// would pass its cap.
    pub fn push(&mut self, event: ModelEvent) -> Result<(), Error> {
        let grows = match &event {
            ModelEvent::TextDelta(text) | ModelEvent::ReasoningDelta(text) => text.len(),
            ModelEvent::ToolCallDelta { arguments, name, id, .. } => {
                arguments.len() + name.as_ref().map_or(0, String::len) + id.as_ref().map_or(0, String::len)
            }
            _ => 0,
        };
        if self.size + grows > self.max_size {
            return Err(Error::AnswerTooLarge { limit: self.max_size });
        }
        self.size += grows;
        match event {
            ModelEvent::TextDelta(text) => self.text.push_str(&text),
            ModelEvent::ReasoningDelta(text) => self.reasoning.push_str(&text),
            ModelEvent::ToolCallDelta { index, id, name, arguments } => self.tool_piece(index, id, name, &arguments),
            ModelEvent::Finished(reason) => self.finish_reason = Some(reason),
            ModelEvent::Usage(usage) => self.usage = Some(usage),
            ModelEvent::Fallback { reason } => self.fallback = Some(reason),
            // Cohere's last event may repeat what was streamed: each span once.
            ModelEvent::Citation(citation) => {
                if !self.citations.contains(&citation) {
                    self.citations.push(citation);
                }
            }
        }
        Ok(())
    }

    /// Takes a text delta by reference: what [`push`](Self::push) does with
    /// [`ModelEvent::TextDelta`], for a caller that hands the text on too.
    ///
    /// ```
    /// use locus_providers::StreamAccumulator;
    /// let mut accumulator = StreamAccumulator::with_max_answer_bytes(4);
    /// accumulator.push_text("Hel")?;
    /// assert!(accumulator.push_text("lo").is_err(), "past the cap");
    /// assert_eq!(accumulator.text(), "Hel");
    /// # Ok::<(), locus_providers::Error>(())
    /// ```
    pub fn push_text(&mut self, text: &str) -> Result<(), Error> {
        if self.size + text.len() > self.max_size {
            return Err(Error::AnswerTooLarge { limit: self.max_size });
        }
        self.size += text.len();
        self.text.push_str(text);
        Ok(())
    }

    /// Whether the model said why it stopped (a [`ModelEvent::Finished`]):
    /// without it the answer may be cut short.
    pub fn is_finished(&self) -> bool {
        self.finish_reason.is_some()
    }

    fn tool_piece(&mut self, index: usize, id: Option<String>, name: Option<String>, arguments: &str) {
        let id = id.filter(|id| !id.is_empty());
        let name = name.filter(|name| !name.is_empty());
        let at_index = self.by_index.get(&index).copied();
        let target = match (&id, &name) {
            (Some(id), _) => match self.by_id.get(id) {
                Some(&known) => known,
                None => self.open(id.clone()),
            },
            (None, Some(_)) => match at_index {
                Some(i) if self.calls[i].name.is_none() => i,
                _ => self.open(new_call_id()),
            },
            (None, None) => match at_index.or_else(|| self.calls.len().checked_sub(1)) {
                Some(i) => i,
                None => self.open(new_call_id()),
            },
        };
        self.by_index.insert(index, target);
        let call = &mut self.calls[target];
        if call.name.is_none() {
            call.name = name;
        }
        call.arguments.push_str(arguments);
    }

    fn open(&mut self, id: String) -> usize {
        self.calls.push(PartialCall { id: id.clone(), name: None, arguments: String::new() });
        let position = self.calls.len() - 1;
        self.by_id.insert(id, position);
        position
    }

    /// Whether streaming fell back to a non-streaming call, and why.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The answer so far (text only).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The final response: tool-call arguments parsed once here.
    pub fn finish(self) -> ChatResponse {
        let tool_calls: Vec<ToolCall> = self
            .calls
            .into_iter()
            .map(|call| ToolCall::from_text(call.id, call.name.unwrap_or_default(), &call.arguments))
            .collect();
        let finish_reason =
            FinishReason::settle(self.finish_reason, !tool_calls.is_empty(), "stream ended without a finish reason");
        ChatResponse {
            message: Message::assistant_with_tool_calls(self.text, tool_calls),
            reasoning: (!self.reasoning.is_empty()).then_some(self.reasoning),
            finish_reason,
            usage: self.usage,
            citations: self.citations,
        }
    }
}
