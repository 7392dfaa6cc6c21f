//! Rust names for the spec's type names, tags and JSON fields.

pub(super) fn pascal(tag: &str) -> String {
    let mut out = String::new();
    for word in tag.split(['_', '-', ' ']).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase();
        let mut chars = lower.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    // COHEREV2 reads better as CohereV2.
    if let Some(i) = out.rfind('v') {
        if i > 0 && out[i + 1..].chars().all(|c| c.is_ascii_digit()) && i + 1 < out.len() {
            out.replace_range(i..=i, "V");
        }
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `reasoningEffort` → `ReasoningEffort`.
pub(super) fn upper_first(json: &str) -> String {
    let mut chars = json.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

pub(super) fn field_ident(name: &str) -> String {
    match name {
        "type" | "match" | "ref" | "self" | "move" | "fn" | "mod" | "use" | "impl" | "loop" | "where" => {
            format!("r#{name}")
        }
        other => other.to_owned(),
    }
}
