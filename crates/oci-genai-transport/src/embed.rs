//! Embeddings and reranking: `POST /20231130/actions/embedText` and
//! `POST /20231130/actions/rerankText`, on demand and on dedicated
//! endpoints, with chat's signing, retries, request log, errors and hints.
//!
//! The service takes at most 96 inputs per embedding call: [`GenAiClient::embed`]
//! cuts larger inputs into batches, sends them a few at a time, and returns
//! the vectors in input order; a batch that fails fails the call, naming it.

use futures::StreamExt;
use serde::Deserialize;

use crate::client::GenAiClient;
use crate::error::Error;
use crate::models::{
    EmbedContent, EmbedImageContent, EmbedTextDetails, EmbedTextDetailsEmbeddingTypes, EmbedTextDetailsInputType,
    RerankTextDetails, RerankTextResult, Truncate,
};
use crate::serving::ServingMode;

const EMBED_PATH: &str = "/20231130/actions/embedText";
const RERANK_PATH: &str = "/20231130/actions/rerankText";

/// The most inputs the service takes in one embedding call.
pub const MAX_EMBED_BATCH: usize = 96;

/// One thing to embed.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbedInput {
    /// Text.
    Text(String),
    /// An image, as a `data:` URL (multimodal embedding models).
    Image(String),
}

impl From<&str> for EmbedInput {
    fn from(text: &str) -> Self {
        EmbedInput::Text(text.to_owned())
    }
}

impl From<String> for EmbedInput {
    fn from(text: String) -> Self {
        EmbedInput::Text(text)
    }
}

/// An embedding request of any size.
///
/// ```
/// use oci_genai_transport::{EmbedCall, ServingMode};
/// let call = EmbedCall::new(ServingMode::from_model_id("cohere.embed-english-v3.0")?, "ocid1.compartment.oc1..c", ["a", "b"]);
/// assert_eq!(call.inputs.len(), 2);
/// assert_eq!(call.batch_size, 96);
/// # Ok::<(), oci_genai_transport::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct EmbedCall {
    /// The embedding model or endpoint.
    pub serving: ServingMode,
    /// The compartment.
    pub compartment_id: String,
    /// What to embed, in order.
    pub inputs: Vec<EmbedInput>,
    /// `SEARCH_DOCUMENT`, `SEARCH_QUERY`, `CLASSIFICATION`, `CLUSTERING` (the model's default when unset).
    pub input_type: Option<EmbedTextDetailsInputType>,
    /// What to do with inputs longer than the model takes (`NONE`: an error; `START`, `END`: cut there).
    pub truncate: Option<Truncate>,
    /// Fewer dimensions, for models that can give them.
    pub output_dimensions: Option<u32>,
    /// Inputs per call (at most [`MAX_EMBED_BATCH`], the default).
    pub batch_size: usize,
    /// Calls in flight at once (default 4).
    pub concurrency: usize,
}

impl EmbedCall {
    /// Embeds `inputs` with `serving` in `compartment_id`, in batches of 96, 4 at a time.
    pub fn new<I: Into<EmbedInput>>(
        serving: ServingMode,
        compartment_id: impl Into<String>,
        inputs: impl IntoIterator<Item = I>,
    ) -> Self {
        EmbedCall {
            serving,
            compartment_id: compartment_id.into(),
            inputs: inputs.into_iter().map(Into::into).collect(),
            input_type: None,
            truncate: None,
            output_dimensions: None,
            batch_size: MAX_EMBED_BATCH,
            concurrency: 4,
        }
    }

    /// The wire request for `inputs` (one batch).
    fn details(&self, inputs: &[EmbedInput]) -> EmbedTextDetails {
        let all_text = inputs.iter().all(|i| matches!(i, EmbedInput::Text(_)));
        let (texts, contents) = if all_text {
            let texts = inputs.iter().filter_map(|i| if let EmbedInput::Text(t) = i { Some(t.clone()) } else { None });
            (Some(texts.collect()), None)
        } else {
            let contents = inputs
                .iter()
                .map(|i| match i {
                    EmbedInput::Text(text) => {
                        EmbedContent::Text(crate::models::EmbedTextContent { text: Some(text.clone()) })
                    }
                    EmbedInput::Image(url) => EmbedContent::Image(EmbedImageContent {
                        image_url: Some(crate::models::ImageUrl { url: url.clone(), detail: None }),
                    }),
                })
                .collect();
            (None, Some(contents))
        };
        EmbedTextDetails {
            inputs: texts,
            embed_contents: contents,
            serving_mode: self.serving.to_wire(),
            compartment_id: self.compartment_id.clone(),
            is_echo: None,
            embedding_types: Some(vec![EmbedTextDetailsEmbeddingTypes::Float]),
            output_dimensions: self.output_dimensions.map(i64::from),
            truncate: self.truncate.clone(),
            input_type: self.input_type.clone(),
        }
    }
}

/// The vectors of an [`EmbedCall`], in input order, and the tokens used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    /// One vector per input.
    pub vectors: Vec<Vec<f32>>,
    /// Input tokens, when the service counted them.
    pub prompt_tokens: u64,
}

/// One batch's vectors and input tokens.
type Batch = (Vec<Vec<f32>>, u64);

/// The part of an `EmbedTextResult` used: the floats read straight into `f32`.
#[derive(Deserialize)]
struct EmbedReply {
    #[serde(default)]
    embeddings: Option<Vec<Vec<f32>>>,
    #[serde(rename = "embeddingsByType", default)]
    by_type: Option<ByType>,
    #[serde(default)]
    usage: Option<UsageView>,
}

#[derive(Deserialize)]
struct ByType {
    #[serde(default)]
    float: Option<Vec<Vec<f32>>>,
}

#[derive(Deserialize)]
struct UsageView {
    #[serde(rename = "promptTokens", default)]
    prompt_tokens: Option<u64>,
}

impl GenAiClient {
    /// Embeds every input of `call`, in batches of at most 96 sent
    /// `call.concurrency` at a time, and returns the vectors in input order.
    /// A failed batch fails the call with [`Error::BatchFailed`], naming it
    /// and its first input; nothing is dropped silently.
    ///
    /// ```no_run
    /// use oci_genai_transport::{EmbedCall, GenAiClient, ServingMode};
    /// # async fn run(client: GenAiClient) -> Result<(), oci_genai_transport::Error> {
    /// let call = EmbedCall::new(ServingMode::from_model_id("cohere.embed-english-v3.0")?, "ocid1.compartment.oc1..c", ["first", "second"]);
    /// let embeddings = client.embed(call).await?;
    /// assert_eq!(embeddings.vectors.len(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn embed(&self, call: EmbedCall) -> Result<Embeddings, Error> {
        if call.inputs.is_empty() {
            return Ok(Embeddings::default());
        }
        let size = call.batch_size.clamp(1, MAX_EMBED_BATCH);
        // The futures are made up front (a named async fn each), then polled a few at a time, in order.
        let pending: Vec<_> = call
            .inputs
            .chunks(size)
            .enumerate()
            .map(|(batch, inputs)| self.embed_one(&call, batch, size, inputs))
            .collect();
        let results: Vec<Result<Batch, Error>> =
            futures::stream::iter(pending).buffered(call.concurrency.max(1)).collect().await;
        let mut embeddings = Embeddings { vectors: Vec::with_capacity(call.inputs.len()), prompt_tokens: 0 };
        for result in results {
            let (vectors, tokens) = result?;
            embeddings.vectors.extend(vectors);
            embeddings.prompt_tokens += tokens;
        }
        Ok(embeddings)
    }

    /// One batch, its failure named.
    async fn embed_one(
        &self,
        call: &EmbedCall,
        batch: usize,
        size: usize,
        inputs: &[EmbedInput],
    ) -> Result<Batch, Error> {
        let expected = inputs.len();
        let failed = |source: Error| Error::BatchFailed {
            batch,
            first_input: batch * size,
            inputs: expected,
            source: Box::new(source),
        };
        let (vectors, tokens) = self.embed_batch(call, inputs).await.map_err(failed)?;
        if vectors.len() != expected {
            let message = format!("{} vectors for {expected} inputs", vectors.len());
            return Err(failed(Error::InvalidReply { message, opc_request_id: None }));
        }
        Ok((vectors, tokens))
    }

    async fn embed_batch(&self, call: &EmbedCall, inputs: &[EmbedInput]) -> Result<Batch, Error> {
        let body = serde_json::to_vec(&call.details(inputs)).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let prepared = self.prepare_action(EMBED_PATH, &call.serving, &call.compartment_id, body).await?;
        let request_id = Some(prepared.opc_request_id.clone());
        let reply: EmbedReply = self.whole(prepared).await?;
        let vectors = reply.embeddings.or(reply.by_type.and_then(|t| t.float)).ok_or_else(|| Error::InvalidReply {
            message: "no float embeddings in the reply".into(),
            opc_request_id: request_id,
        })?;
        Ok((vectors, reply.usage.and_then(|u| u.prompt_tokens).unwrap_or(0)))
    }

    /// Sends one `embedText` request as given (at most 96 inputs).
    pub async fn embed_text(&self, details: EmbedTextDetails) -> Result<crate::models::EmbedTextResult, Error> {
        let serving = ServingMode::from_wire(&details.serving_mode)
            .ok_or_else(|| Error::InvalidRequest("the serving mode is of an unknown type".into()))?;
        let body = serde_json::to_vec(&details).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let prepared = self.prepare_action(EMBED_PATH, &serving, &details.compartment_id, body).await?;
        self.whole(prepared).await
    }

    /// Ranks `documents` by relevance to the query (`rerankText`); the
    /// result's `documentRanks` hold each document's index and score, best first.
    ///
    /// ```no_run
    /// use oci_genai_transport::{GenAiClient, ServingMode, models::RerankTextDetails};
    /// # async fn run(client: GenAiClient) -> Result<(), oci_genai_transport::Error> {
    /// let ranked = client.rerank_text(RerankTextDetails {
    ///     input: "what is OCI?".into(),
    ///     compartment_id: "ocid1.compartment.oc1..c".into(),
    ///     serving_mode: ServingMode::from_model_id("cohere.rerank-v3.5")?.to_wire(),
    ///     documents: vec!["OCI is Oracle's cloud.".into(), "Bananas are yellow.".into()],
    ///     top_n: Some(1),
    ///     ..Default::default()
    /// }).await?;
    /// # let _ = ranked; Ok(()) }
    /// ```
    pub async fn rerank_text(&self, details: RerankTextDetails) -> Result<RerankTextResult, Error> {
        let serving = ServingMode::from_wire(&details.serving_mode)
            .ok_or_else(|| Error::InvalidRequest("the serving mode is of an unknown type".into()))?;
        let body = serde_json::to_vec(&details).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let prepared = self.prepare_action(RERANK_PATH, &serving, &details.compartment_id, body).await?;
        self.whole(prepared).await
    }
}
