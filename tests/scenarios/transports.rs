//! The three transports end to end against the emulator on 127.0.0.1:
//! `locus chat --transport …` with tools, streaming and not; the default
//! routing; a transport that cannot serve the model refused before sending;
//! GenAI API keys; and the emulator's checks and faults on `/openai/v1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use locus_agent::{Agent, StopReason, tools::builtin};
use locus_providers::{ChatModel, ChatRequest, Error as ProviderError, Message, OciChatModel};
use locus_scenarios::locus;
use oci_auth::{ApiKeyProvider, PrivateKey, SharedCredentialsProvider, SigningSettings};
use oci_genai_emulator::{
    DEMO_COMPARTMENT, DEMO_ENDPOINT, Emulator, EmulatorConfig, Fault, ModelConfig, RunningEmulator,
};
use oci_genai_transport::openai::chat_completions::ChatCompletionRequest;
use oci_genai_transport::{Error, GenAiClient, OpenAiCall, RetryPolicy, Transport};
use serde_json::{Value, json};

const USER: &str = "ocid1.user.oc1..transports";
const LLAMA: &str = "meta.llama-3.3-70b-instruct";
const COHERE_R: &str = "cohere.command-r-plus-08-2024";

async fn emulator(config: EmulatorConfig) -> (RunningEmulator, SharedCredentialsProvider) {
    let emulator = Emulator::start(config).await.unwrap();
    let key = PrivateKey::generate_session_key().unwrap();
    emulator.register_api_key(USER, &key);
    let fingerprint = key.fingerprint().to_owned();
    let credentials = Arc::new(ApiKeyProvider::new(&emulator.config().tenancy, USER, &fingerprint, key));
    (emulator, credentials)
}

fn client(emulator: &RunningEmulator, credentials: &SharedCredentialsProvider) -> GenAiClient {
    GenAiClient::builder()
        .credentials_provider(Arc::clone(credentials))
        .service_endpoint(emulator.url())
        .retry_policy(RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)))
        .build()
        .unwrap()
}

fn json(output: &locus_scenarios::Output) -> Value {
    assert_eq!(output.code, 0, "{}", output.stderr);
    serde_json::from_str(&output.stdout).unwrap()
}

#[tokio::test]
async fn locus_chat_answers_with_tools_on_every_transport_streaming_and_not() {
    for transport in ["native", "chat-completions", "responses"] {
        for stream in [true, false] {
            let mut args =
                vec!["chat", "--emulator", "--model", "oci:meta.llama-3.3-70b-instruct", "--transport", transport];
            if !stream {
                args.push("--no-stream");
            }
            args.extend(["--json", "What is 17*23?"]);
            let printed = json(&locus(&args).await);
            assert_eq!(printed["transport"], transport);
            assert_eq!(printed["text"], "17*23 = 391.", "{transport} stream={stream}");
            assert_eq!(printed["tool_calls"][0]["name"], "calculator");
            assert!(printed["usage"]["total_tokens"].as_u64().unwrap() > 0, "{transport}: usage survives");
        }
    }
}

#[tokio::test]
async fn the_default_routing_is_the_python_locus_one_and_visible() {
    for (model, transport) in [
        ("oci:meta.llama-3.3-70b-instruct", "chat-completions"),
        ("oci:google.gemini-2.5-flash", "chat-completions"),
        (DEMO_ENDPOINT, "native"),
        ("oci:cohere.command-r-plus-08-2024", "native"),
    ] {
        let printed = json(&locus(&["chat", "--emulator", "--model", model, "--json", "What is 17*23?"]).await);
        assert_eq!(printed["transport"], transport, "{model}");
        assert!(printed["text"].as_str().unwrap().contains("391"), "{model}: {printed}");
    }
}

#[tokio::test]
async fn a_transport_that_cannot_serve_the_model_is_refused_before_sending() {
    let output = locus(&["chat", "--emulator", "--transport", "responses", "hi"]).await;
    assert_eq!(output.code, 3, "{}", output.stderr);
    assert!(output.stderr.contains("does not serve dedicated endpoints"), "{}", output.stderr);
    assert!(output.stderr.contains("--transport native"), "{}", output.stderr);

    let (emulator, credentials) = emulator(EmulatorConfig::default()).await;
    let client = client(&emulator, &credentials);
    for model in [DEMO_ENDPOINT, COHERE_R] {
        for transport in [Transport::ChatCompletions, Transport::Responses] {
            let built = OciChatModel::builder(model)
                .client(client.clone())
                .compartment_id(DEMO_COMPARTMENT)
                .transport(transport)
                .build();
            assert!(built.unwrap_err().to_string().contains("--transport native"), "{model} {transport}");
        }
        let request = ChatCompletionRequest { model: model.into(), ..Default::default() };
        let err = client.chat_completions(OpenAiCall::new(request).compartment_id(DEMO_COMPARTMENT)).await;
        assert!(matches!(err.unwrap_err(), Error::TransportCannotServe { .. }));
    }
    assert_eq!(emulator.requests(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_genai_api_key_reaches_the_openai_api_without_oci_credentials() {
    let config = EmulatorConfig { genai_api_keys: vec!["sk-emulator-test".into()], ..Default::default() };
    let (emulator, _) = emulator(config).await;
    let keyed = |key: &str| GenAiClient::builder().genai_api_key(key).service_endpoint(emulator.url()).build().unwrap();
    for transport in [Transport::ChatCompletions, Transport::Responses] {
        // No compartment: a key needs none.
        let model =
            OciChatModel::builder(LLAMA).client(keyed("sk-emulator-test")).transport(transport).build().unwrap();
        let agent = Agent::builder().model(model).tool(builtin::calculator()).build().unwrap();
        let result = agent.run_to_completion("What is 17*23?").await.unwrap();
        assert_eq!((result.stop_reason, result.text.as_str()), (StopReason::Completed, "17*23 = 391."), "{transport}");
    }
    let model = OciChatModel::builder(LLAMA).client(keyed("sk-wrong")).build().unwrap();
    let err = model.complete(&ChatRequest { messages: vec![Message::user("hi")], ..Default::default() }).await;
    let err = err.unwrap_err();
    assert_eq!(err.kind(), oci_genai_transport::ErrorKind::Authentication, "{err}");
    // The native API takes only signatures.
    let native = OciChatModel::builder(LLAMA).client(keyed("sk-emulator-test")).transport(Transport::Native);
    let native = native.compartment_id(DEMO_COMPARTMENT).build().unwrap();
    let err = native.complete(&ChatRequest { messages: vec![Message::user("hi")], ..Default::default() }).await;
    assert!(err.unwrap_err().to_string().contains("only signed requests"));
}

/// A signed POST to the emulator's OpenAI-compatible API, with `headers`.
async fn raw_post(
    emulator: &RunningEmulator,
    credentials: &SharedCredentialsProvider,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let mut builder = http.post(format!("{}{path}", emulator.url())).header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut request = builder.body(body.to_string()).build().unwrap();
    let credentials = credentials.credentials().await.unwrap();
    oci_auth::sign_reqwest_request(&mut request, &credentials, &SigningSettings::default()).unwrap();
    let response = http.execute(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_emulator_checks_openai_requests_as_the_service_does() {
    let (emulator, credentials) = emulator(EmulatorConfig::default()).await;
    let compartment = [("opc-compartment-id", DEMO_COMPARTMENT)];
    let ask = |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    let path = "/openai/v1/chat/completions";

    let (status, body) = raw_post(&emulator, &credentials, path, &[], ask(LLAMA)).await;
    assert_eq!(status, 400, "a signed request needs opc-compartment-id: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("opc-compartment-id"));
    let (status, body) = raw_post(&emulator, &credentials, path, &compartment, ask(COHERE_R)).await;
    assert_eq!((status, body["error"]["message"].as_str()), (400, Some("Unsupported OpenAI operation")));
    let (status, _) = raw_post(&emulator, &credentials, path, &compartment, ask(DEMO_ENDPOINT)).await;
    assert_eq!(status, 400, "dedicated endpoints are not served");
    let (status, body) = raw_post(&emulator, &credentials, path, &compartment, ask("meta.llama-9")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("NotAuthorizedOrNotFound")));
    let (status, body) = raw_post(&emulator, &credentials, path, &compartment, ask(LLAMA)).await;
    assert_eq!((status, body["choices"][0]["message"]["content"].as_str()), (200, Some("You said: hi")));
    let (status, _) =
        raw_post(&emulator, &credentials, "/openai/v1/responses", &compartment, json!({"model": LLAMA})).await;
    assert_eq!(status, 400, "a Responses body without input is refused");
}

#[tokio::test]
async fn faults_on_the_openai_api_get_the_clients_answers() {
    let faulty = |id: &str, fault: Fault, times: usize| ModelConfig {
        id: id.into(),
        behaviour: oci_genai_emulator::Behaviour::Echo,
        fault: Some(fault),
        fault_times: times,
        ..Default::default()
    };
    let mut config = EmulatorConfig { hold_open_ms: 5_000, ..Default::default() };
    config.models.push(faulty("fault.reset", Fault::ResetMidStream(2), 0));
    config.models.push(faulty("fault.no-finish", Fault::NoFinish, 0));
    config.models.push(faulty("fault.busy", Fault::TooManyRequests { retry_after: 0 }, 1));
    let (emulator, credentials) = emulator(config).await;
    let client = client(&emulator, &credentials);
    let ask = ChatRequest { messages: vec![Message::user("a long enough answer to stream")], ..Default::default() };
    for transport in [Transport::ChatCompletions, Transport::Responses] {
        let model = |id: &str| {
            OciChatModel::builder(id)
                .client(client.clone())
                .compartment_id(DEMO_COMPARTMENT)
                .transport(transport)
                .allow_fallback(false)
                .build()
                .unwrap()
        };
        for id in ["fault.reset", "fault.no-finish"] {
            let events: Vec<_> = model(id).stream(&ask).await.collect().await;
            let last = events.last().unwrap().as_ref().unwrap_err();
            assert!(
                matches!(last, ProviderError::Transport(Error::IncompleteStream { .. } | Error::Transport { .. })),
                "{transport} {id}: {last}"
            );
        }
        // A 429 is retried, then answered.
        let answer = model("fault.busy").complete(&ask).await;
        assert_eq!(answer.unwrap().message.text(), "a long enough answer to stream", "{transport}");
        // The emulator holds the connection open after the last event: the stream ends at it anyway.
        let started = std::time::Instant::now();
        let events: Vec<_> = model(LLAMA).stream(&ask).await.collect().await;
        assert!(events.iter().all(Result::is_ok) && started.elapsed() < Duration::from_secs(4), "{transport}");
    }
}
