//! Every tool-call streaming pattern seen from real models (fixtures under
//! `tests/fixtures/streams/`), through SSE parsing, the shape and the
//! accumulator, at any chunking.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{events_cut_at, fixture};
use locus_providers::{
    CohereShape, CohereV2Shape, GenericShape, InlineToolCallFilter, RequestShape, StreamAccumulator, StreamState,
};
use proptest::prelude::*;
use serde_json::Value;

const GENERIC: &[&str] = &[
    "a-gpt-oss",
    "b-parallel-openai",
    "c-gemini-no-ids",
    "d-reannounced-id",
    "e-llama-whole",
    "f-split-anywhere",
    "malformed-arguments",
    "text-with-usage",
    "inline-qwen",
];
const COHERE: &[&str] = &["cohere-text", "cohere-tools", "coherev2-tools"];

/// The final response for `name`, its bytes fed in pieces cut at `cuts`.
fn run(name: &str, cuts: &[usize]) -> Value {
    let shape: Box<dyn RequestShape> = if name.starts_with("coherev2") {
        Box::new(CohereV2Shape)
    } else if name.starts_with("cohere") {
        Box::new(CohereShape)
    } else {
        Box::new(GenericShape)
    };
    let mut inline = name.starts_with("inline").then(InlineToolCallFilter::new);
    let (mut state, mut acc) = (StreamState::default(), StreamAccumulator::new());
    for event in events_cut_at(name, cuts) {
        let mut events = Vec::new();
        shape.parse_stream_chunk(event, &mut state, &mut events).unwrap();
        let events = match inline.as_mut() {
            Some(filter) => filter.filter_events(events),
            None => events,
        };
        events.into_iter().for_each(|e| acc.push(e).unwrap());
    }
    normalise(serde_json::to_value(acc.finish()).unwrap())
}

/// Generated ids become `<generated>` (after checking their form and uniqueness); parse errors `<error>`.
fn normalise(mut response: Value) -> Value {
    let calls = response["message"]["tool_calls"].as_array_mut().unwrap();
    let mut seen = std::collections::HashSet::new();
    for call in calls {
        let id = call["id"].as_str().unwrap().to_owned();
        assert!(seen.insert(id.clone()), "duplicate id {id}");
        let generated = id.len() == 29 && id.starts_with("call_") && id[5..].bytes().all(|b| b.is_ascii_hexdigit());
        if generated {
            call["id"] = "<generated>".into();
        }
        if !call["parse_error"].is_null() {
            call["parse_error"] = "<error>".into();
        }
    }
    response
}

fn expected(name: &str) -> Value {
    serde_json::from_slice(&fixture(&format!("{name}.expected.json"))).unwrap()
}

#[test]
fn every_pattern_gives_the_expected_response() {
    for name in GENERIC.iter().chain(COHERE) {
        assert_eq!(run(name, &[]), expected(name), "{name}");
    }
}

#[test]
fn one_byte_at_a_time_gives_the_same_responses() {
    for name in GENERIC.iter().chain(COHERE) {
        let len = fixture(&format!("{name}.sse")).len();
        assert_eq!(run(name, &(0..len).collect::<Vec<_>>()), expected(name), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_chunking_gives_the_same_response(which in 0..GENERIC.len() + COHERE.len(), cuts in proptest::collection::vec(0usize..2_000, 0..30)) {
        let name = GENERIC.iter().chain(COHERE).nth(which).unwrap();
        let mut cuts = cuts;
        cuts.sort_unstable();
        prop_assert_eq!(run(name, &cuts), expected(name));
    }
}

#[test]
fn an_endless_answer_stops_at_the_cap() {
    use locus_providers::{Error, ModelEvent, StreamAccumulator};
    let mut acc = StreamAccumulator::with_max_answer_bytes(1000);
    let mut pushed = 0;
    let error = loop {
        match acc.push(ModelEvent::TextDelta("0123456789".into())) {
            Ok(()) => pushed += 1,
            Err(e) => break e,
        }
        assert!(pushed <= 100, "the cap holds");
    };
    assert!(matches!(error, Error::AnswerTooLarge { limit: 1000 }), "{error:?}");
    assert_eq!(acc.text().len(), 1000, "what came before the cap is kept");
    let call = ModelEvent::ToolCallDelta { index: 0, id: None, name: None, arguments: "{}".into() };
    assert!(acc.push(call).is_err(), "tool-call arguments count too");
    assert!(!acc.is_finished());
}
