//! Accumulating streams: cost per event, and that it stays linear.
//!
//! `cargo bench -p locus-providers --bench accumulate`: 2,000 deltas (text,
//! then 3 parallel tool calls streamed in fragments at index 0 with new ids),
//! accumulated alone and through the whole path (SSE parsing, the GENERIC
//! shape, the accumulator); and 20,000 deltas to show the cost per event does
//! not grow with the stream.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use locus_providers::{FinishReason, GenericShape, ModelEvent, RequestShape, StreamAccumulator, StreamState};
use oci_genai_transport::sse::SseParser;

fn events(deltas: usize) -> Vec<ModelEvent> {
    let text = deltas / 2;
    let per_call = (deltas - text) / 3;
    let mut out: Vec<ModelEvent> = (0..text).map(|i| ModelEvent::TextDelta(format!("word{} ", i % 100))).collect();
    for call in 0..3 {
        out.push(ModelEvent::ToolCallDelta {
            index: 0,
            id: Some(format!("call_{call}")),
            name: Some("search".into()),
            arguments: "{\"q\": \"".into(),
        });
        for i in 1..per_call.saturating_sub(1) {
            out.push(ModelEvent::ToolCallDelta { index: 0, id: None, name: None, arguments: format!("t{} ", i % 10) });
        }
        out.push(ModelEvent::ToolCallDelta { index: 0, id: None, name: None, arguments: "\"}".into() });
    }
    out.push(ModelEvent::Finished(FinishReason::ToolCalls));
    out
}

fn sse(events: &[ModelEvent]) -> Vec<u8> {
    let mut body = String::new();
    for event in events {
        let chunk = match event {
            ModelEvent::TextDelta(t) => {
                serde_json::json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": t}]}, "pad": "aaaa"})
            }
            ModelEvent::ToolCallDelta { id, name, arguments, .. } => {
                serde_json::json!({"index": 0, "message": {"role": "ASSISTANT",
                "toolCalls": [{"type": "FUNCTION", "id": id, "name": name, "arguments": arguments}]}, "pad": "aa"})
            }
            _ => serde_json::json!({"index": 0, "message": {"role": "ASSISTANT"}, "finishReason": "tool_calls"}),
        };
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    body.into_bytes()
}

fn accumulate(events: &[ModelEvent]) -> usize {
    let mut acc = StreamAccumulator::new();
    for event in events {
        let _ = acc.push(event.clone());
    }
    acc.finish().message.tool_calls.len()
}

fn whole_path(body: &[u8]) -> usize {
    let (mut parser, mut state, mut acc, mut sse) =
        (SseParser::new(), StreamState::default(), StreamAccumulator::new(), Vec::new());
    let mut events = Vec::new();
    for piece in body.chunks(256) {
        parser.feed(piece, &mut sse).unwrap();
        for event in sse.drain(..) {
            GenericShape.parse_stream_chunk(event, &mut state, &mut events).unwrap();
            for e in events.drain(..) {
                let _ = acc.push(e);
            }
        }
    }
    acc.finish().message.tool_calls.len()
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("accumulate");
    for deltas in [2_000usize, 20_000] {
        let events = events(deltas);
        let body = sse(&events);
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_with_input(BenchmarkId::new("accumulator", deltas), &events, |b, events| {
            b.iter(|| assert_eq!(accumulate(black_box(events)), 3))
        });
        group.bench_with_input(BenchmarkId::new("sse_shape_accumulator", deltas), &body, |b, body| {
            b.iter(|| assert_eq!(whole_path(black_box(body)), 3))
        });
    }
    group.finish();
}

criterion_group! {
    name = accumulate_benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(accumulate_benches);
