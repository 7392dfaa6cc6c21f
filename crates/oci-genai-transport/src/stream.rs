//! A chat response as a stream of server-sent events.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;

use crate::client::{Prepared, transport_error};
use crate::error::Error;
use crate::sse::{SseEvent, SseParser};

/// One event of a chat stream: the SSE event, and whether it ends the
/// answer (`finishReason`) or carries usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    sse: SseEvent,
    finish: bool,
    usage: bool,
}

impl StreamEvent {
    /// The raw event; its `data` is the JSON chunk.
    pub fn sse(&self) -> &SseEvent {
        &self.sse
    }

    /// The JSON text of the chunk.
    pub fn data(&self) -> &str {
        &self.sse.data
    }

    /// Whether this chunk carries `finishReason`.
    pub fn is_finish(&self) -> bool {
        self.finish
    }

    /// Whether this chunk carries `usage`.
    pub fn has_usage(&self) -> bool {
        self.usage
    }

    /// Consumes the event, giving the SSE event.
    pub fn into_sse(self) -> SseEvent {
        self.sse
    }
}

/// Which keys of a chunk end the stream; the rest of the JSON is skipped, not built.
#[derive(serde::Deserialize)]
struct Markers {
    #[serde(rename = "finishReason")]
    finish_reason: Option<serde::de::IgnoredAny>,
    usage: Option<serde::de::IgnoredAny>,
}

/// The events of a streaming chat response, as they arrive.
///
/// Ends after the finish event, or after the usage event that follows it when
/// usage was requested (waited for a bounded time); a `[DONE]` marker ends it
/// too. Dropping it closes the connection.
pub struct ChatStream {
    inner: BoxStream<'static, Result<StreamEvent, Error>>,
    opc_request_id: String,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream").field("opc_request_id", &self.opc_request_id).finish_non_exhaustive()
    }
}

#[derive(PartialEq, Eq)]
enum Phase {
    Streaming,
    AwaitingUsage,
    Done,
}

struct State {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    /// One timer for the idle timeout, reset per chunk (cheaper than a new timeout each time).
    idle: Pin<Box<tokio::time::Sleep>>,
    parser: SseParser,
    pending: VecDeque<SseEvent>,
    scratch: Vec<SseEvent>,
    phase: Phase,
    eof: bool,
    usage_requested: bool,
    read_timeout: Duration,
    usage_grace: Duration,
    url: String,
    opc_request_id: String,
}

impl ChatStream {
    pub(crate) fn new(
        response: reqwest::Response,
        prepared: Prepared,
        read_timeout: Duration,
        usage_grace: Duration,
    ) -> Self {
        let opc_request_id = prepared.opc_request_id.clone();
        let state = State {
            body: Box::pin(response.bytes_stream()),
            idle: Box::pin(tokio::time::sleep(read_timeout)),
            parser: SseParser::new(),
            pending: VecDeque::new(),
            scratch: Vec::new(),
            phase: Phase::Streaming,
            eof: false,
            usage_requested: prepared.usage_requested,
            read_timeout,
            usage_grace,
            url: prepared.url,
            opc_request_id: prepared.opc_request_id,
        };
        let inner = futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        });
        ChatStream { inner: Box::pin(inner), opc_request_id }
    }

    /// The request id of this stream.
    pub fn opc_request_id(&self) -> &str {
        &self.opc_request_id
    }
}

impl Stream for ChatStream {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl State {
    fn request_id(&self) -> Option<String> {
        Some(self.opc_request_id.clone())
    }

    async fn next(&mut self) -> Option<Result<StreamEvent, Error>> {
        loop {
            if let Some(sse) = self.pending.pop_front() {
                if sse.is_done() {
                    self.phase = Phase::Done;
                    return None;
                }
                // Most chunks are deltas: parse only those that can carry an end marker.
                let may_end = sse.data.contains("\"finishReason\"") || sse.data.contains("\"usage\"");
                let markers: Option<Markers> = if may_end { serde_json::from_str(&sse.data).ok() } else { None };
                let (finish, usage) =
                    markers.map_or((false, false), |m| (m.finish_reason.is_some(), m.usage.is_some()));
                if usage || (finish && !self.usage_requested) {
                    self.phase = Phase::Done;
                } else if finish {
                    self.phase = Phase::AwaitingUsage;
                }
                return Some(Ok(StreamEvent { sse, finish, usage }));
            }
            if self.phase == Phase::Done || self.eof {
                return None;
            }
            let wait = if self.phase == Phase::AwaitingUsage { self.usage_grace } else { self.read_timeout };
            self.idle.as_mut().reset(tokio::time::Instant::now() + wait);
            let next = tokio::select! {
                biased;
                next = futures::StreamExt::next(&mut self.body) => Ok(next),
                () = self.idle.as_mut() => Err(()),
            };
            match next {
                Err(()) if self.phase == Phase::AwaitingUsage => {
                    tracing::debug!(opc_request_id = %self.opc_request_id, "no usage event after the finish event");
                    self.phase = Phase::Done;
                    return None;
                }
                Err(()) => {
                    self.phase = Phase::Done;
                    return Some(Err(Error::StreamIdle {
                        seconds: self.read_timeout.as_secs(),
                        opc_request_id: self.request_id(),
                    }));
                }
                Ok(Some(Ok(bytes))) => {
                    if let Err(e) = self.parser.feed(&bytes, &mut self.scratch) {
                        self.phase = Phase::Done;
                        return Some(Err(e));
                    }
                    self.pending.extend(self.scratch.drain(..));
                }
                Ok(Some(Err(e))) => {
                    self.phase = Phase::Done;
                    return Some(Err(transport_error(&self.url, &e, self.request_id())));
                }
                Ok(None) => {
                    self.eof = true;
                    if let Err(e) = self.parser.finish(&mut self.scratch) {
                        return Some(Err(e));
                    }
                    self.pending.extend(self.scratch.drain(..));
                    if self.parser.events_seen() == 0 {
                        return Some(Err(Error::EmptyStream { opc_request_id: self.request_id() }));
                    }
                }
            }
        }
    }
}
