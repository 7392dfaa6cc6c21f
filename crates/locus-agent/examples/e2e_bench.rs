//! The Rust side of `cargo xtask bench`: client figures against an emulator
//! running in another process. Prints one JSON object. It runs on a
//! current-thread runtime, as the `locus` binary does (a multi-thread runtime
//! adds cross-thread wake-ups per received chunk).
//!
//! ```sh
//! e2e_bench <emulator url> <oci config file>
//! ```

// A measuring harness: it should stop loudly at the first failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use locus_agent::{Agent, ToolError, tool_fn};
use locus_providers::{GenericShape, OciChatModel, RequestShape, StreamState};
use oci_genai_transport::{ChatCall, GenAiClient, ServingMode, models};

#[path = "support/cpu.rs"]
mod support;
use support::cpu;

const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaaemulator";

/// Peak resident memory (VmHWM) in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn details(model: &str) -> ChatCall {
    let request = models::BaseChatRequest::Generic(models::GenericChatRequest {
        messages: Some(vec![models::Message::User(models::UserMessage {
            content: Some(vec![models::ChatContent::Text(models::TextContent { text: Some("go".into()) })]),
            name: None,
        })]),
        ..Default::default()
    });
    ChatCall::new(ServingMode::from_model_id(model).expect("a model id"), COMPARTMENT, request)
}

/// Streams `model` once, returning (events, time to first event).
async fn stream(client: &GenAiClient, model: &str) -> (u64, Duration) {
    let started = Instant::now();
    let mut stream = client.chat_stream(details(model)).await.expect("stream");
    let (mut state, mut parsed) = (StreamState::default(), Vec::new());
    let (mut events, mut first) = (0u64, None);
    while let Some(event) = stream.next().await {
        let event = event.expect("event");
        // Parse each event's JSON as our stack does (the GENERIC shape's typed chunk), as the peer parses its.
        GenericShape.parse_stream_chunk(event.into_sse(), &mut state, &mut parsed).expect("json");
        std::hint::black_box(parsed.drain(..).count());
        first.get_or_insert_with(|| started.elapsed());
        events += 1;
    }
    (events, first.unwrap_or_default())
}

async fn cpu_per_1000_events(client: &GenAiClient, model: &str, streams: u32) -> (f64, f64) {
    let (cpu_before, wall) = (cpu(), Instant::now());
    let mut events = 0;
    for _ in 0..streams {
        events += stream(client, model).await.0;
    }
    let cpu_ms = (cpu() - cpu_before).as_secs_f64() * 1e3;
    (cpu_ms * 1000.0 / events as f64, events as f64 / wall.elapsed().as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--multi-thread`: only the per-event figures, on a 2-worker runtime, as `#[tokio::main]` gives.
    if args.get(2).is_some_and(|a| a == "--multi-thread") {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
        runtime.expect("runtime").block_on(per_event(args));
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(everything(args));
}

/// CPU per 1,000 events at 1 and 64 events per write, on whatever runtime runs it.
async fn per_event(args: Vec<String>) {
    let (url, config) = (args[0].clone(), args[1].clone());
    let auth = oci_auth::Auth::builder().config_file(&config).build().expect("auth");
    let client = GenAiClient::builder().auth(auth).service_endpoint(&url).build().expect("client");
    // Spawned, as a program on a multi-thread runtime runs its work.
    let report = tokio::spawn(async move {
        stream(&client, "bench-64").await;
        let (cpu_1, _) = cpu_per_1000_events(&client, "bench-1", 10).await;
        let (cpu_64, _) = cpu_per_1000_events(&client, "bench-64", 10).await;
        serde_json::json!({ "cpu_ms_per_1000_events_1_per_write": cpu_1, "cpu_ms_per_1000_events_64_per_write": cpu_64 })
    });
    println!("{}", report.await.expect("task"));
}

async fn everything(args: Vec<String>) {
    let (url, config) = (args[0].clone(), args[1].clone());
    let auth = oci_auth::Auth::builder().config_file(&config).build().expect("auth");
    let client = GenAiClient::builder().auth(auth.clone()).service_endpoint(&url).build().expect("client");

    stream(&client, "bench-64").await; // warm up the connection pool
    let (cpu_1, _) = cpu_per_1000_events(&client, "bench-1", 10).await;
    let (cpu_64, events_per_second) = cpu_per_1000_events(&client, "bench-64", 10).await;

    let mut ttft = Vec::new();
    for _ in 0..50 {
        ttft.push(stream(&client, "bench-small").await.1);
    }
    ttft.sort();
    let ttft_median_ms = ttft[ttft.len() / 2].as_secs_f64() * 1e3;

    let rss_before = peak_rss_kib();
    let cpu_before = cpu();
    let tasks: Vec<_> = (0..1_000)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { stream(&client, "bench-small").await.0 })
        })
        .collect();
    let mut concurrent_events = 0;
    for task in tasks {
        concurrent_events += task.await.expect("task");
    }
    let concurrent_cpu_ms = (cpu() - cpu_before).as_secs_f64() * 1e3;
    let concurrent_rss_mib = peak_rss_kib() as f64 / 1024.0;

    let noop = tool_fn("noop", "Does nothing.", |_: serde_json::Map<String, serde_json::Value>| async {
        Ok::<_, ToolError>("ok")
    });
    let model = OciChatModel::builder("bench-agent")
        .client(client.clone())
        .compartment_id(COMPARTMENT)
        .transport(oci_genai_transport::Transport::Native)
        .build();
    let agent = Agent::builder().model(model.expect("model")).tool(noop).build().expect("agent");
    agent.run_to_completion("go").await.expect("agent");
    let (cpu_before, wall, runs) = (cpu(), Instant::now(), 200);
    for _ in 0..runs {
        agent.run_to_completion("go").await.expect("agent");
    }
    let agent_cpu_ms = (cpu() - cpu_before).as_secs_f64() * 1e3 / f64::from(runs);
    let agent_per_second = f64::from(runs) / wall.elapsed().as_secs_f64();

    // Embeddings: 1,000 inputs a call (batches of 96, 4 in flight), ten calls.
    let inputs: Vec<String> = (0..1000).map(|i| format!("passage {i} of the benchmark about oracle cloud")).collect();
    let serving = oci_genai_transport::ServingMode::from_model_id("cohere.embed-english-v3.0").expect("model");
    let embed = || oci_genai_transport::EmbedCall::new(serving.clone(), COMPARTMENT, inputs.iter().cloned());
    client.embed(embed()).await.expect("embed");
    let (cpu_before, wall, calls) = (cpu(), Instant::now(), 10);
    for _ in 0..calls {
        client.embed(embed()).await.expect("embed");
    }
    let embed_cpu_ms_per_1000 = (cpu() - cpu_before).as_secs_f64() * 1e3 / f64::from(calls);
    let embed_inputs_per_second = f64::from(calls) * 1000.0 / wall.elapsed().as_secs_f64();

    let report = serde_json::json!({
        "embed_cpu_ms_per_1000_vectors": embed_cpu_ms_per_1000,
        "embed_inputs_per_second": embed_inputs_per_second,
        "cpu_ms_per_1000_events_1_per_write": cpu_1,
        "cpu_ms_per_1000_events_64_per_write": cpu_64,
        "single_stream_events_per_second": events_per_second,
        "ttft_median_ms": ttft_median_ms,
        "concurrent_streams": 1000,
        "concurrent_events": concurrent_events,
        "concurrent_cpu_ms": concurrent_cpu_ms,
        "concurrent_peak_rss_mib": concurrent_rss_mib,
        "rss_before_concurrent_mib": rss_before as f64 / 1024.0,
        "agent_round_trip_cpu_ms": agent_cpu_ms,
        "agent_round_trips_per_second": agent_per_second,
    });
    println!("{report}");
}
