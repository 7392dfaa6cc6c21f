//! A stdio server's output, cut off at the first message larger than the
//! MCP SDK reads: rmcp drops such a line and waits on, so the call it
//! answered would hang to its timeout. Ending the stream instead fails every
//! call under way at once, with the reason kept for the message.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// The largest message a server may send: rmcp's own line limit.
pub(crate) const MAX_MESSAGE_BYTES: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// Why the stream was cut, once it was.
pub(crate) type CutReason = Arc<Mutex<Option<String>>>;

/// `inner`, failing once a line grows past `limit` bytes.
#[derive(Debug)]
pub(crate) struct LineLimit<R> {
    inner: R,
    limit: usize,
    /// Bytes since the last newline.
    line: usize,
    cut: CutReason,
}

impl<R> LineLimit<R> {
    pub(crate) fn new(inner: R, limit: usize) -> (Self, CutReason) {
        let cut = CutReason::default();
        (LineLimit { inner, limit, line: 0, cut: Arc::clone(&cut) }, cut)
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for LineLimit<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                this.line = match new.iter().rposition(|b| *b == b'\n') {
                    Some(last) => new.len() - last - 1,
                    None => this.line + new.len(),
                };
                if this.line > this.limit {
                    let reason = format!("it sent a message larger than {} MiB", MAX_MESSAGE_BYTES / (1024 * 1024));
                    *this.cut.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.clone());
                    buf.set_filled(before);
                    return Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::InvalidData, reason)));
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn lines_within_the_limit_pass_and_a_longer_one_ends_the_stream() {
        let input: &[u8] = b"short\nline\n";
        let (mut reader, cut) = LineLimit::new(input, 8);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        assert_eq!((out.as_slice(), cut.lock().unwrap().is_none()), (input, true));

        let long = [b'x'; 100];
        let (mut reader, cut) = LineLimit::new(&long[..], 8);
        assert!(reader.read_to_end(&mut Vec::new()).await.is_err());
        assert!(cut.lock().unwrap().as_deref().unwrap_or_default().contains("larger than"));
    }
}
