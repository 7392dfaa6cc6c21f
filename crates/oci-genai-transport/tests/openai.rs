//! The OpenAI-compatible API (`/openai/v1`) through GenAiClient: routing,
//! both kinds of authentication, and where each kind of stream ends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{After, RawServer, assert_signed, client, fixture};
use futures::StreamExt;
use oci_genai_transport::openai::chat_completions::{ChatCompletionRequest, ChatMessage, Content};
use oci_genai_transport::openai::responses::{InputItem, ResponseRequest};
use oci_genai_transport::{ChatCall, Error, GenAiClient, OpenAiCall, ServingMode, Transport, models};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";
const DAC: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaexample";

fn completions(model: &str) -> OpenAiCall<ChatCompletionRequest> {
    OpenAiCall::new(ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatMessage::User { content: Content::Text("Hi".into()), name: None }],
        ..Default::default()
    })
    .compartment_id(COMPARTMENT)
}

fn responses(model: &str) -> OpenAiCall<ResponseRequest> {
    OpenAiCall::new(ResponseRequest {
        model: model.into(),
        input: vec![InputItem::user_text("Hi")],
        store: Some(false),
        ..Default::default()
    })
    .compartment_id(COMPARTMENT)
}

fn sse(text: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(text, "text/event-stream")
}

#[tokio::test]
async fn a_whole_chat_completion_is_signed_and_names_its_compartment() {
    let server = MockServer::start().await;
    let answer = json!({"id": "c1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}});
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .and(header("opc-compartment-id", COMPARTMENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    let result = client(&server.uri()).chat_completions(completions("openai.gpt-5")).await.unwrap();
    assert_eq!(result.choices[0].message.as_ref().unwrap().content.as_deref(), Some("Hello!"));
    assert_eq!(result.usage.unwrap().total_tokens, 5);
    let received = &server.received_requests().await.unwrap()[0];
    assert_signed(received);
    let body: serde_json::Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body["model"], "openai.gpt-5");
    assert!(body.get("stream").is_none(), "{body}");
}

#[tokio::test]
async fn a_genai_api_key_goes_as_a_bearer_token_with_the_project_and_no_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/responses"))
        .and(header("authorization", "Bearer sk-test-key"))
        .and(header("openai-project", "ocid1.generativeaiproject.oc1..p"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "resp_1", "status": "completed", "output": []})),
        )
        .mount(&server)
        .await;
    let client = GenAiClient::builder()
        .genai_api_key("sk-test-key")
        .project_id("ocid1.generativeaiproject.oc1..p")
        .service_endpoint(server.uri())
        .build()
        .unwrap();
    // A key needs no compartment.
    let mut call = responses("openai.gpt-5");
    call.compartment_id = None;
    let response = client.responses(call).await.unwrap();
    assert_eq!(response.id.as_deref(), Some("resp_1"));
    // The native API takes only signatures: refused before sending, saying why.
    let native = ChatCall::new(
        ServingMode::from_model_id("meta.llama-3.3-70b-instruct").unwrap(),
        COMPARTMENT,
        models::BaseChatRequest::Generic(Default::default()),
    );
    let err = client.chat(native).await.unwrap_err();
    assert!(err.to_string().contains("only signed requests"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_model_the_openai_api_does_not_serve_is_refused_before_sending() {
    let server = MockServer::start().await;
    let client = client(&server.uri());
    for model in [DAC, "cohere.command-r-plus-08-2024"] {
        let err = client.chat_completions_stream(completions(model)).await.unwrap_err();
        assert!(matches!(err, Error::TransportCannotServe { transport: Transport::ChatCompletions, .. }), "{err}");
        let err = client.responses(responses(model)).await.unwrap_err();
        assert!(err.to_string().contains("--transport native"), "{err}");
    }
    // A signed call needs a compartment.
    let mut call = completions("openai.gpt-5");
    call.compartment_id = None;
    assert!(matches!(client.chat_completions(call).await.unwrap_err(), Error::MissingCompartment { .. }));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn openai_shaped_errors_keep_their_code_and_say_what_to_do() {
    let server = MockServer::start().await;
    let body =
        json!({"error": {"message": "Unsupported OpenAI operation", "type": "invalid_request_error", "code": null}});
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(body))
        .mount(&server)
        .await;
    let err = client(&server.uri()).chat_completions(completions("cohere.command-a-03-2025")).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("invalid_request_error"));
    assert!(err.hint().unwrap().contains("Transport::Native"), "{:?}", err.hint());
}

#[tokio::test]
async fn a_chat_completions_stream_asks_for_usage_and_ends_at_done() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .respond_with(sse(fixture("chat-completions-stream.sse")))
        .mount(&server)
        .await;
    let stream = client(&server.uri()).chat_completions_stream(completions("meta.llama-3.3-70b-instruct")).await;
    let events: Vec<_> = stream.unwrap().collect().await;
    let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.len(), 5, "[DONE] is not an event");
    assert!(events[3].is_finish() && events[4].has_usage());
    let body: serde_json::Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!((body["stream"].clone(), body["stream_options"]["include_usage"].clone()), (json!(true), json!(true)));
}

#[tokio::test]
async fn a_chat_completions_stream_ends_at_its_last_event_not_at_the_close() {
    // The server keeps the connection open after [DONE]: the stream must end anyway.
    let chunks = fixture("chat-completions-stream.sse").split_inclusive("\n\n").map(str::to_owned).collect();
    let server = RawServer::start(chunks, Duration::ZERO, After::KeepOpen).await;
    let started = std::time::Instant::now();
    let events: Vec<_> =
        client(&server.url).chat_completions_stream(completions("openai.gpt-5")).await.unwrap().collect().await;
    assert_eq!(events.len(), 5);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Cut before its end: incomplete, whatever the close looked like.
    let cut = vec!["data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n".to_owned()];
    let server = RawServer::start(cut, Duration::ZERO, After::End).await;
    let events: Vec<_> =
        client(&server.url).chat_completions_stream(completions("openai.gpt-5")).await.unwrap().collect().await;
    assert!(matches!(events.last().unwrap(), Err(Error::IncompleteStream { events: 1, .. })), "{events:?}");
}

#[tokio::test]
async fn an_error_chunk_fails_the_stream_with_the_services_words() {
    let server = MockServer::start().await;
    let text = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
                data: {\"error\":{\"message\":\"model overloaded\",\"type\":\"server_error\"}}\n\n";
    Mock::given(method("POST")).respond_with(sse(text.into())).mount(&server).await;
    let events: Vec<_> =
        client(&server.uri()).chat_completions_stream(completions("openai.gpt-5")).await.unwrap().collect().await;
    assert!(events[0].is_ok());
    let err = events[1].as_ref().unwrap_err();
    assert!(matches!(err, Error::StreamFailed { code, .. } if code == "server_error"), "{err}");
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn a_responses_stream_ends_at_response_completed_and_fails_at_an_error_event() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/responses"))
        .respond_with(sse(fixture("responses-stream.sse")))
        .mount(&server)
        .await;
    let events: Vec<_> =
        client(&server.uri()).responses_stream(responses("openai.gpt-5")).await.unwrap().collect().await;
    let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.len(), 5, "the trailing [DONE] is ignored");
    assert_eq!(events[4].sse().event.as_deref(), Some("response.completed"));
    assert!(events[4].is_finish());

    let failing = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n\
                   event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\"}\n\n";
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(sse(failing.into())).mount(&server).await;
    let events: Vec<_> =
        client(&server.uri()).responses_stream(responses("openai.gpt-5")).await.unwrap().collect().await;
    assert_eq!(events.len(), 2);
    let err = events[1].as_ref().unwrap_err();
    assert!(err.to_string().contains("rate_limit_exceeded: slow down"), "{err}");
}

/// A caller that has the serving mode already hands it down with the call;
/// one that disagrees with the request's `model` is refused before sending.
#[tokio::test]
async fn a_serving_mode_handed_down_must_name_the_requests_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let other = ServingMode::from_model_id("meta.llama-3.3-70b-instruct").unwrap();
    let err =
        client(&server.uri()).chat_completions(completions("openai.gpt-5").serving_mode(other)).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("`openai.gpt-5`"), "{err}");
}
