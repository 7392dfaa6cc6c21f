//! How streams end, and the bounds on time and memory a misbehaving server
//! cannot push past (issue 12).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{After, RawServer, credentials};
use futures::StreamExt;
use oci_genai_transport::{
    ChatCall, ChatStreamEvent, Error, GenAiClient, GenAiClientBuilder, Limits, RetryPolicy, ServingMode, models,
};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";

fn details() -> ChatCall {
    let request = models::BaseChatRequest::Generic(models::GenericChatRequest::default());
    ChatCall::new(ServingMode::from_model_id("meta.llama").unwrap(), COMPARTMENT, request)
}

fn builder(endpoint: &str) -> GenAiClientBuilder {
    GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint(endpoint)
        .retry_policy(RetryPolicy::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
}

fn delta(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]}})
    )
}

const FINISH: &str = "data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\"},\"finishReason\":\"stop\"}\n\n";
const USAGE: &str = "data: {\"usage\":{\"promptTokens\":1,\"completionTokens\":2,\"totalTokens\":3}}\n\n";

/// Every item of a stream: the events, then the error that ended it, if any.
async fn drain(client: &GenAiClient) -> (Vec<ChatStreamEvent>, Option<Error>) {
    let mut stream = client.chat_stream(details()).await.unwrap();
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(e) => {
                assert!(stream.next().await.is_none(), "an error ends the stream");
                return (events, Some(e));
            }
        }
    }
    (events, None)
}

#[tokio::test]
async fn a_stream_that_ends_before_its_finish_event_is_incomplete() {
    // A clean end of the body, and a `[DONE]` marker, both before any finish event.
    for tail in [vec![], vec!["data: [DONE]\n\n".to_owned()]] {
        let chunks = [vec![delta("hel"), delta("lo wor")], tail].concat();
        let server = RawServer::start(chunks, Duration::ZERO, After::End).await;
        let (events, error) = drain(&builder(&server.url).build().unwrap()).await;
        assert_eq!(events.len(), 2, "the partial answer is handed on");
        let error = error.expect("an incomplete stream is an error");
        assert!(matches!(error, Error::IncompleteStream { events: 2, .. }), "{error:?}");
        assert!(error.to_string().contains("without its finish event"), "{error}");
        assert!(error.hint().unwrap().contains("opc-request-id"));
        assert_eq!(server.requests(), 1, "a stream that started is not retried");
    }
}

#[tokio::test]
async fn usage_in_every_chunk_does_not_end_the_stream() {
    let with_usage = |chunk: &str| chunk.replace("}\n\n", ",\"usage\":{\"totalTokens\":1}}\n\n");
    let chunks = vec![with_usage(&delta("hel")), with_usage(&delta("lo")), with_usage(FINISH)];
    {
        let server = RawServer::start(chunks.clone(), Duration::ZERO, After::KeepOpen).await;
        let started = Instant::now();
        let (events, error) = drain(&builder(&server.url).build().unwrap()).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(events.len(), 3);
        assert!(events[2].is_finish() && events[2].has_usage());
        assert!(started.elapsed() < Duration::from_secs(2), "ends at the finish event, not at the socket's close");
    }
}

#[tokio::test]
async fn what_follows_the_end_is_not_read() {
    // Finish and usage, then garbage, all in one write; and garbage between finish and usage.
    let garbage = "data: {\"index\": 0, \"message\": \n\ndata: \u{1b}[2J not json\n\n";
    for chunks in [
        vec![format!("{}{FINISH}{USAGE}{garbage}", delta("hi"))],
        vec![format!("{}{FINISH}{garbage}{USAGE}", delta("hi"))],
    ] {
        let server = RawServer::start(chunks, Duration::ZERO, After::KeepOpen).await;
        let (events, error) = drain(&builder(&server.url).build().unwrap()).await;
        assert!(error.is_none(), "a complete answer stays complete: {error:?}");
        assert_eq!(events.len(), 3);
        assert!(events[1].is_finish() && events[2].has_usage());
    }
}

#[tokio::test]
async fn an_oversized_event_after_the_finish_event_does_not_spoil_the_answer() {
    let huge = format!("data: {}\n\n", "x".repeat(64 * 1024));
    let chunks = vec![format!("{}{FINISH}", delta("hi")), huge];
    let server = RawServer::start(chunks, Duration::ZERO, After::KeepOpen).await;
    let client = builder(&server.url).build().unwrap();
    let (events, error) = drain(&client).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn keep_alive_comments_do_not_keep_a_stream_alive() {
    let chunks = [vec![delta("hi")], vec![": keep-alive\n\n".to_owned(); 100]].concat();
    let server = RawServer::start(chunks, Duration::from_millis(50), After::KeepOpen).await;
    let client = builder(&server.url).read_timeout(Duration::from_millis(400)).build().unwrap();
    let started = Instant::now();
    let (events, error) = drain(&client).await;
    assert_eq!(events.len(), 1);
    assert!(matches!(error, Some(Error::StreamIdle { .. })), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_stream_that_never_finishes_ends_at_its_deadline() {
    let chunks: Vec<String> = (0..1000).map(|i| delta(&i.to_string())).collect();
    let server = RawServer::start(chunks, Duration::from_millis(10), After::KeepOpen).await;
    let limits = Limits::default().with_stream_deadline(Duration::from_millis(500));
    let client = builder(&server.url).limits(limits).build().unwrap();
    let started = Instant::now();
    let (events, error) = drain(&client).await;
    let error = error.unwrap();
    assert!(matches!(error, Error::StreamDeadline { .. }) && error.is_timeout(), "{error:?}");
    assert!(!events.is_empty() && events.len() < 1000);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_silent_server_costs_at_most_the_stream_deadline() {
    // Accepts, reads, never answers: each attempt waits for headers, retries stop at the deadline.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let limits =
        Limits::default().with_read_timeout(Duration::from_millis(300)).with_stream_deadline(Duration::from_secs(1));
    let client = builder(&url).limits(limits).build().unwrap();
    let started = Instant::now();
    let error = client.chat_stream(details()).await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_huge_retry_after_is_not_waited_and_does_not_panic() {
    let server = MockServer::start().await;
    let throttled = ResponseTemplate::new(429)
        .insert_header("retry-after", "18446744073709551615")
        .set_body_json(json!({"code": "TooManyRequests", "message": "slow down"}));
    Mock::given(method("POST")).respond_with(throttled).mount(&server).await;
    let started = Instant::now();
    let error = builder(&server.uri()).build().unwrap().chat(details()).await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "a wait past the budget is not taken");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn endpoints_that_cannot_work_or_are_unencrypted_are_refused_at_build() {
    let err = builder("ftp://example.com/x").build().unwrap_err();
    assert!(matches!(err, Error::Config(_)) && err.to_string().contains("https"), "{err}");
    assert!(!err.is_retryable());
    let err = builder("http://genai.example.com").build().unwrap_err();
    assert!(err.to_string().contains("--allow-http"), "{err}");
    builder("http://genai.example.com").allow_http(true).build().unwrap();
    for loopback in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://genai.example.com"] {
        builder(loopback).build().unwrap_or_else(|e| panic!("{loopback}: {e}"));
    }
}

#[tokio::test]
async fn a_huge_error_message_is_cut_for_display() {
    let message = "m".repeat(10 * 1024 * 1024);
    let server = MockServer::start().await;
    let failure = ResponseTemplate::new(400).set_body_json(json!({"code": "InvalidParameter", "message": message}));
    Mock::given(method("POST")).respond_with(failure).mount(&server).await;
    let error = builder(&server.uri()).build().unwrap().chat(details()).await.unwrap_err();
    let shown = error.to_string();
    assert!(shown.len() < 2_000, "{} bytes shown", shown.len());
    assert!(shown.contains("more bytes"), "{shown}");
}

#[tokio::test]
async fn a_whole_reply_past_the_cap_is_refused() {
    let server = MockServer::start().await;
    let big = json!({"chatResponse": {"apiFormat": "GENERIC", "choices": [], "pad": "p".repeat(10_000)}});
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_json(big)).mount(&server).await;
    let client = builder(&server.uri()).limits(Limits::default().with_max_body_size(1024)).build().unwrap();
    let error = client.chat(details()).await.unwrap_err();
    assert!(matches!(error, Error::ReplyTooLarge { limit: 1024, .. }), "{error:?}");
}
