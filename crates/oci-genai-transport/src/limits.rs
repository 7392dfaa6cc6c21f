//! How long and how much a client waits for and reads.

use std::time::Duration;

/// The bounds of a [`GenAiClient`](crate::GenAiClient)'s calls, so that a
/// misbehaving server or network costs bounded time and memory.
///
/// | bound | default | what happens |
/// |---|---|---|
/// | read timeout | 60 s | no response headers, or no event data (`: keep-alive` comments do not count) for this long: [`Error::StreamIdle`](crate::Error::StreamIdle) or a retryable timeout |
/// | stream deadline | 10 min | a streaming call — retries, waits and the stream — still running: [`Error::StreamDeadline`](crate::Error::StreamDeadline) |
/// | max body size | 32 MiB | a whole (non-streamed) reply larger than this: [`Error::ReplyTooLarge`](crate::Error::ReplyTooLarge) |
///
/// Error replies are read up to 1 MiB and their messages shown up to 1,000
/// characters (the body is logged whole at trace level); one SSE event may
/// hold up to [`sse::DEFAULT_MAX_EVENT_SIZE`](crate::sse::DEFAULT_MAX_EVENT_SIZE).
///
/// ```
/// use std::time::Duration;
/// use oci_genai_transport::Limits;
/// let limits = Limits::default().with_stream_deadline(Duration::from_secs(120));
/// assert_eq!(limits.stream_deadline(), Duration::from_secs(120));
/// assert_eq!(limits.read_timeout(), Duration::from_secs(60));
/// assert_eq!(limits.max_body_size(), 32 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    read_timeout: Duration,
    stream_deadline: Duration,
    max_body_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            read_timeout: Duration::from_secs(60),
            stream_deadline: Duration::from_secs(600),
            max_body_size: 32 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The longest wait for response headers, and the longest silence on a stream.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The longest a streaming call may take, from the first attempt to the stream's end.
    pub fn with_stream_deadline(mut self, deadline: Duration) -> Self {
        self.stream_deadline = deadline;
        self
    }

    /// The largest whole reply read.
    pub fn with_max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// The stream deadline.
    pub fn stream_deadline(&self) -> Duration {
        self.stream_deadline
    }

    /// The largest whole reply read.
    pub fn max_body_size(&self) -> usize {
        self.max_body_size
    }
}
