//! A tool as the agent holds it: with its argument schema compiled for validation.

use super::tool::SharedTool;

/// A tool with its compiled argument validator.
pub(crate) struct RegisteredTool {
    pub tool: SharedTool,
    validator: Option<jsonschema::Validator>,
}

impl RegisteredTool {
    pub fn new(tool: SharedTool) -> Self {
        let validator = match jsonschema::validator_for(&tool.parameters()) {
            Ok(validator) => Some(validator),
            Err(e) => {
                tracing::warn!(
                    tool = tool.name(),
                    "the tool's parameter schema is not a valid JSON schema ({e}); arguments are not validated"
                );
                None
            }
        };
        RegisteredTool { tool, validator }
    }

    /// Every way `arguments` breaks the schema, joined; `None` when they fit.
    pub fn validate(&self, arguments: &serde_json::Value) -> Option<String> {
        let validator = self.validator.as_ref()?;
        let problems: Vec<String> = validator
            .iter_errors(arguments)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
            })
            .collect();
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}
