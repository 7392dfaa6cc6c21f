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
    /// Assistant turns so far.
    pub assistant_turns: usize,
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
                let messages = g.messages.clone().unwrap_or_default();
                let mut names = std::collections::HashMap::new();
                for m in &messages {
                    match m {
                        wire::Message::User(u) => view.user_text = texts(&u.content),
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
                view.tools = g
                    .tools
                    .iter()
                    .flatten()
                    .filter_map(|t| match t {
                        wire::ToolDefinition::Function(f) => f.name.clone(),
                        wire::ToolDefinition::Unknown(_) => None,
                    })
                    .collect();
            }
            wire::BaseChatRequest::Cohere(c) => {
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
                view.tools = c.tools.iter().flatten().map(|t| t.name.clone()).collect();
            }
            wire::BaseChatRequest::CohereV2(c) => {
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
                view.tools = c.tools.iter().flatten().map(|t| t.function.name.clone()).collect();
            }
            _ => {}
        }
        view
    }
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
    match behaviour {
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
    if calls.is_empty() {
        let text = if view.tools.is_empty() {
            format!("You said: {}", view.user_text)
        } else {
            "I can do arithmetic with the calculator and tell the time with the clock.".to_owned()
        };
        return Turn { text, ..Default::default() };
    }
    Turn { text: "Let me work that out.".into(), tool_calls: calls, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_found_in_prose() {
        assert_eq!(find_expression("what is 17*23?").as_deref(), Some("17*23"));
        assert_eq!(find_expression("compute (2 + 3) * 4 please").as_deref(), Some("(2 + 3) * 4"));
        assert_eq!(find_expression("in 2024 we met"), None);
        assert_eq!(find_expression("hello"), None);
    }
}
