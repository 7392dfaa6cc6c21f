//! A model name that names nothing (a typo, most often): the region's own
//! listing says so, with the names it most likely meant.

use locus_providers::OciChatModel;

use crate::error::CliError;

/// How long the listing may take before the note is given up.
const LISTING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// For a 404 on an on-demand model the region does not list: a note naming
/// the nearest listed names. `None` when the model is listed (then the 404
/// is about access, and the hint's policy advice stands) or the listing fails.
pub(crate) async fn unknown_model_note(model: &OciChatModel, error: &CliError) -> Option<String> {
    let CliError::Agent(error) = error else { return None };
    let service = error.transport()?.service()?;
    if service.status != 404 || model.serving_mode().is_dedicated() {
        return None;
    }
    let id = model.serving_mode().id();
    let listing = model.client().list_models(model.compartment(), Some("CHAT"));
    let listed = tokio::time::timeout(LISTING_WAIT, listing).await.ok()?.ok()?;
    if listed.iter().any(|m| m.display_name.eq_ignore_ascii_case(id) || m.id == id) {
        return None;
    }
    let names: Vec<&str> = listed.iter().map(|m| m.display_name.as_str()).collect();
    let nearest = nearest(id, &names);
    let guess = match nearest.as_slice() {
        [] => String::new(),
        names => format!("; did you mean {}?", names.join(" or ")),
    };
    let region = service.context.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
    Some(format!("`{id}` is not a chat model{region}{guess} (`locus models` lists them)"))
}

/// The names closest to `wanted`: those at the smallest distance (at most
/// three), within a quarter of its length in edits (at least 3).
fn nearest<'a>(wanted: &str, names: &[&'a str]) -> Vec<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    let limit = (wanted.len() / 4).max(3);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .map(|name| (strsim::levenshtein(&wanted, &name.to_ascii_lowercase()), *name))
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    let best = scored.first().map_or(0, |(distance, _)| *distance);
    scored.into_iter().take_while(|(distance, _)| *distance == best).take(3).map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_its_model_and_nonsense_finds_none() {
        let names = ["openai.gpt-4.1", "openai.gpt-5", "meta.llama-3.3-70b-instruct", "cohere.command-a-03-2025"];
        assert_eq!(nearest("openai.gpt4.1", &names), ["openai.gpt-4.1"]);
        assert_eq!(nearest("meta.llama-3.3-70b-instruc", &names), ["meta.llama-3.3-70b-instruct"]);
        assert!(nearest("banana", &names).is_empty());
    }
}
