//! Tool calls written into the text (`<tool_call>{…}</tool_call>`), as models
//! on DAC endpoints without a tool parser produce them (Qwen, Hermes-style).

use crate::types::{ModelEvent, ToolCall, new_call_id};

/// Opening tag → closing tag. `<tool_call>` is a prefix of `<tool_calling>`
/// only up to `>`, so both can be matched exactly.
const TAGS: &[(&str, &str)] = &[("<tool_call>", "</tool_call>"), ("<tool_calling>", "</tool_calling>")];

/// Takes the inline tool calls out of `text`: the text around them, and the calls.
///
/// ```
/// let (text, calls) = locus_providers::extract_inline_tool_calls(
///     "Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"London\"}}\n</tool_call>",
/// );
/// assert_eq!(text, "Checking.\n");
/// assert_eq!(calls[0].name, "get_weather");
/// assert_eq!(calls[0].arguments["city"], "London");
/// ```
pub fn extract_inline_tool_calls(text: &str) -> (String, Vec<ToolCall>) {
    let mut filter = InlineToolCallFilter::new();
    let mut events = filter.push(text);
    events.extend(filter.finish());
    let mut out = String::new();
    let mut calls = Vec::new();
    for event in events {
        match event {
            ModelEvent::TextDelta(t) => out.push_str(&t),
            ModelEvent::ToolCallDelta { id, name, arguments, .. } => {
                calls.push(ToolCall::from_text(id.unwrap_or_else(new_call_id), name.unwrap_or_default(), &arguments))
            }
            _ => {}
        }
    }
    (out, calls)
}

/// Turns a stream of text deltas into text deltas without the markup, plus
/// one complete [`ModelEvent::ToolCallDelta`] per inline call.
///
/// Text that might be the start of a tag is held back until it is known not to
/// be, so no markup leaks even when a tag is split across chunks.
#[derive(Debug, Default)]
pub struct InlineToolCallFilter {
    /// Text not yet emitted: a possible tag start, or the inside of a tag.
    held: String,
    /// Whether a finish event has flushed the filter.
    finished: bool,
    /// The closing tag we are inside of.
    inside: Option<&'static str>,
    calls: usize,
}

impl InlineToolCallFilter {
    /// A filter outside any tag.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a text delta; returns what may be emitted now.
    pub fn push(&mut self, delta: &str) -> Vec<ModelEvent> {
        self.held.push_str(delta);
        let mut out = Vec::new();
        loop {
            match self.inside {
                Some(close) => {
                    let Some(end) = self.held.find(close) else { break };
                    let body: String = self.held[..end].to_owned();
                    self.held.drain(..end + close.len());
                    self.inside = None;
                    out.push(self.call(&body));
                }
                None => {
                    let opening = TAGS
                        .iter()
                        .filter_map(|(open, close)| self.held.find(open).map(|at| (at, *open, *close)))
                        .min();
                    match opening {
                        Some((at, open, close)) => {
                            if at > 0 {
                                out.push(ModelEvent::TextDelta(self.held[..at].to_owned()));
                            }
                            self.held.drain(..at + open.len());
                            self.inside = Some(close);
                        }
                        None => {
                            let keep = possible_tag_start(&self.held);
                            let emit = self.held.len() - keep;
                            if emit > 0 {
                                out.push(ModelEvent::TextDelta(self.held[..emit].to_owned()));
                                self.held.drain(..emit);
                            }
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// Ends the text: held-back text is emitted; an unclosed tag's content
    /// becomes a call if it is a complete call, else text again.
    pub fn finish(&mut self) -> Vec<ModelEvent> {
        let held = std::mem::take(&mut self.held);
        match self.inside.take() {
            Some(close) => {
                let open = TAGS.iter().find(|(_, c)| *c == close).map_or("", |(o, _)| *o);
                match parse_call(&held) {
                    Some(_) => vec![self.call(&held)],
                    None => vec![ModelEvent::TextDelta(format!("{open}{held}"))],
                }
            }
            None if held.is_empty() => Vec::new(),
            None => vec![ModelEvent::TextDelta(held)],
        }
    }

    /// Runs stream events through the filter: text deltas are filtered; at
    /// the first finish event the held text is flushed, and the finish reason
    /// becomes tool calls when calls were found.
    pub fn filter_events(&mut self, events: Vec<ModelEvent>) -> Vec<ModelEvent> {
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            match event {
                ModelEvent::TextDelta(text) => out.extend(self.push(&text)),
                ModelEvent::Finished(reason) if !self.finished => {
                    self.finished = true;
                    out.extend(self.finish());
                    let reason = if self.calls > 0 { crate::types::FinishReason::ToolCalls } else { reason };
                    out.push(ModelEvent::Finished(reason));
                }
                other => out.push(other),
            }
        }
        out
    }

    /// How many calls were found.
    pub fn calls_found(&self) -> usize {
        self.calls
    }

    fn call(&mut self, body: &str) -> ModelEvent {
        self.calls += 1;
        let (name, arguments) = parse_call(body).unwrap_or_else(|| (String::new(), body.trim().to_owned()));
        ModelEvent::ToolCallDelta { index: self.calls - 1, id: Some(new_call_id()), name: Some(name), arguments }
    }
}

/// `{"name": …, "arguments"|"parameters": …}` → (name, arguments as JSON text).
fn parse_call(body: &str) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    let name = value.get("name")?.as_str()?.to_owned();
    let arguments = match value.get("arguments").or_else(|| value.get("parameters")) {
        // Some models send the arguments as a JSON string.
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => "{}".to_owned(),
    };
    Some((name, arguments))
}

/// The length of the longest suffix of `text` that is a proper prefix of a tag.
fn possible_tag_start(text: &str) -> usize {
    let Some(lt) = text.rfind('<') else { return 0 };
    let tail = &text[lt..];
    let is_prefix = TAGS.iter().any(|(open, _)| open.len() > tail.len() && open.starts_with(tail));
    if is_prefix { tail.len() } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&str]) -> (String, Vec<(String, serde_json::Value)>) {
        let mut filter = InlineToolCallFilter::new();
        let mut events: Vec<ModelEvent> = pieces.iter().flat_map(|p| filter.push(p)).collect();
        events.extend(filter.finish());
        let mut text = String::new();
        let mut calls = Vec::new();
        for event in events {
            match event {
                ModelEvent::TextDelta(t) => {
                    assert!(!t.contains("<tool_call"), "markup leaked: {t:?}");
                    text.push_str(&t);
                }
                ModelEvent::ToolCallDelta { name, arguments, .. } => {
                    calls.push((name.unwrap(), serde_json::from_str(&arguments).unwrap()))
                }
                other => panic!("{other:?}"),
            }
        }
        (text, calls)
    }

    #[test]
    fn tags_split_anywhere_are_found() {
        let whole = "Sure.<tool_call>{\"name\": \"calc\", \"arguments\": {\"x\": \"<b>\"}}</tool_call> Done <tool_calling>{\"name\": \"clock\", \"parameters\": {}}</tool_calling>";
        let expected = run(&[whole]);
        assert_eq!(expected.0, "Sure. Done ");
        assert_eq!(expected.1.len(), 2);
        for split in 1..whole.len() {
            if whole.is_char_boundary(split) {
                assert_eq!(run(&[&whole[..split], &whole[split..]]), expected, "split at {split}");
            }
        }
        let chars: Vec<String> = whole.chars().map(String::from).collect();
        let refs: Vec<&str> = chars.iter().map(String::as_str).collect();
        assert_eq!(run(&refs), expected);
    }

    #[test]
    fn lookalikes_are_text() {
        assert_eq!(run(&["a < b and <tool", "box> here"]).0, "a < b and <toolbox> here");
        assert_eq!(run(&["ends with <tool_"]).0, "ends with <tool_");
    }

    #[test]
    fn arguments_as_a_string_and_unclosed_tags() {
        let (_, calls) = run(&["<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>"]);
        assert_eq!(calls[0].1["a"], 1);
        let (text, calls) = run(&["<tool_call>{\"name\": \"f\", \"arguments\": {}}"]);
        assert_eq!((text.as_str(), calls.len()), ("", 1));
        // An unclosed tag whose content is no call was just text after all: given back as such.
        let (text, calls) = extract_inline_tool_calls("<tool_call>not json");
        assert_eq!((text.as_str(), calls.len()), ("<tool_call>not json", 0));
    }

    #[test]
    fn malformed_json_inside_a_tag_is_a_call_with_a_parse_error() {
        let (text, calls) = extract_inline_tool_calls("<tool_call>{\"name\": oops}</tool_call>");
        assert_eq!(text, "");
        assert!(calls[0].parse_error.is_some());
    }
}
