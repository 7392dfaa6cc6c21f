//! Guardrails around a run: the user's input, each tool result and each
//! answer are screened before they go on ([`AgentBuilder::guard`](crate::AgentBuilder::guard)).
//!
//! - **Input** blocked: the run stops before any model call
//!   ([`StopReason::GuardrailBlocked`](crate::StopReason::GuardrailBlocked)); redacted: the model sees the redacted text.
//! - **Tool result** blocked: the model is told the result was withheld and
//!   why (the call counts as failed), and the run goes on — a web page that
//!   carries a prompt injection should not end the user's task, nor reach the model.
//! - **Answer**: its text is held back until screened (it arrives whole, not
//!   token by token); blocked, the run stops without showing it; redacted,
//!   the redacted text is what the user and the history get.
//!
//! [`OciGuard`] screens with the service's `applyGuardrails` and a
//! [`GuardPolicy`] (both from `locus_providers::guard`, re-exported here);
//! any type that implements [`Guard`] will do. A guard that fails ends the
//! run with [`Error::Guard`]: nothing unscreened passes.
//!
//! ```no_run
//! use locus_agent::{guard::OciGuard, Agent, OciSetup};
//! # fn run() -> Result<(), locus_agent::Error> {
//! let model = OciSetup::new("openai.gpt-5")?.compartment_id("ocid1.compartment.oc1..c").build()?;
//! let guard = OciGuard::new(model.client().clone(), model.compartment());
//! let agent = Agent::builder().model(model).guard(guard).build()?;
//! # let _ = agent; Ok(()) }
//! ```

use async_trait::async_trait;
pub use locus_providers::guard::{GuardFinding, GuardPolicy, GuardStage, OciGuard, PiiAction, Screening};
use serde::Serialize;

use crate::error::Error;

/// Where a run was blocked, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardBlock {
    /// What was screened.
    pub stage: GuardStage,
    /// What was found.
    #[serde(flatten)]
    pub finding: GuardFinding,
}

impl std::fmt::Display for GuardBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "guardrails blocked {}: {}", self.stage.describe(), self.finding)
    }
}

/// Screens text for a run.
///
/// ```
/// use locus_agent::guard::{Guard, GuardFinding, GuardStage, Screening};
/// struct NoSecrets;
/// #[async_trait::async_trait]
/// impl Guard for NoSecrets {
///     async fn screen(&self, _stage: GuardStage, text: &str) -> Result<Screening, locus_agent::Error> {
///         Ok(match text.contains("SECRET") {
///             true => Screening::Block(GuardFinding::Pii { labels: vec!["SECRET".into()] }),
///             false => Screening::Pass,
///         })
///     }
/// }
/// let agent = locus_agent::Agent::builder().guard(NoSecrets);
/// # let _ = agent;
/// ```
#[async_trait]
pub trait Guard: Send + Sync {
    /// The verdict on `text`, seen at `stage`.
    async fn screen(&self, stage: GuardStage, text: &str) -> Result<Screening, Error>;

    /// The verdict on an image (an `https:` or `data:` URL) in a message seen
    /// at `stage`. Default: it passes — a guard that reads text only lets
    /// images through; [`OciGuard`] moderates them.
    async fn screen_image(&self, stage: GuardStage, url: &str) -> Result<Screening, Error> {
        let _ = (stage, url);
        Ok(Screening::Pass)
    }

    /// Whether `stage` is screened at all (all are by default). An answer that
    /// is not screened streams token by token.
    fn screens(&self, stage: GuardStage) -> bool {
        let _ = stage;
        true
    }
}

#[async_trait]
impl Guard for OciGuard {
    async fn screen(&self, stage: GuardStage, text: &str) -> Result<Screening, Error> {
        Ok(OciGuard::screen(self, stage, text).await?)
    }

    async fn screen_image(&self, stage: GuardStage, url: &str) -> Result<Screening, Error> {
        Ok(OciGuard::screen_image(self, stage, url).await?)
    }

    fn screens(&self, stage: GuardStage) -> bool {
        OciGuard::screens(self, stage)
    }
}
