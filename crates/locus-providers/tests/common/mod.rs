//! What the stream tests share: the recorded streams, read and cut.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use oci_genai_transport::sse::{SseEvent, SseParser};

/// A file of `tests/fixtures/streams`.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/streams/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The SSE events of the recorded stream `name` (`<name>.sse`), its bytes fed
/// to the parser in pieces cut at `cuts`, as a socket may deliver them.
pub fn events_cut_at(name: &str, cuts: &[usize]) -> Vec<SseEvent> {
    let bytes = fixture(&format!("{name}.sse"));
    let mut parser = SseParser::new();
    let mut sse = Vec::new();
    let mut last = 0;
    for cut in cuts.iter().copied().chain([bytes.len()]) {
        let cut = cut.clamp(last, bytes.len());
        parser.feed(&bytes[last..cut], &mut sse).unwrap();
        last = cut;
    }
    parser.finish(&mut sse).unwrap();
    sse
}
