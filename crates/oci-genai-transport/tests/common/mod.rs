//! Test helpers: credentials from the oci-auth fixtures, a signature check, and
//! a raw HTTP server for stream behaviour wiremock cannot play (a connection
//! kept open after the last event, one dropped mid-stream).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oci_auth::verify::{self, PublicKey, SignatureHeader};
use oci_auth::{ApiKeyProvider, PrivateKey, SharedCredentialsProvider, SignableBody, SignableRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../oci-auth/tests/fixtures/vectors");

pub fn credentials() -> SharedCredentialsProvider {
    let key = PrivateKey::from_pem_file(format!("{FIXTURES}/key-pkcs8.pem"), None).unwrap();
    let fingerprint = key.fingerprint().to_owned();
    Arc::new(ApiKeyProvider::new("ocid1.tenancy.oc1..t", "ocid1.user.oc1..u", &fingerprint, key))
}

/// A client of `endpoint` signing with [`credentials`], retrying after 1–5 ms.
pub fn client(endpoint: &str) -> oci_genai_transport::GenAiClient {
    oci_genai_transport::GenAiClient::builder()
        .credentials_provider(credentials())
        .service_endpoint(endpoint)
        .retry_policy(
            oci_genai_transport::RetryPolicy::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

pub fn public_key() -> PublicKey {
    PublicKey::from_pem(&std::fs::read_to_string(format!("{FIXTURES}/public.pem")).unwrap()).unwrap()
}

/// Checks a request wiremock received was signed by the test key over the POST headers.
pub fn assert_signed(request: &wiremock::Request) {
    let headers: Vec<(&str, &str)> = request.headers.iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())).collect();
    let signable = SignableRequest::new("POST", request.url.path(), headers, SignableBody::Bytes(&request.body));
    let header = SignatureHeader::parse(signable.header("authorization").unwrap()).unwrap();
    assert_eq!(header.headers(), verify::required_headers("POST"));
    verify::verify(&signable, &header, &public_key()).unwrap();
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/sse/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// What the raw server does after writing its events.
#[derive(Clone, Copy)]
pub enum After {
    /// Keep the connection open (the service does this after the last event).
    KeepOpen,
    /// Close the connection without finishing the chunked body.
    Drop,
    /// End the chunked body properly (a clean end of the stream), then close.
    End,
}

/// A one-route HTTP/1.1 server on 127.0.0.1 that answers every request with
/// a chunked `text/event-stream`, writing `chunks` one write apiece.
pub struct RawServer {
    pub url: String,
    pub requests: Arc<AtomicUsize>,
}

impl RawServer {
    pub async fn start(chunks: Vec<String>, pause: Duration, after: After) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let chunks = chunks.clone();
                tokio::spawn(async move {
                    read_request(&mut socket).await;
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nopc-request-id: raw\r\n\r\n";
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    for chunk in chunks {
                        let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
                        if socket.write_all(framed.as_bytes()).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(pause).await;
                    }
                    match after {
                        After::KeepOpen => tokio::time::sleep(Duration::from_secs(30)).await,
                        After::Drop => drop(socket),
                        After::End => {
                            let _ = socket.write_all(b"0\r\n\r\n").await;
                        }
                    }
                });
            }
        });
        RawServer { url, requests }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request (headers and a content-length body).
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = socket.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return;
            }
        }
    }
}
