//! The agent loop's own cost per iteration, without model or tool time.
//!
//! `cargo bench -p locus-agent --bench overhead`: an in-process model that
//! answers instantly (a tool call for the first N-1 iterations, then text)
//! and a no-op tool. `run/N` is one whole run of N model calls and N-1 tool
//! calls, streamed, through `run_to_completion`; divide by N for the cost
//! per iteration.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use locus_agent::{Agent, ToolError, tool_fn, tools::builtin::ClockArgs};
use locus_providers::{
    ChatModel, ChatRequest, ChatResponse, EventStream, FinishReason, Message, ModelEvent, ToolCall, Usage,
    response_events,
};

/// Calls the tool `calls` times (each with other arguments), then answers.
#[derive(Debug)]
struct InstantModel {
    calls: u32,
    turn: AtomicU32,
}

impl InstantModel {
    fn next(&self) -> ChatResponse {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed) % (self.calls + 1);
        let usage = Some(Usage { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, ..Default::default() });
        if turn < self.calls {
            let call = ToolCall::new(format!("call_{turn}"), "noop", serde_json::json!({ "n": turn }));
            ChatResponse {
                message: Message::assistant_with_tool_calls("", vec![call]),
                reasoning: None,
                finish_reason: FinishReason::ToolCalls,
                usage,
                citations: Vec::new(),
            }
        } else {
            ChatResponse {
                message: Message::assistant("done"),
                reasoning: None,
                finish_reason: FinishReason::Stop,
                usage,
                citations: Vec::new(),
            }
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for InstantModel {
    fn name(&self) -> &str {
        "instant"
    }

    async fn complete(&self, _: &ChatRequest) -> Result<ChatResponse, locus_providers::Error> {
        Ok(self.next())
    }

    async fn stream(&self, _: &ChatRequest) -> EventStream {
        use futures::StreamExt;
        futures::stream::iter(response_events(self.next()).into_iter().map(Ok::<ModelEvent, _>)).boxed()
    }
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("agent");
    for iterations in [2u32, 10] {
        let noop = tool_fn("noop", "Does nothing.", |_: ClockArgs| async { Ok::<_, ToolError>("ok") });
        let model = Arc::new(InstantModel { calls: iterations - 1, turn: AtomicU32::new(0) });
        let agent = Agent::builder().chat_model(model).system_prompt("Be brief.").tool(noop).build().unwrap();
        group.bench_function(BenchmarkId::new("run", iterations), |b| {
            b.iter(|| {
                let result = runtime.block_on(agent.run_to_completion("go")).unwrap();
                assert_eq!(result.iterations, iterations);
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = overhead;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(overhead);
