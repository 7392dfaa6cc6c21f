//! How a stream of each API ends: which events finish the answer, carry
//! usage or report a failure. Below the request (`prepare.rs`, which picks
//! the rules) and the stream (`stream.rs`, which applies them).

use crate::sse::SseEvent;

/// How a stream of one API ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The native API: at the event with `finishReason`, or at the usage
    /// event after it when usage was requested; no `[DONE]`.
    Native { usage_requested: bool },
    /// Chat completions: at `data: [DONE]`, or once a `finish_reason` and
    /// (when asked for) `usage` have come; an `{"error": …}` chunk fails it.
    ChatCompletions { usage_requested: bool },
    /// Responses: at `response.completed` or `response.incomplete`; `error`
    /// and `response.failed` fail it; a `[DONE]` after the end is ignored.
    Responses,
}

/// What an event means for the end of its stream.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Marks {
    /// It ends the answer.
    pub finish: bool,
    /// It carries usage.
    pub usage: bool,
    /// It reports a failure: (code, message).
    pub failed: Option<(String, String)>,
}

/// Reads an event's marks. Most events are deltas: a byte scan finds the
/// few that may carry a marker (a key followed by something other than
/// `null`), and only those are parsed, only for these keys.
pub(crate) fn marks(end: StreamEnd, sse: &SseEvent) -> Marks {
    let data = sse.data.as_str();
    match end {
        StreamEnd::Native { .. } => {
            if !maybe_set(data, &FINISH_REASON) && !maybe_set(data, &USAGE) {
                return Marks::default();
            }
            #[derive(serde::Deserialize)]
            struct Native {
                #[serde(rename = "finishReason")]
                finish_reason: Option<serde::de::IgnoredAny>,
                usage: Option<serde::de::IgnoredAny>,
            }
            match serde_json::from_str::<Native>(data) {
                Ok(m) => Marks { finish: m.finish_reason.is_some(), usage: m.usage.is_some(), failed: None },
                Err(_) => Marks::default(),
            }
        }
        StreamEnd::ChatCompletions { .. } => {
            if !maybe_set(data, &FINISH_REASON_SNAKE) && !maybe_set(data, &USAGE) && !maybe_set(data, &ERROR) {
                return Marks::default();
            }
            #[derive(serde::Deserialize)]
            struct Choice {
                finish_reason: Option<serde::de::IgnoredAny>,
            }
            #[derive(serde::Deserialize)]
            struct Chunk {
                #[serde(default)]
                choices: Option<Vec<Choice>>,
                usage: Option<serde::de::IgnoredAny>,
                error: Option<serde_json::Value>,
            }
            match serde_json::from_str::<Chunk>(data) {
                Ok(c) => Marks {
                    finish: c.choices.iter().flatten().any(|choice| choice.finish_reason.is_some()),
                    usage: c.usage.is_some(),
                    failed: c.error.map(|error| {
                        match serde_json::from_value::<crate::openai::ErrorDetail>(error.clone()) {
                            Ok(e) => (e.code_or_type().unwrap_or("error").to_owned(), e.message.unwrap_or_default()),
                            // `{"error": "overloaded"}`: a bare message.
                            Err(_) => {
                                ("error".to_owned(), error.as_str().map_or_else(|| error.to_string(), str::to_owned))
                            }
                        }
                    }),
                },
                Err(_) => Marks::default(),
            }
        }
        StreamEnd::Responses => responses_marks(sse),
    }
}

/// Responses events are typed: the `event:` line, else the data's `type`.
fn responses_marks(sse: &SseEvent) -> Marks {
    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    let kind = match &sse.event {
        Some(kind) => kind.clone(),
        None => serde_json::from_str::<Typed>(&sse.data).ok().and_then(|t| t.kind).unwrap_or_default(),
    };
    match kind.as_str() {
        "response.completed" | "response.incomplete" => Marks { finish: true, usage: true, failed: None },
        "response.failed" | "error" => {
            use crate::openai::responses::StreamEvent;
            let (code, message) = match serde_json::from_str::<StreamEvent>(&sse.data) {
                Ok(StreamEvent::Error { code, message }) => (code, message),
                Ok(StreamEvent::Failed { response }) => {
                    let error = response.error.unwrap_or_default();
                    (error.code_or_type().map(str::to_owned), error.message)
                }
                _ => (None, None),
            };
            let failed = (code.unwrap_or_else(|| kind.clone()), message.unwrap_or_else(|| sse.data.clone()));
            Marks { finish: true, usage: false, failed: Some(failed) }
        }
        _ => Marks::default(),
    }
}

/// A key searched for in every event; its searcher is built once, not per event.
struct Key {
    text: &'static str,
    finder: std::sync::LazyLock<memchr::memmem::Finder<'static>>,
}

macro_rules! key {
    ($name:ident, $text:literal) => {
        static $name: Key =
            Key { text: $text, finder: std::sync::LazyLock::new(|| memchr::memmem::Finder::new($text)) };
    };
}
key!(FINISH_REASON, "\"finishReason\"");
key!(FINISH_REASON_SNAKE, "\"finish_reason\"");
key!(USAGE, "\"usage\"");
key!(ERROR, "\"error\"");

/// Whether `key` occurs in `data` followed by a value other than `null`.
fn maybe_set(data: &str, key: &Key) -> bool {
    key.finder.find_iter(data.as_bytes()).any(|at| {
        let rest = data[at + key.text.len()..].trim_start();
        let value = rest.strip_prefix(':').map_or(rest, str::trim_start);
        !value.starts_with("null")
    })
}

#[cfg(test)]
mod marks_tests {
    use super::*;

    fn sse(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent { event: event.map(str::to_owned), data: data.to_owned(), id: None }
    }

    #[test]
    fn a_null_key_is_no_marker_and_is_not_parsed() {
        assert!(!maybe_set(r#"{"choices":[{"delta":{"content":"x"},"finish_reason":null}],"usage": null}"#, &USAGE));
        assert!(maybe_set(r#"{"usage" : {"prompt_tokens": 1}}"#, &USAGE));
        let end = StreamEnd::ChatCompletions { usage_requested: true };
        let delta = sse(None, r#"{"choices":[{"delta":{"content":"x"},"finish_reason":null}]}"#);
        assert_eq!(marks(end, &delta), Marks::default());
        let last = sse(None, r#"{"choices":[{"delta":null,"finish_reason":"stop"}]}"#);
        assert!(marks(end, &last).finish);
        let usage = sse(None, r#"{"choices":[],"usage":{"prompt_tokens":3}}"#);
        assert_eq!(marks(end, &usage), Marks { finish: false, usage: true, failed: None });
    }

    #[test]
    fn error_chunks_and_events_fail_the_stream() {
        let end = StreamEnd::ChatCompletions { usage_requested: true };
        let error = sse(None, r#"{"error":{"message":"overloaded","type":"server_error","code":null}}"#);
        assert_eq!(marks(end, &error).failed, Some(("server_error".into(), "overloaded".into())));
        let bare = sse(None, r#"{"error":"overloaded"}"#);
        assert_eq!(marks(end, &bare).failed, Some(("error".into(), "overloaded".into())));
        let event = sse(Some("error"), r#"{"type":"error","code":"rate_limit_exceeded","message":"slow down"}"#);
        assert_eq!(
            marks(StreamEnd::Responses, &event).failed,
            Some(("rate_limit_exceeded".into(), "slow down".into()))
        );
        let untyped = sse(None, r#"{"type":"response.completed","response":{"id":"resp_1"}}"#);
        assert!(marks(StreamEnd::Responses, &untyped).finish);
    }
}
