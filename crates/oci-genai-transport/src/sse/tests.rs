use proptest::prelude::*;

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/sse/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn parse_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<Vec<SseEvent>, Error> {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    let mut last = 0;
    for &cut in cuts {
        let cut = cut.min(bytes.len()).max(last);
        parser.feed(&bytes[last..cut], &mut events)?;
        last = cut;
    }
    parser.feed(&bytes[last..], &mut events)?;
    parser.finish(&mut events)?;
    Ok(events)
}

fn data(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|e| e.data.as_str()).collect()
}

#[test]
fn edge_cases_follow_whatwg() {
    let events = parse_all(&fixture("edge-cases.sse")).unwrap();
    assert_eq!(
        data(&events),
        ["line one\nline two", "cr only", "", "{\"a\": \"\\u00fc ✓\"}", "[DONE]", "trailing without blank line"]
    );
    assert_eq!(events[0].event.as_deref(), Some("delta"));
    assert_eq!(events[0].id.as_deref(), Some("1"));
    assert_eq!(events[1].event, None, "the event type resets after dispatch");
    assert_eq!(events[1].id.as_deref(), Some("1"), "the id persists");
    assert_eq!(events[3].id.as_deref(), Some("2"));
    assert!(events[4].is_done());
}

#[test]
fn retry_and_event_counts_are_kept() {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    parser.feed(&fixture("edge-cases.sse"), &mut events).unwrap();
    assert_eq!(parser.retry(), Some(1500));
    assert_eq!(parser.events_seen(), 5);
    parser.finish(&mut events).unwrap();
    assert_eq!(parser.events_seen(), 6);
}

#[test]
fn a_generic_stream_parses_to_json_events() {
    let events = parse_all(&fixture("generic-stream.sse")).unwrap();
    assert!(events.len() > 20);
    for event in &events {
        serde_json::from_str::<serde_json::Value>(&event.data).unwrap();
    }
    assert!(events.last().unwrap().data.contains("usage"));
}

#[test]
fn comments_and_blank_lines_alone_make_no_events() {
    assert!(parse_all(b": ping\n\n\n: pong\r\n\r\n").unwrap().is_empty());
    assert!(parse_all(b"").unwrap().is_empty());
    assert!(parse_all(BOM).unwrap().is_empty());
    // A broken BOM decodes to U+FFFD, which becomes part of the first field name: that line is ignored.
    assert!(parse_all(b"\xEF\xBBdata: x\n\n").unwrap().is_empty());
    assert_eq!(data(&parse_all(b"\xEFdata: x\n\ndata: y\n\n").unwrap()), ["y"]);
}

#[test]
fn keep_alive_comments_make_no_field_progress() {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for chunk in [&b": keep-alive\n"[..], b"\n", b": ping", b"\r\n", b"\n\n"] {
        parser.feed(chunk, &mut events).unwrap();
    }
    assert_eq!(parser.field_bytes(), 0);
    parser.feed(b"da", &mut events).unwrap();
    let partial = parser.field_bytes();
    assert!(partial > 0, "half a data line is progress");
    parser.feed(b"ta: x\n\n", &mut events).unwrap();
    assert!(parser.field_bytes() > partial);
    assert_eq!(data(&events), ["x"]);
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    assert_eq!(data(&parse_all(b"data: a\xFFb\n\n").unwrap()), ["a\u{FFFD}b"]);
}

#[test]
fn oversized_events_are_errors() {
    let mut parser = SseParser::with_max_event_size(64);
    let mut events = Vec::new();
    let err = parser.feed(&[b'x'; 100], &mut events).unwrap_err();
    assert!(matches!(err, Error::SseEventTooLarge { limit: 64 }), "{err:?}");
    let mut parser = SseParser::with_max_event_size(64);
    let many = "data: 0123456789\n".repeat(10);
    assert!(parser.feed(many.as_bytes(), &mut events).is_err());
    let mut parser = SseParser::with_max_event_size(64);
    assert!(parser.feed(b"data: small\n\n", &mut events).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..4_000, 0..40), which in 0usize..2) {
        let bytes = fixture(["generic-stream.sse", "edge-cases.sse"][which]);
        let mut cuts = cuts;
        cuts.sort_unstable();
        prop_assert_eq!(parse_in_pieces(&bytes, &cuts).unwrap(), parse_all(&bytes).unwrap());
    }

    #[test]
    fn byte_at_a_time_gives_the_same_events(which in 0usize..2) {
        let bytes = fixture(["generic-stream.sse", "edge-cases.sse"][which]);
        let cuts: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(parse_in_pieces(&bytes, &cuts).unwrap(), parse_all(&bytes).unwrap());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), cuts in proptest::collection::vec(0usize..512, 0..8)) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        let _ = parse_in_pieces(&bytes, &cuts);
    }

    #[test]
    fn sse_shaped_text_never_panics(lines in proptest::collection::vec("(data|event|id|retry|:|x)?:? ?[a-z0-9 \\[\\]]{0,8}(\r\n|\n|\r)?", 0..30)) {
        let text = lines.concat();
        let _ = parse_all(text.as_bytes());
    }
}
