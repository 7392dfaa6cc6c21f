//! Model profiles: what each model family takes, from one table
//! (`data/profiles.toml`, documented in docs/providers.md), which the
//! defaults file may extend ([`install_overrides`]).
//!
//! The shapes read a model's [`ModelProfile`] when they build a request;
//! [`adapt`] rewrites the neutral request for what the model refuses before
//! any shape sees it; [`refused_parameter`] reads a 400 that names a
//! parameter the model does not take, so that the call is made once more
//! without it (visibly).

use std::borrow::Cow;
use std::sync::{OnceLock, PoisonError, RwLock};

use oci_genai_transport::Transport;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::types::{ChatRequest, Message, Role};

const BUILTIN: &str = include_str!("../data/profiles.toml");

/// What to do with leading system messages when tools are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemWithTools {
    /// Send them as they are.
    #[default]
    Keep,
    /// Put them at the start of the first user message.
    Merge,
}

/// One rule of the table: the models it applies to, and the settings it gives them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRule {
    /// The start of the model names it applies to (`google.`).
    pub prefix: String,
    /// A part those names must also contain (`multi-agent`).
    pub contains: Option<String>,
    /// See [`ModelProfile::reasoning`].
    pub reasoning: Option<bool>,
    /// `native`, `chat-completions` or `responses`.
    pub transport: Option<String>,
    /// See [`ModelProfile::penalties`].
    pub penalties: Option<bool>,
    /// See [`ModelProfile::schema_refs`].
    pub schema_refs: Option<bool>,
    /// See [`ModelProfile::schema_drops`].
    pub schema_drops: Option<Vec<String>>,
    /// See [`ModelProfile::flat_tool_results`].
    pub flat_tool_results: Option<bool>,
    /// See [`ModelProfile::system_with_tools`].
    pub system_with_tools: Option<SystemWithTools>,
}

impl ProfileRule {
    fn applies_to(&self, model: &str) -> bool {
        model.starts_with(&self.prefix.to_ascii_lowercase())
            && self.contains.as_deref().is_none_or(|part| model.contains(&part.to_ascii_lowercase()))
    }
}

/// What one model takes: every rule that applies, merged.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelProfile {
    /// A reasoning model: `max_completion_tokens`, and only the default temperature.
    pub reasoning: bool,
    /// Its default transport, when not the one chosen from its id.
    pub transport: Option<Transport>,
    /// Whether it takes presence and frequency penalties.
    pub penalties: bool,
    /// Whether its tool schemas may hold `$ref` (OpenAI-compatible API).
    pub schema_refs: bool,
    /// Keywords removed from its tool schemas.
    pub schema_drops: Vec<String>,
    /// Whether tool results go as plain strings (native GENERIC).
    pub flat_tool_results: bool,
    /// What happens to leading system messages when tools are offered.
    pub system_with_tools: SystemWithTools,
}

impl Default for ModelProfile {
    fn default() -> Self {
        ModelProfile {
            reasoning: false,
            transport: None,
            penalties: true,
            schema_refs: true,
            schema_drops: Vec::new(),
            flat_tool_results: false,
            system_with_tools: SystemWithTools::Keep,
        }
    }
}

#[derive(Deserialize)]
struct Table {
    rule: Vec<ProfileRule>,
}

fn builtin() -> &'static [ProfileRule] {
    static RULES: OnceLock<Vec<ProfileRule>> = OnceLock::new();
    // The table ships inside the crate and a test parses it: a failure here is a build mistake.
    RULES.get_or_init(|| toml::from_str::<Table>(BUILTIN).map(|t| t.rule).unwrap_or_default())
}

static OVERRIDES: RwLock<Vec<ProfileRule>> = RwLock::new(Vec::new());

/// Rules applied after the built-in table, for the rest of the process (the
/// defaults file's `[[profiles]]`); each is checked first.
///
/// ```
/// use locus_providers::profiles::{install_overrides, profile, ProfileRule};
/// install_overrides(vec![ProfileRule { prefix: "acme.".into(), penalties: Some(false), ..Default::default() }])?;
/// assert!(!profile("acme.model-1").penalties);
/// # Ok::<(), locus_providers::Error>(())
/// ```
pub fn install_overrides(rules: Vec<ProfileRule>) -> Result<(), Error> {
    for rule in &rules {
        check(rule)?;
    }
    *OVERRIDES.write().unwrap_or_else(PoisonError::into_inner) = rules;
    Ok(())
}

/// Whether a rule can be applied: a prefix, and a transport that exists.
pub fn check(rule: &ProfileRule) -> Result<(), Error> {
    if rule.prefix.trim().is_empty() {
        return Err(Error::Config(
            "a profile rule needs a `prefix` (the start of the model names it applies to)".into(),
        ));
    }
    if let Some(transport) = &rule.transport {
        transport.parse::<Transport>().map_err(|e| Error::Config(format!("profile `{}`: {e}", rule.prefix)))?;
    }
    Ok(())
}

/// The built-in rules, in order (for docs and tests).
pub fn builtin_rules() -> &'static [ProfileRule] {
    builtin()
}

/// The profile of `model` (a model name; an OCID matches no rule).
///
/// ```
/// use locus_providers::profiles::profile;
/// assert!(profile("openai.gpt-5-mini").reasoning);
/// assert!(!profile("xai.grok-4").penalties);
/// assert_eq!(profile("meta.llama-3.3-70b-instruct"), profile("meta.llama-3.1-405b-instruct"));
/// ```
pub fn profile(model: &str) -> ModelProfile {
    let model = model.trim().to_ascii_lowercase();
    let mut profile = ModelProfile::default();
    let overrides = OVERRIDES.read().unwrap_or_else(PoisonError::into_inner);
    for rule in builtin().iter().chain(overrides.iter()).filter(|r| r.applies_to(&model)) {
        let ProfileRule { reasoning, transport, penalties, schema_refs, schema_drops, flat_tool_results, .. } = rule;
        profile.reasoning = reasoning.unwrap_or(profile.reasoning);
        if let Some(transport) = transport.as_deref().and_then(|t| t.parse().ok()) {
            profile.transport = Some(transport);
        }
        profile.penalties = penalties.unwrap_or(profile.penalties);
        profile.schema_refs = schema_refs.unwrap_or(profile.schema_refs);
        if let Some(drops) = schema_drops {
            profile.schema_drops.clone_from(drops);
        }
        profile.flat_tool_results = flat_tool_results.unwrap_or(profile.flat_tool_results);
        profile.system_with_tools = rule.system_with_tools.unwrap_or(profile.system_with_tools);
    }
    profile
}

/// `request` as `profile`'s model takes it: tool schemas without the
/// keywords it refuses, and leading system messages merged into the first
/// user message when tools are offered and it refuses them there. Unchanged
/// (borrowed) when nothing applies.
pub fn adapt<'a>(model: &str, profile: &ModelProfile, request: &'a ChatRequest) -> Cow<'a, ChatRequest> {
    let drops_apply = !profile.schema_drops.is_empty()
        && request.tools.iter().any(|t| holds_any(&t.parameters, &profile.schema_drops));
    let merge = profile.system_with_tools == SystemWithTools::Merge
        && !request.tools.is_empty()
        && request.messages.first().is_some_and(|m| m.role == Role::System)
        && request.messages.iter().any(|m| m.role == Role::User);
    if !drops_apply && !merge {
        return Cow::Borrowed(request);
    }
    let mut adapted = request.clone();
    if drops_apply {
        for tool in &mut adapted.tools {
            if holds_any(&tool.parameters, &profile.schema_drops) {
                tracing::warn!(model, tool = %tool.name, "the model refuses {} in tool schemas; removed", profile.schema_drops.join(", "));
                tool.parameters = drop_keywords(&tool.parameters, &profile.schema_drops);
            }
        }
    }
    if merge {
        let leading = adapted.messages.iter().take_while(|m| m.role == Role::System).count();
        let system: Vec<String> = adapted.messages.drain(..leading).map(|m| m.text()).collect();
        if let Some(user) = adapted.messages.iter_mut().find(|m| m.role == Role::User) {
            let text = format!("{}\n\n{}", system.join("\n\n"), user.text());
            let images = user.content.iter().filter(|p| !matches!(p, crate::types::ContentPart::Text(_))).cloned();
            let mut content = vec![crate::types::ContentPart::Text(text)];
            content.extend(images);
            *user = Message { content, ..user.clone() };
        }
        tracing::debug!(model, "leading system message merged into the first user message (tools offered)");
    }
    Cow::Owned(adapted)
}

fn holds_any(schema: &Value, keywords: &[String]) -> bool {
    match schema {
        Value::Object(map) => map.iter().any(|(k, v)| keywords.contains(k) || holds_any(v, keywords)),
        Value::Array(items) => items.iter().any(|v| holds_any(v, keywords)),
        _ => false,
    }
}

/// `schema` without `keywords`; a dropped `anyOf`/`oneOf` leaves its first
/// non-null alternative in its place.
fn drop_keywords(schema: &Value, keywords: &[String]) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (key, value) in map {
                if !keywords.contains(key) {
                    out.insert(key.clone(), drop_keywords(value, keywords));
                    continue;
                }
                if matches!(key.as_str(), "anyOf" | "oneOf") {
                    let chosen = value.as_array().and_then(|alternatives| {
                        alternatives
                            .iter()
                            .find(|a| a.get("type") != Some(&Value::from("null")))
                            .or(alternatives.first())
                    });
                    if let Some(Value::Object(alternative)) = chosen.map(|a| drop_keywords(a, keywords)) {
                        for (k, v) in alternative {
                            out.entry(k).or_insert(v);
                        }
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| drop_keywords(v, keywords)).collect()),
        other => other.clone(),
    }
}

/// The parameters a request may carry that a model can refuse, by the names
/// the service uses for them (native camelCase, OpenAI snake_case).
const REFUSABLE: [(&str, &[&str]); 9] = [
    ("temperature", &["temperature"]),
    ("top_p", &["topP", "top_p"]),
    ("top_k", &["topK", "top_k"]),
    ("frequency_penalty", &["frequencyPenalty", "frequency_penalty"]),
    ("presence_penalty", &["presencePenalty", "presence_penalty"]),
    ("seed", &["seed"]),
    ("stop", &["stop", "stopSequences"]),
    ("verbosity", &["verbosity"]),
    ("service_tier", &["serviceTier", "service_tier"]),
];

/// The parameter a 400's `message` says the model does not take, when the
/// request carried it: its neutral name, and the request without it.
///
/// ```
/// use locus_providers::{profiles::refused_parameter, ChatRequest, GenerationParams};
/// let request = ChatRequest { params: GenerationParams { top_k: Some(40), ..Default::default() }, ..Default::default() };
/// let (name, without) = refused_parameter("Unsupported parameter: 'top_k' is not supported with this model.", &request).unwrap();
/// assert_eq!((name, without.params.top_k), ("top_k", None));
/// assert!(refused_parameter("Invalid value for messages", &request).is_none());
/// ```
pub fn refused_parameter(message: &str, request: &ChatRequest) -> Option<(&'static str, ChatRequest)> {
    let lower = message.to_ascii_lowercase();
    let refusal = ["not supported", "unsupported", "not allowed", "not permitted", "does not support"];
    if !refusal.iter().any(|r| lower.contains(r)) {
        return None;
    }
    let named = |wire: &str| {
        message.match_indices(wire).any(|(at, _)| {
            let before = message[..at].chars().next_back();
            let after = message[at + wire.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let mut without = request.clone();
    let params = &mut without.params;
    for (name, wires) in REFUSABLE {
        if !wires.iter().any(|w| named(w)) {
            continue;
        }
        let was_set = match name {
            "temperature" => params.temperature.take().is_some(),
            "top_p" => params.top_p.take().is_some(),
            "top_k" => params.top_k.take().is_some(),
            "frequency_penalty" => params.frequency_penalty.take().is_some(),
            "presence_penalty" => params.presence_penalty.take().is_some(),
            "seed" => params.seed.take().is_some(),
            "stop" => !std::mem::take(&mut params.stop).is_empty(),
            "verbosity" => params.verbosity.take().is_some(),
            _ => params.service_tier.take().is_some(),
        };
        if was_set {
            return Some((name, without));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ToolSpec;

    #[test]
    fn the_builtin_table_parses_and_each_rule_checks() {
        let table: Table = toml::from_str(BUILTIN).unwrap();
        assert_eq!(table.rule.len(), builtin().len());
        table.rule.iter().for_each(|r| check(r).unwrap());
    }

    #[test]
    fn the_docs_table_names_every_builtin_rule() {
        let docs = include_str!("../../../docs/providers.md");
        let table = &docs[docs.find("## Model profiles").unwrap()..docs.find("## Tool calls in streams").unwrap()];
        for rule in builtin() {
            assert!(table.contains(&format!("`{}`", rule.prefix)), "docs/providers.md lacks `{}`", rule.prefix);
        }
    }

    #[test]
    fn each_builtin_rule_gives_its_models_their_profile() {
        assert!(profile("openai.gpt-5").reasoning && profile("OpenAI.o3-mini").reasoning);
        assert!(!profile("openai.gpt-4.1").reasoning);
        assert_eq!(profile("openai.gpt-5.5-pro").transport, Some(Transport::Responses));
        assert!(profile("openai.gpt-5.5-pro").reasoning, "later rules add to earlier ones");
        assert_eq!(profile("openai.gpt-5").transport, None);
        assert!(!profile("xai.grok-4").penalties);
        assert_eq!(profile("xai.grok-4.20-multi-agent").transport, Some(Transport::Responses));
        assert_eq!(profile("xai.grok-4").transport, None);
        let gemini = profile("google.gemini-2.5-pro");
        assert!(!gemini.schema_refs && gemini.flat_tool_results && gemini.schema_drops.contains(&"anyOf".to_owned()));
        assert_eq!(profile("meta.llama-3.3-70b-instruct").system_with_tools, SystemWithTools::Merge);
        assert_eq!(profile("ocid1.generativeaiendpoint.oc1.iad.x"), ModelProfile::default());
    }

    fn tool(parameters: Value) -> ToolSpec {
        ToolSpec { name: "t".into(), description: String::new(), parameters }
    }

    #[test]
    fn gemini_tool_schemas_lose_the_keywords_it_refuses() {
        let schema = serde_json::json!({"type": "object", "properties": {
            "n": {"type": "integer", "exclusiveMinimum": 0},
            "name": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 5}], "description": "who"}}});
        let request = ChatRequest { tools: vec![tool(schema)], ..Default::default() };
        let adapted = adapt("google.gemini-2.5-pro", &profile("google.gemini-2.5-pro"), &request);
        assert_eq!(
            adapted.tools[0].parameters,
            serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"},
                "name": {"type": "string", "maxLength": 5, "description": "who"}}})
        );
        assert!(matches!(adapt("openai.gpt-4.1", &profile("openai.gpt-4.1"), &request), Cow::Borrowed(_)));
    }

    #[test]
    fn llama_gets_its_system_message_in_the_first_user_message_when_tools_are_offered() {
        let mut request = ChatRequest {
            messages: vec![Message::system("Be terse."), Message::user("hi")],
            tools: vec![tool(serde_json::json!({"type": "object"}))],
            ..Default::default()
        };
        let llama = profile("meta.llama-3.3-70b-instruct");
        let adapted = adapt("meta.llama-3.3-70b-instruct", &llama, &request);
        assert_eq!(adapted.messages.len(), 1);
        assert_eq!(adapted.messages[0].text(), "Be terse.\n\nhi");
        request.tools.clear();
        assert!(matches!(adapt("meta.llama-3.3-70b-instruct", &llama, &request), Cow::Borrowed(_)), "no tools");
    }

    #[test]
    fn a_refusal_names_a_parameter_only_when_it_was_sent() {
        let mut request = ChatRequest::default();
        request.params.seed = Some(1);
        request.params.temperature = Some(0.2);
        let refused = |m: &str| refused_parameter(m, &request).map(|(name, _)| name);
        assert_eq!(refused("{\"code\":400,\"message\":\"seed is not supported by this model\"}"), Some("seed"));
        assert_eq!(refused("Unsupported value: 'temperature' does not support 0.2"), Some("temperature"));
        assert_eq!(refused("topK is not supported"), None, "not sent");
        assert_eq!(refused("temperatures are fine; seed_value unsupported"), None, "whole words only");
    }
}
