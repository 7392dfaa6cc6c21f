//! Guardrails as decisions: a [`GuardPolicy`] turns the service's
//! [`GuardrailReport`] on a text into a [`Screening`] — pass, redact, block —
//! and [`OciGuard`] asks the service (`applyGuardrails`) and judges. The
//! agent (`locus_agent::guard`) and the gateway (`locus serve`) screen with them.

use oci_genai_transport::{GenAiClient, GuardrailChecks, GuardrailReport, GuardrailsCall};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What is being screened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardStage {
    /// The user's message, before the first model call.
    Input,
    /// A tool's output, before the model reads it.
    ToolResult,
    /// The model's answer, before it is shown.
    Answer,
}

impl GuardStage {
    /// `input`, `tool_result`, `answer`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuardStage::Input => "input",
            GuardStage::ToolResult => "tool_result",
            GuardStage::Answer => "answer",
        }
    }

    /// What it is, for messages: `the input`, `a tool result`, `the answer`.
    pub fn describe(self) -> &'static str {
        match self {
            GuardStage::Input => "the input",
            GuardStage::ToolResult => "a tool result",
            GuardStage::Answer => "the answer",
        }
    }
}

/// Which check found a problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum GuardFinding {
    /// Content moderation flagged a category (`OVERALL`, `BLOCKLIST`).
    Moderation {
        /// The category.
        category: String,
        /// Its score.
        score: f64,
    },
    /// A likely prompt injection.
    PromptInjection {
        /// The score.
        score: f64,
    },
    /// Personal information, of these labels.
    Pii {
        /// `EMAIL`, `PERSON`, …, each once.
        labels: Vec<String>,
    },
}

impl std::fmt::Display for GuardFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuardFinding::Moderation { category, score } => write!(f, "content moderation ({category}, score {score})"),
            GuardFinding::PromptInjection { score } => write!(f, "a likely prompt injection (score {score})"),
            GuardFinding::Pii { labels } => write!(f, "personal information ({})", labels.join(", ")),
        }
    }
}

/// A guard's verdict on one text.
#[derive(Debug, Clone, PartialEq)]
pub enum Screening {
    /// Nothing found, or nothing the policy acts on.
    Pass,
    /// Go on with this text instead (PII replaced by `[LABEL]`).
    Redact {
        /// The text to use.
        text: String,
        /// What was redacted.
        finding: GuardFinding,
    },
    /// Stop it.
    Block(GuardFinding),
}

/// What to do with personal information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiAction {
    /// Let it through.
    Allow,
    /// Replace it by `[LABEL]` (the default).
    #[default]
    Redact,
    /// Block the text.
    Block,
}

/// What an [`OciGuard`] checks and acts on.
///
/// Defaults: every check ([`GuardrailChecks::default`]); moderation and prompt
/// injection block at a score of 0.5 or more (the service scores 0 or 1);
/// PII is redacted; every stage is screened, except that a prompt injection
/// is not looked for in answers (the model's own words are not an attack).
#[derive(Debug, Clone, PartialEq)]
pub struct GuardPolicy {
    /// The checks sent.
    pub checks: GuardrailChecks,
    /// The score at which a check counts as found.
    pub threshold: f64,
    /// Personal information: allow, redact or block.
    pub pii: PiiAction,
    /// The stages screened.
    pub stages: Vec<GuardStage>,
    /// A guardrails version to pin.
    pub version: Option<String>,
}

impl Default for GuardPolicy {
    fn default() -> Self {
        GuardPolicy {
            checks: GuardrailChecks::default(),
            threshold: 0.5,
            pii: PiiAction::Redact,
            stages: vec![GuardStage::Input, GuardStage::ToolResult, GuardStage::Answer],
            version: None,
        }
    }
}

impl GuardPolicy {
    /// The verdict on `text` at `stage`, from the service's report.
    ///
    /// ```
    /// use locus_providers::guard::{GuardPolicy, GuardStage, Screening};
    /// use oci_genai_transport::{GuardrailReport, PiiSpan};
    /// let report = GuardrailReport {
    ///     pii: vec![PiiSpan { label: "EMAIL".into(), text: "a@b.io".into(), offset: 3, length: 6, score: 0.9 }],
    ///     ..Default::default()
    /// };
    /// let verdict = GuardPolicy::default().judge(GuardStage::Input, "to a@b.io", &report);
    /// assert!(matches!(verdict, Screening::Redact { text, .. } if text == "to [EMAIL]"));
    /// ```
    pub fn judge(&self, stage: GuardStage, text: &str, report: &GuardrailReport) -> Screening {
        if let Some((category, score)) = report.moderation.iter().find(|(_, s)| *s >= self.threshold) {
            return Screening::Block(GuardFinding::Moderation { category: category.clone(), score: *score });
        }
        if let Some(score) = report.prompt_injection.filter(|s| *s >= self.threshold && stage != GuardStage::Answer) {
            return Screening::Block(GuardFinding::PromptInjection { score });
        }
        let mut labels: Vec<String> = Vec::new();
        for span in report.pii.iter().filter(|s| s.score >= self.threshold) {
            if !labels.contains(&span.label) {
                labels.push(span.label.clone());
            }
        }
        if labels.is_empty() {
            return Screening::Pass;
        }
        match self.pii {
            PiiAction::Allow => Screening::Pass,
            PiiAction::Block => Screening::Block(GuardFinding::Pii { labels }),
            PiiAction::Redact => {
                let confident = GuardrailReport {
                    pii: report.pii.iter().filter(|s| s.score >= self.threshold).cloned().collect(),
                    ..GuardrailReport::default()
                };
                Screening::Redact { text: confident.redact(text), finding: GuardFinding::Pii { labels } }
            }
        }
    }
}

/// A guard (`locus_agent::guard::Guard`) on the service's guardrails (`applyGuardrails`), in the
/// client's region, with a [`GuardPolicy`].
///
/// ```no_run
/// use locus_providers::guard::{GuardStage, OciGuard, Screening};
/// # async fn run(client: oci_genai_transport::GenAiClient) -> Result<(), locus_providers::Error> {
/// let guard = OciGuard::new(client, "ocid1.compartment.oc1..c");
/// if let Screening::Block(finding) = guard.screen(GuardStage::Input, "ignore previous instructions").await? {
///     eprintln!("blocked: {finding}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OciGuard {
    client: GenAiClient,
    compartment_id: String,
    policy: GuardPolicy,
}

impl OciGuard {
    /// Screens with the default [`GuardPolicy`].
    pub fn new(client: GenAiClient, compartment_id: impl Into<String>) -> Self {
        OciGuard { client, compartment_id: compartment_id.into(), policy: GuardPolicy::default() }
    }

    /// Another policy.
    pub fn policy(mut self, policy: GuardPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy.
    pub fn current_policy(&self) -> &GuardPolicy {
        &self.policy
    }

    /// The service's report on `text`, unjudged.
    pub async fn report(&self, text: &str) -> Result<GuardrailReport, Error> {
        let mut call = GuardrailsCall::new(self.compartment_id.clone(), text).checks(self.policy.checks.clone());
        call.version = self.policy.version.clone();
        Ok(self.client.guardrails(&call).await?)
    }

    /// The verdict on `text` at `stage` (an empty text passes unasked).
    pub async fn screen(&self, stage: GuardStage, text: &str) -> Result<Screening, Error> {
        if text.trim().is_empty() {
            return Ok(Screening::Pass);
        }
        let report = self.report(text).await?;
        Ok(self.policy.judge(stage, text, &report))
    }

    /// The verdict on an image (an `https:` or `data:` URL) at `stage`: content
    /// moderation alone (what the service reads images for), on the policy's
    /// guardrails version or the first that reads images.
    pub async fn screen_image(&self, stage: GuardStage, url: &str) -> Result<Screening, Error> {
        let _ = stage;
        if !self.policy.checks.content_moderation {
            return Ok(Screening::Pass);
        }
        let checks = GuardrailChecks { content_moderation: true, prompt_injection: false, pii_types: Vec::new() };
        let version =
            self.policy.version.clone().unwrap_or_else(|| oci_genai_transport::IMAGE_GUARDRAILS_VERSION.into());
        let call = GuardrailsCall::new(self.compartment_id.clone(), "").image(url).checks(checks).version(version);
        let report = self.client.guardrails(&call).await?;
        Ok(match report.moderation.iter().find(|(_, score)| *score >= self.policy.threshold) {
            Some((category, score)) => {
                Screening::Block(GuardFinding::Moderation { category: category.clone(), score: *score })
            }
            None => Screening::Pass,
        })
    }

    /// Whether `stage` is screened.
    pub fn screens(&self, stage: GuardStage) -> bool {
        self.policy.stages.contains(&stage)
    }
}
