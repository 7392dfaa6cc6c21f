//! A response whose head has arrived, from reqwest or from a stream's own
//! connection ([`crate::h1`]), read the same way by the rest of the crate.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::Error;
use crate::h1;
use crate::prepare::PreparedRequest;

#[derive(Debug)]
pub(crate) enum Reply {
    Pooled(reqwest::Response),
    Owned(h1::Response),
}

/// A body being read: chunks from reqwest, or bytes in place from an own connection.
pub(crate) enum BodySource {
    Pooled(BoxStream<'static, reqwest::Result<Bytes>>),
    Owned(h1::Body),
}

impl Reply {
    pub fn status(&self) -> u16 {
        match self {
            Reply::Pooled(r) => r.status().as_u16(),
            Reply::Owned(r) => r.status,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        match self {
            Reply::Pooled(r) => r.headers().get(name).and_then(|v| v.to_str().ok()),
            Reply::Owned(r) => r.header(name),
        }
    }

    pub fn into_body(self) -> BodySource {
        match self {
            Reply::Pooled(r) => BodySource::Pooled(Box::pin(r.bytes_stream())),
            Reply::Owned(r) => BodySource::Owned(r.body),
        }
    }

    /// Reads the body up to `limit` bytes; `true` when there was more (not read).
    pub async fn read_capped(self, limit: usize, prepared: &PreparedRequest) -> Result<(Bytes, bool), Error> {
        let capacity = self.header("content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
        let mut body = Vec::with_capacity(capacity.min(limit));
        let mut source = self.into_body();
        let mut over = false;
        while !over {
            let more = std::future::poll_fn(|cx| {
                source.poll_data(cx, &mut |data| {
                    let room = limit - body.len();
                    over |= data.len() > room;
                    body.extend_from_slice(&data[..data.len().min(room)]);
                })
            })
            .await
            .map_err(|e| e.into_error(&prepared.url, Some(prepared.opc_request_id.clone())))?;
            if !more {
                break;
            }
        }
        Ok((Bytes::from(body), over))
    }
}

/// A failure reading a body, in the layer's own terms until a URL and request id make it an [`Error`].
pub(crate) enum BodyError {
    Pooled(reqwest::Error),
    Owned(std::io::Error),
}

impl BodyError {
    pub fn into_error(self, url: &str, opc_request_id: Option<String>) -> Error {
        match self {
            BodyError::Pooled(e) => Error::from_reqwest(url, e, opc_request_id),
            BodyError::Owned(e) => Error::from_io(url, e, false, opc_request_id),
        }
    }
}

impl BodySource {
    /// Reads, without waiting, whatever is left of a body that has already
    /// arrived (its last chunk's terminator, typically), so that an own
    /// connection goes back to the pool instead of being closed. Gives up
    /// after a few reads: a server still sending is not waited for.
    pub fn finish_without_waiting(&mut self) {
        if let BodySource::Owned(body) = self {
            let mut cx = Context::from_waker(std::task::Waker::noop());
            for _ in 0..4 {
                if !matches!(body.poll_data(&mut cx, &mut |_| {}), Poll::Ready(Ok(true))) {
                    return;
                }
            }
        }
    }

    /// Hands what arrived to `sink`; `Ready(Ok(false))` at the body's end.
    pub fn poll_data(&mut self, cx: &mut Context<'_>, sink: &mut dyn FnMut(&[u8])) -> Poll<Result<bool, BodyError>> {
        match self {
            BodySource::Pooled(stream) => match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    sink(&bytes);
                    Poll::Ready(Ok(true))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Err(BodyError::Pooled(e))),
                Poll::Ready(None) => Poll::Ready(Ok(false)),
                Poll::Pending => Poll::Pending,
            },
            BodySource::Owned(body) => body.poll_data(cx, sink).map_err(BodyError::Owned),
        }
    }
}
