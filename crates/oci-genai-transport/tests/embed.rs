//! embedText and rerankText on the wire: golden request bodies, batching,
//! and a failed batch named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_signed, credentials};
use oci_genai_transport::models::{EmbedTextDetailsInputType, RerankTextDetails, Truncate};
use oci_genai_transport::{EmbedCall, EmbedInput, Error, GenAiClient, RetryPolicy, ServingMode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";
const DAC: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaembed";

fn client(endpoint: &str) -> GenAiClient {
    GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint(endpoint)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn golden(name: &str, actual: &Value) {
    let path = format!("{}/tests/fixtures/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
    }
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(actual, &expected, "{name}");
}

/// Answers each embedText call with one two-dimensional vector per input: `[position in the call, length of the text]`.
struct Vectors;

impl Respond for Vectors {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let inputs = body["inputs"].as_array().cloned().unwrap_or_default();
        if inputs.iter().any(|i| i.as_str() == Some("poison")) {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"code": "InvalidParameter", "message": "poisoned input"}));
        }
        let vectors: Vec<Value> = inputs
            .iter()
            .map(|i| json!([i.as_str().unwrap().trim_start_matches('t').parse::<f32>().unwrap(), 0.5]))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"embeddings": vectors, "usage": {"promptTokens": inputs.len()}}))
    }
}

#[tokio::test]
async fn an_embed_call_carries_its_settings_and_a_rerank_call_its_documents() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/20231130/actions/embedText")).respond_with(Vectors).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/20231130/actions/rerankText"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"documentRanks": [{"index": 1, "relevanceScore": 0.9}]})),
        )
        .mount(&server)
        .await;
    let client = client(&server.uri());
    let mut call =
        EmbedCall::new(ServingMode::from_model_id("cohere.embed-english-v3.0").unwrap(), COMPARTMENT, ["t0", "t1"]);
    call.input_type = Some(EmbedTextDetailsInputType::SearchQuery);
    call.truncate = Some(Truncate::End);
    call.output_dimensions = Some(512);
    let embeddings = client.embed(call).await.unwrap();
    assert_eq!(embeddings.vectors, vec![vec![0.0, 0.5], vec![1.0, 0.5]]);
    assert_eq!(embeddings.prompt_tokens, 2);

    let ranked = client
        .rerank_text(RerankTextDetails {
            input: "which one?".into(),
            compartment_id: COMPARTMENT.into(),
            serving_mode: ServingMode::from_model_id(DAC).unwrap().to_wire(),
            documents: vec!["first".into(), "second".into()],
            top_n: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ranked.document_ranks.unwrap()[0].index, Some(1));

    let requests = server.received_requests().await.unwrap();
    requests.iter().for_each(assert_signed);
    golden("embed-text", &serde_json::from_slice(&requests[0].body).unwrap());
    golden("rerank-text-dac", &serde_json::from_slice(&requests[1].body).unwrap());
    // Images go as embedContents.
    let call = EmbedCall::new(
        ServingMode::from_model_id("cohere.embed-v4.0").unwrap(),
        COMPARTMENT,
        [EmbedInput::Text("t0".into()), EmbedInput::Image("data:image/png;base64,iVBORw0KGgo=".into())],
    );
    let _ = client.embed(call).await; // the mock reads only `inputs`
    let body: Value = serde_json::from_slice(&server.received_requests().await.unwrap()[2].body).unwrap();
    golden("embed-image", &body);
}

#[tokio::test]
async fn batches_come_back_in_order_and_a_failed_one_is_named() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/20231130/actions/embedText")).respond_with(Vectors).mount(&server).await;
    let client = client(&server.uri());
    let inputs: Vec<String> = (0..250).map(|i| format!("t{i}")).collect();
    let call =
        EmbedCall::new(ServingMode::from_model_id("cohere.embed-english-v3.0").unwrap(), COMPARTMENT, inputs.clone());
    let embeddings = client.embed(call).await.unwrap();
    // Each call numbers its inputs from 0: the order is right when batch k's vectors follow batch k-1's.
    let positions: Vec<f32> = embeddings.vectors.iter().map(|v| v[0]).collect();
    let expected: Vec<f32> = (0..250).map(|i| i as f32).collect();
    assert_eq!(positions, expected);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let mut poisoned = inputs;
    poisoned[200] = "poison".into();
    let call = EmbedCall::new(ServingMode::from_model_id("cohere.embed-english-v3.0").unwrap(), COMPARTMENT, poisoned);
    let err = client.embed(call).await.unwrap_err();
    assert!(matches!(&err, Error::BatchFailed { batch: 2, first_input: 192, inputs: 58, .. }), "{err:?}");
    assert_eq!(err.status(), Some(400));
}
