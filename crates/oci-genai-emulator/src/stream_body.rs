//! Answers on their way out: the faults that replace or delay an answer,
//! and SSE bodies framed as each API frames them.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::json;

use crate::config::{Fault, ModelConfig};
use crate::state::{Body, Outcome};

/// An error body in a route's own form.
pub(crate) type ErrorFn = fn(u16, &str, &str, &str) -> Outcome;

/// The faults that replace the answer (a status, a reset) or delay it;
/// `None`: answer (after any delay).
pub(crate) async fn before_answer(
    fault: Option<&Fault>,
    streaming: bool,
    request_id: &str,
    error: ErrorFn,
) -> Option<Outcome> {
    Some(match fault {
        Some(Fault::RejectStream) if streaming => {
            error(400, "InvalidParameter", "Streaming is not supported for this model", request_id)
        }
        Some(Fault::TooManyRequests { retry_after }) => {
            error(429, "TooManyRequests", "Too many requests for the user", request_id).map(|mut response| {
                response.headers_mut().insert("retry-after", hyper::header::HeaderValue::from(*retry_after));
                response
            })
        }
        Some(Fault::Status(status)) => error(*status, "InternalServerError", "injected failure", request_id),
        Some(Fault::ResetBefore) => Err("injected connection reset".into()),
        Some(Fault::HugeError(bytes)) => error(400, "InvalidParameter", &"m".repeat(*bytes), request_id),
        Some(Fault::SlowFirstByte(ms)) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            return None;
        }
        _ => return None,
    })
}

/// How an API frames its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `data:` lines only, no `[DONE]`.
    Native,
    /// `data:` lines, then `data: [DONE]`.
    ChatCompletions,
    /// `event: <type>` and `data:` pairs, then `data: [DONE]` (clients must tolerate it).
    Responses,
}

impl Style {
    fn frame(self, event: &serde_json::Value) -> String {
        match self {
            Style::Responses => format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap_or("message")),
            Style::Native | Style::ChatCompletions => format!("data: {event}\n\n"),
        }
    }

    /// A text delta of this style, for the endless fault.
    fn delta(self, text: &str) -> serde_json::Value {
        match self {
            Style::Native => {
                json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]}})
            }
            Style::ChatCompletions => {
                json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
            }
            Style::Responses => json!({"type": "response.output_text.delta", "output_index": 0, "delta": text}),
        }
    }

    /// Whether an event ends the answer or carries usage (dropped by the `no-finish` fault).
    pub(crate) fn is_final(self, event: &serde_json::Value) -> bool {
        match self {
            Style::Native => event.get("finishReason").is_some() || event.get("usage").is_some(),
            Style::ChatCompletions => {
                event["choices"][0]["finish_reason"].is_string() || event.get("usage").is_some_and(|u| !u.is_null())
            }
            Style::Responses => event["type"] == "response.completed" || event["type"] == "response.incomplete",
        }
    }
}

/// An SSE body written by a task, with the model's pacing and the stream faults.
pub(crate) fn stream_body(
    events: Vec<serde_json::Value>,
    model: &ModelConfig,
    fault: Option<Fault>,
    hold_open_ms: u64,
    style: Style,
) -> Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(64);
    let (per_write, delay) = (model.events_per_write.max(1), Duration::from_millis(model.delay_ms));
    tokio::spawn(async move {
        let send = |text: String| sender.send(Ok(Frame::data(Bytes::from(text))));
        let mut batch = String::new();
        for (n, event) in events.iter().enumerate() {
            match &fault {
                // Both run until the client goes away.
                Some(Fault::KeepAlive(after)) if n == *after => {
                    while send(": keep-alive\n\n".into()).await.is_ok() {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    return;
                }
                Some(Fault::Endless) if n == 1 => {
                    let text = "and on ".repeat(146); // about 1 KiB per delta
                    let many = style.frame(&style.delta(&text)).repeat(64);
                    while send(many.clone()).await.is_ok() {}
                    return;
                }
                Some(Fault::ResetMidStream(after)) if n == *after => {
                    // Let what was sent reach the client first, as a real failure mid-stream would.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let _ = sender.send(Err(std::io::Error::other("injected reset"))).await;
                    return;
                }
                Some(Fault::Stall(after)) if n == *after => {
                    tokio::time::sleep(Duration::from_millis(hold_open_ms)).await;
                    return;
                }
                Some(Fault::MalformedChunk(at)) if n == *at => batch.push_str("data: {\"index\": 0, \"message\": \n\n"),
                _ => batch.push_str(&style.frame(event)),
            }
            if n + 1 == events.len() && style != Style::Native && fault != Some(Fault::NoFinish) {
                batch.push_str("data: [DONE]\n\n");
            }
            if n + 1 == events.len() && fault == Some(Fault::GarbageAfterEnd) {
                batch.push_str("data: {\"index\": 0, \"mess\n\ndata: \u{1b}[2Jgarbage\n\n");
            }
            if (n + 1) % per_write == 0 || n + 1 == events.len() {
                if send(std::mem::take(&mut batch)).await.is_err() {
                    return;
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
            }
        }
        if fault == Some(Fault::NoFinish) {
            return; // a clean end of the body, before any finish event
        }
        // Like the service: the connection stays open for a while (the native API sends no [DONE]).
        tokio::time::sleep(Duration::from_millis(hold_open_ms)).await;
    });
    let frames =
        futures::stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|f| (f, receiver)) });
    StreamBody::new(frames).boxed()
}
