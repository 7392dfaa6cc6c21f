//! Request options the service checks by value: verbosity, service tier and
//! web search's context size, on the native GENERIC shape and the
//! OpenAI-compatible API alike; a value it does not know is a 400.

use oci_genai_transport::models::{
    GenericChatRequest, GenericChatRequestServiceTier, GenericChatRequestVerbosity, WebSearchOptionsSearchContextSize,
};
use serde_json::Value;

/// GENERIC: `verbosity`, `serviceTier`, `webSearchOptions.searchContextSize`.
pub(crate) fn check_generic(request: &GenericChatRequest) -> Result<(), String> {
    if let Some(GenericChatRequestVerbosity::Unknown(v)) = &request.verbosity {
        return Err(format!("verbosity `{v}` is not one of LOW, MEDIUM, HIGH"));
    }
    if let Some(GenericChatRequestServiceTier::Unknown(v)) = &request.service_tier {
        return Err(format!("serviceTier `{v}` is not one of AUTO, DEFAULT, PRIORITY"));
    }
    let size = request.web_search_options.as_ref().and_then(|w| w.search_context_size.as_ref());
    if let Some(WebSearchOptionsSearchContextSize::Unknown(v)) = size {
        return Err(format!("webSearchOptions.searchContextSize `{v}` is not one of LOW, MEDIUM, HIGH"));
    }
    Ok(())
}

/// The OpenAI-compatible API: `verbosity` (or Responses' `text.verbosity`),
/// `service_tier`, `web_search_options.search_context_size`.
pub(crate) fn check_openai(body: &[u8]) -> Result<(), String> {
    let Ok(json) = serde_json::from_slice::<Value>(body) else { return Ok(()) };
    let levels = ["low", "medium", "high"];
    let checks = [
        ("verbosity", json.get("verbosity"), &levels[..]),
        ("text.verbosity", json.pointer("/text/verbosity"), &levels[..]),
        ("service_tier", json.get("service_tier"), &["auto", "default", "priority", "flex"][..]),
        (
            "web_search_options.search_context_size",
            json.pointer("/web_search_options/search_context_size"),
            &levels[..],
        ),
    ];
    for (name, value, allowed) in checks {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            if !value.as_str().is_some_and(|v| allowed.contains(&v)) {
                return Err(format!("{name} {value} is not one of {}", allowed.join(", ")));
            }
        }
    }
    Ok(())
}

/// The tier an OpenAI-compatible answer names: the one asked for, `default` otherwise.
pub(crate) fn service_tier(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.get("service_tier").and_then(Value::as_str).map(str::to_owned))
        .filter(|tier| tier != "auto")
        .unwrap_or_else(|| "default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_the_service_does_not_know_are_named() {
        assert!(check_openai(br#"{"verbosity": "low", "service_tier": "priority"}"#).is_ok());
        let err = check_openai(br#"{"text": {"verbosity": "loud"}}"#).unwrap_err();
        assert!(err.starts_with("text.verbosity \"loud\""), "{err}");
        assert!(check_openai(br#"{"web_search_options": {"search_context_size": 3}}"#).is_err());
        let generic: GenericChatRequest = serde_json::from_value(serde_json::json!({"serviceTier": "TURBO"})).unwrap();
        assert!(check_generic(&generic).unwrap_err().contains("TURBO"));
        assert_eq!(service_tier(br#"{"service_tier": "priority"}"#), "priority");
        assert_eq!(service_tier(b"{}"), "default");
    }
}
