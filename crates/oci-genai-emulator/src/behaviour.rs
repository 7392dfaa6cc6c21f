//! What the scripted models answer.

use oci_genai_transport::models as wire;

use crate::config::{Behaviour, Turn, TurnCall};

/// The parts of a request a scripted model looks at, whatever its shape.
#[derive(Debug, Default)]
pub(crate) struct View {
    /// The latest user text.
    pub user_text: String,
    /// Results of the calls just made: (tool name, output).
    pub tool_results: Vec<(String, String)>,
    /// The tools offered.
    pub tools: Vec<String>,
    /// Their parameter schemas (JSON schema), in the same order; `null` when not given.
    pub schemas: Vec<serde_json::Value>,
    /// Assistant turns so far.
    pub assistant_turns: usize,
    /// Images in the latest user message (GENERIC).
    pub images: usize,
    /// The JSON Schema the answer must follow (`responseFormat` / `response_format`), when asked.
    pub schema: Option<serde_json::Value>,
    /// The documents (COHERE, COHEREV2): id (`doc-N` when none) and text.
    pub documents: Vec<(String, String)>,
    /// COHEREV2 `citationOptions.mode` is `OFF`.
    pub citations_off: bool,
}

/// The smallest JSON value `schema` accepts, as a model following it would
/// answer: every property of an object, the first of an `enum`, a `const`,
/// the minimum of a number, one item of an array.
pub(crate) fn instance_of(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|v| v.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").and_then(Value::as_str).unwrap_or("null"),
        kind => kind.as_str().unwrap_or(if schema.get("properties").is_some() { "object" } else { "string" }),
    };
    match kind {
        "object" => {
            let properties = schema["properties"].as_object().cloned().unwrap_or_default();
            Value::Object(properties.iter().map(|(name, sub)| (name.clone(), instance_of(sub))).collect())
        }
        "array" => {
            let count = schema["minItems"].as_u64().unwrap_or(1).max(1);
            Value::Array((0..count).map(|_| instance_of(&schema["items"])).collect())
        }
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(0)),
        "number" => json!(schema["minimum"].as_f64().unwrap_or(0.0)),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => json!("x".repeat(schema["minLength"].as_u64().unwrap_or(1).max(1) as usize)),
    }
}

fn texts(content: &Option<Vec<wire::ChatContent>>) -> String {
    content
        .iter()
        .flatten()
        .filter_map(|c| match c {
            wire::ChatContent::Text(t) => t.text.clone(),
            _ => None,
        })
        .collect()
}

impl View {
    pub fn of(request: &wire::BaseChatRequest) -> View {
        let mut view = View::default();
        match request {
            wire::BaseChatRequest::Generic(g) => {
                if let Some(wire::ResponseFormat::JsonSchema(format)) = &g.response_format {
                    view.schema = format.json_schema.as_ref().and_then(|s| s.schema.clone());
                }
                let messages = g.messages.clone().unwrap_or_default();
                let mut names = std::collections::HashMap::new();
                for m in &messages {
                    match m {
                        wire::Message::User(u) => {
                            view.user_text = texts(&u.content);
                            view.images =
                                u.content.iter().flatten().filter(|c| matches!(c, wire::ChatContent::Image(_))).count();
                        }
                        wire::Message::Assistant(a) => {
                            view.assistant_turns += 1;
                            for call in a.tool_calls.iter().flatten() {
                                if let wire::ToolCall::Function(f) = call {
                                    names.insert(f.id.clone(), f.name.clone().unwrap_or_default());
                                }
                            }
                        }
                        _ => {}
                    }
                }
                // Results count only when they end the conversation (they answer the last calls).
                for m in messages.iter().rev() {
                    let (id, output) = match m {
                        wire::Message::Tool(t) => (t.tool_call_id.clone().unwrap_or_default(), texts(&t.content)),
                        wire::Message::Unknown(v) if v["role"] == "TOOL" => (
                            v["toolCallId"].as_str().unwrap_or_default().to_owned(),
                            v["content"].as_str().map(str::to_owned).unwrap_or_default(),
                        ),
                        _ => break,
                    };
                    view.tool_results.insert(0, (names.get(&id).cloned().unwrap_or_default(), output));
                }
                (view.tools, view.schemas) = g
                    .tools
                    .iter()
                    .flatten()
                    .filter_map(|t| match t {
                        wire::ToolDefinition::Function(f) => {
                            Some((f.name.clone()?, f.parameters.clone().unwrap_or_default()))
                        }
                        wire::ToolDefinition::Unknown(_) => None,
                    })
                    .unzip();
            }
            wire::BaseChatRequest::Cohere(c) => {
                view.documents = documents(c.documents.as_deref());
                view.user_text = c.message.clone();
                for m in c.chat_history.iter().flatten() {
                    match m {
                        wire::CohereMessage::User(u) if c.message.is_empty() => view.user_text = u.message.clone(),
                        wire::CohereMessage::Chatbot(_) => view.assistant_turns += 1,
                        _ => {}
                    }
                }
                view.tool_results = c
                    .tool_results
                    .iter()
                    .flatten()
                    .map(|r| {
                        let output = r.outputs.first().map(|o| match o.get("result") {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                            None => o.to_string(),
                        });
                        (r.call.name.clone(), output.unwrap_or_default())
                    })
                    .collect();
                (view.tools, view.schemas) =
                    c.tools.iter().flatten().map(|t| (t.name.clone(), cohere_schema(t))).unzip();
            }
            wire::BaseChatRequest::CohereV2(c) => {
                view.documents = documents(c.documents.as_deref());
                view.citations_off = c.citation_options.as_ref().and_then(|o| o.mode.as_ref())
                    == Some(&wire::CitationOptionsV2Mode::Off);
                let text = |content: &[wire::CohereContentV2]| -> String {
                    content
                        .iter()
                        .filter_map(|part| match part {
                            wire::CohereContentV2::Text(t) => t.text.clone(),
                            _ => None,
                        })
                        .collect()
                };
                let mut names = std::collections::HashMap::new();
                for m in &c.messages {
                    match m {
                        wire::CohereMessageV2::User(u) => view.user_text = text(&u.content),
                        wire::CohereMessageV2::Assistant(a) => {
                            view.assistant_turns += 1;
                            for call in a.tool_calls.iter().flatten() {
                                let name = call.function.as_ref().and_then(|f| f["name"].as_str()).unwrap_or_default();
                                names.insert(call.id.clone().unwrap_or_default(), name.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
                for m in c.messages.iter().rev() {
                    let wire::CohereMessageV2::Tool(t) = m else { break };
                    let name = names.get(&t.tool_call_id).cloned().unwrap_or_default();
                    view.tool_results.insert(0, (name, text(&t.content)));
                }
                (view.tools, view.schemas) =
                    c.tools.iter().flatten().map(|t| (t.function.name.clone(), t.function.parameters.clone())).unzip();
            }
            _ => {}
        }
        view
    }
}

/// Documents as either Cohere shape sends them: `{"id", "text"}` or `{"id", "data": {"text"}}`.
fn documents(documents: Option<&[serde_json::Value]>) -> Vec<(String, String)> {
    documents
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let id = d["id"].as_str().map_or_else(|| format!("doc-{i}"), str::to_owned);
            let text = d["text"].as_str().or(d["data"]["text"].as_str()).map_or_else(|| d.to_string(), str::to_owned);
            (id, text)
        })
        .collect()
}

/// A plain answer to a request with documents, answered from the first one, cited.
pub(crate) fn grounded(turn: Turn, view: &View) -> Turn {
    let Some((id, text)) = view.documents.first() else { return turn };
    if !turn.tool_calls.is_empty() || !turn.citations.is_empty() || view.schema.is_some() {
        return turn;
    }
    let lead = "From the documents: ";
    let start = lead.chars().count();
    let citation = crate::config::TurnCitation {
        start,
        end: start + text.chars().count(),
        text: text.clone(),
        document_ids: vec![id.clone()],
    };
    let citations = if view.citations_off { Vec::new() } else { vec![citation] };
    Turn { text: format!("{lead}{text}"), citations, ..turn }
}

/// A COHERE tool's parameter definitions as a JSON schema.
fn cohere_schema(tool: &wire::CohereTool) -> serde_json::Value {
    let definitions = tool.parameter_definitions.iter().flatten();
    let properties: serde_json::Map<String, serde_json::Value> =
        definitions.clone().map(|(name, d)| (name.clone(), serde_json::json!({ "type": d.r#type }))).collect();
    let required: Vec<&String> = definitions.filter(|(_, d)| d.is_required == Some(true)).map(|(n, _)| n).collect();
    serde_json::json!({ "type": "object", "properties": properties, "required": required })
}

/// Arguments for `schema` filled from `prompt`: each required property from
/// the prompt (a quoted text for a string, the numbers in order for numbers,
/// `true` for a boolean); `None` when one cannot be filled.
fn fill(schema: &serde_json::Value, prompt: &str) -> Option<serde_json::Value> {
    let quoted = quoted_text(prompt);
    let mut numbers = prompt
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter_map(|w| w.trim_matches('.').parse::<f64>().ok())
        .collect::<Vec<_>>()
        .into_iter();
    let mut arguments = serde_json::Map::new();
    for name in schema["required"].as_array().into_iter().flatten().filter_map(|n| n.as_str()) {
        let value = match schema["properties"][name]["type"].as_str().unwrap_or("string") {
            "string" => serde_json::Value::String(quoted.clone()?),
            "number" => serde_json::json!(numbers.next()?),
            "integer" => serde_json::json!(numbers.next()? as i64),
            "boolean" => serde_json::Value::Bool(true),
            _ => return None,
        };
        arguments.insert(name.to_owned(), value);
    }
    Some(serde_json::Value::Object(arguments))
}

/// The first text between double (or single) quotes.
fn quoted_text(prompt: &str) -> Option<String> {
    ['"', '\''].iter().find_map(|&q| {
        let start = prompt.find(q)? + 1;
        let end = prompt[start..].find(q)? + start;
        Some(prompt[start..end].to_owned())
    })
}

/// The longest run of arithmetic characters with a digit and an operator.
pub(crate) fn find_expression(text: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_digit() || " +-*/().^%×÷".contains(c);
    let mut best: Option<String> = None;
    for run in text.split(|c: char| !allowed(c)) {
        let run = run.trim().trim_end_matches(['.', ' ']);
        let has_digit = run.chars().any(|c| c.is_ascii_digit());
        let has_operator = run.chars().any(|c| "+-*/^%×÷".contains(c));
        if has_digit && has_operator && best.as_ref().is_none_or(|b| run.len() > b.len()) {
            best = Some(run.to_owned());
        }
    }
    best
}

/// The scripted answer to `view`.
pub(crate) fn answer(behaviour: &Behaviour, view: &View) -> Turn {
    // Structured output: the answer is JSON that follows the schema asked for.
    if let Some(schema) = &view.schema {
        return Turn { text: instance_of(schema).to_string(), ..Default::default() };
    }
    match behaviour {
        // An echo says how many images came with the text, so that clients can see them arrive.
        Behaviour::Echo if view.images > 0 => {
            Turn { text: format!("{} [{} image(s)]", view.user_text, view.images), ..Default::default() }
        }
        Behaviour::Echo => Turn { text: view.user_text.clone(), ..Default::default() },
        Behaviour::Script(turns) => turns.get(view.assistant_turns).or(turns.last()).cloned().unwrap_or_default(),
        Behaviour::ToolCaller | Behaviour::InlineToolCaller => {
            let turn = tool_caller(view);
            if *behaviour == Behaviour::InlineToolCaller && !turn.tool_calls.is_empty() {
                let markup: String = turn
                    .tool_calls
                    .iter()
                    .map(|c| {
                        format!(
                            "<tool_call>\n{}\n</tool_call>\n",
                            serde_json::json!({"name": c.name, "arguments": c.arguments})
                        )
                    })
                    .collect();
                return Turn { text: format!("{}\n{markup}", turn.text), ..Default::default() };
            }
            turn
        }
    }
}

fn tool_caller(view: &View) -> Turn {
    if !view.tool_results.is_empty() {
        let parts: Vec<String> = view
            .tool_results
            .iter()
            .map(|(name, output)| match name.as_str() {
                "calculator" => match find_expression(&view.user_text) {
                    Some(expression) => format!("{expression} = {output}."),
                    None => format!("The result is {output}."),
                },
                "clock" => format!("The clock says {output}."),
                other => format!("{other} returned {output}."),
            })
            .collect();
        return Turn { text: parts.join(" "), ..Default::default() };
    }
    let offered = |name: &str| view.tools.iter().any(|t| t == name);
    let lower = view.user_text.to_ascii_lowercase();
    let mut calls = Vec::new();
    if let Some(expression) = find_expression(&view.user_text).filter(|_| offered("calculator")) {
        calls.push(TurnCall { name: "calculator".into(), arguments: serde_json::json!({ "expression": expression }) });
    }
    if ["time", "clock", "date", "today"].iter().any(|w| lower.contains(w)) && offered("clock") {
        calls.push(TurnCall { name: "clock".into(), arguments: serde_json::json!({}) });
    }
    // Any other tool: the first one the prompt names whose required arguments it can fill.
    if calls.is_empty() {
        let named = |tool: &str| {
            lower.contains(&tool.to_ascii_lowercase().replace(['_', '-'], " "))
                || lower.contains(&tool.to_ascii_lowercase())
        };
        let schemas = view.schemas.iter().chain(std::iter::repeat(&serde_json::Value::Null));
        let call = view
            .tools
            .iter()
            .zip(schemas)
            .filter(|(name, _)| !["calculator", "clock"].contains(&name.as_str()) && named(name))
            .find_map(|(name, schema)| {
                fill(schema, &view.user_text).map(|arguments| TurnCall { name: name.clone(), arguments })
            });
        calls.extend(call);
    }
    if calls.is_empty() {
        let text = if view.tools.is_empty() {
            format!("You said: {}", view.user_text)
        } else if view.tools.iter().all(|t| t == "calculator" || t == "clock") {
            "I can do arithmetic with the calculator and tell the time with the clock.".to_owned()
        } else {
            format!(
                "I can use these tools: {}. Name one, with what it needs (text in quotes), and I will call it.",
                view.tools.join(", ")
            )
        };
        return Turn { text, ..Default::default() };
    }
    Turn { text: "Let me work that out.".into(), tool_calls: calls, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_gets_the_smallest_answer_it_accepts() {
        let schema = serde_json::json!({"type": "object", "properties": {
            "n": {"type": "integer", "minimum": 3}, "tags": {"type": "array", "items": {"type": "string"}},
            "kind": {"enum": ["a", "b"]}, "ok": {"type": ["boolean", "null"]}}});
        assert_eq!(instance_of(&schema), serde_json::json!({"n": 3, "tags": ["x"], "kind": "a", "ok": true}));
    }

    #[test]
    fn expressions_are_found_in_prose() {
        assert_eq!(find_expression("what is 17*23?").as_deref(), Some("17*23"));
        assert_eq!(find_expression("compute (2 + 3) * 4 please").as_deref(), Some("(2 + 3) * 4"));
        assert_eq!(find_expression("in 2024 we met"), None);
        assert_eq!(find_expression("hello"), None);
    }

    #[test]
    fn offered_tools_are_called_when_named_and_fillable() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"text": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["text", "n"]
        });
        let view = |prompt: &str| View {
            user_text: prompt.into(),
            tools: vec!["calculator".into(), "echo_text".into()],
            schemas: vec![serde_json::Value::Null, schema.clone()],
            ..Default::default()
        };
        let turn = tool_caller(&view("please echo text \"hi there\" 3 times"));
        assert_eq!(turn.tool_calls[0].name, "echo_text");
        assert_eq!(turn.tool_calls[0].arguments, serde_json::json!({"text": "hi there", "n": 3}));
        assert!(tool_caller(&view("echo text without a quote")).tool_calls.is_empty(), "cannot fill `text`");
        assert!(tool_caller(&view("say \"hi\" 3 times")).tool_calls.is_empty(), "not named");
    }
}
