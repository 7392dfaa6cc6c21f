//! A chat response as a stream of server-sent events.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::future::Future;

use futures::Stream;

use crate::end::{Marks, StreamEnd, marks};
use crate::error::Error;
use crate::reply::{BodySource, Reply};
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
///
/// Polling it reads the socket directly when the stream owns its connection
/// (see [`GenAiClientBuilder::own_stream_connections`](crate::GenAiClientBuilder::own_stream_connections)):
/// all events that one read brings are parsed at once and handed on one per
/// poll, and the timers are looked at only when there is nothing to hand on.
pub struct ChatStream {
    body: BodySource,
    /// One timer for the idle timeout and the usage grace. It is not moved at
    /// every read: it fires, and is moved then if data came meanwhile.
    idle: Pin<Box<tokio::time::Sleep>>,
    /// When the stream is idle if nothing more arrives (moved at each read that brings fields).
    idle_at: tokio::time::Instant,
    deadline: Pin<Box<tokio::time::Sleep>>,
    parser: SseParser,
    /// `parser.field_bytes()` when `idle_at` was last moved.
    progress: u64,
    pending: VecDeque<SseEvent>,
    scratch: Vec<SseEvent>,
    /// An error met after the events read before it: reported once they are handed on.
    deferred: Option<Error>,
    phase: Phase,
    eof: bool,
    /// Events handed on (an SSE `[DONE]` is not one).
    delivered: u64,
    end: StreamEnd,
    times: StreamTimes,
    url: String,
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

impl ChatStream {
    pub(crate) fn new(
        response: Reply,
        end: StreamEnd,
        url: String,
        opc_request_id: String,
        times: StreamTimes,
    ) -> Self {
        let idle_at = tokio::time::Instant::now() + times.read_timeout;
        ChatStream {
            body: response.into_body(),
            idle: Box::pin(tokio::time::sleep_until(idle_at)),
            idle_at,
            deadline: Box::pin(tokio::time::sleep_until(times.deadline)),
            parser: SseParser::new(),
            progress: 0,
            pending: VecDeque::new(),
            scratch: Vec::new(),
            deferred: None,
            phase: Phase::Streaming,
            eof: false,
            delivered: 0,
            end,
            times,
            url,
            opc_request_id,
        }
    }

    /// The request id of this stream.
    pub fn opc_request_id(&self) -> &str {
        &self.opc_request_id
    }

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

    /// The next parsed event, classified; `None` when there is none to hand on yet.
    fn next_pending(&mut self) -> Option<Option<Result<ChatStreamEvent, Error>>> {
        while let Some(sse) = self.pending.pop_front() {
            if sse.is_done() {
                // `[DONE]` is chat completions' own end; elsewhere it comes too early.
                if matches!(self.end, StreamEnd::ChatCompletions { .. }) {
                    self.phase = Phase::Done;
                    return Some(None);
                }
                return Some(self.end(Self::incomplete));
            }
            let Marks { finish, usage, failed } = marks(self.end, &sse);
            if let Some((code, message)) = failed {
                let opc_request_id = self.request_id();
                return Some(self.end(|_| Error::StreamFailed { code, message, opc_request_id }));
            }
            let usage_requested = match self.end {
                StreamEnd::Native { usage_requested } | StreamEnd::ChatCompletions { usage_requested } => {
                    usage_requested
                }
                StreamEnd::Responses => false,
            };
            match self.phase {
                Phase::AwaitingUsage if !usage => {
                    tracing::debug!(opc_request_id = %self.opc_request_id, "skipping an event after the finish event");
                    continue;
                }
                Phase::AwaitingUsage => self.phase = Phase::Done,
                Phase::Streaming if finish && (usage || !usage_requested) => self.phase = Phase::Done,
                Phase::Streaming if finish => {
                    self.phase = Phase::AwaitingUsage;
                    let grace = (tokio::time::Instant::now() + self.times.usage_grace).min(self.times.deadline);
                    self.idle_at = grace;
                    self.idle.as_mut().reset(grace);
                }
                Phase::Streaming | Phase::Done => {}
            }
            self.delivered += 1;
            return Some(Some(Ok(ChatStreamEvent { sse, finish, usage })));
        }
        None
    }

    /// Reads what the body has; `Pending` when nothing arrived.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let (parser, scratch) = (&mut self.parser, &mut self.scratch);
        let mut failed = None;
        let read = self.body.poll_data(cx, &mut |data| {
            if failed.is_none() {
                failed = parser.feed(data, scratch).err();
            }
        });
        match read {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(true)) => {
                // Only fields count as activity: a server sending `: keep-alive` forever is idle.
                if self.phase == Phase::Streaming && self.parser.field_bytes() > self.progress {
                    self.progress = self.parser.field_bytes();
                    self.idle_at = tokio::time::Instant::now() + self.times.read_timeout;
                }
            }
            Poll::Ready(Ok(false)) => {
                self.eof = true;
                failed = failed.or(self.parser.finish(&mut self.scratch).err());
            }
            Poll::Ready(Err(e)) => {
                failed = failed.or(Some(e.into_error(&self.url, self.request_id())));
            }
        }
        self.pending.extend(self.scratch.drain(..));
        if failed.is_some() && self.deferred.is_none() {
            self.deferred = failed;
        }
        Poll::Ready(())
    }

    /// Nothing to read: whether a timer ends the stream (`Ready`), else `Pending`
    /// with every timer registered.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ChatStreamEvent, Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            let seconds = self.times.deadline_secs;
            return Poll::Ready(self.end(|s| Error::StreamDeadline { seconds, opc_request_id: s.request_id() }));
        }
        loop {
            if self.idle.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if self.idle_at > self.idle.deadline() {
                // Data came since the timer was set: move it, and register it again.
                let at = self.idle_at;
                self.idle.as_mut().reset(at);
                continue;
            }
            if self.phase == Phase::AwaitingUsage {
                tracing::debug!(opc_request_id = %self.opc_request_id, "no usage event after the finish event");
                self.phase = Phase::Done;
                return Poll::Ready(None);
            }
            let seconds = self.times.read_timeout.as_secs();
            return Poll::Ready(self.end(|s| Error::StreamIdle { seconds, opc_request_id: s.request_id() }));
        }
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        if self.phase == Phase::Done {
            self.body.finish_without_waiting();
        }
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatStreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.phase == Phase::Done {
                return Poll::Ready(None);
            }
            if let Some(item) = this.next_pending() {
                return Poll::Ready(item);
            }
            if let Some(error) = this.deferred.take() {
                return Poll::Ready(this.end(|_| error));
            }
            if this.eof {
                return Poll::Ready(this.end(Self::incomplete));
            }
            if this.poll_read(cx).is_pending() {
                return this.poll_timers(cx);
            }
        }
    }
}
