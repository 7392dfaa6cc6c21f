//! A response body read in place from its connection's buffer: chunked,
//! sized, or up to the connection's end.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};

use super::io::Io;
use super::pool::{Key, Pool};

/// Bytes read from the socket and not yet used. It starts small, so that
/// a thousand slow streams cost little memory, and doubles (up to 64 KiB)
/// each time a read fills it, so that a fast stream is read in few calls.
#[derive(Debug)]
pub(crate) struct ReadBuffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// The last read filled all the room there was.
    grow: bool,
}

const INITIAL_READ_BUFFER: usize = 8 * 1024;
pub(crate) const MAX_READ_BUFFER: usize = 64 * 1024;

impl ReadBuffer {
    pub fn new() -> Self {
        ReadBuffer { data: vec![0; INITIAL_READ_BUFFER], start: 0, end: 0, grow: false }
    }

    pub fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
    }

    /// Whether it holds the most it can, unused.
    pub fn is_full(&self) -> bool {
        self.end - self.start == MAX_READ_BUFFER
    }

    /// Reads more after what is held; `Ok(0)` at the connection's end.
    pub fn poll_fill(&mut self, io: &mut Io, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.end == self.data.len() && self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if (self.grow || self.end == self.data.len()) && self.data.len() < MAX_READ_BUFFER {
            self.data.resize((self.data.len() * 2).min(MAX_READ_BUFFER), 0);
        }
        let room = self.data.len() - self.end;
        let mut buf = ReadBuf::new(&mut self.data[self.end..]);
        ready!(Pin::new(io).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        self.end += n;
        self.grow = n == room;
        Poll::Ready(Ok(n))
    }
}

/// How the body's end is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `transfer-encoding: chunked`.
    Chunked,
    /// `content-length`: this many bytes are left.
    Length(u64),
    /// Neither: the body ends with the connection.
    UntilClose,
}

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk's hex size (`digits` read so far).
    Size {
        size: u64,
        digits: u8,
    },
    /// Skipping chunk extensions up to the line's end (`length` bytes so far).
    Extension {
        size: u64,
        length: usize,
    },
    /// After the size line's `\r`.
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// In the trailer section; `empty` while the current line has no byte yet.
    Trailer {
        empty: bool,
    },
    TrailerLf {
        empty: bool,
    },
    End,
}

/// The most trailer bytes read after the last chunk.
const MAX_TRAILERS: usize = 16 * 1024;
/// The longest chunk extension read (no server of ours sends any).
const MAX_EXTENSION: usize = 4096;

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed HTTP/1.1 response: {message}"))
}

/// The body of a response, read by whoever polls it: no task of its own.
/// Read whole, its connection goes back to the pool; dropped early, it is closed.
#[derive(Debug)]
pub(crate) struct Body {
    io: Option<Io>,
    buffer: ReadBuffer,
    framing: Framing,
    chunk: Chunk,
    trailer_bytes: usize,
    done: bool,
    /// Where the connection goes when the body is read whole (not when the server said `close`).
    reuse: Option<(Arc<Pool>, Key)>,
}

impl Body {
    pub(crate) fn new(io: Io, buffer: ReadBuffer, framing: Framing, reuse: Option<(Arc<Pool>, Key)>) -> Self {
        let reuse = if framing == Framing::UntilClose { None } else { reuse };
        let done = framing == Framing::Length(0);
        let mut body = Body {
            io: Some(io),
            buffer,
            framing,
            chunk: Chunk::Size { size: 0, digits: 0 },
            trailer_bytes: 0,
            done,
            reuse,
        };
        if done {
            body.release();
        }
        body
    }

    /// Hands the body bytes that have arrived to `sink`, in place (a call
    /// may hand several pieces). `Ready(Ok(true))`: some were handed;
    /// `Ready(Ok(false))`: the body is over.
    pub fn poll_data(&mut self, cx: &mut Context<'_>, sink: &mut dyn FnMut(&[u8])) -> Poll<io::Result<bool>> {
        loop {
            if self.done {
                return Poll::Ready(Ok(false));
            }
            let mut handed = false;
            let used = self.decode(&mut |data| {
                handed = true;
                sink(data);
            })?;
            self.buffer.consume(used);
            if self.done {
                self.release();
            }
            if handed {
                return Poll::Ready(Ok(true));
            }
            if self.done {
                return Poll::Ready(Ok(false));
            }
            let Some(io) = self.io.as_mut() else { return Poll::Ready(Ok(false)) };
            if ready!(self.buffer.poll_fill(io, cx))? == 0 {
                self.io = None;
                if self.framing == Framing::UntilClose {
                    self.done = true;
                    return Poll::Ready(Ok(false));
                }
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection closed before the response body ended",
                )));
            }
        }
    }

    /// Decodes what the buffer holds; the bytes used.
    fn decode(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<usize> {
        let input = self.buffer.filled();
        match &mut self.framing {
            Framing::UntilClose => {
                if !input.is_empty() {
                    sink(input);
                }
                Ok(input.len())
            }
            Framing::Length(left) => {
                let n = input.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                if n > 0 {
                    sink(&input[..n]);
                }
                *left -= n as u64;
                self.done = *left == 0;
                Ok(n)
            }
            Framing::Chunked => {
                let (used, state) = decode_chunked(self.chunk, input, &mut self.trailer_bytes, sink)?;
                self.chunk = state;
                self.done = state == Chunk::End;
                Ok(used)
            }
        }
    }

    /// Gives the connection back when the whole body was read and nothing follows it.
    fn release(&mut self) {
        if let (Some(io), Some((pool, key))) = (self.io.take(), self.reuse.take()) {
            if self.buffer.filled().is_empty() {
                pool.put(key, io);
            }
        }
    }
}

/// Runs the chunked decoder over `input` from `state`: the bytes used and the new state.
fn decode_chunked(
    mut state: Chunk,
    input: &[u8],
    trailer_bytes: &mut usize,
    sink: &mut dyn FnMut(&[u8]),
) -> io::Result<(usize, Chunk)> {
    let mut at = 0;
    while at < input.len() {
        let byte = input[at];
        state = match state {
            Chunk::Data { left } => {
                let n = (input.len() - at).min(usize::try_from(left).unwrap_or(usize::MAX));
                sink(&input[at..at + n]);
                at += n;
                let left = left - n as u64;
                state = if left == 0 { Chunk::DataCr } else { Chunk::Data { left } };
                continue;
            }
            Chunk::Size { size, digits } => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    if digits >= 15 {
                        return Err(invalid("chunk size too large"));
                    }
                    let digit = u64::from((byte as char).to_digit(16).unwrap_or(0));
                    Chunk::Size { size: size * 16 + digit, digits: digits + 1 }
                }
                b';' | b' ' | b'\t' if digits > 0 => Chunk::Extension { size, length: 0 },
                b'\r' if digits > 0 => Chunk::SizeLf { size },
                b'\n' if digits > 0 => return Err(invalid("chunk size line not ended by CRLF")),
                _ => return Err(invalid("bad chunk size")),
            },
            Chunk::Extension { size, length } => match byte {
                b'\r' => Chunk::SizeLf { size },
                b'\n' => return Err(invalid("chunk size line not ended by CRLF")),
                _ if length >= MAX_EXTENSION => return Err(invalid("chunk extension too long")),
                _ => Chunk::Extension { size, length: length + 1 },
            },
            Chunk::SizeLf { size } => match byte {
                b'\n' => after_size(size),
                _ => return Err(invalid("chunk size line not ended by CRLF")),
            },
            Chunk::DataCr => match byte {
                b'\r' => Chunk::DataLf,
                _ => return Err(invalid("chunk data not followed by CRLF")),
            },
            Chunk::DataLf => match byte {
                b'\n' => Chunk::Size { size: 0, digits: 0 },
                _ => return Err(invalid("chunk data not followed by CRLF")),
            },
            Chunk::Trailer { empty } | Chunk::TrailerLf { empty } => {
                *trailer_bytes += 1;
                if *trailer_bytes > MAX_TRAILERS {
                    return Err(invalid("trailers too large"));
                }
                match (byte, state) {
                    (b'\r', Chunk::Trailer { .. }) => Chunk::TrailerLf { empty },
                    (b'\n', Chunk::TrailerLf { .. }) if empty => {
                        at += 1;
                        return Ok((at, Chunk::End));
                    }
                    (b'\n', Chunk::TrailerLf { .. }) => Chunk::Trailer { empty: true },
                    (_, Chunk::TrailerLf { .. }) | (b'\n', _) => {
                        return Err(invalid("trailer line not ended by CRLF"));
                    }
                    _ => Chunk::Trailer { empty: false },
                }
            }
            Chunk::End => return Ok((at, Chunk::End)),
        };
        at += 1;
    }
    Ok((at, state))
}

fn after_size(size: u64) -> Chunk {
    if size == 0 { Chunk::Trailer { empty: true } } else { Chunk::Data { left: size } }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` split at every `step` bytes: the data, whether the body ended.
    fn decode_in_pieces(input: &[u8], step: usize) -> io::Result<(Vec<u8>, bool)> {
        let (mut state, mut trailers, mut out) = (Chunk::Size { size: 0, digits: 0 }, 0, Vec::new());
        let mut held: Vec<u8> = Vec::new();
        for piece in input.chunks(step) {
            held.extend_from_slice(piece);
            let (used, next) = decode_chunked(state, &held, &mut trailers, &mut |d| out.extend_from_slice(d))?;
            held.drain(..used);
            state = next;
            if state == Chunk::End {
                assert!(held.is_empty() || input.ends_with(&held));
                return Ok((out, true));
            }
        }
        Ok((out, false))
    }

    #[test]
    fn chunked_bodies_decode_whatever_the_split() {
        let body = b"5\r\nhello\r\n7;name=value\r\n, world\r\nA\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n";
        for step in 1..body.len() {
            let (data, ended) = decode_in_pieces(body, step).unwrap();
            assert_eq!(data, b"hello, world0123456789", "step {step}");
            assert!(ended, "step {step}");
        }
        for bare_lf in [&b"3\nabc\r\n0\r\n\r\n"[..], b"3;x\nabc\r\n", b"3\r\nabc\n0\r\n\r\n", b"0\r\nx: 1\n\r\n"] {
            let err = decode_in_pieces(bare_lf, 2).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{:?}", String::from_utf8_lossy(bare_lf));
        }
    }

    #[test]
    fn the_decoder_stops_at_the_end_and_leaves_what_follows() {
        let input = b"2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
        let mut trailers = 0;
        let mut out: Vec<u8> = Vec::new();
        let (used, state) =
            decode_chunked(Chunk::Size { size: 0, digits: 0 }, input, &mut trailers, &mut |d| out.extend(d)).unwrap();
        assert_eq!((state, &input[used..]), (Chunk::End, &b"HTTP/1.1 200 OK\r\n"[..]));
    }

    #[test]
    fn malformed_framing_is_an_error_not_a_guess() {
        for bad in [&b"zz\r\n"[..], b"\r\n", b"3\r\nabcX", b"1234567890abcdef0\r\n", b"3\rX"] {
            let err = decode_in_pieces(bad, bad.len()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{:?}", String::from_utf8_lossy(bad));
        }
        let endless_trailers = [&b"0\r\n"[..], &b"x".repeat(MAX_TRAILERS + 1)].concat();
        assert!(decode_in_pieces(&endless_trailers, 1000).is_err());
    }
}
