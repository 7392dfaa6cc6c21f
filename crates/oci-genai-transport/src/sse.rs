//! A server-sent events parser (WHATWG rules), incremental over byte chunks.
//!
//! No HTTP inside: feed it the body's chunks as they arrive and it hands
//! back complete events. Each byte is scanned once, whatever the chunking
//! (events may be split anywhere, including inside a UTF-8 character), and
//! an event larger than the configured limit is an error instead of
//! unbounded growth.
//!
//! ```
//! use oci_genai_transport::sse::SseParser;
//! let mut parser = SseParser::new();
//! let mut events = Vec::new();
//! parser.feed(b"data: {\"text\":\"Hel", &mut events)?;
//! assert!(events.is_empty());
//! parser.feed(b"lo\"}\n\ndata: [DONE]\n\n", &mut events)?;
//! assert_eq!(events[0].data, r#"{"text":"Hello"}"#);
//! assert!(events[1].is_done());
//! # Ok::<(), oci_genai_transport::Error>(())
//! ```

use crate::error::Error;

/// The default largest event: far above any chat delta, small enough to stop a runaway stream.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 8 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` type, when the event named one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen (`id:`), if any.
    pub id: Option<String>,
}

impl SseEvent {
    /// Whether this is the `[DONE]` end marker some OpenAI-style servers send.
    pub fn is_done(&self) -> bool {
        self.data == "[DONE]"
    }
}

/// The parser's state between chunks.
#[derive(Debug, Clone)]
pub struct SseParser {
    /// Bytes of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// `data:` values of the event being built, each followed by `\n`.
    data: Vec<u8>,
    event: Option<String>,
    last_id: Option<String>,
    retry: Option<u64>,
    /// The previous chunk ended in `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
    /// Bytes seen at the start of the stream, until we know whether they are a BOM.
    start: Option<Vec<u8>>,
    max_event_size: usize,
    events_seen: u64,
    /// Bytes of lines that are not comments: what a keep-alive cannot advance.
    field_bytes: u64,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with [`DEFAULT_MAX_EVENT_SIZE`].
    pub fn new() -> Self {
        Self::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A parser that fails on an event (or line) larger than `max` bytes.
    pub fn with_max_event_size(max: usize) -> Self {
        SseParser {
            line: Vec::new(),
            data: Vec::new(),
            event: None,
            last_id: None,
            retry: None,
            after_cr: false,
            start: Some(Vec::with_capacity(3)),
            max_event_size: max,
            events_seen: 0,
            field_bytes: 0,
        }
    }

    /// The reconnection time the server asked for (`retry:`), in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// How many events have been dispatched.
    pub fn events_seen(&self) -> u64 {
        self.events_seen
    }

    /// How many bytes of field lines (`data:`, `event:`, …) have been read:
    /// it grows while an event is on its way, and not for comment lines
    /// (`: keep-alive`) or blank lines, so an idle timer can ignore those.
    pub fn field_bytes(&self) -> u64 {
        self.field_bytes
    }

    /// Parses `chunk`, pushing every event it completes onto `events`.
    pub fn feed(&mut self, chunk: &[u8], events: &mut Vec<SseEvent>) -> Result<(), Error> {
        let mut chunk = chunk;
        if let Some(start) = &mut self.start {
            // The BOM may itself arrive split: hold the first bytes until we know.
            let take = (3 - start.len()).min(chunk.len());
            start.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if start.len() < 3 && BOM.starts_with(start) {
                return Ok(());
            }
            let held = std::mem::take(start);
            self.start = None;
            let held = if held.as_slice() == BOM { &[][..] } else { &held[..] };
            self.feed_lines(held, events)?;
        }
        self.feed_lines(chunk, events)
    }

    fn feed_lines(&mut self, mut chunk: &[u8], events: &mut Vec<SseEvent>) -> Result<(), Error> {
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', chunk) {
            let ends_with_cr = chunk[end] == b'\r';
            if self.line.is_empty() {
                self.process_line(&chunk[..end], events)?;
            } else {
                self.line.extend_from_slice(&chunk[..end]);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, events)?;
                self.line = line;
                self.line.clear();
            }
            let mut next = end + 1;
            if ends_with_cr {
                match chunk.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            chunk = &chunk[next..];
        }
        if self.line.len() + chunk.len() + self.data.len() > self.max_event_size {
            return Err(Error::SseEventTooLarge { limit: self.max_event_size });
        }
        self.line.extend_from_slice(chunk);
        if self.line.first().is_some_and(|&b| b != b':') {
            self.field_bytes += chunk.len() as u64;
        }
        Ok(())
    }

    /// Ends the stream: an event without its final blank line is dispatched,
    /// as a stream that closes mid-event still said it.
    pub fn finish(&mut self, events: &mut Vec<SseEvent>) -> Result<(), Error> {
        if let Some(start) = self.start.take() {
            if start.as_slice() != &BOM[..start.len()] {
                self.feed_lines(&start, events)?;
            }
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, events)?;
        }
        self.dispatch(events);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], events: &mut Vec<SseEvent>) -> Result<(), Error> {
        if line.is_empty() {
            self.dispatch(events);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        self.field_bytes += line.len() as u64;
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_event_size {
                    return Err(Error::SseEventTooLarge { limit: self.max_event_size });
                }
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"id" if !value.contains(&0) => self.last_id = Some(String::from_utf8_lossy(value).into_owned()),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if self.data.is_empty() {
            return;
        }
        self.data.pop(); // the last `\n`
        let data = match String::from_utf8(std::mem::take(&mut self.data)) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        self.events_seen += 1;
        events.push(SseEvent { event, data, id: self.last_id.clone() });
    }
}

/// Parses a whole body at once.
///
/// ```
/// let events = oci_genai_transport::sse::parse_all(b": comment\r\nevent: x\r\ndata: a\r\ndata: b\r\n\r\n")?;
/// assert_eq!((events[0].event.as_deref(), events[0].data.as_str()), (Some("x"), "a\nb"));
/// # Ok::<(), oci_genai_transport::Error>(())
/// ```
pub fn parse_all(body: &[u8]) -> Result<Vec<SseEvent>, Error> {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    parser.feed(body, &mut events)?;
    parser.finish(&mut events)?;
    Ok(events)
}

#[cfg(test)]
mod tests;
