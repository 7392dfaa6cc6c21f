//! Golden tests: neutral requests (`tests/fixtures/golden/*.request.json`), for
//! the native shapes and the OpenAI-compatible ones,
//! become exactly the wire JSON in `*.wire.json`. `UPDATE_GOLDEN=1` rewrites
//! the wire files; review the diff before committing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use locus_providers::{ApiFormat, ChatRequest, Error, Message, RequestShape, ToolChoice, openai};
use oci_genai_transport::{ServingMode, Transport, models};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden");
const DAC: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaexample";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";

fn request(name: &str) -> ChatRequest {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/{name}.request.json")).unwrap()).unwrap()
}

/// The body as the client sends it for a whole answer (a stream adds `isStream`, and usage for GENERIC).
fn wire(request: &ChatRequest, model: &str, format: ApiFormat) -> Result<Value, Error> {
    let serving = ServingMode::from_model_id(model).unwrap();
    let shape: Box<dyn RequestShape> = format.shape(&serving);
    let chat_request = shape.build_request(request, &serving)?;
    let details =
        models::ChatDetails { compartment_id: COMPARTMENT.into(), serving_mode: serving.to_wire(), chat_request };
    Ok(serde_json::to_value(details).unwrap())
}

fn golden(name: &str, actual: Value) {
    let path = format!("{DIR}/{name}.wire.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
    }
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(actual, expected, "{name}");
}

#[test]
fn generic_on_demand_and_dac_carry_every_parameter() {
    let request = request("generic");
    golden("generic-on-demand", wire(&request, "meta.llama-3.3-70b-instruct", ApiFormat::Auto).unwrap());
    golden("generic-dac", wire(&request, DAC, ApiFormat::Auto).unwrap());
}

#[test]
fn generic_model_quirks() {
    let request = request("generic");
    // OpenAI reasoning models: maxCompletionTokens, and no non-default temperature.
    golden("generic-openai-reasoning", wire(&request, "openai.gpt-5", ApiFormat::Auto).unwrap());
    // Google models: tool results as plain strings.
    golden("generic-google", wire(&request, "google.gemini-2.5-pro", ApiFormat::Auto).unwrap());
}

#[test]
fn cohere_on_demand_and_dac_with_tool_results() {
    let request = request("cohere");
    golden("cohere-on-demand", wire(&request, "cohere.command-r-plus-08-2024", ApiFormat::Auto).unwrap());
    golden("cohere-dac", wire(&request, DAC, ApiFormat::Cohere).unwrap());
}

#[test]
fn cohere_refuses_what_it_cannot_express() {
    let mut with_effort = request("cohere");
    with_effort.params.reasoning_effort = Some(locus_providers::ReasoningEffort::High);
    let err = wire(&with_effort, "cohere.command-r-plus-08-2024", ApiFormat::Auto).unwrap_err();
    assert!(err.to_string().contains("reasoning_effort is not supported by cohere.command-r-plus-08-2024"), "{err}");

    let mut required = request("cohere");
    required.params.tool_choice = Some(ToolChoice::Required);
    assert!(matches!(wire(&required, "cohere.command-r", ApiFormat::Auto), Err(Error::Unsupported { .. })));

    let images = ChatRequest {
        messages: vec![Message::user("hi").with_image(locus_providers::ImageSource::Url("https://x/y.png".into()))],
        ..Default::default()
    };
    assert!(matches!(
        wire(&images, "cohere.command-r", ApiFormat::Auto),
        Err(Error::Unsupported { parameter: "images", .. })
    ));

    let ends_with_assistant =
        ChatRequest { messages: vec![Message::user("hi"), Message::assistant("hello")], ..Default::default() };
    assert!(matches!(wire(&ends_with_assistant, "cohere.command-r", ApiFormat::Auto), Err(Error::InvalidRequest(_))));

    let orphan = ChatRequest {
        messages: vec![Message::user("hi"), Message::tool_result("call_x", "1", false)],
        ..Default::default()
    };
    let err = wire(&orphan, "cohere.command-r", ApiFormat::Auto).unwrap_err();
    assert!(err.to_string().contains("call_x"), "{err}");
}

#[test]
fn cohere_refuses_openai_style_options_by_name() {
    for (field, set) in [
        (
            "verbosity",
            (|r: &mut ChatRequest| r.params.verbosity = Some(locus_providers::Verbosity::Low)) as fn(&mut ChatRequest),
        ),
        ("service_tier", |r| r.params.service_tier = Some(locus_providers::ServiceTier::Priority)),
        ("web_search", |r| r.params.web_search = Some(Default::default())),
    ] {
        let mut request = request("cohere");
        set(&mut request);
        let err = wire(&request, "cohere.command-r-plus-08-2024", ApiFormat::Auto).unwrap_err();
        assert!(matches!(&err, Error::Unsupported { parameter, .. } if *parameter == field), "{err}");
    }
}

/// The profile table's rewrites (`profiles::adapt`), as the model sends them: Llama's leading system
/// message merged when tools are offered; Gemini's tool schemas without the keywords it refuses.
#[test]
fn profiles_rewrite_requests_before_the_shapes() {
    use locus_providers::profiles::{adapt, profile};
    let llama = "meta.llama-3.3-70b-instruct";
    let mut request = request("generic");
    request.params.verbosity = None;
    let adapted = adapt(llama, &profile(llama), &request);
    golden("generic-llama-profile", wire(&adapted, llama, ApiFormat::Auto).unwrap());
    let gemini = "google.gemini-2.5-pro";
    let schema = serde_json::json!({"type": "object", "properties": {
        "limit": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
        "name": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/name"}]}},
        "$defs": {"name": {"type": "string", "minLength": 1}}});
    let tools =
        vec![locus_providers::ToolSpec { name: "lookup".into(), description: "Finds.".into(), parameters: schema }];
    let request = ChatRequest { messages: vec![Message::user("find Ada")], tools, ..Default::default() };
    let adapted = adapt(gemini, &profile(gemini), &request);
    golden("chat-completions-google-profile", openai_wire(&adapted, gemini, Transport::ChatCompletions).unwrap());
}

#[test]
fn citations_off_is_coherev2s_alone() {
    let mut request = request("cohere");
    request.params.citations = Some(locus_providers::CitationMode::Off);
    let err = wire(&request, "cohere.command-r-plus-08-2024", ApiFormat::Auto).unwrap_err().to_string();
    assert!(err.contains("citations = off") && err.contains("COHERE"), "{err}");
    let v2 = wire(&request, "cohere.command-a-03-2025", ApiFormat::Auto).unwrap();
    assert_eq!(v2["chatRequest"]["citationOptions"], serde_json::json!({"mode": "OFF"}));
    let err = wire(&request, "meta.llama-3.3-70b-instruct", ApiFormat::Auto).unwrap_err().to_string();
    assert!(err.contains("documents"), "{err}");
    request.documents.clear();
    let err = wire(&request, "meta.llama-3.3-70b-instruct", ApiFormat::Auto).unwrap_err().to_string();
    assert!(err.contains("citations is not supported"), "{err}");
}

#[test]
fn tool_choice_none_sends_no_tools_to_cohere() {
    let mut request = request("cohere");
    request.params.tool_choice = Some(ToolChoice::None);
    let wire = wire(&request, "cohere.command-r", ApiFormat::Auto).unwrap();
    assert!(wire["chatRequest"].get("tools").is_none());
}

/// The body an OpenAI-compatible transport sends for a whole answer (a
/// stream adds `stream`, and `stream_options` for chat completions).
fn openai_wire(request: &ChatRequest, model: &str, transport: Transport) -> Result<Value, Error> {
    Ok(match transport {
        Transport::Responses => serde_json::to_value(openai::responses::build(request, model)?).unwrap(),
        _ => serde_json::to_value(openai::chat_completions::build(request, model)?).unwrap(),
    })
}

#[test]
fn chat_completions_carry_every_parameter_it_has_and_refuse_top_k() {
    let mut request = request("generic");
    let err = openai_wire(&request, "meta.llama-3.3-70b-instruct", Transport::ChatCompletions).unwrap_err();
    assert!(err.to_string().contains("top_k") && err.to_string().contains("--transport native"), "{err}");
    request.params.top_k = None;
    let wire = |model| openai_wire(&request, model, Transport::ChatCompletions).unwrap();
    golden("chat-completions-on-demand", wire("meta.llama-3.3-70b-instruct"));
    // OpenAI reasoning models: max_completion_tokens, and no non-default temperature.
    golden("chat-completions-openai-reasoning", wire("openai.gpt-5"));
    // xAI: no presence or frequency penalties.
    golden("chat-completions-xai", wire("xai.grok-4"));
}

#[test]
fn responses_send_the_whole_conversation_unstored_and_refuse_what_they_lack() {
    let mut request = request("generic");
    request.params.top_k = None;
    for (field, clear) in [
        ("seed", (|r: &mut ChatRequest| r.params.seed = None) as fn(&mut ChatRequest)),
        ("stop", |r| r.params.stop.clear()),
        ("presence_penalty", |r| (r.params.frequency_penalty, r.params.presence_penalty) = (None, None)),
    ] {
        let err = openai_wire(&request, "openai.gpt-5", Transport::Responses).unwrap_err().to_string();
        assert!(err.contains(field) && err.contains("--transport chat-completions or native"), "{err}");
        clear(&mut request);
    }
    golden("responses-on-demand", openai_wire(&request, "openai.gpt-4.1", Transport::Responses).unwrap());
    golden("responses-openai-reasoning", openai_wire(&request, "openai.gpt-5", Transport::Responses).unwrap());
}

#[test]
fn coherev2_carries_every_parameter_it_has() {
    let mut request = request("generic");
    // OpenAI-style options are refused, each by name, not dropped.
    for (field, clear) in [
        ("verbosity", (|r: &mut ChatRequest| r.params.verbosity = None) as fn(&mut ChatRequest)),
        ("service_tier", |r| r.params.service_tier = None),
        ("web_search", |r| r.params.web_search = None),
    ] {
        let err = wire(&request, "cohere.command-a-03-2025", ApiFormat::Auto).unwrap_err().to_string();
        assert!(err.contains(field) && err.contains("COHEREV2"), "{err}");
        clear(&mut request);
    }
    let err = wire(&request, "cohere.command-a-03-2025", ApiFormat::Auto).unwrap_err().to_string();
    assert!(err.contains("named tool choice") && err.contains("COHEREV2"), "{err}");
    request.params.tool_choice = Some(ToolChoice::Required);
    request.documents =
        vec![locus_providers::Document { id: Some("doc-1".into()), text: "OCI has many regions.".into() }];
    request.params.citations = Some(locus_providers::CitationMode::Fast);
    golden("coherev2-on-demand", wire(&request, "cohere.command-a-03-2025", ApiFormat::Auto).unwrap());
    // The others refuse documents, saying where they go instead.
    let err = wire(&request, "meta.llama-3.3-70b-instruct", ApiFormat::Generic).unwrap_err().to_string();
    assert!(err.contains("documents") && err.contains("Cohere"), "{err}");
    golden("coherev2-dac", wire(&request, DAC, ApiFormat::CohereV2).unwrap());
}
