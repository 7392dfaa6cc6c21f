//! End to end over real HTTP against the emulator on 127.0.0.1: every layer,
//! every auth type the emulator plays, both shapes, streaming and not, every
//! tool-call pattern, and every injected fault with the client's answer to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use locus_agent::{Agent, AgentEvent, StopReason, tools::builtin};
use locus_providers::{ChatModel, ChatRequest, Message, ModelEvent, OciChatModel};
use oci_auth::verify::PublicKey;
use oci_auth::{ApiKeyProvider, PrivateKey, SharedCredentialsProvider};
use oci_genai_emulator::{
    Behaviour, DEMO_COMPARTMENT, DEMO_ENDPOINT, Emulator, EmulatorConfig, Fault, ModelConfig, QWEN_ENDPOINT,
    REMOTE_ENDPOINT, RunningEmulator,
};
use oci_genai_transport::{GenAiClient, RetryPolicy, Transport};

const USER: &str = "ocid1.user.oc1..e2e";

struct Setup {
    emulator: RunningEmulator,
    credentials: SharedCredentialsProvider,
}

async fn setup(config: EmulatorConfig) -> Setup {
    let emulator = Emulator::start(config).await.unwrap();
    let key = PrivateKey::generate_session_key().unwrap();
    emulator.register_api_key(USER, &key);
    let fingerprint = key.fingerprint().to_owned();
    let credentials = Arc::new(ApiKeyProvider::new(&emulator.config().tenancy, USER, &fingerprint, key));
    Setup { emulator, credentials }
}

impl Setup {
    fn client(&self) -> oci_genai_transport::GenAiClientBuilder {
        GenAiClient::builder()
            .credentials_provider(Arc::clone(&self.credentials))
            .service_endpoint(self.emulator.url())
            .retry_policy(RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)))
    }

    fn agent(&self, model: &str, streaming: bool) -> Agent {
        self.agent_on(model, streaming, None)
    }

    /// An agent on `model` through `transport` (default: the model's own routing).
    fn agent_on(&self, model: &str, streaming: bool, transport: Option<Transport>) -> Agent {
        let mut model =
            OciChatModel::builder(model).client(self.client().build().unwrap()).compartment_id(DEMO_COMPARTMENT);
        if let Some(transport) = transport {
            model = model.transport(transport);
        }
        Agent::builder()
            .model(model.build().unwrap())
            .streaming(streaming)
            .tool(builtin::calculator())
            .tool(builtin::clock())
            .build()
            .unwrap()
    }
}

fn config_with(model: ModelConfig) -> EmulatorConfig {
    let mut config = EmulatorConfig { hold_open_ms: 5_000, ..Default::default() };
    config.models.push(model);
    config
}

#[tokio::test]
async fn every_model_and_pattern_answers_17_times_23_streaming_and_not() {
    let setup = setup(EmulatorConfig::default()).await;
    for model in [
        "meta.llama-3.3-70b-instruct",
        "openai.gpt-4.1",
        "openai.gpt-oss-120b",
        "google.gemini-2.5-flash",
        "xai.grok-4",
        "cohere.command-r-plus-08-2024",
        DEMO_ENDPOINT,
        QWEN_ENDPOINT,
    ] {
        // The default routing, then the native API for every model (its tool-call patterns).
        for (streaming, transport) in
            [(true, None), (false, None), (true, Some(Transport::Native)), (false, Some(Transport::Native))]
        {
            let result = setup.agent_on(model, streaming, transport).run_to_completion("What is 17*23?").await.unwrap();
            assert_eq!(result.stop_reason, StopReason::Completed, "{model} {streaming} {transport:?}");
            assert!(result.text.contains("391"), "{model} streaming={streaming}: {}", result.text);
            assert_eq!(result.tool_calls.len(), 1, "{model}");
            assert_eq!(
                (result.tool_calls[0].name.as_str(), result.tool_calls[0].output.as_str()),
                ("calculator", "391")
            );
            assert!(result.usage.total_tokens > 0, "{model} usage");
        }
    }
}

#[tokio::test]
async fn parallel_calls_in_one_turn() {
    let setup = setup(EmulatorConfig::default()).await;
    let models = ["openai.gpt-4.1", "google.gemini-2.5-flash", "xai.grok-4", "openai.gpt-oss-120b"];
    for (model, transport) in models.iter().flat_map(|m| [(m, None), (m, Some(Transport::Native))]) {
        let agent = setup.agent_on(model, true, transport);
        let result = agent.run_to_completion("What is 2+2, and what time is it?").await.unwrap();
        let names: Vec<&str> = result.tool_calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["calculator", "clock"], "{model}");
        let ids: std::collections::HashSet<&str> = result.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 2, "{model}: unique ids");
    }
}

#[tokio::test]
async fn inline_tool_calls_never_leak_into_text() {
    let setup = setup(EmulatorConfig::default()).await;
    let mut events = setup.agent(QWEN_ENDPOINT, true).run("What is 6*7?");
    while let Some(event) = events.next().await {
        if let AgentEvent::TextDelta(text) = event.unwrap() {
            assert!(!text.contains("tool_call"), "{text}");
        }
    }
}

#[tokio::test]
async fn session_tokens_and_resource_principals_sign_too() {
    let setup = setup(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let session_key_path = dir.path().join("session.pem");
    let (session_key, pem) = PrivateKey::generate_with_pem().unwrap();
    std::fs::write(&session_key_path, pem.expose()).unwrap();
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"exp":4102444800}"#)
    });
    std::fs::write(dir.path().join("token"), &token).unwrap();
    setup.emulator.register_key(format!("ST${token}"), PublicKey::from_spki_der(session_key.public_key_der()).unwrap());

    let session = oci_auth::SessionTokenProvider::new(
        "S",
        dir.path().join("token"),
        &session_key_path,
        None,
        Arc::new(oci_auth::OsEnv),
    );
    let env = oci_auth::StaticEnv::new()
        .with_var("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
        .with_var("OCI_RESOURCE_PRINCIPAL_RPST", &token)
        .with_var("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", session_key_path.to_string_lossy());
    let resource = oci_auth::ResourcePrincipalProvider::from_env(Arc::new(env), None).unwrap();
    let providers: [SharedCredentialsProvider; 2] = [Arc::new(session), Arc::new(resource)];
    for provider in providers {
        let client = GenAiClient::builder()
            .credentials_provider(provider)
            .service_endpoint(setup.emulator.url())
            .build()
            .unwrap();
        let model = OciChatModel::builder("echo").client(client).compartment_id(DEMO_COMPARTMENT).build().unwrap();
        let answer =
            model.complete(&ChatRequest { messages: vec![Message::user("hi")], ..Default::default() }).await.unwrap();
        assert_eq!(answer.message.text(), "hi");
    }
}

#[tokio::test]
async fn the_emulator_rejects_what_the_service_rejects() {
    let setup = setup(EmulatorConfig::default()).await;
    // A key the emulator does not know.
    let stranger = PrivateKey::generate_session_key().unwrap();
    let fingerprint = stranger.fingerprint().to_owned();
    let client = GenAiClient::builder()
        .credentials_provider(Arc::new(ApiKeyProvider::new(
            &setup.emulator.config().tenancy,
            USER,
            &fingerprint,
            stranger,
        )))
        .service_endpoint(setup.emulator.url())
        .build()
        .unwrap();
    let model = OciChatModel::builder("echo").client(client).compartment_id(DEMO_COMPARTMENT).build().unwrap();
    let err =
        model.complete(&ChatRequest { messages: vec![Message::user("hi")], ..Default::default() }).await.unwrap_err();
    assert_eq!(err.to_string().split(':').next(), Some("OCI Generative AI answered 401 NotAuthenticated"));

    // A dedicated endpoint of another region, and the wrong compartment: 404 as the service says it.
    for (model, compartment) in [(REMOTE_ENDPOINT, DEMO_COMPARTMENT), (DEMO_ENDPOINT, "ocid1.compartment.oc1..other")] {
        let built = OciChatModel::builder(model).client(setup.client().build().unwrap()).compartment_id(compartment);
        let agent = Agent::builder().model(built.build().unwrap()).build().unwrap();
        let err = agent.run_to_completion("hi").await.unwrap_err();
        assert!(err.to_string().contains("404 NotAuthorizedOrNotFound"), "{model}: {err}");
        assert!(err.hint().is_some());
    }

    // The wrong request shape for a Cohere model.
    let client = setup.client().build().unwrap();
    let model = OciChatModel::builder("cohere.command-r-plus-08-2024")
        .client(client)
        .compartment_id(DEMO_COMPARTMENT)
        .api_format(locus_providers::ApiFormat::Generic)
        .build()
        .unwrap();
    let err =
        model.complete(&ChatRequest { messages: vec![Message::user("hi")], ..Default::default() }).await.unwrap_err();
    assert!(err.hint().unwrap().contains("API format"), "{err}");
}

#[tokio::test]
async fn tampered_bodies_wrong_keys_and_old_dates_get_401() {
    let setup = setup(EmulatorConfig::default()).await;
    let credentials = setup.credentials.credentials().await.unwrap();
    let url = format!("{}/20231130/actions/chat", setup.emulator.url());
    let body = serde_json::json!({"compartmentId": DEMO_COMPARTMENT, "servingMode": {"servingType": "ON_DEMAND", "modelId": "echo"},
        "chatRequest": {"apiFormat": "GENERIC", "messages": [{"role": "USER", "content": [{"type": "TEXT", "text": "hi"}]}]}})
    .to_string();
    let http = reqwest::Client::new();
    let send = |date: Option<String>, tamper: bool, key: Option<oci_auth::Credentials>| {
        let (http, url, body, credentials) =
            (http.clone(), url.clone(), body.clone(), key.unwrap_or_else(|| credentials.clone()));
        async move {
            let mut builder = http.post(&url).header("content-type", "application/json").body(body);
            if let Some(date) = date {
                builder = builder.header("date", date);
            }
            let mut request = builder.build().unwrap();
            oci_auth::sign_reqwest_request(&mut request, &credentials, &oci_auth::SigningSettings::default()).unwrap();
            if tamper {
                *request.body_mut() = Some(r#"{"compartmentId":"x"}"#.into());
                request.headers_mut().insert("content-length", "21".parse().unwrap());
            }
            http.execute(request).await.unwrap().status().as_u16()
        }
    };
    assert_eq!(send(None, false, None).await, 200);
    assert_eq!(send(None, true, None).await, 401, "tampered body");
    let old = httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(600));
    assert_eq!(send(Some(old), false, None).await, 401, "old date");
    let other = oci_auth::Credentials::new(credentials.key_id().clone(), PrivateKey::generate_session_key().unwrap());
    assert_eq!(send(None, false, Some(other)).await, 401, "wrong key");
}

async fn faulty(fault: Fault, times: usize) -> (Setup, &'static str) {
    let model = ModelConfig {
        id: "faulty".into(),
        behaviour: Behaviour::ToolCaller,
        fault: Some(fault),
        fault_times: times,
        ..Default::default()
    };
    (setup(config_with(model)).await, "faulty")
}

fn ask() -> ChatRequest {
    ChatRequest { messages: vec![Message::user("hello")], ..Default::default() }
}

#[tokio::test]
async fn retried_faults_recover() {
    for fault in [Fault::TooManyRequests { retry_after: 0 }, Fault::Status(500), Fault::Status(503), Fault::ResetBefore]
    {
        let (setup, model) = faulty(fault.clone(), 1).await;
        let client = setup.client().build().unwrap();
        let model = OciChatModel::builder(model).client(client).compartment_id(DEMO_COMPARTMENT).build().unwrap();
        let answer = model.complete(&ask()).await.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert!(!answer.message.text().is_empty());
        assert_eq!(setup.emulator.requests(), 2, "{fault:?}: retried once");
        let events: Vec<_> = model.stream(&ask()).await.collect().await;
        assert!(events.iter().all(Result::is_ok), "{fault:?}: streams recover too");
    }
}

#[tokio::test]
async fn a_rejected_stream_falls_back_unless_refused() {
    let (setup, model) = faulty(Fault::RejectStream, 0).await;
    let strict = OciChatModel::builder(model)
        .client(setup.client().build().unwrap())
        .compartment_id(DEMO_COMPARTMENT)
        .allow_fallback(false)
        .build()
        .unwrap();
    let events: Vec<_> = strict.stream(&ask()).await.collect().await;
    assert!(matches!(&events[..], [Err(locus_providers::Error::StreamingFailed { .. })]), "{events:?}");
    let lenient = OciChatModel::builder(model)
        .client(setup.client().build().unwrap())
        .compartment_id(DEMO_COMPARTMENT)
        .build()
        .unwrap();
    let events: Vec<ModelEvent> = lenient.stream(&ask()).await.map(|e| e.unwrap()).collect().await;
    assert!(
        matches!(&events[0], ModelEvent::Fallback { reason } if reason.contains("Streaming is not supported")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_reset_mid_stream_is_an_error_and_not_retried() {
    let (setup, model) = faulty(Fault::ResetMidStream(3), 0).await;
    let model = OciChatModel::builder(model)
        .client(setup.client().build().unwrap())
        .compartment_id(DEMO_COMPARTMENT)
        .build()
        .unwrap();
    let events: Vec<_> = model.stream(&ask()).await.collect().await;
    assert!(events.first().unwrap().is_ok());
    assert!(matches!(events.last(), Some(Err(locus_providers::Error::Transport(_)))), "{events:?}");
    assert_eq!(setup.emulator.requests(), 1);
}

#[tokio::test]
async fn stalls_and_slow_first_bytes_time_out() {
    for fault in [Fault::Stall(2), Fault::SlowFirstByte(2_000)] {
        let (setup, model) = faulty(fault.clone(), 0).await;
        let client =
            setup.client().read_timeout(Duration::from_millis(300)).retry_policy(RetryPolicy::none()).build().unwrap();
        let model = OciChatModel::builder(model).client(client).compartment_id(DEMO_COMPARTMENT).build().unwrap();
        let events: Vec<_> = model.stream(&ask()).await.collect().await;
        match events.last() {
            Some(Err(locus_providers::Error::Transport(e))) => assert!(e.is_timeout(), "{fault:?}: {e:?}"),
            other => panic!("{fault:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_malformed_chunk_is_an_error() {
    let (setup, model) = faulty(Fault::MalformedChunk(1), 0).await;
    let model = OciChatModel::builder(model)
        .client(setup.client().build().unwrap())
        .compartment_id(DEMO_COMPARTMENT)
        .build()
        .unwrap();
    let events: Vec<_> = model.stream(&ask()).await.collect().await;
    assert!(events.iter().any(|e| matches!(e, Err(locus_providers::Error::UnexpectedReply(_)))), "{events:?}");
}

#[tokio::test]
async fn header_faults_apply_per_request() {
    let setup = setup(EmulatorConfig::default()).await;
    let client = setup.client().retry_policy(RetryPolicy::none()).build().unwrap();
    let url = format!("{}/20231130/actions/chat", setup.emulator.url());
    let credentials = setup.credentials.credentials().await.unwrap();
    let body = serde_json::json!({"compartmentId": DEMO_COMPARTMENT, "servingMode": {"servingType": "ON_DEMAND", "modelId": "echo"},
        "chatRequest": {"apiFormat": "GENERIC", "messages": []}})
    .to_string();
    let http = reqwest::Client::new();
    let mut request = http
        .post(&url)
        .header("x-emulator-fault", "429:3")
        .header("content-type", "application/json")
        .body(body)
        .build()
        .unwrap();
    oci_auth::sign_reqwest_request(&mut request, &credentials, &oci_auth::SigningSettings::default()).unwrap();
    let response = http.execute(request).await.unwrap();
    assert_eq!((response.status().as_u16(), response.headers()["retry-after"].to_str().unwrap()), (429, "3"));
    drop(client);
}

#[tokio::test]
async fn a_held_open_connection_does_not_hold_the_client() {
    let setup = setup(EmulatorConfig::default()).await;
    let started = std::time::Instant::now();
    let result = setup.agent("meta.llama-3.3-70b-instruct", true).run_to_completion("What is 3*3?").await.unwrap();
    assert!(result.text.contains('9'));
    assert!(started.elapsed() < Duration::from_secs(5), "the emulator holds connections for 30 s");
}

#[tokio::test]
async fn an_instance_principal_federates_with_the_emulator() {
    let emulator = Emulator::start(EmulatorConfig { instance_identity: true, ..Default::default() }).await.unwrap();
    let env = oci_auth::StaticEnv::new()
        .with_var("OCI_METADATA_BASE_URL", format!("{}/opc/v2", emulator.url()))
        .with_var("OCI_SDK_AUTH_CLIENT_REGION_URL", emulator.url());
    let auth =
        oci_auth::Auth::builder().auth_type(oci_auth::AuthType::InstancePrincipal).env(Arc::new(env)).build().unwrap();
    assert_eq!(auth.resolve_region().await.unwrap().map(|r| r.id().to_owned()).as_deref(), Some("us-chicago-1"));
    let client = GenAiClient::builder().auth(auth).service_endpoint(emulator.url()).build().unwrap();
    let model = OciChatModel::builder(DEMO_ENDPOINT).client(client).compartment_id(DEMO_COMPARTMENT).build().unwrap();
    let agent = Agent::builder().model(model).tool(builtin::calculator()).build().unwrap();
    let result = agent.run_to_completion("What is 12*12?").await.unwrap();
    assert!(result.text.contains("144"), "{}", result.text);

    // Without `Bearer Oracle` the metadata service refuses.
    let status = reqwest::get(format!("{}/opc/v2/identity/key.pem", emulator.url())).await.unwrap().status();
    assert_eq!(status.as_u16(), 401);
}
