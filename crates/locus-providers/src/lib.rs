//! Provider-neutral chat for agents on OCI Generative AI.
//!
//! - Neutral types: [`Message`], [`ToolSpec`], [`GenerationParams`],
//!   [`ChatRequest`], [`ChatResponse`], [`ModelEvent`].
//! - [`ChatModel`]: `complete` and `stream`; [`OciChatModel`] implements it on
//!   [`oci_genai_transport`], for on-demand models and dedicated endpoints.
//! - Request shapes ([`GenericShape`], [`CohereShape`]) behind
//!   [`RequestShape`], chosen by [`ApiFormat`], for the native API; and
//!   [`openai`]: the same for the OpenAI-compatible API's chat completions
//!   and Responses (the model's transport, [`oci_genai_transport::Transport`],
//!   picks which).
//! - [`Embedder`] and [`Reranker`]: embeddings and reranking, with
//!   [`OciEmbedder`] (batched, in order) and [`OciReranker`].
//! - [`guard`]: guardrails as decisions — a policy judging the service's
//!   report on a text (pass, redact, block), and [`guard::OciGuard`] asking it.
//! - [`profiles`]: what each model family takes, from one table
//!   (reasoning models, default transports, schema subsets, system messages),
//!   and a 400 naming a refused parameter read for one retry without it.
//! - [`StreamAccumulator`]: the final answer from stream events, with tool
//!   calls assembled correctly for every pattern real models stream.
//! - [`extract_inline_tool_calls`] and [`InlineToolCallFilter`]: tool calls
//!   written as `<tool_call>` text by models on dedicated endpoints.
//!
//! ```
//! use locus_providers::{StreamAccumulator, ModelEvent, FinishReason};
//! let mut acc = StreamAccumulator::new();
//! for event in [ModelEvent::TextDelta("Hel".into()), ModelEvent::TextDelta("lo".into()), ModelEvent::Finished(FinishReason::Stop)] {
//!     acc.push(event)?;
//! }
//! assert_eq!(acc.finish().message.text(), "Hello");
//! # Ok::<(), locus_providers::Error>(())
//! ```

#![deny(missing_docs)]

mod accumulator;
mod chat_model;
mod dialect;
mod error;
pub mod guard;
mod inline;
mod model;
pub mod openai;
pub mod profiles;
mod retrieval;
mod shape;
pub mod telemetry;
mod types;

pub use accumulator::{DEFAULT_MAX_ANSWER_BYTES, StreamAccumulator};
pub use chat_model::{ChatModel, EventStream, SharedChatModel, response_events};
pub use error::Error;
pub use inline::{InlineToolCallFilter, extract_inline_tool_calls};
pub use model::{OciChatModel, OciChatModelBuilder};
pub use oci_genai_transport::EmbedInput;
pub use retrieval::{Embedder, InputType, OciEmbedder, OciReranker, Ranked, Reranker};
pub use shape::{ApiFormat, CohereShape, CohereV2Shape, GenericShape, RequestShape, StreamState};
pub use types::{
    ChatRequest, ChatResponse, Citation, CitationMode, ContentPart, Document, FinishReason, GenerationParams,
    ImageSource, Message, ModelEvent, ReasoningEffort, ResponseFormat, Role, ServiceTier, ToolCall, ToolChoice,
    ToolSpec, Usage, UserLocation, Verbosity, WebSearch, new_call_id,
};
