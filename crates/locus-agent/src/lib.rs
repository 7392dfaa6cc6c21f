//! Agents on OCI Generative AI.
//!
//! An [`Agent`] is a chat model, tools, and a loop: it calls the model,
//! runs the tools the model asks for (concurrently, in call order), feeds the
//! results back, and streams every token and tool event as it happens.
//!
//! ```no_run
//! use futures::StreamExt;
//! use locus_agent::{tools::builtin, Agent, AgentEvent};
//! # async fn run() -> Result<(), locus_agent::Error> {
//! let agent = Agent::builder()
//!     .model("oci:ocid1.generativeaiendpoint.oc1.us-chicago-1.example") // a DAC endpoint
//!     .compartment_id("ocid1.compartment.oc1..example")                  // required for DAC
//!     .tool(builtin::calculator())
//!     .build()?;
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
//! - Models come from a [`ModelRegistry`]: `oci:<model name | model OCID |
//!   endpoint OCID>`; add providers for other prefixes.
//! - Tools implement [`Tool`], or come from a typed function with [`tool_fn`]
//!   (schema derived with `schemars`). Arguments are validated against the
//!   schema first; failures, unknown tools and timeouts go back to the model
//!   as error results so it can recover.
//! - The loop stops when the model answers, at `max_iterations` (after a
//!   final summarising call), on a token or time budget, on a terminal tool,
//!   or when the same call repeats three times ([`StopReason`]).
//! - [`Agent::from_env`] reads `LOCUS_MODEL_ID`, `LOCUS_OCI_COMPARTMENT`, …

#![deny(missing_docs)]

mod agent;
mod env;
mod error;
mod events;
mod registry;
pub mod tools;

pub use agent::{Agent, AgentBuilder, Conversation};
pub use error::Error;
pub use events::{AgentEvent, AgentResult, AgentStream, StopReason, ToolCallRecord};
pub use registry::{ModelProvider, ModelRegistry, ModelSettings, OciProvider};
pub use tools::{FnTool, SharedTool, Tool, ToolError, ToolOutput, tool_fn};
