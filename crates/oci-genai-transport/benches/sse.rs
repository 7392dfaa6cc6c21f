//! SSE parsing throughput on a realistic chat stream.
//!
//! `cargo bench -p oci-genai-transport --bench sse`: 10,000 GENERIC events,
//! each a ~20-byte text delta with `pad` filler as the service sends them,
//! parsed whole, in 64-byte chunks (network-sized reads) and one event per
//! chunk. `elements` gives events/s; `bytes` gives MB/s.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use oci_genai_transport::sse::SseParser;

const EVENTS: usize = 10_000;

fn stream() -> (Vec<u8>, Vec<usize>) {
    let mut body = Vec::new();
    let mut ends = Vec::new();
    for i in 0..EVENTS {
        let text = format!("delta {:>4} of text, ", i % 10_000); // 20 bytes
        let pad = "a".repeat(1 + i % 24);
        body.extend_from_slice(
            format!(
                "data: {{\"index\":0,\"message\":{{\"role\":\"ASSISTANT\",\"content\":[{{\"type\":\"TEXT\",\"text\":\"{text}\"}}]}},\"pad\":\"{pad}\"}}\n\n"
            )
            .as_bytes(),
        );
        ends.push(body.len());
    }
    (body, ends)
}

fn parse(body: &[u8], chunk: usize) -> usize {
    let mut parser = SseParser::new();
    let mut events = Vec::with_capacity(64);
    let mut count = 0;
    for piece in body.chunks(chunk) {
        parser.feed(piece, &mut events).unwrap();
        count += events.len();
        events.clear();
    }
    count
}

fn parse_per_event(body: &[u8], ends: &[usize]) -> usize {
    let mut parser = SseParser::new();
    let mut events = Vec::with_capacity(4);
    let (mut start, mut count) = (0, 0);
    for &end in ends {
        parser.feed(&body[start..end], &mut events).unwrap();
        count += events.len();
        events.clear();
        start = end;
    }
    count
}

fn benches(c: &mut Criterion) {
    let (body, ends) = stream();
    for (unit, throughput) in
        [("events", Throughput::Elements(EVENTS as u64)), ("bytes", Throughput::Bytes(body.len() as u64))]
    {
        let mut group = c.benchmark_group(format!("sse_{unit}"));
        group.throughput(throughput);
        group.bench_function(BenchmarkId::new("whole_body", EVENTS), |b| {
            b.iter(|| assert_eq!(parse(black_box(&body), body.len()), EVENTS))
        });
        group.bench_function(BenchmarkId::new("chunks_64b", EVENTS), |b| {
            b.iter(|| assert_eq!(parse(black_box(&body), 64), EVENTS))
        });
        group.bench_function(BenchmarkId::new("one_event_per_chunk", EVENTS), |b| {
            b.iter(|| assert_eq!(parse_per_event(black_box(&body), &ends), EVENTS))
        });
        group.finish();
    }
}

criterion_group! {
    name = sse_benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(sse_benches);
