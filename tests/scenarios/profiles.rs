//! Model profiles end to end against the emulator on 127.0.0.1, which
//! refuses what the service's models refuse: each rule of the table makes
//! the call succeed where sending the request as is fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use locus_providers::profiles::{ProfileRule, install_overrides};
use locus_providers::{ChatModel, ChatRequest, GenerationParams, Message, OciChatModel, ToolSpec};
use locus_scenarios::emulator_client;
use oci_genai_emulator::{DEMO_COMPARTMENT, Emulator, EmulatorConfig, ModelConfig, RunningEmulator};
use oci_genai_transport::{GenAiClient, RetryPolicy, Transport};
use serde_json::json;

async fn emulator() -> (RunningEmulator, GenAiClient) {
    let mut config = EmulatorConfig::default();
    for (id, refuses, responses_only) in [
        ("openai.gpt-5.5-pro", vec![], true),
        ("xai.grok-4.20-multi-agent", vec![], true),
        ("google.gemini-2.5-pro", vec![], false),
        ("meta.llama-picky", vec!["topK".to_owned(), "seed".to_owned()], false),
        ("acme-scenario.model", vec![], true),
    ] {
        config.models.push(ModelConfig { id: id.into(), refuses, responses_only, ..Default::default() });
    }
    let emulator = Emulator::start(config).await.unwrap();
    let client = emulator_client(&emulator).retry_policy(RetryPolicy::none()).build().unwrap();
    (emulator, client)
}

fn model(client: &GenAiClient, id: &str, transport: Option<Transport>) -> OciChatModel {
    let mut builder = OciChatModel::builder(id).client(client.clone()).compartment_id(DEMO_COMPARTMENT);
    if let Some(transport) = transport {
        builder = builder.transport(transport);
    }
    builder.build().unwrap()
}

fn hi() -> ChatRequest {
    ChatRequest { messages: vec![Message::user("hi")], ..Default::default() }
}

#[tokio::test]
async fn responses_only_models_go_to_responses_by_default() {
    let (_emulator, client) = emulator().await;
    for id in ["openai.gpt-5.5-pro", "xai.grok-4.20-multi-agent"] {
        let routed = model(&client, id, None);
        assert_eq!(routed.transport(), Transport::Responses, "{id}");
        routed.complete(&hi()).await.unwrap();
        let forced = model(&client, id, Some(Transport::ChatCompletions));
        let err = forced.complete(&hi()).await.unwrap_err().to_string();
        assert!(err.contains("only available through the Responses API"), "{err}");
    }
}

#[tokio::test]
async fn gemini_and_llama_get_requests_they_accept() {
    let (_emulator, client) = emulator().await;
    let tool = ToolSpec {
        name: "lookup".into(),
        description: "Looks a name up.".into(),
        parameters: json!({"type": "object", "properties": {
            "limit": {"type": "integer", "exclusiveMinimum": 0},
            "name": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}),
    };
    let request = ChatRequest {
        messages: vec![Message::system("You look things up."), Message::user("find Ada")],
        tools: vec![tool],
        ..Default::default()
    };
    for id in ["google.gemini-2.5-pro", "meta.llama-3.3-70b-instruct"] {
        for transport in [Transport::Native, Transport::ChatCompletions] {
            let response = model(&client, id, Some(transport)).complete(&request).await;
            assert!(response.is_ok(), "{id} over {transport}: {response:?}");
        }
    }
}

#[tokio::test]
async fn a_refused_parameter_is_sent_again_without_it_once() {
    let (emulator, client) = emulator().await;
    let picky = model(&client, "meta.llama-picky", Some(Transport::Native));
    let mut request = hi();
    request.params = GenerationParams { top_k: Some(40), temperature: Some(0.3), ..Default::default() };
    let before = emulator.requests();
    picky.complete(&request).await.unwrap();
    assert_eq!(emulator.requests() - before, 2, "the refusal, then the retry");
    // Streamed too; and two refused parameters mean a second refusal, which is not retried again.
    request.params.seed = Some(7);
    let before = emulator.requests();
    let mut events = picky.stream(&request).await;
    let first = futures::StreamExt::next(&mut events).await.unwrap();
    let err = first.unwrap_err().to_string();
    assert!(err.contains("'seed' is not supported"), "{err}");
    assert_eq!(emulator.requests() - before, 2, "one retry, never more");
}

#[tokio::test]
async fn installed_rules_extend_the_table() {
    let (_emulator, client) = emulator().await;
    assert_eq!(model(&client, "acme-scenario.model", None).transport(), Transport::ChatCompletions);
    let rule =
        ProfileRule { prefix: "acme-scenario.".into(), transport: Some("responses".into()), ..Default::default() };
    install_overrides(vec![rule]).unwrap();
    let routed = model(&client, "acme-scenario.model", None);
    assert_eq!(routed.transport(), Transport::Responses);
    routed.complete(&hi()).await.unwrap();
    let bad = ProfileRule { prefix: "x.".into(), transport: Some("carrier-pigeon".into()), ..Default::default() };
    assert!(install_overrides(vec![bad]).is_err());
}
