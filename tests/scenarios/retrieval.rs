//! Embeddings, reranking and the COHEREV2 shape end to end against the
//! emulator on 127.0.0.1: batching in order, a failed batch named, rerank
//! top-n, a COHEREV2 tool round trip streamed and whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use locus_agent::{Agent, StopReason, tools::builtin};
use locus_providers::{EmbedInput, Embedder, InputType, OciChatModel, OciEmbedder, OciReranker, Reranker};
use oci_auth::{ApiKeyProvider, PrivateKey, SharedCredentialsProvider};
use oci_genai_emulator::{DEMO_COMPARTMENT, Emulator, EmulatorConfig, RunningEmulator};
use oci_genai_transport::{Error, GenAiClient, RetryPolicy, Transport};

const EMBED: &str = "cohere.embed-english-v3.0";

async fn emulator() -> (RunningEmulator, GenAiClient) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let key = PrivateKey::generate_session_key().unwrap();
    emulator.register_api_key("ocid1.user.oc1..retrieval", &key);
    let fingerprint = key.fingerprint().to_owned();
    let credentials: SharedCredentialsProvider =
        Arc::new(ApiKeyProvider::new(&emulator.config().tenancy, "ocid1.user.oc1..retrieval", &fingerprint, key));
    let client = GenAiClient::builder()
        .credentials_provider(credentials)
        .service_endpoint(emulator.url())
        .retry_policy(RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)))
        .build()
        .unwrap();
    (emulator, client)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
async fn a_thousand_inputs_are_embedded_in_order_through_batches() {
    let (emulator, client) = emulator().await;
    let inputs: Vec<EmbedInput> =
        (0..1000).map(|i| EmbedInput::Text(format!("document number {i} about topic {}", i % 7))).collect();
    let embedder = OciEmbedder::new(client, EMBED, DEMO_COMPARTMENT).unwrap().input_type(InputType::SearchDocument);
    let vectors = embedder.embed(&inputs).await.unwrap();
    assert_eq!(vectors.len(), 1000);
    assert_eq!(emulator.requests(), 11, "ten full batches of 96 and one of 40");
    // Each vector is its own input's: the same text alone gives the same vector.
    for i in [0, 95, 96, 500, 999] {
        let alone = embedder.embed(&inputs[i..=i]).await.unwrap();
        assert_eq!(alone[0], vectors[i], "input {i}");
    }
    // Shared words bring vectors closer.
    assert!(cosine(&vectors[0], &vectors[7]) > cosine(&vectors[0], &vectors[1]), "same topic is nearer");
}

#[tokio::test]
async fn a_failed_batch_fails_the_call_and_says_which() {
    let (_emulator, client) = emulator().await;
    let mut inputs: Vec<EmbedInput> = (0..500).map(|i| EmbedInput::Text(format!("text {i}"))).collect();
    inputs[300] = EmbedInput::Text("  ".into()); // the service refuses an empty input
    let embedder = OciEmbedder::new(client, EMBED, DEMO_COMPARTMENT).unwrap();
    let err = embedder.embed(&inputs).await.unwrap_err();
    let locus_providers::Error::Transport(Error::BatchFailed { batch, first_input, inputs, source }) = &err else {
        panic!("{err:?}");
    };
    assert_eq!((*batch, *first_input, *inputs), (3, 288, 96));
    assert_eq!(source.status(), Some(400));
    assert!(
        err.to_string().contains("batch 3 (inputs 288 to 383)") && err.to_string().contains("inputs[12] is empty"),
        "{err}"
    );
}

#[tokio::test]
async fn the_96_input_cap_is_the_services_and_smaller_batches_are_a_setting() {
    let (emulator, client) = emulator().await;
    let details = oci_genai_transport::models::EmbedTextDetails {
        inputs: Some((0..97).map(|i| format!("t{i}")).collect()),
        serving_mode: oci_genai_transport::ServingMode::from_model_id(EMBED).unwrap().to_wire(),
        compartment_id: DEMO_COMPARTMENT.into(),
        ..Default::default()
    };
    let err = client.embed_text(details).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("between 1 and 96"), "{err}");
    let before = emulator.requests();
    let embedder = OciEmbedder::new(client, EMBED, DEMO_COMPARTMENT).unwrap().batching(10, 2);
    let inputs: Vec<EmbedInput> = (0..25).map(|i| EmbedInput::Text(format!("t{i}"))).collect();
    assert_eq!(embedder.embed(&inputs).await.unwrap().len(), 25);
    assert_eq!(emulator.requests() - before, 3);
}

#[tokio::test]
async fn rerank_returns_the_top_n_best_first() {
    let (_emulator, client) = emulator().await;
    let reranker = OciReranker::new(client, "cohere.rerank-v3.5", DEMO_COMPARTMENT).unwrap();
    let documents: Vec<String> = [
        "Bananas are yellow.",
        "OCI Generative AI serves chat models in many regions.",
        "Regions of OCI.",
        "Nothing relevant here.",
    ]
    .map(String::from)
    .to_vec();
    let ranked = reranker.rerank("which regions serve OCI Generative AI models", &documents, Some(2)).await.unwrap();
    assert_eq!(ranked.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2]);
    assert!(ranked[0].score > ranked[1].score);
    let all = reranker.rerank("bananas", &documents, None).await.unwrap();
    assert_eq!((all.len(), all[0].index), (4, 0));
}

#[tokio::test]
async fn coherev2_streams_and_answers_a_tool_round_trip() {
    let (emulator, client) = emulator().await;
    for streaming in [true, false] {
        let model = OciChatModel::builder("cohere.command-a-03-2025")
            .client(client.clone())
            .compartment_id(DEMO_COMPARTMENT)
            .transport(Transport::Native)
            .build()
            .unwrap();
        assert_eq!(model.shape_name(), "COHEREV2");
        let agent = Agent::builder().model(model).streaming(streaming).tool(builtin::calculator()).build().unwrap();
        let result = agent.run_to_completion("What is 17*23?").await.unwrap();
        assert_eq!(result.stop_reason, StopReason::Completed, "streaming={streaming}");
        assert_eq!(result.text, "17*23 = 391.");
        assert_eq!(result.tool_calls[0].output, "391");
        assert!(result.usage.total_tokens > 0, "usage survives streaming={streaming}");
    }
    // A V2 request to a V1 model is refused as the service does.
    let model = OciChatModel::builder("cohere.command-r-plus-08-2024")
        .client(client)
        .compartment_id(DEMO_COMPARTMENT)
        .api_format(locus_providers::ApiFormat::CohereV2)
        .build()
        .unwrap();
    let err = locus_providers::ChatModel::complete(&model, &Default::default()).await.unwrap_err();
    assert!(err.to_string().contains("COHEREV2"), "{err}");
    drop(emulator);
}
