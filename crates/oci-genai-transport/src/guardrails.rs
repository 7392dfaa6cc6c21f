//! Guardrails: `POST /20231130/actions/applyGuardrails` — content moderation,
//! prompt-injection detection and personally identifiable information (PII)
//! with offsets, for text and images, in the client's region.
//!
//! The service scores; it does not block. [`GuardrailReport`] reads its answer
//! into plain values (a score per category, PII spans) and can redact the
//! spans from the text checked; what to block is the caller's policy (see
//! `locus_agent::guard` for one).

use serde::Serialize;

use crate::client::GenAiClient;
use crate::error::Error;
use crate::models::{
    ApplyGuardrailsDetails, ApplyGuardrailsResult, ContentModerationConfiguration, GuardrailConfigs,
    GuardrailVersionConfig, GuardrailsImageInput, GuardrailsImageUrl, GuardrailsInput, GuardrailsTextInput,
    PersonallyIdentifiableInformationConfiguration, PromptInjectionConfiguration,
};

const GUARDRAILS_PATH: &str = "/20231130/actions/applyGuardrails";

/// The content-moderation categories the service scores: `OVERALL` (harmful
/// or offensive language) and `BLOCKLIST` (the service's blocked words).
pub const MODERATION_CATEGORIES: [&str; 2] = ["OVERALL", "BLOCKLIST"];

/// The first guardrails version that reads images.
pub const IMAGE_GUARDRAILS_VERSION: &str = "1.1.0";

/// The PII types checked by default: `PERSON`, `EMAIL`, `TELEPHONE_NUMBER`.
pub const DEFAULT_PII_TYPES: [&str; 3] = ["PERSON", "EMAIL", "TELEPHONE_NUMBER"];

/// Which checks to run. The default runs all three, PII for
/// [`DEFAULT_PII_TYPES`].
///
/// ```
/// use oci_genai_transport::GuardrailChecks;
/// let checks = GuardrailChecks { pii_types: vec!["EMAIL".into()], ..GuardrailChecks::default() };
/// assert!(checks.content_moderation && checks.prompt_injection);
/// assert!(GuardrailChecks::none().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailChecks {
    /// Score `OVERALL` and `BLOCKLIST`.
    pub content_moderation: bool,
    /// Score the chance of a prompt injection.
    pub prompt_injection: bool,
    /// Find PII of these types (none: not checked).
    pub pii_types: Vec<String>,
}

impl Default for GuardrailChecks {
    fn default() -> Self {
        GuardrailChecks {
            content_moderation: true,
            prompt_injection: true,
            pii_types: DEFAULT_PII_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        }
    }
}

impl GuardrailChecks {
    /// No check at all (a starting point for choosing some).
    pub fn none() -> Self {
        GuardrailChecks { content_moderation: false, prompt_injection: false, pii_types: Vec::new() }
    }

    /// Whether no check is chosen (the service refuses such a request).
    pub fn is_empty(&self) -> bool {
        !self.content_moderation && !self.prompt_injection && self.pii_types.is_empty()
    }

    /// The wire form.
    pub fn to_wire(&self) -> GuardrailConfigs {
        GuardrailConfigs {
            content_moderation_config: self.content_moderation.then(|| ContentModerationConfiguration {
                categories: MODERATION_CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
            }),
            personally_identifiable_information_config: (!self.pii_types.is_empty())
                .then(|| PersonallyIdentifiableInformationConfiguration { types: self.pii_types.clone() }),
            prompt_injection_config: self.prompt_injection.then_some(PromptInjectionConfiguration {}),
        }
    }
}

/// One guardrails check: text, images (as `data:` or `https:` URLs), or both.
///
/// ```
/// use oci_genai_transport::GuardrailsCall;
/// let call = GuardrailsCall::new("ocid1.compartment.oc1..c", "Mail me at jane@example.com").version("1.0.1");
/// let details = call.details();
/// assert!(details.input.is_some() && details.multimodal_input.is_none());
/// assert_eq!(details.guardrail_version_config.unwrap().guardrail_version, "1.0.1");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailsCall {
    /// The compartment.
    pub compartment_id: String,
    /// The text to check (may be empty when images are given).
    pub text: String,
    /// Images to check, in order after the text (guardrails version 1.1.0 and later).
    pub images: Vec<String>,
    /// Which checks to run.
    pub checks: GuardrailChecks,
    /// A guardrails version to pin (`1.0.1`); the service's default when unset.
    pub version: Option<String>,
}

impl GuardrailsCall {
    /// Checks `text` with every check.
    pub fn new(compartment_id: impl Into<String>, text: impl Into<String>) -> Self {
        GuardrailsCall {
            compartment_id: compartment_id.into(),
            text: text.into(),
            images: Vec::new(),
            checks: GuardrailChecks::default(),
            version: None,
        }
    }

    /// Adds an image.
    pub fn image(mut self, url: impl Into<String>) -> Self {
        self.images.push(url.into());
        self
    }

    /// Chooses the checks.
    pub fn checks(mut self, checks: GuardrailChecks) -> Self {
        self.checks = checks;
        self
    }

    /// Pins a guardrails version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The wire request: text alone goes in `input`; with images, everything
    /// goes in `multimodalInput`, text first (the service reads `input` and
    /// ignores `multimodalInput` when both are sent).
    pub fn details(&self) -> ApplyGuardrailsDetails {
        let text = |content: &str| {
            GuardrailsInput::Text(GuardrailsTextInput { content: Some(content.to_owned()), language_code: None })
        };
        let (input, multimodal_input) = if self.images.is_empty() {
            (Some(text(&self.text)), None)
        } else {
            let mut all = Vec::with_capacity(self.images.len() + 1);
            if !self.text.is_empty() {
                all.push(text(&self.text));
            }
            all.extend(self.images.iter().map(|url| {
                GuardrailsInput::Image(GuardrailsImageInput {
                    image_url: Some(GuardrailsImageUrl { url: url.clone() }),
                })
            }));
            (None, Some(all))
        };
        ApplyGuardrailsDetails {
            input,
            multimodal_input,
            guardrail_configs: self.checks.to_wire(),
            guardrail_version_config: self
                .version
                .as_ref()
                .map(|v| GuardrailVersionConfig { guardrail_version: v.clone() }),
            compartment_id: self.compartment_id.clone(),
        }
    }
}

/// A piece of personal information the service found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PiiSpan {
    /// `PERSON`, `EMAIL`, `TELEPHONE_NUMBER`, …
    pub label: String,
    /// The text found.
    pub text: String,
    /// Where it starts, in characters, as the service counts.
    pub offset: usize,
    /// Its length, in characters.
    pub length: usize,
    /// The service's confidence, 0 to 1.
    pub score: f64,
}

/// What the guardrails found, as plain values.
///
/// ```
/// use oci_genai_transport::{GuardrailReport, PiiSpan};
/// let report = GuardrailReport {
///     pii: vec![PiiSpan { label: "EMAIL".into(), text: "jane@example.com".into(), offset: 11, length: 16, score: 0.99 }],
///     ..Default::default()
/// };
/// assert_eq!(report.redact("Mail me at jane@example.com."), "Mail me at [EMAIL].");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GuardrailReport {
    /// Content moderation: each category's name and score (0 safe, 1 flagged).
    pub moderation: Vec<(String, f64)>,
    /// The prompt-injection score, when checked (0 none, 1 likely).
    pub prompt_injection: Option<f64>,
    /// PII found, in the service's order.
    pub pii: Vec<PiiSpan>,
    /// The guardrails version that answered.
    pub version: Option<String>,
}

impl GuardrailReport {
    /// Reads the service's answer; missing scores are absent, not zero.
    pub fn from_wire(result: &ApplyGuardrailsResult) -> Self {
        let results = result.results.as_ref();
        let moderation = results
            .and_then(|r| r.content_moderation.as_ref())
            .and_then(|m| m.categories.as_ref())
            .map(|categories| {
                categories.iter().map(|c| (c.name.clone().unwrap_or_default(), c.score.unwrap_or_default())).collect()
            })
            .unwrap_or_default();
        let pii = results
            .and_then(|r| r.personally_identifiable_information.as_ref())
            .map(|found| {
                found
                    .iter()
                    .map(|p| PiiSpan {
                        label: p.label.clone().unwrap_or_else(|| "PII".into()),
                        text: p.text.clone().unwrap_or_default(),
                        offset: p.offset.and_then(|o| usize::try_from(o).ok()).unwrap_or_default(),
                        length: p.length.and_then(|l| usize::try_from(l).ok()).unwrap_or_default(),
                        score: p.score.unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        GuardrailReport {
            moderation,
            prompt_injection: results.and_then(|r| r.prompt_injection.as_ref()).and_then(|p| p.score),
            pii,
            version: result.guardrail_version.as_ref().and_then(|v| v.version.clone()),
        }
    }

    /// The highest content-moderation score (0 when not checked).
    pub fn moderation_score(&self) -> f64 {
        self.moderation.iter().map(|(_, score)| *score).fold(0.0, f64::max)
    }

    /// The first moderation category scoring at least `threshold`.
    pub fn flagged_category(&self, threshold: f64) -> Option<&str> {
        self.moderation.iter().find(|(_, score)| *score >= threshold).map(|(name, _)| name.as_str())
    }

    /// `text` with every PII span replaced by `[LABEL]`.
    ///
    /// A span is placed by its offset and length when the characters there
    /// are its text; otherwise (the service may count offsets in other units,
    /// or another text was checked) every occurrence of its text is replaced,
    /// so that no found value survives a redaction.
    pub fn redact(&self, text: &str) -> String {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let byte_at = |char_index: usize| chars.get(char_index).map_or(text.len(), |(at, _)| *at);
        let mut placed: Vec<(usize, usize, &str)> = Vec::new();
        let mut searched: Vec<&PiiSpan> = Vec::new();
        for span in self.pii.iter().filter(|s| !s.text.is_empty()) {
            let (start, end) = (byte_at(span.offset), byte_at(span.offset.saturating_add(span.length)));
            if span.offset < chars.len() && text.get(start..end) == Some(span.text.as_str()) {
                placed.push((start, end, &span.label));
            } else {
                searched.push(span);
            }
        }
        for span in searched {
            placed
                .extend(text.match_indices(span.text.as_str()).map(|(at, found)| (at, at + found.len(), &*span.label)));
        }
        placed.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, label) in placed {
            if start < at {
                // Overlapping a span already replaced: its tail goes too.
                at = at.max(end);
                continue;
            }
            out.push_str(&text[at..start]);
            out.push('[');
            out.push_str(label);
            out.push(']');
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

impl GenAiClient {
    /// Runs the guardrails of `call` in the client's region and reads the answer.
    ///
    /// ```no_run
    /// use oci_genai_transport::{GenAiClient, GuardrailsCall};
    /// # async fn run(client: GenAiClient) -> Result<(), oci_genai_transport::Error> {
    /// let text = "Mail me at jane@example.com";
    /// let report = client.guardrails(&GuardrailsCall::new("ocid1.compartment.oc1..c", text)).await?;
    /// println!("{} (injection {:?})", report.redact(text), report.prompt_injection);
    /// # Ok(()) }
    /// ```
    pub async fn guardrails(&self, call: &GuardrailsCall) -> Result<GuardrailReport, Error> {
        self.apply_guardrails(call.details()).await.map(|result| GuardrailReport::from_wire(&result))
    }

    /// Sends one `applyGuardrails` request as given. An empty check list, or no
    /// input, is refused before sending.
    pub async fn apply_guardrails(&self, details: ApplyGuardrailsDetails) -> Result<ApplyGuardrailsResult, Error> {
        let configs = &details.guardrail_configs;
        if configs.content_moderation_config.is_none()
            && configs.prompt_injection_config.is_none()
            && configs.personally_identifiable_information_config.is_none()
        {
            return Err(Error::InvalidRequest("choose at least one guardrail check".into()));
        }
        if details.input.is_none() && details.multimodal_input.as_ref().is_none_or(Vec::is_empty) {
            return Err(Error::InvalidRequest("nothing to check: give text or an image".into()));
        }
        let body = serde_json::to_vec(&details).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let prepared = self.prepare_regional(GUARDRAILS_PATH, &details.compartment_id, body).await?;
        self.whole(prepared).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(label: &str, text: &str, offset: usize) -> PiiSpan {
        PiiSpan { label: label.into(), text: text.into(), offset, length: text.chars().count(), score: 1.0 }
    }

    #[test]
    fn spans_are_placed_by_character_offsets_then_by_search() {
        let text = "Grüße, Jane: jane@example.com or +1 555 0100";
        let report = GuardrailReport {
            pii: vec![
                span("PERSON", "Jane", 7),
                span("EMAIL", "jane@example.com", 13),
                // A UTF-16 or byte offset would miss: found by its text.
                span("TELEPHONE_NUMBER", "+1 555 0100", 35),
            ],
            ..Default::default()
        };
        assert_eq!(report.redact(text), "Grüße, [PERSON]: [EMAIL] or [TELEPHONE_NUMBER]");
    }

    #[test]
    fn hostile_spans_never_panic_and_never_leave_the_value() {
        let text = "call é 555";
        let report = GuardrailReport {
            pii: vec![
                PiiSpan { label: "X".into(), text: "555".into(), offset: usize::MAX, length: usize::MAX, score: 1.0 },
                PiiSpan { label: "Y".into(), text: "é 5".into(), offset: 5, length: 3, score: 1.0 },
                PiiSpan { label: "Z".into(), text: String::new(), offset: 0, length: 4, score: 1.0 },
            ],
            ..Default::default()
        };
        // `555` overlaps `é 5`: the union is replaced, no digit survives.
        assert_eq!(report.redact(text), "call [Y]");
    }

    #[test]
    fn the_wire_request_names_each_chosen_check() {
        let wire =
            serde_json::to_value(GuardrailsCall::new("c", "hi").image("data:image/png;base64,AA").details()).unwrap();
        assert_eq!(wire["multimodalInput"][0]["type"], "TEXT");
        assert_eq!(wire["multimodalInput"][1]["type"], "IMAGE");
        assert_eq!(wire["guardrailConfigs"]["contentModerationConfig"]["categories"][1], "BLOCKLIST");
        assert_eq!(wire["guardrailConfigs"]["promptInjectionConfig"], serde_json::json!({}));
        let none = GuardrailChecks { pii_types: vec!["EMAIL".into()], ..GuardrailChecks::none() }.to_wire();
        assert!(none.content_moderation_config.is_none() && none.prompt_injection_config.is_none());
    }
}
