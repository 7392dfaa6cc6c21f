//! What the libraries tell `tracing` for OpenTelemetry: the GenAI semantic
//! conventions' spans (`invoke_agent`, `chat <model>`, `execute_tool <name>`),
//! their attributes and nesting, and the metric events, recorded by a plain
//! `tracing` layer while an agent runs against the emulator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use locus_agent::{Agent, tools::builtin};
use locus_providers::{ChatModel, ChatRequest, Message, OciChatModel};
use oci_genai_emulator::{DEMO_COMPARTMENT, DEMO_ENDPOINT, Emulator, EmulatorConfig, Fault, ModelConfig};
use oci_genai_transport::RetryPolicy;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Default, Clone)]
struct Recorded {
    name: String,
    parent: Option<String>,
    fields: HashMap<String, String>,
}

impl Visit for Recorded {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.fields.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields.insert(field.name().to_owned(), value.to_owned());
    }
}

/// Spans (by their `otel.name`) and metric events, as a layer sees them.
#[derive(Default, Clone)]
struct Recorder {
    spans: Arc<Mutex<HashMap<u64, Recorded>>>,
    metrics: Arc<Mutex<Vec<Recorded>>>,
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut recorded = Recorded::default();
        attrs.record(&mut recorded);
        recorded.name = recorded.fields.get("otel.name").cloned().unwrap_or_else(|| attrs.metadata().name().into());
        let parent = ctx.span(id).and_then(|span| span.parent()).map(|parent| parent.id().into_u64());
        recorded.parent = parent.and_then(|p| self.spans.lock().unwrap().get(&p).map(|r| r.name.clone()));
        self.spans.lock().unwrap().insert(id.into_u64(), recorded);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(recorded) = self.spans.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(recorded);
        }
    }
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == locus_providers::telemetry::METRICS_TARGET {
            let mut recorded = Recorded::default();
            event.record(&mut recorded);
            self.metrics.lock().unwrap().push(recorded);
        }
    }
}

impl Recorder {
    fn span(&self, name: &str) -> Recorded {
        let spans = self.spans.lock().unwrap();
        let found = spans.values().find(|r| r.name == name).cloned();
        found.unwrap_or_else(|| {
            panic!("no span `{name}` among {:?}", spans.values().map(|r| &r.name).collect::<Vec<_>>())
        })
    }
}

fn model(emulator: &oci_genai_emulator::RunningEmulator, id: &str) -> OciChatModel {
    let client = locus_scenarios::emulator_client(emulator)
        .retry_policy(RetryPolicy::default().with_max_attempts(1))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    OciChatModel::builder(id).client(client).compartment_id(DEMO_COMPARTMENT).build().unwrap()
}

#[tokio::test]
async fn an_agent_run_follows_the_genai_conventions() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = Agent::builder()
        .name("arithmetic")
        .model(model(&emulator, DEMO_ENDPOINT))
        .tool(builtin::calculator())
        .build()
        .unwrap();
    let result = agent.run_to_completion("what is 17*23?").await.unwrap();
    assert!(result.text.contains("391"));

    let run = recorder.span("invoke_agent arithmetic");
    assert_eq!(run.fields["gen_ai.operation.name"], "invoke_agent");
    assert_eq!(run.fields["gen_ai.agent.name"], "arithmetic");
    assert_eq!(run.fields["gen_ai.provider.name"], "oci.generative_ai");
    assert_eq!(run.fields["locus.agent.stop_reason"], "completed");
    assert_eq!(run.fields["gen_ai.usage.input_tokens"], result.usage.prompt_tokens.to_string());

    let chat = recorder.span(&format!("chat {DEMO_ENDPOINT}"));
    assert_eq!(chat.parent.as_deref(), Some("invoke_agent arithmetic"));
    assert_eq!(chat.fields["otel.kind"], "client");
    assert_eq!(chat.fields["gen_ai.request.model"], DEMO_ENDPOINT);
    assert!(chat.fields.contains_key("gen_ai.usage.output_tokens"), "{:?}", chat.fields);
    assert!(["tool_calls", "stop"].contains(&chat.fields["gen_ai.response.finish_reasons"].as_str()));

    let tool = recorder.span("execute_tool calculator");
    assert_eq!(tool.parent.as_deref(), Some("invoke_agent arithmetic"));
    assert_eq!(tool.fields["gen_ai.tool.name"], "calculator");
    assert_eq!(tool.fields["gen_ai.tool.type"], "function");
    assert!(!tool.fields["gen_ai.tool.call.id"].is_empty());

    // Two model calls: a duration and two token counts each.
    let metrics = recorder.metrics.lock().unwrap();
    let named = |name: &str| metrics.iter().filter(|m| m.fields.contains_key(name)).count();
    assert_eq!(named("histogram.gen_ai.client.operation.duration"), 2);
    assert_eq!(named("histogram.gen_ai.client.token.usage"), 4);
    assert!(metrics.iter().any(|m| m.fields.get("gen_ai.token.type").is_some_and(|t| t == "input")));
}

#[tokio::test]
async fn failures_and_abandoned_streams_are_marked() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    let mut config = EmulatorConfig::default();
    config.models.push(ModelConfig { id: "broken".into(), fault: Some(Fault::Status(500)), ..Default::default() });
    let emulator = Emulator::start(config).await.unwrap();
    let request = ChatRequest { messages: vec![Message::user("hello")], ..Default::default() };

    model(&emulator, "broken").complete(&request).await.unwrap_err();
    let failed = recorder.span("chat broken");
    assert_eq!(failed.fields["error.type"], "500");
    assert_eq!(failed.fields["otel.status_code"], "ERROR");

    // A reader that lets go after the first event: the call was cancelled.
    let mut events = model(&emulator, "cohere.command-r-plus-08-2024").stream(&request).await;
    events.next().await.unwrap().unwrap();
    drop(events);
    assert_eq!(recorder.span("chat cohere.command-r-plus-08-2024").fields["error.type"], "cancelled");
}
