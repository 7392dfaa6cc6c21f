//! The OpenAI-compatible streams (fixtures `cc-*` for chat completions,
//! `resp-*` for Responses, under `tests/fixtures/streams/`) through SSE
//! parsing, the shape and the accumulator, at any chunking: text with
//! usage, parallel tool calls, Gemini's `delta: null`, `[DONE]`, and an
//! error event.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{events_cut_at, fixture};
use locus_providers::openai::{chat_completions, responses};
use locus_providers::{Error, StreamAccumulator, StreamState};
use proptest::prelude::*;
use serde_json::Value;

const STREAMS: &[&str] =
    &["cc-text-usage", "cc-parallel-tools", "cc-gemini-delta-null", "resp-text", "resp-parallel-tools"];

/// The final response for `name` (or the first error), its bytes fed in pieces cut at `cuts`.
fn run(name: &str, cuts: &[usize]) -> Result<Value, Error> {
    let (mut state, mut acc) = (StreamState::default(), StreamAccumulator::new());
    for event in events_cut_at(name, cuts) {
        let mut events = Vec::new();
        if name.starts_with("cc-") {
            if event.is_done() {
                break; // the transport ends the stream here
            }
            chat_completions::parse_chunk(event, &mut events)?;
        } else {
            responses::parse_event(event, &mut state, &mut events)?;
        }
        events.into_iter().for_each(|e| acc.push(e).unwrap());
    }
    assert!(acc.is_finished(), "{name}: no finish reason");
    let mut response = serde_json::to_value(acc.finish()).unwrap();
    // Ids generated for calls without one are random: check their form, then hide them.
    for call in response["message"]["tool_calls"].as_array_mut().unwrap() {
        let id = call["id"].as_str().unwrap();
        if id.len() == 29 && id.starts_with("call_") {
            call["id"] = "<generated>".into();
        }
    }
    Ok(response)
}

fn expected(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/streams/{name}.expected.json", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let actual = run(name, &[]).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
    }
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_stream_gives_the_expected_response() {
    for name in STREAMS {
        assert_eq!(run(name, &[]).unwrap(), expected(name), "{name}");
    }
}

#[test]
fn a_cut_at_every_byte_boundary_gives_the_same_response() {
    for name in STREAMS {
        let whole = expected(name);
        let len = fixture(&format!("{name}.sse")).len();
        for cut in 0..=len {
            assert_eq!(run(name, &[cut]).unwrap(), whole, "{name} cut at {cut}");
        }
        assert_eq!(run(name, &(0..len).collect::<Vec<_>>()).unwrap(), whole, "{name} one byte at a time");
    }
}

#[test]
fn an_error_event_is_the_services_error_with_its_code() {
    let err = run("resp-error", &[]).unwrap_err();
    assert!(err.to_string().contains("server_error: The model failed."), "{err}");
    assert_eq!(err.kind(), oci_genai_transport::ErrorKind::Service);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_chunking_gives_the_same_response(which in 0..STREAMS.len(), cuts in proptest::collection::vec(0usize..3_000, 0..30)) {
        let name = STREAMS[which];
        let mut cuts = cuts;
        cuts.sort_unstable();
        prop_assert_eq!(run(name, &cuts).unwrap(), expected(name));
    }
}
