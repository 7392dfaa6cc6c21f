//! Embeddings and reranking, behind traits another backend could implement:
//! [`Embedder`] and [`Reranker`], with [`OciEmbedder`] and [`OciReranker`] on
//! OCI Generative AI.

use oci_genai_transport::models::{EmbedTextDetailsInputType, RerankTextDetails, Truncate};
use oci_genai_transport::{EmbedCall, EmbedInput, GenAiClient, MAX_EMBED_BATCH, ServingMode};
use tracing::Instrument as _;

use crate::error::Error;

/// Turns inputs into vectors, one per input, in order.
#[async_trait::async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// The vectors of `inputs` (text, or images as `data:` URLs), in order.
    async fn embed(&self, inputs: &[EmbedInput]) -> Result<Vec<Vec<f32>>, Error>;
}

/// A document's place in a ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// Its position in the documents given.
    pub index: usize,
    /// How relevant it is (higher is better).
    pub score: f64,
}

/// Orders documents by relevance to a query.
#[async_trait::async_trait]
pub trait Reranker: Send + Sync + std::fmt::Debug {
    /// The best `top_n` (all, when `None`) of `documents` for `query`, best first.
    async fn rerank(&self, query: &str, documents: &[String], top_n: Option<usize>) -> Result<Vec<Ranked>, Error>;
}

/// What the inputs are for, so the model can embed them for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// Documents to be searched.
    SearchDocument,
    /// A query searching them.
    SearchQuery,
    /// Texts to classify.
    Classification,
    /// Texts to cluster.
    Clustering,
}

impl std::str::FromStr for InputType {
    type Err = Error;

    /// `search_document`, `search_query`, `classification`, `clustering` (any case, `-` or `_`).
    fn from_str(value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "search_document" | "document" => Ok(InputType::SearchDocument),
            "search_query" | "query" => Ok(InputType::SearchQuery),
            "classification" => Ok(InputType::Classification),
            "clustering" => Ok(InputType::Clustering),
            other => Err(Error::Config(format!(
                "input type `{other}`: use search_document, search_query, classification or clustering"
            ))),
        }
    }
}

impl InputType {
    fn wire(self) -> EmbedTextDetailsInputType {
        match self {
            InputType::SearchDocument => EmbedTextDetailsInputType::SearchDocument,
            InputType::SearchQuery => EmbedTextDetailsInputType::SearchQuery,
            InputType::Classification => EmbedTextDetailsInputType::Classification,
            InputType::Clustering => EmbedTextDetailsInputType::Clustering,
        }
    }
}

/// An embedding model on OCI Generative AI (`cohere.embed-…`, or a dedicated
/// endpoint serving one): batches of at most 96, a few in flight, vectors in order.
///
/// ```no_run
/// use locus_providers::{Embedder, OciEmbedder};
/// # async fn run(client: oci_genai_transport::GenAiClient) -> Result<(), locus_providers::Error> {
/// let embedder = OciEmbedder::new(client, "cohere.embed-english-v3.0", "ocid1.compartment.oc1..c")?;
/// let vectors = embedder.embed(&["first".into(), "second".into()]).await?;
/// assert_eq!(vectors.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OciEmbedder {
    client: GenAiClient,
    serving: ServingMode,
    compartment_id: String,
    input_type: Option<InputType>,
    truncate: Option<Truncate>,
    batch_size: usize,
    concurrency: usize,
}

impl OciEmbedder {
    /// `model` (a model name or endpoint OCID) in `compartment_id`, through `client`.
    pub fn new(client: GenAiClient, model: &str, compartment_id: impl Into<String>) -> Result<Self, Error> {
        let serving = ServingMode::from_model_id(model)?;
        let compartment_id = compartment_id.into();
        oci_genai_transport::check_compartment(&serving, &compartment_id)?;
        Ok(OciEmbedder {
            client,
            serving,
            compartment_id,
            input_type: None,
            truncate: None,
            batch_size: MAX_EMBED_BATCH,
            concurrency: 4,
        })
    }

    /// What the inputs are for (default: the model's).
    pub fn input_type(mut self, input_type: InputType) -> Self {
        self.input_type = Some(input_type);
        self
    }

    /// Cut inputs longer than the model takes: at their `START` or `END`
    /// (default: the service's, which refuses them).
    pub fn truncate(mut self, truncate: Truncate) -> Self {
        self.truncate = Some(truncate);
        self
    }

    /// Inputs per call (at most 96, the default) and calls in flight (default 4).
    pub fn batching(mut self, batch_size: usize, concurrency: usize) -> Self {
        self.batch_size = batch_size.clamp(1, MAX_EMBED_BATCH);
        self.concurrency = concurrency.max(1);
        self
    }
}

#[async_trait::async_trait]
impl Embedder for OciEmbedder {
    async fn embed(&self, inputs: &[EmbedInput]) -> Result<Vec<Vec<f32>>, Error> {
        let mut call = EmbedCall::new(self.serving.clone(), self.compartment_id.clone(), inputs.iter().cloned());
        call.input_type = self.input_type.map(InputType::wire);
        call.truncate = self.truncate.clone();
        call.batch_size = self.batch_size;
        call.concurrency = self.concurrency;
        let span = crate::telemetry::span("embeddings", self.serving.id(), None);
        let mut record = crate::telemetry::CallRecord::start("embeddings", self.serving.id());
        let result = self.client.embed(call).instrument(span.clone()).await.map_err(Error::from);
        if let Err(error) = &result {
            record.error(error);
        }
        record.end(&span);
        Ok(result?.vectors)
    }
}

/// A rerank model on OCI Generative AI (`cohere.rerank-…`, or a dedicated endpoint serving one).
#[derive(Debug, Clone)]
pub struct OciReranker {
    client: GenAiClient,
    serving: ServingMode,
    compartment_id: String,
}

impl OciReranker {
    /// `model` (a model name or endpoint OCID) in `compartment_id`, through `client`.
    pub fn new(client: GenAiClient, model: &str, compartment_id: impl Into<String>) -> Result<Self, Error> {
        let serving = ServingMode::from_model_id(model)?;
        let compartment_id = compartment_id.into();
        oci_genai_transport::check_compartment(&serving, &compartment_id)?;
        Ok(OciReranker { client, serving, compartment_id })
    }
}

#[async_trait::async_trait]
impl Reranker for OciReranker {
    async fn rerank(&self, query: &str, documents: &[String], top_n: Option<usize>) -> Result<Vec<Ranked>, Error> {
        let details = RerankTextDetails {
            input: query.to_owned(),
            compartment_id: self.compartment_id.clone(),
            serving_mode: self.serving.to_wire(),
            documents: documents.to_vec(),
            top_n: top_n.map(|n| n as i64),
            ..Default::default()
        };
        let result = self.client.rerank_text(details).await?;
        let mut ranked: Vec<Ranked> = result
            .document_ranks
            .unwrap_or_default()
            .into_iter()
            .filter_map(|rank| {
                let index = usize::try_from(rank.index?).ok().filter(|i| *i < documents.len())?;
                Some(Ranked { index, score: rank.relevance_score.unwrap_or(0.0) })
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        if let Some(top) = top_n {
            ranked.truncate(top);
        }
        Ok(ranked)
    }
}
