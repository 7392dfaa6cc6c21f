//! A local OCI Generative AI inference service, for offline runs and tests.
//!
//! It serves the native chat API (`POST /20231130/actions/chat`) and the
//! OpenAI-compatible API (`POST /openai/v1/chat/completions`,
//! `POST /openai/v1/responses`), embeddings, reranking and guardrails
//! (`embedText`, `rerankText`, `applyGuardrails`: see [`guardrails`] for what
//! it flags) and the management API's listings
//! (`GET /20231130/models`, `GET /20231130/endpoints`), and behaves like the service where clients
//! can tell: it checks request signatures against registered keys (and the
//! body hash and `date`) or, on the OpenAI-compatible API, a configured
//! Generative AI API key; it knows
//! on-demand models and Dedicated AI Cluster endpoints in a region and a
//! compartment (a DAC of another region or a wrong compartment gets 404
//! `NotAuthorizedOrNotFound`), validates bodies against the wire types, and
//! streams in the service's SSE format — `pad` filler, usage only when asked,
//! no `[DONE]`, the connection held open after the last event. Models are
//! scripted (`echo`, a tool caller, an inline `<tool_call>` writer, scripts),
//! and faults can be injected per model or per request (`x-emulator-fault`).
//!
//! ```
//! use oci_genai_emulator::{Emulator, EmulatorConfig};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let key = oci_auth::PrivateKey::generate_session_key().unwrap();
//! let key_id = emulator.register_api_key("ocid1.user.oc1..me", &key);
//! assert!(emulator.url().starts_with("http://127.0.0.1:"));
//! # let _ = key_id; Ok(()) }
//! ```

#![deny(missing_docs)]

mod behaviour;
mod config;
mod emulator;
pub mod guardrails;
mod identity;
mod management;
pub mod mcp;
mod native;
mod openai;
mod options;
mod quirks;
mod render;
mod retrieval;
mod server;
mod state;
mod stream_body;

pub use config::{
    Behaviour, DEMO_COMPARTMENT, DEMO_ENDPOINT, EmulatorConfig, Fault, ModelConfig, QWEN_ENDPOINT, REMOTE_ENDPOINT,
    ToolPattern, Turn, TurnCall, TurnCitation,
};
pub use emulator::{Emulator, RunningEmulator};
