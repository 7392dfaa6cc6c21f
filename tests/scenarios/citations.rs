//! Documents and citations end to end against the emulator on 127.0.0.1:
//! COHERE and COHEREV2, whole and streamed (the streamed COHERE answer lists
//! its citations twice, as the service's last event repeats them), through
//! the agent and the gateway.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use locus_agent::{Agent, AgentEvent};
use locus_gateway::{Gateway, GatewayConfig};
use locus_providers::{Citation, Document, OciChatModel};
use locus_scenarios::emulator_client;
use oci_genai_emulator::{DEMO_COMPARTMENT, Emulator, EmulatorConfig};
use oci_genai_transport::{RetryPolicy, Transport};
use serde_json::json;

const HANDBOOK: &str = "Expenses are filed by Friday.";

fn expected() -> Vec<Citation> {
    let start = "From the documents: ".len();
    vec![Citation { start, end: start + HANDBOOK.len(), text: HANDBOOK.into(), document_ids: vec!["handbook".into()] }]
}

#[tokio::test]
async fn cohere_answers_cite_the_agents_documents_streamed_and_whole() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = emulator_client(&emulator).retry_policy(RetryPolicy::none()).build().unwrap();
    for model in ["cohere.command-r-plus-08-2024", "cohere.command-a-03-2025"] {
        for streaming in [true, false] {
            let model = OciChatModel::builder(model)
                .client(client.clone())
                .compartment_id(DEMO_COMPARTMENT)
                .transport(Transport::Native)
                .build()
                .unwrap();
            let name = format!("{} ({})", model.serving_mode().id(), model.shape_name());
            let documents = [Document { id: Some("handbook".into()), text: HANDBOOK.into() }];
            let agent = Agent::builder().model(model).documents(documents).streaming(streaming).build().unwrap();
            let mut events = agent.run("When are expenses due?");
            let mut result = None;
            while let Some(event) = events.next().await {
                if let AgentEvent::Finished(finished) = event.unwrap() {
                    result = Some(finished);
                }
            }
            let result = result.unwrap();
            assert_eq!(result.text, format!("From the documents: {HANDBOOK}"), "{name}");
            assert_eq!(result.citations, expected(), "{name}, streaming {streaming}: each span once");
            let cited: String = result.text.chars().skip(result.citations[0].start).collect();
            assert_eq!(cited, HANDBOOK, "the span's offsets point at its text");
        }
    }
}

#[tokio::test]
async fn citations_can_be_turned_off_on_coherev2() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = emulator_client(&emulator).retry_policy(RetryPolicy::none()).build().unwrap();
    let model = OciChatModel::builder("cohere.command-a-03-2025")
        .client(client)
        .compartment_id(DEMO_COMPARTMENT)
        .transport(Transport::Native)
        .build()
        .unwrap();
    let params =
        locus_providers::GenerationParams { citations: Some(locus_providers::CitationMode::Off), ..Default::default() };
    let documents = [Document { id: Some("handbook".into()), text: HANDBOOK.into() }];
    let agent = Agent::builder().model(model).documents(documents).params(params).build().unwrap();
    let result = agent.run_to_completion("When?").await.unwrap();
    assert!(result.text.ends_with(HANDBOOK) && result.citations.is_empty(), "{result:?}");
}

#[tokio::test]
async fn the_gateway_takes_documents_and_returns_citations() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = emulator_client(&emulator).retry_policy(RetryPolicy::none()).build().unwrap();
    let config = GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        compartment_id: Some(DEMO_COMPARTMENT.into()),
        transport: Some(Transport::Native),
        ..Default::default()
    };
    let gateway = Gateway::start(config, client).await.unwrap();
    let body = json!({"model": "cohere.command-a-03-2025", "messages": [{"role": "user", "content": "When?"}],
        "documents": [{"id": "handbook", "text": HANDBOOK}]});
    let post = |body: serde_json::Value| {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gateway.url()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let answer: serde_json::Value =
        serde_json::from_str(&post(body.clone()).await.unwrap().text().await.unwrap()).unwrap();
    assert_eq!(answer["choices"][0]["message"]["citations"], serde_json::to_value(expected()).unwrap(), "{answer}");
    let mut streamed = body;
    streamed["stream"] = json!(true);
    let text = post(streamed).await.unwrap().text().await.unwrap();
    assert!(text.contains(r#""delta":{"citations":[{"document_ids":["handbook"]"#), "{text}");
    let bad =
        json!({"model": "cohere.command-a-03-2025", "messages": [{"role": "user", "content": "x"}], "documents": [3]});
    let response = post(bad).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("documents[0]"));
}
