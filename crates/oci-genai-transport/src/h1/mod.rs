//! A streaming call's own HTTP/1.1 connection.
//!
//! Through a pooled client (reqwest over hyper) every chunk of a streamed
//! body is decoded by the connection's own task and handed to the reader's
//! task through a channel: a task switch per chunk — one per event when a
//! server writes events one at a time — and, on a multi-thread runtime, often
//! a thread switch too. Here the stream reads its socket in its own `poll`
//! and takes the chunked framing apart in place, so it wakes only when the
//! socket has data, on any runtime. A body read whole gives its connection
//! back to a small keep-alive pool.
//!
//! Only what a chat call needs is here: one `POST` with a body, HTTP/1.1
//! over TLS (rustls, the webpki roots, as reqwest uses) or plain TCP to
//! loopback. A request that goes through a proxy goes through reqwest
//! ([`crate::proxy`] decides for both).

mod body;
mod io;
mod pool;
mod tunnel;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub(crate) use body::Body;
use body::{Framing, ReadBuffer};
use io::Io;
use pool::{Key, Pool};

/// Opens, reuses and keeps HTTP/1.1 connections.
#[derive(Clone)]
pub(crate) struct H1Client {
    tls: tokio_rustls::TlsConnector,
    pool: Arc<Pool>,
    connect_timeout: Duration,
    user_agent: &'static str,
}

impl std::fmt::Debug for H1Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1Client").field("connect_timeout", &self.connect_timeout).finish_non_exhaustive()
    }
}

/// A failed exchange; `connect` when nothing was sent.
#[derive(Debug)]
pub(crate) struct SendError {
    pub connect: bool,
    pub error: std::io::Error,
}

/// A response whose head has been read; the body is read by its owner.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    head: Head,
    pub body: Body,
}

impl Response {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.head, name).next()
    }
}

/// How long the first address family has before the next is tried alongside.
const HAPPY_EYEBALLS: Duration = Duration::from_millis(300);

/// The largest response head read: what the read buffer holds at most.
const MAX_HEAD: usize = body::MAX_READ_BUFFER;

impl H1Client {
    pub fn new(connect_timeout: Duration, user_agent: &'static str) -> Self {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        Self::with_roots(roots, connect_timeout, user_agent)
    }

    pub fn with_roots(roots: rustls::RootCertStore, connect_timeout: Duration, user_agent: &'static str) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config =
            match rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
                Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
                // The ring provider supports the default versions: this cannot fail.
                Err(_) => rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        H1Client {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            pool: Arc::default(),
            connect_timeout,
            user_agent,
        }
    }

    /// Sends `request` (built, checked and signed by [`crate::request`]) and
    /// reads the response head; a new connection goes through `tunnel` when
    /// the client's proxies route the stream through one. A kept connection
    /// found closed by the server before it answered is replaced by a new
    /// one, once.
    pub async fn post(
        &self,
        request: &http::Request<bytes::Bytes>,
        tunnel: Option<&crate::proxy::Tunnel>,
    ) -> Result<Response, SendError> {
        let key = key(request.uri()).map_err(|error| SendError { connect: true, error })?;
        let request = self.request(request, &key);
        loop {
            let (io, reused) = match self.pool.take(&key) {
                Some(io) => (io, true),
                None => {
                    let io = self.connect(&key, tunnel).await;
                    (io.map_err(|error| SendError { connect: true, error })?, false)
                }
            };
            match exchange(io, &request).await {
                Ok((status, head, io, buffer)) => {
                    let framing = framing(status, &head).map_err(|error| SendError { connect: false, error })?;
                    let reuse = keeps_alive(&head).then(|| (Arc::clone(&self.pool), key));
                    return Ok(Response { status, head, body: Body::new(io, buffer, framing, reuse) });
                }
                Err(Exchange::Silent(_)) if reused => {
                    tracing::debug!(host = %key.host, "a kept connection was closed by the server; opening a new one");
                }
                Err(Exchange::Silent(error) | Exchange::Answered(error)) => {
                    return Err(SendError { connect: false, error });
                }
            }
        }
    }

    fn request(&self, request: &http::Request<bytes::Bytes>, key: &Key) -> Vec<u8> {
        let body = request.body();
        let mut bytes = Vec::with_capacity(1024 + body.len());
        let target = request.uri().path_and_query().map_or("/", http::uri::PathAndQuery::as_str);
        for part in [request.method().as_str(), " ", target, " HTTP/1.1\r\nuser-agent: ", self.user_agent, "\r\n"] {
            bytes.extend_from_slice(part.as_bytes());
        }
        let headers = request.headers();
        if !headers.contains_key(http::header::HOST) {
            bytes.extend_from_slice(format!("host: {}\r\n", host_header(key)).as_bytes());
        }
        for (name, value) in headers {
            for part in [name.as_str().as_bytes(), b": ", value.as_bytes(), b"\r\n"] {
                bytes.extend_from_slice(part);
            }
        }
        if !headers.contains_key(http::header::CONTENT_LENGTH) {
            bytes.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(body);
        bytes
    }

    async fn connect(&self, key: &Key, tunnel: Option<&crate::proxy::Tunnel>) -> std::io::Result<Io> {
        let connect = async {
            // Every address of the name, the next address family tried 300 ms after the first (Happy
            // Eyeballs): a broken IPv6 route does not cost the whole connect timeout.
            let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
            connector.enforce_http(false);
            connector.set_nodelay(true);
            connector.set_happy_eyeballs_timeout(Some(HAPPY_EYEBALLS));
            connector.set_connect_timeout(Some(self.connect_timeout));
            let (to_host, to_port) = match tunnel {
                Some(tunnel) => (tunnel.host.as_str(), tunnel.port),
                None => (key.host.as_str(), key.port),
            };
            let uri: http::Uri = format!("http://{to_host}:{to_port}")
                .parse()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            let mut tcp: TcpStream =
                tower_service::Service::call(&mut connector, uri).await.map_err(|e| connect_error(&e))?.into_inner();
            // An IPv6 literal comes bracketed from the URL; TLS does not want the brackets.
            let host = key.host.trim_start_matches('[').trim_end_matches(']');
            if let Some(tunnel) = tunnel {
                tunnel::open(&mut tcp, tunnel, host, key.port).await?;
            }
            if !key.https {
                return Ok(Io::Plain(tcp));
            }
            let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            Ok(Io::Tls(Box::new(self.tls.connect(name, tcp).await?)))
        };
        let at = match tunnel {
            Some(tunnel) => format!("{}:{} through the proxy {}:{}", key.host, key.port, tunnel.host, tunnel.port),
            None => format!("{}:{}", key.host, key.port),
        };
        match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(result) => result
                .map_err(|e: std::io::Error| std::io::Error::new(e.kind(), format!("could not connect to {at}: {e}"))),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no connection within {} s", self.connect_timeout.as_secs_f64()),
            )),
        }
    }
}

/// How an exchange failed: before any byte of the answer, or after.
enum Exchange {
    Silent(std::io::Error),
    Answered(std::io::Error),
}

#[derive(Debug)]
struct Head {
    headers: Vec<(String, String)>,
    http11: bool,
}

/// Writes the request and reads the response head (skipping `1xx` heads).
async fn exchange(mut io: Io, request: &[u8]) -> Result<(u16, Head, Io, ReadBuffer), Exchange> {
    io.write_all(request).await.map_err(Exchange::Silent)?;
    io.flush().await.map_err(Exchange::Silent)?;
    let mut buffer = ReadBuffer::new();
    let mut answered = false;
    loop {
        let fail = |e| if answered { Exchange::Answered(e) } else { Exchange::Silent(e) };
        if let Some((status, head, used)) = parse_head(buffer.filled()).map_err(Exchange::Answered)? {
            buffer.consume(used);
            if (100..200).contains(&status) {
                continue;
            }
            return Ok((status, head, io, buffer));
        }
        if buffer.is_full() {
            return Err(Exchange::Answered(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("response headers larger than {} KiB", MAX_HEAD / 1024),
            )));
        }
        let read = std::future::poll_fn(|cx| buffer.poll_fill(&mut io, cx)).await.map_err(fail)?;
        if read == 0 {
            let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed before a response");
            return Err(fail(eof));
        }
        answered = true;
    }
}

/// A complete head at the start of `bytes`: status, head, bytes used.
fn parse_head(bytes: &[u8]) -> std::io::Result<Option<(u16, Head, usize)>> {
    let mut slots = [httparse::EMPTY_HEADER; 128];
    let mut response = httparse::Response::new(&mut slots);
    let used = match response.parse(&bytes[..bytes.len().min(MAX_HEAD)]) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("malformed response head: {e}")));
        }
    };
    let headers = response
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).trim().to_owned()))
        .collect();
    let head = Head { headers, http11: response.version == Some(1) };
    Ok(Some((response.code.unwrap_or_default(), head, used)))
}

fn header<'a>(head: &'a Head, name: &str) -> impl Iterator<Item = &'a str> {
    head.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn framing(status: u16, head: &Head) -> std::io::Result<Framing> {
    if status == 204 || status == 304 {
        return Ok(Framing::Length(0));
    }
    let encodings: Vec<&str> = header(head, "transfer-encoding").flat_map(|v| v.split(',')).map(str::trim).collect();
    if !encodings.is_empty() && !head.http11 {
        // HTTP/1.0 has no chunked framing: such a reply is refused, as hyper refuses it.
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "malformed response head: chunked in HTTP/1.0",
        ));
    }
    if let Some(last) = encodings.last() {
        return if last.eq_ignore_ascii_case("chunked") { Ok(Framing::Chunked) } else { Ok(Framing::UntilClose) };
    }
    // Digits only: `+5` parses as a number in Rust, and is not a length in HTTP.
    let digits = |v: &str| if v.bytes().all(|b| b.is_ascii_digit()) { v.parse::<u64>().ok() } else { None };
    let mut lengths = header(head, "content-length").map(|v| digits(v).ok_or(()));
    match (lengths.next(), lengths.next()) {
        (None, _) => Ok(Framing::UntilClose),
        (Some(Ok(n)), None) => Ok(Framing::Length(n)),
        _ => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed response head: bad content-length")),
    }
}

/// hyper-util's connect error as an I/O error of its cause's kind, its causes in the message.
fn connect_error(error: &(dyn std::error::Error + 'static)) -> std::io::Error {
    let (message, causes) = crate::error::with_causes(error);
    let kind = causes.first().and_then(|inner| inner.downcast_ref::<std::io::Error>()).map(std::io::Error::kind);
    std::io::Error::new(kind.unwrap_or(std::io::ErrorKind::Other), message)
}

fn keeps_alive(head: &Head) -> bool {
    let close = header(head, "connection").flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case("close"));
    // Both framings named: the body was read as chunked, but what follows it is not to be trusted.
    let ambiguous =
        header(head, "transfer-encoding").next().is_some() && header(head, "content-length").next().is_some();
    head.http11 && !close && !ambiguous
}

fn key(uri: &http::Uri) -> std::io::Result<Key> {
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => {
            let scheme = other.unwrap_or_default();
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unsupported scheme `{scheme}`"),
            ));
        }
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("no host in `{uri}`")))?;
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok(Key { https, host: host.to_owned(), port })
}

fn host_header(key: &Key) -> String {
    match (key.https, key.port) {
        (true, 443) | (false, 80) => key.host.clone(),
        (_, port) => format!("{}:{port}", key.host),
    }
}

#[cfg(test)]
mod tests;
