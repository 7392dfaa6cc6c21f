//! Every wire type, filled in from the spec with every field present, survives
//! deserialisation and serialisation unchanged: exact JSON field names, nothing
//! dropped, tags written. Unknown enum values and union tags survive too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oci_genai_transport::models::{self, roundtrip};
use serde_json::{Map, Value, json};

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/genai-inference-20231130.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

struct Examples<'a> {
    models: &'a Map<String, Value>,
}

impl Examples<'_> {
    fn value(&self, ty: &str, allowed: Option<&Value>, depth: usize) -> Value {
        if let Some(element) = ty.strip_prefix("list[").and_then(|t| t.strip_suffix(']')) {
            return json!([self.value(element, allowed, depth)]);
        }
        if let Some(value) = ty.strip_prefix("dict(str, ").and_then(|t| t.strip_suffix(')')) {
            return json!({ "key": self.value(value, allowed, depth) });
        }
        match ty {
            "str" => allowed.and_then(|a| a.as_array()?.last().cloned()).unwrap_or_else(|| json!("text")),
            "int" => json!(7),
            "float" => json!(0.5),
            "bool" => json!(true),
            "datetime" => json!("2026-11-25T12:00:00.000Z"),
            "object" => json!({ "any": ["json", 1] }),
            named => self.object(named, depth + 1),
        }
    }

    /// An example of type `name`; a union takes its first variant.
    fn object(&self, name: &str, depth: usize) -> Value {
        let model = &self.models[name];
        if let Some(variants) = model["discriminator"]["variants"].as_object() {
            let first = variants.values().next().unwrap().as_str().unwrap();
            return self.object(first, depth);
        }
        let mut out = Map::new();
        let tag =
            model["extends"].as_str().map(|parent| self.models[parent]["discriminator"]["json"].as_str().unwrap());
        for field in model["fields"].as_array().unwrap() {
            let json_name = field["json"].as_str().unwrap();
            if Some(json_name) == tag {
                out.insert(json_name.into(), model["discriminator_value"].clone());
                continue;
            }
            let required = field["required"].as_bool().unwrap();
            if depth > 4 && !required {
                continue;
            }
            out.insert(json_name.into(), self.value(field["type"].as_str().unwrap(), field.get("allowed"), depth));
        }
        Value::Object(out)
    }
}

#[test]
fn every_type_round_trips_with_every_field() {
    let spec = spec();
    let models = spec["models"].as_object().unwrap();
    let examples = Examples { models };
    let mut checked = 0;
    for (name, model) in models {
        // A union is checked through each of its variants, by the union's name.
        let cases: Vec<Value> = match model["discriminator"]["variants"].as_object() {
            Some(variants) => variants.values().map(|v| examples.object(v.as_str().unwrap(), 0)).collect(),
            None => vec![examples.object(name, 0)],
        };
        for example in cases {
            let back = roundtrip(name, example.clone()).unwrap_or_else(|e| panic!("{name}: {e}\n{example:#}"));
            assert_eq!(back, example, "{name}");
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked}");
}

#[test]
fn unknown_enum_values_and_union_tags_survive() {
    let request = json!({
        "apiFormat": "GENERIC",
        "reasoningEffort": "ULTRA",
        "messages": [
            {"role": "NARRATOR", "content": [{"type": "TEXT", "text": "hi"}]},
            {"role": "USER", "content": [{"type": "HOLOGRAM", "url": "x"}]}
        ]
    });
    assert_eq!(roundtrip("BaseChatRequest", request.clone()).unwrap(), request);
    let parsed: models::GenericChatRequest = serde_json::from_value(request).unwrap();
    assert_eq!(parsed.reasoning_effort, Some(models::GenericChatRequestReasoningEffort::Unknown("ULTRA".into())));
    let messages = parsed.messages.unwrap();
    assert!(matches!(&messages[0], models::Message::Unknown(v) if v["role"] == "NARRATOR"));

    let serving = json!({"servingType": "SERVERLESS_V3", "modelId": "x"});
    assert!(matches!(serde_json::from_value(serving).unwrap(), models::ServingMode::Unknown(_)));
}

#[test]
fn replies_missing_required_fields_still_parse() {
    let reply = json!({"chatResponse": {"apiFormat": "GENERIC", "choices": [{"message": {"role": "ASSISTANT"}}]}});
    let parsed: models::ChatResult = serde_json::from_value(reply).unwrap();
    assert_eq!(parsed.model_id, None);
    let Some(models::BaseChatResponse::Generic(generic)) = parsed.chat_response else { panic!("generic") };
    assert!(generic.time_created.is_none());
}

#[test]
fn requests_are_built_with_their_required_fields() {
    let details = models::ChatDetails {
        compartment_id: "ocid1.compartment.oc1..c".into(),
        serving_mode: models::ServingMode::Dedicated(models::DedicatedServingMode {
            endpoint_id: "ocid1.generativeaiendpoint.oc1.us-chicago-1.x".into(),
        }),
        chat_request: models::BaseChatRequest::Generic(models::GenericChatRequest {
            is_stream: Some(true),
            stream_options: Some(models::StreamOptions { is_include_usage: Some(true) }),
            ..Default::default()
        }),
    };
    assert_eq!(
        serde_json::to_value(&details).unwrap(),
        json!({
            "compartmentId": "ocid1.compartment.oc1..c",
            "servingMode": {"servingType": "DEDICATED", "endpointId": "ocid1.generativeaiendpoint.oc1.us-chicago-1.x"},
            "chatRequest": {"apiFormat": "GENERIC", "isStream": true, "streamOptions": {"isIncludeUsage": true}}
        })
    );
}
