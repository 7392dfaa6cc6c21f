//! What an agent run reports.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Future, Stream};
use locus_providers::{Citation, FinishReason, Usage};
use serde::Serialize;

use crate::error::Error;
use crate::guard::{GuardBlock, GuardFinding, GuardStage};

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The model answered without calling tools.
    Completed,
    /// `max_iterations` was reached (a final summarising call answered).
    MaxIterations,
    /// The token or wall-time budget ran out.
    Budget,
    /// A terminal tool was called; its output is the answer.
    TerminalTool,
    /// The same call with the same arguments came a third time.
    LoopDetected,
    /// The model's answer was cut off at its token limit (`max_tokens`); any
    /// tool calls in it were not run, as their arguments may be cut too.
    MaxTokens,
    /// The service's content filter stopped the answer.
    ContentFiltered,
    /// The run's guard blocked the input or the answer ([`AgentResult::blocked`] says which and why).
    GuardrailBlocked,
}

impl StopReason {
    /// The reason in snake case, as it is serialized: `completed`, `max_iterations`, …
    ///
    /// ```
    /// assert_eq!(locus_agent::StopReason::LoopDetected.as_str(), "loop_detected");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::MaxIterations => "max_iterations",
            StopReason::Budget => "budget",
            StopReason::TerminalTool => "terminal_tool",
            StopReason::LoopDetected => "loop_detected",
            StopReason::MaxTokens => "max_tokens",
            StopReason::ContentFiltered => "content_filtered",
            StopReason::GuardrailBlocked => "guardrail_blocked",
        }
    }

    /// Whether the run ended with an answer the model meant to give
    /// (`Completed`, `TerminalTool`); every other stop is a shortfall.
    pub fn is_complete(self) -> bool {
        matches!(self, StopReason::Completed | StopReason::TerminalTool)
    }
}

/// One tool call made during a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallRecord {
    /// The call id.
    pub id: String,
    /// The tool.
    pub name: String,
    /// The arguments.
    pub arguments: serde_json::Value,
    /// Whether it failed (tool error, invalid arguments, unknown tool, timeout).
    pub is_error: bool,
    /// What the model was told.
    pub output: String,
    /// How long it took.
    #[serde(skip)]
    pub duration: Duration,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentResult {
    /// The final answer.
    pub text: String,
    /// Why the run stopped.
    pub stop_reason: StopReason,
    /// Why the model stopped its last answer, as it said (`None` when the
    /// run stopped before asking it, on a budget).
    pub finish_reason: Option<FinishReason>,
    /// Tokens used by all model calls.
    pub usage: Usage,
    /// Model calls made.
    pub iterations: u32,
    /// Tool calls made, in order.
    pub tool_calls: Vec<ToolCallRecord>,
    /// Where and why the guard blocked the run ([`StopReason::GuardrailBlocked`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<GuardBlock>,
    /// Spans of the final answer grounded in the agent's documents
    /// ([`AgentBuilder::documents`](crate::AgentBuilder::documents); Cohere models cite them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
}

/// What happens during a run, as it happens.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentEvent {
    /// Answer text from the model.
    TextDelta(String),
    /// Reasoning text from the model.
    ReasoningDelta(String),
    /// A tool is about to run.
    ToolCallStarted {
        /// The call id.
        id: String,
        /// The tool.
        name: String,
        /// The arguments.
        arguments: serde_json::Value,
    },
    /// A tool finished.
    ToolCallFinished(ToolCallRecord),
    /// Streaming failed and the model answered without streaming.
    ModelFallback {
        /// Why.
        reason: String,
    },
    /// A model call finished.
    IterationFinished {
        /// Its number, from 1.
        iteration: u32,
        /// Its token use, when reported.
        usage: Option<Usage>,
    },
    /// The guard redacted or blocked something.
    Guarded {
        /// What was screened.
        stage: GuardStage,
        /// What was found.
        finding: GuardFinding,
        /// Blocked (or else redacted).
        blocked: bool,
    },
    /// The run is over.
    Finished(AgentResult),
}

/// The events of a run. Dropping it cancels the run (the model call or the
/// tools in flight are dropped with it).
///
/// The run is polled inside the stream's own `poll_next` and its events wait
/// in a queue the stream drains: handing an event on wakes nothing, so a
/// stream of tokens costs no extra task wake-up per token.
pub struct AgentStream {
    driver: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    queue: Queue,
}

type Queue = Arc<Mutex<VecDeque<Result<AgentEvent, Error>>>>;

impl std::fmt::Debug for AgentStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentStream").field("running", &self.driver.is_some()).finish()
    }
}

/// Where a run sends its events: the queue its stream drains, after each
/// poll of the run (which is the only time events are sent).
#[derive(Clone)]
pub(crate) struct Emitter(Queue);

impl Emitter {
    pub fn emit(&self, event: AgentEvent) {
        self.push(Ok(event));
    }

    pub fn fail(&self, error: Error) {
        self.push(Err(error));
    }

    fn push(&self, item: Result<AgentEvent, Error>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push_back(item);
    }
}

impl AgentStream {
    /// Runs `body` as the stream is polled; no task is spawned.
    pub(crate) fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Emitter) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let queue = Queue::default();
        AgentStream { driver: Some(Box::pin(body(Emitter(Arc::clone(&queue))))), queue }
    }

    fn pop(&self) -> Option<Result<AgentEvent, Error>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).pop_front()
    }
}

impl Stream for AgentStream {
    type Item = Result<AgentEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(item) = self.pop() {
            return Poll::Ready(Some(item));
        }
        if let Some(driver) = self.driver.as_mut()
            && driver.as_mut().poll(cx).is_ready()
        {
            self.driver = None;
        }
        match self.pop() {
            Some(item) => Poll::Ready(Some(item)),
            None if self.driver.is_none() => Poll::Ready(None),
            // The run is waiting on I/O or a timer, whose wakers it registered with `cx`.
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use super::*;

    /// Counts how often the task polling the stream is woken.
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn handing_events_on_wakes_nobody() {
        let (release, released) = futures::channel::oneshot::channel::<()>();
        let mut stream = AgentStream::new(|emitter| async move {
            // A burst (tokens from one read), a wait (the next read), another burst.
            for i in 0..3 {
                emitter.emit(AgentEvent::TextDelta(format!("a{i}")));
            }
            let _ = released.await;
            for i in 0..3 {
                emitter.emit(AgentEvent::TextDelta(format!("b{i}")));
            }
        });
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let mut texts = Vec::new();
        let mut poll = |stream: &mut AgentStream, texts: &mut Vec<String>| match Pin::new(stream).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(AgentEvent::TextDelta(text)))) => {
                texts.push(text);
                true
            }
            Poll::Pending | Poll::Ready(None) => false,
            Poll::Ready(other) => panic!("{other:?}"),
        };
        while poll(&mut stream, &mut texts) {}
        assert_eq!(texts, ["a0", "a1", "a2"]);
        assert_eq!(counter.0.load(Ordering::SeqCst), 0, "emitting while polled must not wake the poller");
        let _ = release.send(());
        assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the run's own wait wakes it, once");
        while poll(&mut stream, &mut texts) {}
        assert_eq!(texts.len(), 6);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    }
}
