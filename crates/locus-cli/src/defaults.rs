//! The defaults file, `~/.config/locus/config.toml`: a default model,
//! compartment, transport and region, and named aliases for models.
//!
//! ```toml
//! model = "meta.llama-3.3-70b-instruct"       # or an alias below
//! compartment_id = "ocid1.compartment.oc1..example"
//! transport = "chat-completions"
//!
//! [aliases.qwen-london]
//! model = "ocid1.generativeaiendpoint.oc1.uk-london-1.example"
//! compartment_id = "ocid1.compartment.oc1..dac"
//! api_format = "generic"
//!
//! [guard]                                     # guardrails: `locus serve` (every route) and `locus chat`
//! pii = "redact"                               # allow, redact or block
//!
//! [aliases.public.guard]                       # a route of its own
//! pii = "block"
//! stages = ["input", "answer"]
//!
//! [[profiles]]                                 # what a model takes (docs/providers.md)
//! prefix = "acme."
//! transport = "responses"
//!
//! [mcp.servers.files]                          # tools for `locus chat`
//! command = ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"]
//!
//! [mcp.servers.tracker]
//! url = "https://mcp.example.com/mcp"
//! bearer_token_env = "TRACKER_TOKEN"           # the variable holding the token
//! trust = "read-only-hints"                    # its read-only tools run without asking
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use locus_agent::guard::{GuardPolicy, GuardStage, PiiAction};
use locus_agent::oci_id;
use locus_agent::settings::{Setting, Settings, Source};
use oci_auth::Env;
use serde::Deserialize;

use crate::error::CliError;

/// The settings one entry (the file's top level, or an alias) may hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A model name, model OCID or endpoint OCID (`oci:` optional); at the top level, also an alias.
    pub model: Option<String>,
    /// The compartment.
    pub compartment_id: Option<String>,
    /// `native`, `chat-completions` or `responses`.
    pub transport: Option<String>,
    /// `generic`, `cohere` or `auto`.
    pub api_format: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The OCI config profile.
    pub profile: Option<String>,
    /// Guardrails: at the top level, for `locus chat` and every route of
    /// `locus serve`; in an alias, for that route.
    pub guard: Option<GuardEntry>,
}

/// A `[guard]` table: the service's guardrails and what to do with what they find.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardEntry {
    /// `false` turns guardrails off (for an alias under a top-level `[guard]`); default `true`.
    pub enabled: Option<bool>,
    /// Personal information: `allow`, `redact` (default) or `block`.
    pub pii: Option<PiiAction>,
    /// What is screened: `input`, `tool_result`, `answer` (default: all three).
    pub stages: Option<Vec<GuardStage>>,
    /// The checks: `moderation`, `injection`, `pii` (default: all three).
    pub checks: Option<Vec<String>>,
    /// The personal-information types (default: PERSON, EMAIL, TELEPHONE_NUMBER).
    pub pii_types: Option<Vec<String>>,
    /// The score at which a check counts (default 0.5).
    pub threshold: Option<f64>,
    /// A guardrails version to pin.
    pub version: Option<String>,
}

impl GuardEntry {
    /// The policy, `None` when turned off; `source` names the table in errors.
    pub fn policy(&self, source: &str) -> Result<Option<GuardPolicy>, CliError> {
        if self.enabled == Some(false) {
            return Ok(None);
        }
        let mut policy = GuardPolicy::default();
        if let Some(pii) = self.pii {
            policy.pii = pii;
        }
        if let Some(stages) = &self.stages {
            policy.stages = stages.clone();
        }
        if let Some(types) = &self.pii_types {
            policy.checks.pii_types = types.iter().map(|t| t.trim().to_ascii_uppercase()).collect();
        }
        if let Some(checks) = &self.checks {
            for check in checks {
                if !["moderation", "injection", "pii"].contains(&check.as_str()) {
                    return Err(CliError::Usage(format!(
                        "{source}: `checks`: `{check}` is not one of moderation, injection, pii"
                    )));
                }
            }
            policy.checks.content_moderation = checks.iter().any(|c| c == "moderation");
            policy.checks.prompt_injection = checks.iter().any(|c| c == "injection");
            if !checks.iter().any(|c| c == "pii") {
                policy.checks.pii_types.clear();
            }
            if policy.checks.is_empty() {
                return Err(CliError::Usage(format!("{source}: `checks` is empty: use `enabled = false` instead")));
            }
        }
        if let Some(threshold) = self.threshold {
            if !(0.0..=1.0).contains(&threshold) {
                return Err(CliError::Usage(format!("{source}: `threshold` {threshold}: give a score from 0 to 1")));
            }
            policy.threshold = threshold;
        }
        policy.version = self.version.clone();
        Ok(Some(policy))
    }
}

/// A defaults file, read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsFile {
    /// Where it was read from (empty when there is none).
    #[serde(skip)]
    pub path: PathBuf,
    /// The defaults.
    #[serde(flatten)]
    pub defaults: Entry,
    /// Named models with their settings.
    #[serde(default)]
    pub aliases: BTreeMap<String, Entry>,
    /// MCP servers whose tools `locus chat` offers.
    #[serde(default)]
    pub mcp: McpSection,
    /// Model-profile rules after the built-in table (`[[profiles]]`, as in
    /// `locus_providers::profiles`): what a model takes, for models the table
    /// does not know or knows wrong.
    #[serde(default)]
    pub profiles: Vec<locus_providers::profiles::ProfileRule>,
}

/// The `[mcp]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSection {
    /// Servers by name.
    #[serde(default)]
    pub servers: BTreeMap<String, McpEntry>,
}

/// One `[mcp.servers.NAME]`: a `command` (stdio) or a `url` (streamable HTTP).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpEntry {
    /// The program and its arguments.
    pub command: Option<Vec<String>>,
    /// Variables for the program, beside the inherited ones.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The server's URL.
    pub url: Option<String>,
    /// The environment variable that holds a bearer token for `url`.
    pub bearer_token_env: Option<String>,
    /// `"read-only-hints"`: believe the server's `readOnlyHint` annotations, so
    /// its read-only tools run without asking (default: ask for every tool).
    pub trust: Option<McpTrust>,
}

/// How far a server's own claims about its tools are believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpTrust {
    /// Nothing: every tool is asked about (the default).
    None,
    /// Tools marked `readOnlyHint` (and not `destructiveHint`) run without asking.
    ReadOnlyHints,
}

impl DefaultsFile {
    /// Where the file is: `--locus-config`, else `LOCUS_CONFIG`, else
    /// `$XDG_CONFIG_HOME/locus/config.toml`, else `~/.config/locus/config.toml`.
    /// The second value says whether it was named (then it must exist).
    pub fn locate(flag: Option<&Path>, env: &dyn Env) -> (Option<PathBuf>, bool) {
        if let Some(path) = flag {
            return (Some(path.to_owned()), true);
        }
        if let Some(path) = env.var("LOCUS_CONFIG").filter(|p| !p.trim().is_empty()) {
            return (Some(PathBuf::from(path)), true);
        }
        let base = env
            .var("XDG_CONFIG_HOME")
            .filter(|p| !p.trim().is_empty())
            .map(PathBuf::from)
            .or_else(|| env.home_dir().map(|home| home.join(".config")));
        (base.map(|base| base.join("locus/config.toml")), false)
    }

    /// Reads the file (none at the default place: no defaults).
    pub fn load(flag: Option<&Path>, env: &dyn Env) -> Result<DefaultsFile, CliError> {
        let (Some(path), named) = Self::locate(flag, env) else { return Ok(DefaultsFile::default()) };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => return Ok(DefaultsFile::default()),
            Err(e) => return Err(CliError::Usage(format!("cannot read the defaults file {}: {e}", path.display()))),
        };
        let mut file: DefaultsFile = toml::from_str(&text).map_err(|e| {
            CliError::Usage(format!(
                "the defaults file {}: {} (its keys: model, compartment_id, transport, api_format, region, \
                     profile, and [aliases.NAME] tables of them)",
                path.display(),
                e.message()
            ))
        })?;
        file.path = path;
        Ok(file)
    }

    /// The file's defaults as settings (its `model` may be an alias, which the caller looks up with [`alias`](Self::alias)).
    pub fn settings(&self) -> Result<Settings, CliError> {
        entry_settings(&self.defaults, &Source::File(self.path.clone()))
    }

    /// Installs its `[[profiles]]` for this process (none: the built-in table alone).
    pub fn install_profiles(&self) -> Result<(), CliError> {
        locus_providers::profiles::install_overrides(self.profiles.clone())
            .map_err(|e| CliError::Usage(format!("{}: [[profiles]]: {e}", self.path.display())))
    }

    /// The top-level `[guard]` policy, when there is one and it is on.
    pub fn guard(&self) -> Result<Option<GuardPolicy>, CliError> {
        match &self.defaults.guard {
            Some(entry) => entry.policy(&format!("{}: [guard]", self.path.display())),
            None => Ok(None),
        }
    }

    /// An alias's own `[aliases.NAME.guard]`: `None` when it has none (it
    /// inherits), `Some(None)` when it turns guardrails off.
    pub fn alias_guard(&self, name: &str) -> Result<Option<Option<GuardPolicy>>, CliError> {
        match self.aliases.get(name.trim()).and_then(|entry| entry.guard.as_ref()) {
            Some(entry) => entry.policy(&format!("{}: [aliases.{name}.guard]", self.path.display())).map(Some),
            None => Ok(None),
        }
    }

    /// The alias `name`'s settings, when there is one.
    pub fn alias(&self, name: &str) -> Result<Option<Settings>, CliError> {
        let Some(entry) = self.aliases.get(name.trim()) else { return Ok(None) };
        let source = Source::Alias { name: name.trim().to_owned(), path: self.path.clone() };
        if entry.model.is_none() {
            return Err(CliError::Usage(format!("{source} has no `model`")));
        }
        entry_settings(entry, &source).map(Some)
    }
}

fn entry_settings(entry: &Entry, source: &Source) -> Result<Settings, CliError> {
    let text = |value: &Option<String>| value.as_ref().map(|v| Setting::new(v.clone(), source.clone()));
    let trimmed = |value: &Option<String>| value.as_ref().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let bad = |what: &str, e: &dyn std::fmt::Display| CliError::Usage(format!("{source}: `{what}`: {e}"));
    Ok(Settings {
        // An alias name is kept as written; the caller looks it up.
        model: match trimmed(&entry.model) {
            Some(model) if model.contains(':') || oci_genai_transport::is_ocid(&model) => {
                Some(Setting::new(oci_id(&model).map_err(|e| bad("model", &e))?, source.clone()))
            }
            other => other.map(|m| Setting::new(m, source.clone())),
        },
        compartment_id: text(&entry.compartment_id),
        region: text(&entry.region),
        profile: text(&entry.profile),
        transport: match &entry.transport {
            Some(t) => Some(Setting::new(t.parse().map_err(|e| bad("transport", &e))?, source.clone())),
            None => None,
        },
        api_format: match &entry.api_format {
            Some(f) => Some(Setting::new(f.parse().map_err(|e| bad("api_format", &e))?, source.clone())),
            None => None,
        },
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_auth::StaticEnv;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn defaults_and_aliases_are_read_with_their_source() {
        let (_dir, path) = file(
            "model = \"qwen\"\ntransport = \"responses\"\n[aliases.qwen]\nmodel = \"oci:ocid1.generativeaiendpoint.oc1.uk-london-1.x\"\napi_format = \"generic\"\n",
        );
        let defaults = DefaultsFile::load(Some(&path), &StaticEnv::new()).unwrap();
        let top = defaults.settings().unwrap();
        assert_eq!(top.model.unwrap().value, "qwen");
        assert_eq!(top.transport.unwrap().source, Source::File(path.clone()));
        let alias = defaults.alias("qwen").unwrap().unwrap();
        assert_eq!(alias.model.unwrap().value, "ocid1.generativeaiendpoint.oc1.uk-london-1.x");
        assert!(defaults.alias("other").unwrap().is_none());
    }

    #[test]
    fn a_bad_file_names_itself_and_the_key() {
        let (_dir, path) = file("modle = \"x\"\n");
        let err = DefaultsFile::load(Some(&path), &StaticEnv::new()).unwrap_err().to_string();
        assert!(err.contains("config.toml") && err.contains("modle"), "{err}");
        let (_dir, path) = file("transport = \"grpc\"\n");
        let err = DefaultsFile::load(Some(&path), &StaticEnv::new()).unwrap().settings().unwrap_err().to_string();
        assert!(err.contains("transport") && err.contains("chat-completions"), "{err}");
        // Absent at the default place: no defaults; absent where named: an error.
        let home = tempfile::tempdir().unwrap();
        let env = StaticEnv::new().with_home(home.path());
        assert!(DefaultsFile::load(None, &env).unwrap().path.as_os_str().is_empty());
        assert!(DefaultsFile::load(Some(Path::new("/nonexistent/locus.toml")), &env).is_err());
    }
}
