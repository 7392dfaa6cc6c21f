//! `locus chat --schema`: structured output. The schema goes to the model
//! as its response format (JSON Schema, strict), and the answer is checked
//! against it before it counts as done.

use crate::error::CliError;

/// A `--schema`: the JSON sent as the response format, and its validator, compiled once.
pub(crate) struct Schema {
    pub value: serde_json::Value,
    validator: jsonschema::Validator,
}

/// The schema `--schema` names: JSON text (starting with `{`) or a file of
/// it, which must be a JSON Schema object.
pub(crate) fn load(argument: Option<&str>) -> Result<Option<Schema>, CliError> {
    let Some(argument) = argument else { return Ok(None) };
    let (text, from) = if argument.trim_start().starts_with('{') {
        (argument.to_owned(), "the --schema text".to_owned())
    } else {
        let text = std::fs::read_to_string(argument)
            .map_err(|e| CliError::Usage(format!("--schema {argument}: cannot read it: {e}")))?;
        (text, format!("--schema {argument}"))
    };
    let schema: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| CliError::Usage(format!("{from} is not JSON: {e}")))?;
    if !schema.is_object() {
        return Err(CliError::Usage(format!("{from} is not a JSON Schema object")));
    }
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| CliError::Usage(format!("{from} is not a valid JSON Schema: {e}")))?;
    Ok(Some(Schema { value: schema, validator }))
}

/// Checks `answer` against `schema`: JSON (a fenced ```json block is read
/// too), and every constraint met.
pub(crate) fn check(schema: &Schema, answer: &str) -> Result<serde_json::Value, CliError> {
    let text = answer.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| CliError::Schema(format!("the answer is not JSON ({e})")))?;
    let problems: Vec<String> = schema
        .validator
        .iter_errors(&value)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
        })
        .collect();
    if problems.is_empty() { Ok(value) } else { Err(CliError::Schema(problems.join("; "))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_file_schemas_load_and_answers_are_checked() {
        let schema =
            load(Some(r#"{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}"#)).unwrap().unwrap();
        assert!(check(&schema, r#"{"n": 4}"#).is_ok());
        assert!(check(&schema, "```json\n{\"n\": 4}\n```").is_ok());
        let wrong = check(&schema, r#"{"n": "four"}"#).unwrap_err().to_string();
        assert!(wrong.contains("/n"), "{wrong}");
        assert!(check(&schema, "four").unwrap_err().to_string().contains("not JSON"));
        assert!(load(Some("[1]")).is_err() && load(Some("/nonexistent.json")).is_err());
        assert!(load(Some(r#"{"type": 12}"#)).is_err(), "not a valid schema");
    }
}
