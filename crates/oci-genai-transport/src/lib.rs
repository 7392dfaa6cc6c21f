//! OCI Generative AI inference: the layer between an agent and the service.
//!
//! - [`models`]: the wire types, generated from the service's data model
//!   (`cargo xtask codegen`).
//! - [`ServingMode`]: on-demand models and Dedicated AI Cluster endpoints,
//!   chosen from a model id.
//! - [`resolve_endpoint`]: which regional host serves a request.
//! - [`GenAiClient`]: signed `chat` and `chat_stream`, with the OCI SDK's
//!   retry strategy and errors that say what to fix ([`Error::hint`]).
//! - [`sse`]: the server-sent events parser, usable on its own.
//!
//! ```no_run
//! use futures::StreamExt;
//! use oci_auth::Auth;
//! use oci_genai_transport::{models, GenAiClient, ServingMode};
//! # async fn run() -> Result<(), oci_genai_transport::Error> {
//! let client = GenAiClient::builder().auth(Auth::from_env()?).build()?;
//! let details = models::ChatDetails {
//!     compartment_id: "ocid1.compartment.oc1..example".into(),
//!     serving_mode: ServingMode::from_model_id("meta.llama-3.3-70b-instruct")?.to_wire(),
//!     chat_request: models::BaseChatRequest::Generic(models::GenericChatRequest {
//!         messages: Some(vec![models::Message::User(models::UserMessage {
//!             content: Some(vec![models::ChatContent::Text(models::TextContent { text: Some("Hi".into()) })]),
//!             ..Default::default()
//!         })]),
//!         stream_options: Some(models::StreamOptions { is_include_usage: Some(true) }),
//!         ..Default::default()
//!     }),
//! };
//! let mut stream = client.chat_stream(details).await?;
//! while let Some(event) = stream.next().await {
//!     println!("{}", event?.data());
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod client;
mod endpoint;
mod error;
mod limits;
pub mod models;
mod retry;
mod serving;
pub mod sse;
mod stream;

pub use client::{GenAiClient, GenAiClientBuilder};
pub use endpoint::{RegionSettings, ResolvedEndpoint, inference_url, resolve_endpoint};
pub use error::{Error, RequestContext, ServiceError};
pub use limits::Limits;
pub use retry::RetryPolicy;
pub use serving::ServingMode;
pub use stream::{ChatStream, StreamEvent};
