//! Agents on OCI Generative AI.
//!
//! An [`Agent`] is a chat model, tools, and a loop: it calls the model,
//! runs the tools the model asks for (concurrently, in call order), feeds the
//! results back, and streams every token and tool event as it happens.
//!
//! ```no_run
//! use futures::StreamExt;
//! use locus_agent::{tools::builtin, Agent, AgentEvent, OciSetup};
//! # async fn run() -> Result<(), locus_agent::Error> {
//! let model = OciSetup::new("ocid1.generativeaiendpoint.oc1.us-chicago-1.example")? // a DAC endpoint
//!     .compartment_id("ocid1.compartment.oc1..example")                           // required for DAC
//!     .build()?;
//! let agent = Agent::builder().model(model).tool(builtin::calculator()).build()?;
//! let mut events = agent.run("What is 17*23?");
//! while let Some(event) = events.next().await {
//!     match event? {
//!         AgentEvent::TextDelta(text) => print!("{text}"),
//!         AgentEvent::ToolCallStarted { name, arguments, .. } => eprintln!("→ {name} {arguments}"),
//!         AgentEvent::Finished(result) => eprintln!("\n{:?}, {} tokens", result.stop_reason, result.usage.total_tokens),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! - The model is built once, where its parts are configured: [`OciSetup`]
//!   holds the auth, client and model builders (and reads the environment
//!   into them); any [`ChatModel`](locus_providers::ChatModel) will do. A
//!   [`ModelRegistry`] turns `<prefix>:<id>` strings into models.
//! - Tools implement [`Tool`], or come from a typed function with [`tool_fn`]
//!   (schema derived with `schemars`). Arguments are validated against the
//!   schema first; failures, unknown tools and timeouts go back to the model
//!   as error results so it can recover. [`mcp`] brings the tools of Model
//!   Context Protocol servers (stdio, streamable HTTP); an approval hook
//!   ([`AgentBuilder::approval`]) is asked before each call.
//! - The loop stops when the model answers, at `max_iterations` (after a
//!   final summarising call), on a token or time budget, on a terminal tool,
//!   or when the same call repeats three times ([`StopReason`]).
//! - [`guard`]: guardrails around a run ([`AgentBuilder::guard`]; the
//!   service's own with [`guard::OciGuard`]) screen the input, tool results
//!   and answers: PII redacted, injections and flagged content blocked
//!   ([`StopReason::GuardrailBlocked`]).
//! - [`Agent::from_env`] reads `LOCUS_MODEL_ID`, `LOCUS_OCI_COMPARTMENT`, …
//!   ([`OciSetup::from_env`]).

#![deny(missing_docs)]

mod agent;
mod builder;
mod conversation;
mod error;
mod events;
pub mod guard;
#[cfg(feature = "mcp")]
pub mod mcp;
mod registry;
mod run;
mod screen;
pub mod settings;
mod setup;
pub mod tools;

pub use agent::Agent;
pub use builder::AgentBuilder;
pub use conversation::Conversation;
pub use error::{Error, ErrorKind};
pub use events::{AgentEvent, AgentResult, AgentStream, StopReason, ToolCallRecord};
pub use registry::{ModelProvider, ModelRegistry, OciProvider, oci_id};
pub use setup::OciSetup;
pub use tools::{FnTool, SharedTool, Tool, ToolError, ToolOutput, tool_fn};
