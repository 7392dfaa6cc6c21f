//! OciChatModel over the native transport (on-demand models forced onto it), against wiremock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use futures::StreamExt;
use locus_providers::{
    ApiFormat, ChatModel, ChatRequest, Error, FinishReason, Message, ModelEvent, OciChatModel, StreamAccumulator,
};
use oci_auth::{ApiKeyProvider, PrivateKey};
use oci_genai_transport::{GenAiClient, RetryPolicy, Transport};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DAC: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaexample";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";

fn client(server: &MockServer) -> GenAiClient {
    let key = PrivateKey::from_pem_file(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../oci-auth/tests/fixtures/vectors/key-pkcs8.pem"),
        None,
    )
    .unwrap();
    let fingerprint = key.fingerprint().to_owned();
    GenAiClient::builder()
        .credentials_provider(Arc::new(ApiKeyProvider::new(
            "ocid1.tenancy.oc1..t",
            "ocid1.user.oc1..u",
            &fingerprint,
            key,
        )))
        .service_endpoint(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/streams/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn server(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/20231130/actions/chat")).respond_with(template).mount(&server).await;
    server
}

fn sse(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(fixture(name), "text/event-stream")
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest { messages: vec![Message::user(text)], ..Default::default() }
}

async fn collect(model: &OciChatModel, request: &ChatRequest) -> (Vec<ModelEvent>, locus_providers::ChatResponse) {
    let events: Vec<ModelEvent> = model.stream(request).await.map(|e| e.unwrap()).collect().await;
    let mut acc = StreamAccumulator::new();
    events.iter().cloned().for_each(|e| acc.push(e).unwrap());
    (events, acc.finish())
}

#[tokio::test]
async fn generic_streams_keep_finish_reason_and_usage() {
    let server = server(sse("b-parallel-openai.sse")).await;
    let model = OciChatModel::builder("openai.gpt-4.1")
        .transport(Transport::Native)
        .client(client(&server))
        .compartment_id(COMPARTMENT)
        .build()
        .unwrap();
    let (events, response) = collect(&model, &ask("time?")).await;
    assert!(events.iter().any(|e| matches!(e, ModelEvent::Finished(FinishReason::ToolCalls))));
    assert_eq!(response.usage.unwrap().total_tokens, 42);
    assert_eq!(response.message.tool_calls.len(), 3);
    let body: serde_json::Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body["chatRequest"]["streamOptions"]["isIncludeUsage"], true);
    assert_eq!(body["chatRequest"]["isStream"], true);
}

#[tokio::test]
async fn cohere_streams_send_the_full_request_and_no_repeated_text() {
    let server = server(sse("cohere-text.sse")).await;
    let model = OciChatModel::builder("cohere.command-r-plus-08-2024")
        .client(client(&server))
        .compartment_id(COMPARTMENT)
        .build()
        .unwrap();
    assert_eq!(model.shape_name(), "COHERE");
    let (_, response) = collect(&model, &ask("17*23?")).await;
    assert_eq!(response.message.text(), "The answer is 391.");
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(response.usage.unwrap().total_tokens, 26);
    let body: serde_json::Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body["chatRequest"]["message"], "17*23?");
    assert_eq!(body["chatRequest"]["apiFormat"], "COHERE");
}

#[tokio::test]
async fn a_dac_model_extracts_inline_tool_calls_by_default() {
    let server = server(sse("inline-qwen.sse")).await;
    let model = OciChatModel::builder(DAC).client(client(&server)).compartment_id(COMPARTMENT).build().unwrap();
    let (events, response) = collect(&model, &ask("17*23?")).await;
    assert!(events.iter().all(|e| !matches!(e, ModelEvent::TextDelta(t) if t.contains("tool_call"))));
    assert_eq!(response.message.tool_calls[0].name, "calculator");
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);

    // On demand it is off by default: the markup stays text.
    let server = server_with_json(json!({"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>"}]})).await;
    let model = OciChatModel::builder("meta.llama")
        .transport(Transport::Native)
        .client(client(&server))
        .compartment_id(COMPARTMENT)
        .build()
        .unwrap();
    assert!(model.complete(&ask("x")).await.unwrap().message.tool_calls.is_empty());
    let model = OciChatModel::builder("meta.llama")
        .transport(Transport::Native)
        .client(client(&server))
        .compartment_id(COMPARTMENT)
        .inline_tool_calls(true)
        .build()
        .unwrap();
    assert_eq!(model.complete(&ask("x")).await.unwrap().message.tool_calls.len(), 1);
}

async fn server_with_json(message: serde_json::Value) -> MockServer {
    server(ResponseTemplate::new(200).set_body_json(json!({"modelId": "m", "modelVersion": "1", "chatResponse": {
        "apiFormat": "GENERIC", "timeCreated": "2026-11-25T12:00:00Z",
        "choices": [{"index": 0, "message": message, "finishReason": "stop"}],
        "usage": {"promptTokens": 5, "completionTokens": 3, "totalTokens": 8}}})))
    .await
}

#[tokio::test]
async fn complete_parses_text_tool_calls_and_usage() {
    let server = server_with_json(json!({"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "Sure."}],
        "toolCalls": [{"type": "FUNCTION", "id": "call_9", "name": "clock", "arguments": "{\"tz\":\"UTC\"}"}]}))
    .await;
    let model = OciChatModel::builder("meta.llama")
        .transport(Transport::Native)
        .client(client(&server))
        .compartment_id(COMPARTMENT)
        .build()
        .unwrap();
    let response = model.complete(&ask("time?")).await.unwrap();
    assert_eq!(response.message.text(), "Sure.");
    assert_eq!(response.message.tool_calls[0].arguments["tz"], "UTC");
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    assert_eq!(response.usage.unwrap().prompt_tokens, 5);
}

#[tokio::test]
async fn a_refused_stream_falls_back_by_default_and_says_so() {
    // The deployment answers a streaming request with a whole JSON body.
    let server =
        server_with_json(json!({"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "whole answer"}]})).await;
    let strict = OciChatModel::builder(DAC)
        .client(client(&server))
        .compartment_id(COMPARTMENT)
        .allow_fallback(false)
        .build()
        .unwrap();
    let events: Vec<_> = strict.stream(&ask("x")).await.collect().await;
    assert!(matches!(&events[..], [Err(Error::StreamingFailed { .. })]), "{events:?}");
    let message = events[0].as_ref().unwrap_err().to_string();
    assert!(
        message.starts_with("streaming failed (a streaming request was answered with application/json"),
        "{message}"
    );
    assert!(message.ends_with("and falling back to a whole answer was turned off"), "{message}");
    assert!(events[0].as_ref().unwrap_err().hint().unwrap().contains("allow_fallback"));

    let lenient = OciChatModel::builder(DAC).client(client(&server)).compartment_id(COMPARTMENT).build().unwrap();
    let (events, response) = collect(&lenient, &ask("x")).await;
    assert!(
        matches!(&events[0], ModelEvent::Fallback { reason } if reason.contains("application/json") && reason.contains("opc-request-id")),
        "{events:?}"
    );
    assert_eq!(response.message.text(), "whole answer");
    assert_eq!(response.usage.unwrap().total_tokens, 8);
}

#[tokio::test]
async fn an_empty_stream_falls_back_when_allowed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(": nothing\n\n", "text/event-stream"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_json(json!({"modelId": "m", "modelVersion": "1",
        "chatResponse": {"apiFormat": "GENERIC", "choices": [{"message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "late"}]}, "finishReason": "stop"}]}})))
        .mount(&server)
        .await;
    let model = OciChatModel::builder("meta.llama")
        .transport(Transport::Native)
        .client(client(&server))
        .compartment_id(COMPARTMENT)
        .allow_fallback(true)
        .build()
        .unwrap();
    let (events, response) = collect(&model, &ask("x")).await;
    assert!(
        matches!(&events[0], ModelEvent::Fallback { reason } if reason.contains("without any event")),
        "{events:?}"
    );
    assert_eq!(response.message.text(), "late");
}

#[tokio::test]
async fn service_errors_come_through_typed_with_hints() {
    let server = server(ResponseTemplate::new(400).set_body_json(
        json!({"code": "InvalidParameter", "message": "Please pass in correct format of request: apiFormat"}),
    ))
    .await;
    let model = OciChatModel::builder(DAC).client(client(&server)).compartment_id(COMPARTMENT).build().unwrap();
    let err = model.complete(&ask("x")).await.unwrap_err();
    assert!(err.hint().unwrap().contains("API format"), "{:?}", err.hint());
    let events: Vec<_> = model.stream(&ask("x")).await.collect().await;
    assert!(matches!(&events[..], [Err(Error::Transport(_))]), "{events:?}");
}

#[test]
fn a_dac_model_without_compartment_is_refused_at_build() {
    let client = GenAiClient::builder()
        .credentials_provider(Arc::new(ApiKeyProvider::new("t", "u", "f", PrivateKey::generate_session_key().unwrap())))
        .build()
        .unwrap();
    let err = OciChatModel::builder(DAC).client(client.clone()).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "compartment_id is required for dedicated endpoints: use the compartment of the endpoint"
    );
    let err = OciChatModel::builder("ocid1.generativeaicluster.oc1.iad.x")
        .client(client)
        .compartment_id(COMPARTMENT)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("generativeaicluster"), "{err}");
}

#[test]
fn api_format_override_picks_cohere_for_a_dac() {
    let client = GenAiClient::builder()
        .credentials_provider(Arc::new(ApiKeyProvider::new("t", "u", "f", PrivateKey::generate_session_key().unwrap())))
        .build()
        .unwrap();
    let model = OciChatModel::builder(DAC)
        .client(client)
        .compartment_id(COMPARTMENT)
        .api_format(ApiFormat::Cohere)
        .build()
        .unwrap();
    assert_eq!(model.shape_name(), "COHERE");
}
