//! OCI Generative AI inference: the layer between an agent and the service.
//!
//! - [`models`]: the wire types, generated from the service's data model
//!   (`cargo xtask codegen`).
//! - [`ServingMode`]: on-demand models and Dedicated AI Cluster endpoints,
//!   chosen from a model id.
//! - [`resolve_endpoint`]: which regional host serves a request.
//! - [`GenAiClient`]: signed `chat` and `chat_stream` on the native API, and
//!   `chat_completions` / `responses` (streamed or whole) on the
//!   OpenAI-compatible API ([`openai`] types; signed, or with a Generative AI
//!   API key), with the OCI SDK's retry strategy and errors that say what to
//!   fix ([`Error::hint`]).
//! - [`Transport`]: which of the two APIs serves a model.
//! - [`GenAiClient::embed`] (batched, in order) and [`GenAiClient::rerank_text`].
//! - [`GenAiClient::guardrails`]: content moderation, prompt injection and
//!   PII (with offsets, and [`GuardrailReport::redact`]) for text and images.
//! - [`GenAiClient::list_models`] and [`GenAiClient::list_endpoints`]: the
//!   management API's listings, signed the same way.
//! - [`sse`]: the server-sent events parser, usable on its own.
//!
//! ```no_run
//! use futures::StreamExt;
//! use oci_auth::Auth;
//! use oci_genai_transport::{models, ChatCall, GenAiClient, ServingMode};
//! # async fn run() -> Result<(), oci_genai_transport::Error> {
//! let client = GenAiClient::builder().auth(Auth::from_env()?).build()?;
//! let call = ChatCall::new(
//!     ServingMode::from_model_id("meta.llama-3.3-70b-instruct")?,
//!     "ocid1.compartment.oc1..example",
//!     models::BaseChatRequest::Generic(models::GenericChatRequest {
//!         messages: Some(vec![models::Message::User(models::UserMessage {
//!             content: Some(vec![models::ChatContent::Text(models::TextContent { text: Some("Hi".into()) })]),
//!             ..Default::default()
//!         })]),
//!         ..Default::default()
//!     }),
//! );
//! let mut stream = client.chat_stream(call).await?; // streaming, with usage: the client's choice
//! while let Some(event) = stream.next().await {
//!     println!("{}", event?.data());
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod builder;
mod call;
mod client;
mod embed;
mod end;
mod endpoint;
mod error;
mod guardrails;
mod h1;
mod hint;
mod limits;
mod management;
pub mod models;
pub mod openai;
mod prepare;
mod proxy;
mod reply;
mod request;
mod retry;
mod route;
mod send;
mod serving;
pub mod sse;
mod stream;
mod transport;

pub use builder::{GenAiClientBuilder, is_loopback, log_requests_asked};
pub use call::{ChatCall, OpenAiCall, check_compartment};
pub use client::GenAiClient;
pub use embed::{EmbedCall, EmbedInput, Embeddings, MAX_EMBED_BATCH};
pub use endpoint::{RegionSettings, ResolvedEndpoint, inference_url, resolve_endpoint};
pub use error::{Error, ErrorKind, RequestContext, ServiceError};
pub use guardrails::{
    DEFAULT_PII_TYPES, GuardrailChecks, GuardrailReport, GuardrailsCall, IMAGE_GUARDRAILS_VERSION,
    MODERATION_CATEGORIES, PiiSpan,
};
pub use hint::{BuilderNames, Setting, SettingNames};
pub use limits::Limits;
pub use management::{EndpointSummary, ModelSummary, today_utc};
pub use retry::{RetryNotice, RetryObserver, RetryPolicy};
pub use route::Route;
pub use serving::{ServingMode, is_ocid};
pub use stream::{ChatStream, ChatStreamEvent};
pub use transport::Transport;
