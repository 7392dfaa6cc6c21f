//! GenAiClient against wiremock and a raw server on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{After, RawServer, assert_signed, client, credentials, fixture};
use futures::StreamExt;
use oci_genai_transport::{ChatCall, Error, GenAiClient, RetryPolicy, ServingMode, models};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const DAC_ORD: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaexample";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";

fn details(model: &str, compartment: &str) -> ChatCall {
    let request = models::BaseChatRequest::Generic(models::GenericChatRequest {
        messages: Some(vec![models::Message::User(models::UserMessage {
            content: Some(vec![models::ChatContent::Text(models::TextContent { text: Some("Hi".into()) })]),
            ..Default::default()
        })]),
        ..Default::default()
    });
    ChatCall::new(ServingMode::from_model_id(model).unwrap(), compartment, request)
}

fn reply() -> serde_json::Value {
    json!({"modelId": "meta.llama", "modelVersion": "1", "chatResponse": {"apiFormat": "GENERIC", "timeCreated": "2026-11-25T12:00:00Z",
        "choices": [{"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "Hello!"}]}, "finishReason": "stop"}]}})
}

async fn chat_server(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/20231130/actions/chat")).respond_with(template).mount(&server).await;
    server
}

fn body(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn on_demand_and_dedicated_requests_are_signed_with_their_serving_mode() {
    let server = chat_server(ResponseTemplate::new(200).set_body_json(reply())).await;
    let client = client(&server.uri());
    let result = client.chat(details("meta.llama-3.3-70b-instruct", COMPARTMENT)).await.unwrap();
    assert!(matches!(result.chat_response, Some(models::BaseChatResponse::Generic(_))));
    client.chat(details(DAC_ORD, COMPARTMENT)).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_signed(request);
        assert_eq!(request.headers["accept"], "application/json, text/event-stream");
        assert_eq!(request.headers["opc-request-id"].len(), 32);
        assert!(request.headers["user-agent"].to_str().unwrap().starts_with("locus-rs/"));
        assert!(body(request)["chatRequest"].get("isStream").is_none());
    }
    assert_eq!(
        body(&received[0])["servingMode"],
        json!({"servingType": "ON_DEMAND", "modelId": "meta.llama-3.3-70b-instruct"})
    );
    assert_eq!(body(&received[1])["servingMode"], json!({"servingType": "DEDICATED", "endpointId": DAC_ORD}));
    assert_eq!(body(&received[1])["compartmentId"], COMPARTMENT);
}

#[tokio::test]
async fn a_dedicated_request_without_compartment_never_leaves() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let err = client(&server.uri()).chat(details(DAC_ORD, "")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "compartment_id is required for dedicated endpoints: use the compartment of the endpoint"
    );
    assert!(matches!(err, Error::MissingCompartment { dedicated: true }));
}

#[tokio::test]
async fn without_any_region_the_error_says_where_to_set_one() {
    let client = GenAiClient::builder().credentials_provider(credentials()).build().unwrap();
    let err = client.chat(details("cohere.command-r-plus-08-2024", COMPARTMENT)).await.unwrap_err();
    assert!(matches!(err, Error::NoRegion { .. }), "{err:?}");
}

fn error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("opc-request-id", "SVC-REQ")
        .set_body_json(json!({"code": code, "message": message}))
}

#[tokio::test]
async fn a_dac_404_from_the_wrong_region_says_which_region() {
    let server =
        chat_server(error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found."))
            .await;
    let client = GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint(server.uri())
        .region("us-ashburn-1")
        .build()
        .unwrap();
    let err = client.chat(details(DAC_ORD, COMPARTMENT)).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("NotAuthorizedOrNotFound"));
    assert_eq!(err.opc_request_id(), Some("SVC-REQ"));
    assert!(!err.is_retryable());
    let hint = err.hint().unwrap();
    assert!(hint.contains("us-chicago-1") && hint.contains("us-ashburn-1"), "{hint}");
    assert_eq!(err.kind(), oci_genai_transport::ErrorKind::Region, "the kind and the hint read one predicate");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn hints_for_the_known_failures() {
    for (status, code, message, needle) in [
        (404, "NotAuthorizedOrNotFound", "not found", "use generative-ai-family"),
        (400, "InvalidParameter", "Compartment ocid1.compartment.oc1..x is invalid", "compartment_id"),
        (400, "InvalidParameter", "apiFormat COHERE is not supported for this model", "API format"),
        (403, "NotAllowed", "no", "allow group"),
        (
            401,
            "NotAuthenticated",
            "The required information to complete authentication was not provided",
            "fingerprint",
        ),
        (429, "TooManyRequests", "Too many requests for the user", "rate limited"),
    ] {
        let server = chat_server(error(status, code, message)).await;
        let err = client(&server.uri()).chat(details("meta.llama", COMPARTMENT)).await.unwrap_err();
        assert_eq!(err.status(), Some(status));
        let hint = err.hint().unwrap_or_default();
        assert!(hint.contains(needle), "{status} {message}: {hint}");
    }
}

#[tokio::test]
async fn a_401_refreshes_the_credentials_once_then_fails() {
    let server = chat_server(error(401, "NotAuthenticated", "bad signature")).await;
    let err = client(&server.uri()).chat(details("meta.llama", COMPARTMENT)).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(server.received_requests().await.unwrap().len(), 2, "one retry after refreshing");
}

/// Answers with each template in turn, then the last one forever.
struct Sequence(std::sync::Mutex<Vec<ResponseTemplate>>);

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut templates = self.0.lock().unwrap();
        if templates.len() > 1 { templates.remove(0) } else { templates[0].clone() }
    }
}

#[tokio::test]
async fn retries_honour_retry_after_and_keep_the_retry_token() {
    let server = MockServer::start().await;
    let templates = vec![
        error(429, "TooManyRequests", "slow down").insert_header("retry-after", "1"),
        error(503, "ServiceUnavailable", "try later"),
        ResponseTemplate::new(200).set_body_json(reply()),
    ];
    Mock::given(method("POST")).respond_with(Sequence(std::sync::Mutex::new(templates))).mount(&server).await;
    let started = Instant::now();
    client(&server.uri()).chat(details("meta.llama", COMPARTMENT)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let tokens: Vec<_> = received.iter().map(|r| r.headers["opc-retry-token"].clone()).collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    let ids: Vec<_> = received.iter().map(|r| r.headers["opc-request-id"].clone()).collect();
    assert!(ids.iter().all(|t| *t == ids[0]));
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit_and_501_is_not_retried() {
    let server = chat_server(error(500, "InternalServerError", "boom")).await;
    let client = GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint(server.uri())
        .retry_policy(RetryPolicy::default().with_max_attempts(3).with_delays(Duration::ZERO, Duration::ZERO))
        .build()
        .unwrap();
    let err = client.chat(details("meta.llama", COMPARTMENT)).await.unwrap_err();
    assert!(err.is_retryable() && err.hint().unwrap().contains("opc-request-id"));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let server = chat_server(error(501, "NotImplemented", "no")).await;
    client_for(&server).chat(details("meta.llama", COMPARTMENT)).await.unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

fn client_for(server: &MockServer) -> GenAiClient {
    client(&server.uri())
}

#[tokio::test]
async fn nothing_listening_on_this_machine_is_typed_and_not_retried() {
    // Seven retries with real delays would take a minute: a refusal on loopback cannot heal in one.
    let client = GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint("http://127.0.0.1:9")
        .retry_policy(RetryPolicy::default().with_max_attempts(8))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.chat(details("meta.llama", COMPARTMENT)).await.unwrap_err();
    assert!(matches!(err, Error::Transport { connect: true, .. }), "{err:?}");
    assert!(!err.is_retryable() && err.opc_request_id().is_some(), "{err:?}");
    // The request never left: the message names no request id the service could look up (issue 28, item 8).
    assert!(!err.to_string().contains("opc-request-id"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "retried: {:?}", started.elapsed());
}

#[tokio::test]
async fn streams_events_and_ends_after_usage() {
    let server =
        chat_server(ResponseTemplate::new(200).set_body_raw(fixture("generic-stream.sse"), "text/event-stream")).await;
    let mut stream = client(&server.uri()).chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.unwrap());
    }
    assert!(events.len() > 20);
    let finish = events.iter().position(|e| e.is_finish()).unwrap();
    assert_eq!(finish, events.len() - 2);
    assert!(events.last().unwrap().has_usage());
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(body(request)["chatRequest"]["isStream"], true);
    assert_eq!(body(request)["chatRequest"]["streamOptions"]["isIncludeUsage"], true);
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_is_reported() {
    let server = chat_server(ResponseTemplate::new(200).set_body_json(reply())).await;
    let err = client(&server.uri()).chat_stream(details(DAC_ORD, COMPARTMENT)).await.unwrap_err();
    match err {
        Error::NotAStream { content_type, body, .. } => {
            assert!(content_type.starts_with("application/json"));
            assert!(body.contains("Hello!"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_empty_stream_is_reported() {
    let server = chat_server(ResponseTemplate::new(200).set_body_raw(": keep-alive\n\n", "text/event-stream")).await;
    let mut stream = client(&server.uri()).chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    assert!(matches!(stream.next().await, Some(Err(Error::EmptyStream { .. }))));
    assert!(stream.next().await.is_none());
}

fn generic_chunks() -> Vec<String> {
    vec![
        "data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\",\"content\":[{\"type\":\"TEXT\",\"text\":\"Hel\"}]},\"pad\":\"aa\"}\n\n".into(),
        "data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\",\"content\":[{\"type\":\"TEXT\",\"text\":\"lo\"}]},\"pad\":\"a\"}\n\n".into(),
        "data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\"},\"finishReason\":\"stop\",\"pad\":\"aaa\"}\n\n".into(),
    ]
}

#[tokio::test]
async fn a_connection_kept_open_after_the_finish_event_does_not_hang() {
    for usage_requested in [false, true] {
        let server = RawServer::start(generic_chunks(), Duration::from_millis(10), After::KeepOpen).await;
        let mut stream = client(&server.url).chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
        let mut finished_at = None;
        let mut count = 0;
        while let Some(event) = stream.next().await {
            let event = event.unwrap();
            count += 1;
            if event.is_finish() {
                finished_at = Some(Instant::now());
            }
        }
        let after_finish = finished_at.unwrap().elapsed();
        assert_eq!(count, 3);
        assert!(after_finish < Duration::from_secs(1), "usage requested: {usage_requested}: {after_finish:?}");
    }
}

#[tokio::test]
async fn a_stream_that_started_is_never_retried() {
    let chunks = vec![generic_chunks()[0].clone()];
    let server = RawServer::start(chunks, Duration::from_millis(5), After::Drop).await;
    let mut stream = client(&server.url).chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let end = stream.next().await;
    assert!(matches!(end, Some(Err(Error::Transport { .. }))), "{end:?}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_byte() {
    let server = MockServer::start().await;
    let templates = vec![
        error(503, "ServiceUnavailable", "warming up"),
        ResponseTemplate::new(200).set_body_raw(generic_chunks().concat(), "text/event-stream"),
    ];
    Mock::given(method("POST")).respond_with(Sequence(std::sync::Mutex::new(templates))).mount(&server).await;
    let stream = client(&server.uri()).chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    assert_eq!(stream.collect::<Vec<_>>().await.len(), 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_silent_stream_times_out() {
    let server = RawServer::start(vec![generic_chunks()[0].clone()], Duration::ZERO, After::KeepOpen).await;
    let client = GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint(&server.url)
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut stream = client.chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

/// Collects what the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_logs_carry_the_facts_and_no_credentials() {
    let server = chat_server(ResponseTemplate::new(200).set_body_json(reply())).await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let client = GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint(server.uri())
        .log_requests(true)
        .build()
        .unwrap();
    client.chat(details("meta.llama", COMPARTMENT)).await.unwrap();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for needle in
        ["OCI GenAI request", "status=200", "latency_ms=", "opc_request_id=", "/20231130/actions/chat", "<redacted>"]
    {
        assert!(log.contains(needle), "{needle}: {log}");
    }
    assert!(!log.contains("Signature") && !log.contains("ocid1.tenancy.oc1..t/"), "{log}");
    assert!(!log.contains("\"Hi\""), "bodies only at trace level: {log}");
}

#[tokio::test]
async fn oci_log_requests_turns_logging_on() {
    let env = oci_auth::StaticEnv::new().with_var("OCI_LOG_REQUESTS", "1");
    let client =
        GenAiClient::builder().credentials_provider(credentials()).env(std::sync::Arc::new(env)).build().unwrap();
    assert!(format!("{client:?}").contains("log_requests: true"));
}

/// Counts how often credentials are fetched and forcibly refreshed.
#[derive(Debug)]
struct CountingProvider {
    inner: oci_auth::SharedCredentialsProvider,
    refreshes: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl oci_auth::ProvideCredentials for CountingProvider {
    async fn credentials(&self) -> oci_auth::Result<oci_auth::Credentials> {
        self.inner.credentials().await
    }
    async fn refresh(&self) -> oci_auth::Result<oci_auth::Credentials> {
        self.refreshes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.refresh().await
    }
}

#[tokio::test]
async fn a_401_refreshes_once_even_when_later_attempts_are_retried() {
    let server = MockServer::start().await;
    let templates = vec![
        error(401, "NotAuthenticated", "expired"),
        error(503, "ServiceUnavailable", "busy"),
        error(503, "ServiceUnavailable", "busy"),
        ResponseTemplate::new(200).set_body_json(reply()),
    ];
    Mock::given(method("POST")).respond_with(Sequence(std::sync::Mutex::new(templates))).mount(&server).await;
    let provider = std::sync::Arc::new(CountingProvider { inner: credentials(), refreshes: Default::default() });
    let client = GenAiClient::builder()
        .credentials_provider(provider.clone())
        .service_endpoint(server.uri())
        .retry_policy(RetryPolicy::default().with_delays(Duration::from_millis(1), Duration::from_millis(2)))
        .build()
        .unwrap();
    client.chat(details("meta.llama", COMPARTMENT)).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    assert_eq!(provider.refreshes.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Counts wake-ups, and those that come from inside the stream's own poll (on
/// the polling thread, while it polls): a task waking itself, which costs a
/// trip through the scheduler per event. (The I/O driver's wake from another
/// thread during a poll is the socket's news, not a self-wake.)
#[derive(Default)]
struct WakeCounter {
    polling: std::sync::Mutex<Option<std::thread::ThreadId>>,
    wakes: std::sync::atomic::AtomicUsize,
    self_wakes: std::sync::atomic::AtomicUsize,
    notify: tokio::sync::Notify,
}

impl std::task::Wake for WakeCounter {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        use std::sync::atomic::Ordering::SeqCst;
        self.wakes.fetch_add(1, SeqCst);
        if *self.polling.lock().unwrap() == Some(std::thread::current().id()) {
            self.self_wakes.fetch_add(1, SeqCst);
        }
        self.notify.notify_one();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_wakes_only_when_its_socket_has_data_on_any_runtime() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::task::{Context, Poll};
    // One event per chunk, as a server writing events one at a time sends them.
    let chunks: Vec<String> =
        std::iter::repeat_n(generic_chunks()[0].clone(), 300).chain([generic_chunks()[2].clone()]).collect();
    let server = RawServer::start(chunks, Duration::ZERO, After::End).await;
    let mut stream = client(&server.url).chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    let counter = std::sync::Arc::new(WakeCounter::default());
    let waker = std::task::Waker::from(std::sync::Arc::clone(&counter));
    let (mut events, mut pending) = (0, 0);
    loop {
        *counter.polling.lock().unwrap() = Some(std::thread::current().id());
        let polled = stream.poll_next_unpin(&mut Context::from_waker(&waker));
        *counter.polling.lock().unwrap() = None;
        match polled {
            Poll::Ready(Some(event)) => {
                event.unwrap();
                events += 1;
            }
            Poll::Ready(None) => break,
            Poll::Pending => {
                pending += 1;
                counter.notify.notified().await;
            }
        }
    }
    assert_eq!(events, 301);
    assert_eq!(counter.self_wakes.load(SeqCst), 0, "the stream woke itself");
    assert!(counter.wakes.load(SeqCst) <= pending + 1, "a wake without a wait: {counter:?}", counter = pending);
}

/// The builder's environment decides proxies for every request, streams
/// included: a stream to a proxied host goes through the proxy (with the
/// proxy URL's credentials), a host in `NO_PROXY` is reached directly.
#[tokio::test]
async fn proxies_come_from_the_builders_environment_for_streams_too() {
    let proxy =
        chat_server(ResponseTemplate::new(200).set_body_raw(fixture("generic-stream.sse"), "text/event-stream")).await;
    let direct =
        chat_server(ResponseTemplate::new(200).set_body_raw(fixture("generic-stream.sse"), "text/event-stream")).await;
    let proxy_url = proxy.uri().replace("http://", "http://user:pw@");
    let env = oci_auth::StaticEnv::new().with_var("HTTP_PROXY", proxy_url).with_var("NO_PROXY", "127.0.0.1");
    let builder = |endpoint: &str| {
        GenAiClient::builder()
            .credentials_provider(credentials())
            .service_endpoint(endpoint)
            .allow_http(true)
            .env(std::sync::Arc::new(env.clone()))
            .build()
            .unwrap()
    };
    // Only the proxy knows this name: the request reaches it, never DNS.
    let mut stream =
        builder("http://genai.proxied.test").chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    while let Some(event) = stream.next().await {
        event.unwrap();
    }
    let seen = &proxy.received_requests().await.unwrap()[0];
    assert_eq!(seen.headers["host"], "genai.proxied.test");
    assert_eq!(seen.headers["proxy-authorization"], "Basic dXNlcjpwdw==");
    assert_signed(seen);

    let mut stream = builder(&direct.uri()).chat_stream(details("meta.llama", COMPARTMENT)).await.unwrap();
    while let Some(event) = stream.next().await {
        event.unwrap();
    }
    assert_eq!(direct.received_requests().await.unwrap().len(), 1);
    assert_eq!(proxy.received_requests().await.unwrap().len(), 1, "NO_PROXY host went through the proxy");
}
