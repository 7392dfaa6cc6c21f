//! A `CONNECT` tunnel through an `http://` proxy, for a stream to an
//! `https://` service behind it: TLS then runs end to end, inside the tunnel.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::proxy::Tunnel;

/// The most of the proxy's answer read: its head only.
const MAX_ANSWER: usize = 16 * 1024;

/// Asks the proxy on `tcp` for a tunnel to `host:port`; the stream is the tunnel once it answers 2xx.
pub(crate) async fn open(tcp: &mut TcpStream, tunnel: &Tunnel, host: &str, port: u16) -> std::io::Result<()> {
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nhost: {authority}\r\n").into_bytes();
    if let Some(authorization) = &tunnel.authorization {
        head.extend_from_slice(b"proxy-authorization: ");
        head.extend_from_slice(authorization.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    tcp.write_all(&head).await?;
    // Read byte by byte up to the blank line: nothing of the tunnel's own bytes may be taken.
    let mut answer = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_ANSWER {
            return Err(refused("an answer head over 16 KiB"));
        }
        if tcp.read(&mut byte).await? == 0 {
            return Err(refused("the connection closed before an answer"));
        }
        answer.push(byte[0]);
    }
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut slots);
    match response.parse(&answer) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(refused("a malformed answer")),
    }
    match response.code {
        Some(code) if (200..300).contains(&code) => Ok(()),
        Some(407) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the proxy refused a tunnel: 407, it wants credentials (user:password@ in HTTPS_PROXY)",
        )),
        // The proxy's policy: trying again cannot change it.
        Some(code @ 400..=499) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the proxy refused a tunnel: {code} {}", response.reason.unwrap_or_default()),
        )),
        Some(code) => Err(refused(&format!("{code} {}", response.reason.unwrap_or_default()))),
        None => Err(refused("a malformed answer")),
    }
}

fn refused(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionRefused, format!("the proxy refused a tunnel: {why}"))
}
