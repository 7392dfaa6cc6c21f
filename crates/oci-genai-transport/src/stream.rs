//! A chat response as a stream of server-sent events.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;

use crate::error::Error;
use crate::prepare::PreparedRequest;
use crate::sse::{SseEvent, SseParser};

/// One event of a chat stream: the SSE event, and whether it ends the
/// answer (`finishReason`) or carries usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatStreamEvent {
    sse: SseEvent,
    finish: bool,
    usage: bool,
}

impl ChatStreamEvent {
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
/// usage was requested (waited for a bounded time); a usage field alone never
/// ends it (some servers send usage in every chunk). A stream that stops
/// before its finish event — the connection closed, `[DONE]` — ends with
/// [`Error::IncompleteStream`]; what comes after the end is not read.
/// Comment lines (`: keep-alive`) do not count as activity for the idle
/// timeout, and the whole stream has a deadline. Dropping it closes the
/// connection.
pub struct ChatStream {
    inner: BoxStream<'static, Result<ChatStreamEvent, Error>>,
    opc_request_id: String,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream").field("opc_request_id", &self.opc_request_id).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the finish event.
    Streaming,
    /// After it, waiting a short while for usage.
    AwaitingUsage,
    Done,
}

/// The time bounds of one stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamTimes {
    /// The longest silence (comment lines are silence).
    pub read_timeout: Duration,
    /// How long usage may follow the finish event.
    pub usage_grace: Duration,
    /// When the whole call must be over.
    pub deadline: tokio::time::Instant,
    /// The deadline as configured, for the error.
    pub deadline_secs: u64,
}

struct State {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    /// One timer for the idle timeout, reset when fields arrive (cheaper than a new timeout each time).
    idle: Pin<Box<tokio::time::Sleep>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    parser: SseParser,
    /// `parser.field_bytes()` when the idle timer was last reset.
    progress: u64,
    pending: VecDeque<SseEvent>,
    scratch: Vec<SseEvent>,
    /// An error met after the events read before it: reported once they are handed on.
    deferred: Option<Error>,
    phase: Phase,
    eof: bool,
    /// Events handed on (an SSE `[DONE]` is not one).
    delivered: u64,
    usage_requested: bool,
    times: StreamTimes,
    url: String,
    opc_request_id: String,
}

impl ChatStream {
    pub(crate) fn new(response: reqwest::Response, prepared: PreparedRequest, times: StreamTimes) -> Self {
        let opc_request_id = prepared.opc_request_id.clone();
        let state = State {
            body: Box::pin(response.bytes_stream()),
            idle: Box::pin(tokio::time::sleep(times.read_timeout)),
            deadline: Box::pin(tokio::time::sleep_until(times.deadline)),
            parser: SseParser::new(),
            progress: 0,
            pending: VecDeque::new(),
            scratch: Vec::new(),
            deferred: None,
            phase: Phase::Streaming,
            eof: false,
            delivered: 0,
            usage_requested: prepared.usage_requested,
            times,
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
    type Item = Result<ChatStreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

enum Wake {
    Read(Option<reqwest::Result<Bytes>>),
    Idle,
    Deadline,
}

impl State {
    fn request_id(&self) -> Option<String> {
        Some(self.opc_request_id.clone())
    }

    /// Ends the stream: quietly once the answer is complete, else with `error`.
    fn end(&mut self, error: impl FnOnce(&Self) -> Error) -> Option<Result<ChatStreamEvent, Error>> {
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        match phase {
            Phase::Streaming => Some(Err(error(self))),
            Phase::AwaitingUsage | Phase::Done => None,
        }
    }

    fn incomplete(&self) -> Error {
        match self.delivered {
            0 => Error::EmptyStream { opc_request_id: self.request_id() },
            events => Error::IncompleteStream { events, opc_request_id: self.request_id() },
        }
    }

    async fn next(&mut self) -> Option<Result<ChatStreamEvent, Error>> {
        loop {
            if self.phase == Phase::Done {
                return None;
            }
            if let Some(sse) = self.pending.pop_front() {
                if sse.is_done() {
                    return self.end(Self::incomplete);
                }
                let (finish, usage) = markers(&sse.data);
                match self.phase {
                    Phase::AwaitingUsage if !usage => {
                        tracing::debug!(opc_request_id = %self.opc_request_id, "skipping an event after the finish event");
                        continue;
                    }
                    Phase::AwaitingUsage => self.phase = Phase::Done,
                    Phase::Streaming if finish && (usage || !self.usage_requested) => self.phase = Phase::Done,
                    Phase::Streaming if finish => {
                        self.phase = Phase::AwaitingUsage;
                        let grace = tokio::time::Instant::now() + self.times.usage_grace;
                        self.idle.as_mut().reset(grace.min(self.times.deadline));
                    }
                    Phase::Streaming | Phase::Done => {}
                }
                self.delivered += 1;
                return Some(Ok(ChatStreamEvent { sse, finish, usage }));
            }
            if let Some(error) = self.deferred.take() {
                return self.end(|_| error);
            }
            if self.eof {
                return self.end(Self::incomplete);
            }
            let wake = tokio::select! {
                biased;
                next = futures::StreamExt::next(&mut self.body) => Wake::Read(next),
                () = self.idle.as_mut() => Wake::Idle,
                () = self.deadline.as_mut() => Wake::Deadline,
            };
            match wake {
                Wake::Idle if self.phase == Phase::AwaitingUsage => {
                    tracing::debug!(opc_request_id = %self.opc_request_id, "no usage event after the finish event");
                    self.phase = Phase::Done;
                }
                Wake::Idle => {
                    let seconds = self.times.read_timeout.as_secs();
                    return self.end(|s| Error::StreamIdle { seconds, opc_request_id: s.request_id() });
                }
                Wake::Deadline => {
                    let seconds = self.times.deadline_secs;
                    return self.end(|s| Error::StreamDeadline { seconds, opc_request_id: s.request_id() });
                }
                Wake::Read(Some(Ok(bytes))) => {
                    let fed = self.parser.feed(&bytes, &mut self.scratch);
                    self.pending.extend(self.scratch.drain(..));
                    if let Err(e) = fed {
                        self.deferred = Some(e);
                    }
                    // Only fields count as activity: a server sending `: keep-alive` forever is idle.
                    if self.phase == Phase::Streaming && self.parser.field_bytes() > self.progress {
                        self.progress = self.parser.field_bytes();
                        let idle = tokio::time::Instant::now() + self.times.read_timeout;
                        self.idle.as_mut().reset(idle);
                    }
                }
                Wake::Read(Some(Err(e))) => self.deferred = Some(Error::from_reqwest(&self.url, e, self.request_id())),
                Wake::Read(None) => {
                    self.eof = true;
                    let finished = self.parser.finish(&mut self.scratch);
                    self.pending.extend(self.scratch.drain(..));
                    if let Err(e) = finished {
                        self.deferred = Some(e);
                    }
                }
            }
        }
    }
}

/// Whether a chunk carries `finishReason` and `usage` (non-null). Most chunks
/// are deltas: only those that can carry a marker are parsed, and only for
/// these two keys.
fn markers(data: &str) -> (bool, bool) {
    if !data.contains("\"finishReason\"") && !data.contains("\"usage\"") {
        return (false, false);
    }
    match serde_json::from_str::<Markers>(data) {
        Ok(m) => (m.finish_reason.is_some(), m.usage.is_some()),
        Err(_) => (false, false),
    }
}
