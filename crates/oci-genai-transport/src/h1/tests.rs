#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const CHUNKED_OK: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n6\r\ndata: \r\n3\r\nhi\n\r\n1\r\n\n\r\n0\r\n\r\n";

/// Reads one request head and its `content-length` body; the head's text.
async fn read_request<S: AsyncRead + Unpin>(socket: &mut S) -> Option<String> {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        seen.push(byte[0]);
    }
    let head = String::from_utf8(seen).unwrap();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length: ")).map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0; length];
    socket.read_exact(&mut body).await.ok()?;
    Some(head)
}

/// Serves `replies` in turn, one per request, and stops after the last;
/// `close_after` closes a connection after that many replies.
async fn server(
    replies: Vec<&'static [u8]>,
    close_after: usize,
) -> (String, tokio::task::JoinHandle<(usize, Vec<String>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/20231130/actions/chat?x=1", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut connections, mut heads, mut replies) = (0, Vec::<String>::new(), replies.into_iter());
        'accept: loop {
            let Ok((mut socket, _)) = listener.accept().await else { break };
            connections += 1;
            for _ in 0..close_after {
                let Some(head) = read_request(&mut socket).await else { continue 'accept };
                heads.push(head);
                let Some(reply) = replies.next() else { break 'accept };
                socket.write_all(reply).await.unwrap();
                if replies.len() == 0 {
                    break 'accept;
                }
            }
        }
        (connections, heads)
    });
    (url, task)
}

/// A `POST` of `body` to `url` with `headers`.
fn request(url: &str, headers: &[(&'static str, &str)], body: &'static [u8]) -> http::Request<bytes::Bytes> {
    let mut request = http::Request::post(url).body(bytes::Bytes::from_static(body)).unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    request
}

async fn read_body(response: &mut Response) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    while std::future::poll_fn(|cx| response.body.poll_data(cx, &mut |d| data.extend_from_slice(d))).await? {}
    Ok(data)
}

fn client() -> H1Client {
    H1Client::new(Duration::from_secs(5), "locus-rs/test")
}

#[tokio::test]
async fn a_chunked_stream_is_read_in_place_and_its_connection_kept() {
    let (url, server) = server(vec![CHUNKED_OK, CHUNKED_OK], 3).await;
    let client = client();
    let url: reqwest::Url = url.parse().unwrap();
    for _ in 0..2 {
        let mut response =
            client.post(&request(url.as_str(), &[("content-type", "application/json")], b"{}"), None).await.unwrap();
        assert_eq!((response.status, response.header("content-type")), (200, Some("text/event-stream")));
        assert_eq!(read_body(&mut response).await.unwrap(), b"data: hi\n\n");
        assert_eq!(client.pool.len(), 1);
    }
    drop(client);
    let (connections, heads) = server.await.unwrap();
    assert_eq!(connections, 1, "the second request reused the first connection");
    let host = url.host_str().unwrap();
    assert!(heads[0].starts_with("POST /20231130/actions/chat?x=1 HTTP/1.1\r\n"), "{}", heads[0]);
    assert!(heads[0].contains(&format!("host: {host}:{}\r\n", url.port().unwrap())), "{}", heads[0]);
    assert!(heads[0].contains("content-length: 2\r\n") && heads[0].contains("user-agent: locus-rs/test\r\n"));
}

#[tokio::test]
async fn a_kept_connection_closed_by_the_server_is_replaced() {
    let (url, server) = server(vec![CHUNKED_OK, CHUNKED_OK], 1).await;
    let client = client();
    let url: reqwest::Url = url.parse().unwrap();
    for _ in 0..2 {
        let mut response = client.post(&request(url.as_str(), &[], b"{}"), None).await.unwrap();
        assert_eq!(read_body(&mut response).await.unwrap(), b"data: hi\n\n");
        // Let the server's close arrive, as it would while the connection sits idle.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.await.unwrap().0, 2);
}

#[tokio::test]
async fn sized_bodies_end_at_their_length_and_close_delimited_ones_are_not_kept() {
    let sized: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\nabcde";
    let closing: &[u8] = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok";
    let (url, server) = server(vec![sized, closing], 2).await;
    let client = client();
    let url: reqwest::Url = url.parse().unwrap();
    let mut response = client.post(&request(url.as_str(), &[], b""), None).await.unwrap();
    assert_eq!((response.status, read_body(&mut response).await.unwrap()), (404, b"abcde".to_vec()));
    let mut response = client.post(&request(url.as_str(), &[], b""), None).await.unwrap();
    assert_eq!(read_body(&mut response).await.unwrap(), b"ok");
    assert_eq!(client.pool.len(), 0, "the server said close");
    drop(client);
    assert_eq!(server.await.unwrap().0, 1);
}

#[tokio::test]
async fn a_body_cut_short_is_an_error_and_a_dropped_one_closes_its_connection() {
    let cut: &[u8] = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab";
    let (url, task) = server(vec![cut], 1).await;
    let client = client();
    let mut response = client.post(&request(url.as_str(), &[], b""), None).await.unwrap();
    let err = read_body(&mut response).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(client.pool.len(), 0);
    task.abort();

    let (url, task) = server(vec![CHUNKED_OK], 1).await;
    let response = client.post(&request(url.as_str(), &[], b""), None).await.unwrap();
    drop(response);
    assert_eq!(client.pool.len(), 0);
    task.abort();
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error_and_garbage_an_invalid_reply() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: reqwest::Url = format!("http://{}/x", listener.local_addr().unwrap()).parse().unwrap();
    drop(listener);
    let err = client().post(&request(url.as_str(), &[], b""), None).await.unwrap_err();
    assert!(err.connect, "{err:?}");

    let (url, server) = server(vec![b"SSH-2.0-OpenSSH\r\n\r\n"], 1).await;
    let err = client().post(&request(url.as_str(), &[], b""), None).await.unwrap_err();
    assert!(!err.connect && err.error.kind() == std::io::ErrorKind::InvalidData, "{err:?}");
    server.abort();
}

/// A TLS server for `localhost` answering [`CHUNKED_OK`]; its URL and the roots that trust it.
async fn tls_server() -> (String, rustls::RootCertStore, tokio::task::JoinHandle<()>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/x", listener.local_addr().unwrap().port());
    let server = tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let Ok(mut tls) = acceptor.accept(socket).await else { continue };
            while read_request(&mut tls).await.is_some() {
                tls.write_all(CHUNKED_OK).await.unwrap();
                tls.flush().await.unwrap();
            }
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    (url, roots, server)
}

/// A proxy that answers `CONNECT` with `status` and, on 200, pipes to the
/// address asked for; the heads it received.
async fn connect_proxy(status: &'static str) -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let Some(head) = read_request(&mut socket).await else { continue };
            seen.lock().unwrap().push(head.clone());
            socket.write_all(format!("HTTP/1.1 {status}\r\n\r\n").as_bytes()).await.unwrap();
            if !status.starts_with("200") {
                continue;
            }
            let target = head.split_whitespace().nth(1).unwrap().replace("localhost", "127.0.0.1");
            let mut upstream = tokio::net::TcpStream::connect(target).await.unwrap();
            tokio::spawn(async move {
                let _ = tokio::io::copy_bidirectional(&mut socket, &mut upstream).await;
            });
        }
    });
    (port, heads)
}

/// The tunnel the proxies of `env` route a stream to `url` through.
fn tunnel_for(env: &oci_auth::StaticEnv, url: &str) -> crate::proxy::Tunnel {
    match crate::proxy::Proxies::from_env(env).stream_route(&url.parse().unwrap()) {
        crate::proxy::StreamRoute::Tunnel(tunnel) => tunnel,
        other => panic!("not tunnelled: {other:?}"),
    }
}

/// An `https://` stream behind an `http://` proxy keeps its own connection:
/// a `CONNECT` tunnel with the proxy URL's credentials, TLS inside it, and
/// the connection kept for the next stream (issue 26, item 2).
#[tokio::test]
async fn a_stream_tunnels_through_an_http_proxy_with_connect() {
    let (url, roots, server) = tls_server().await;
    let (port, heads) = connect_proxy("200 Connection established").await;
    let env = oci_auth::StaticEnv::new().with_var("HTTPS_PROXY", format!("http://user:pw@127.0.0.1:{port}"));
    let client = H1Client::with_roots(roots.clone(), Duration::from_secs(5), "locus-rs/test");
    let tunnel = tunnel_for(&env, &url);
    for _ in 0..2 {
        let mut response = client.post(&request(&url, &[], b"{}"), Some(&tunnel)).await.unwrap();
        assert_eq!(read_body(&mut response).await.unwrap(), b"data: hi\n\n");
    }
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "one tunnel, kept: {heads:?}");
    let authority = url.trim_start_matches("https://").trim_end_matches("/x");
    assert!(heads[0].starts_with(&format!("CONNECT {authority} HTTP/1.1\r\n")), "{heads:?}");
    assert!(heads[0].contains("proxy-authorization: Basic dXNlcjpwdw=="), "{heads:?}");

    let (port, _) = connect_proxy("407 Proxy Authentication Required").await;
    let env = oci_auth::StaticEnv::new().with_var("HTTPS_PROXY", format!("http://127.0.0.1:{port}"));
    let refused = H1Client::with_roots(roots, Duration::from_secs(5), "locus-rs/test");
    let err = refused.post(&request(&url, &[], b"{}"), Some(&tunnel_for(&env, &url))).await.unwrap_err();
    assert!(err.connect && err.error.to_string().contains("407"), "{err:?}");
    server.abort();
}

#[tokio::test]
async fn tls_is_verified_against_the_roots() {
    let (url, roots, server) = tls_server().await;
    let err = client().post(&request(url.as_str(), &[], b""), None).await.unwrap_err();
    assert_eq!(err.error.kind(), std::io::ErrorKind::InvalidData, "an unknown issuer is refused: {err:?}");

    let trusting = H1Client::with_roots(roots, Duration::from_secs(5), "locus-rs/test");
    for _ in 0..2 {
        let mut response = trusting.post(&request(url.as_str(), &[], b"{}"), None).await.unwrap();
        assert_eq!(read_body(&mut response).await.unwrap(), b"data: hi\n\n");
    }
    assert_eq!(trusting.pool.len(), 1);
    server.abort();
}

#[tokio::test]
async fn a_head_larger_than_the_read_buffer_is_refused() {
    let huge: &'static [u8] = Box::leak(
        format!("HTTP/1.1 200 OK\r\nx-filler: {}\r\n\r\n", "a".repeat(70 * 1024)).into_bytes().into_boxed_slice(),
    );
    let (url, task) = server(vec![huge], 1).await;
    let err = client().post(&request(url.as_str(), &[], b""), None).await.unwrap_err();
    assert!(err.error.to_string().contains("response headers larger than 64 KiB"), "{err:?}");
    task.abort();
}

/// Every framing of `tests/fixtures/framing-corpus.json` is read exactly or
/// refused as malformed, within a bound, as hyper reads or refuses it, and
/// an ambiguous one is never kept for the next request.
#[tokio::test]
async fn the_framing_corpus_is_read_exactly_or_refused() {
    let corpus: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/fixtures/framing-corpus.json")).unwrap();
    for case in corpus["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let filler = "a".repeat(case["filler"].as_u64().unwrap_or(0) as usize);
        let response = case["response"].as_str().unwrap().replace("{filler}", &filler);
        let response: &'static [u8] = Box::leak(response.into_bytes().into_boxed_slice());
        let (url, task) = server(vec![response], 1).await;
        let client = client();
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            let mut response = client.post(&request(url.as_str(), &[], b""), None).await.map_err(|e| e.error)?;
            read_body(&mut response).await
        })
        .await
        .unwrap_or_else(|_| panic!("{name}: neither read nor refused within 5 s"));
        match &read {
            Ok(body) => {
                assert_eq!(body.as_slice(), case["body"].as_str().unwrap().as_bytes(), "{name}: read, but not exactly");
            }
            Err(error) => assert!(
                matches!(error.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof),
                "{name}: refused as {error:?}"
            ),
        }
        // The differential check: hyper (through reqwest) reads or refuses each case as we do.
        let (url, task_hyper) = server(vec![response], 1).await;
        let by_hyper = async { reqwest::Client::new().post(url.as_str()).body("").send().await?.bytes().await };
        let by_hyper = tokio::time::timeout(Duration::from_secs(5), by_hyper).await.ok().and_then(Result::ok);
        assert_eq!(
            read.as_ref().ok().map(Vec::as_slice),
            by_hyper.as_deref(),
            "{name}: hyper and this connection disagree"
        );
        task_hyper.abort();
        let ambiguous = name.contains("Content-Length") || name.contains("HTTP/1.0") || name.contains("shorter");
        if ambiguous {
            assert_eq!(client.pool.len(), 0, "{name}: an ambiguous connection was kept");
        }
        task.abort();
    }
}

/// A name that resolves to an unreachable IPv6 address first and a
/// listening IPv4 one second connects through the second well within the
/// connect timeout (Happy Eyeballs), where trying one after the other would
/// spend the timeout on the first.
#[tokio::test]
async fn an_unreachable_address_first_does_not_cost_the_connect_timeout() {
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::client::legacy::connect::dns::Name;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = tokio::spawn(async move { listener.accept().await.map(|_| ()) });
    // 100::/64 is the discard-only prefix (RFC 6666): nothing answers there.
    let resolve = tower_service_fn(move |_: Name| async move {
        Ok::<_, std::io::Error>(
            vec![
                std::net::SocketAddr::new("100::1".parse().unwrap(), port),
                std::net::SocketAddr::new([127, 0, 0, 1].into(), port),
            ]
            .into_iter(),
        )
    });
    let mut connector = HttpConnector::new_with_resolver(resolve);
    connector.set_happy_eyeballs_timeout(Some(HAPPY_EYEBALLS));
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    let started = std::time::Instant::now();
    let uri: http::Uri = format!("http://dual-stack.test:{port}").parse().unwrap();
    let connected = tower_service::Service::call(&mut connector, uri).await;
    assert!(connected.is_ok(), "{:?}", connected.err());
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    accept.await.unwrap().unwrap();
}

/// A resolver from a closure.
fn tower_service_fn<F, Fut, T>(f: F) -> ServiceFn<F>
where
    F: FnMut(hyper_util::client::legacy::connect::dns::Name) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<T>>,
{
    ServiceFn(f)
}

#[derive(Clone)]
struct ServiceFn<F>(F);

impl<F, Fut, T> tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for ServiceFn<F>
where
    F: FnMut(hyper_util::client::legacy::connect::dns::Name) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<T>>,
{
    type Response = T;
    type Error = std::io::Error;
    type Future = Fut;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        (self.0)(name)
    }
}
