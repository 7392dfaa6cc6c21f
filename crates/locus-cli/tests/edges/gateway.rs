//! `locus serve` against hostile clients and a hostile upstream (issue 25,
//! items 1 to 7).

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{chat_at, raw_server, run};
use crate::serving::{Served, exchange, exchange_from, post_json, request};

fn chat_body(model: &str, stream: bool) -> serde_json::Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hello gateway"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_01_embedding_fan_out_is_capped_and_inputs_are_checked() {
    let served = Served::start(&[]);
    let many: Vec<&str> = vec!["a"; 96_000];
    let started = Instant::now();
    let reply =
        exchange(served.address, &post_json(served.address, "/v1/embeddings", &json!({"input": many}), &[])).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("96000 inputs") && reply.body.contains("2048"), "{}", reply.body);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    let mixed = json!({"input": ["one", 2, "three"]});
    let reply = exchange(served.address, &post_json(served.address, "/v1/embeddings", &mixed, &[])).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("input[1]"), "an input is never dropped silently: {}", reply.body);

    let at_the_cap: Vec<String> = (0..2048).map(|i| format!("text {i}")).collect();
    let reply =
        exchange(served.address, &post_json(served.address, "/v1/embeddings", &json!({"input": at_the_cap}), &[]))
            .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = reply.json()["data"].as_array().map(Vec::len);
    assert_eq!(data, Some(2048));
    let peak = served.peak_rss_kib();
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_02_a_legitimate_client_is_served_while_10000_idle_connections_are_held() {
    let timeout = Duration::from_secs(5);
    let served = Served::start(&["--header-timeout", "5"]);
    let address = served.address;
    let rss_before = served.rss_kib();
    let started = Instant::now();
    let mut held = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
        // Half of them send half a request head, the rest nothing.
        if i % 2 == 0 {
            stream.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n").await.expect("send");
        }
        held.push((Instant::now(), stream));
    }
    eprintln!("10,000 connections opened in {:?}", started.elapsed());
    let health = exchange(address, &request("GET", address, "/healthz", &[], "")).await;
    assert_eq!(health.status, 200);
    let chat = exchange(address, &post_json(address, "/v1/chat/completions", &chat_body("echo", false), &[])).await;
    assert_eq!(chat.status, 200, "{}", chat.body);
    assert_eq!(chat.json()["choices"][0]["message"]["content"], "hello gateway");
    let rss_held = served.rss_kib();
    eprintln!("RSS {rss_before} KiB before, {rss_held} KiB with 10,000 idle connections");
    assert!(rss_held < 256 * 1024, "{rss_held} KiB");

    // Past the header timeout, the gateway closed them (those opened early enough to tell).
    tokio::time::sleep((timeout + Duration::from_secs(1)).saturating_sub(started.elapsed())).await;
    let now = Instant::now();
    let old: Vec<_> =
        held.iter_mut().filter(|(opened, _)| *opened + timeout + Duration::from_millis(500) < now).collect();
    assert!(old.len() >= 100, "{} connections old enough to have timed out", old.len());
    let mut open = 0;
    for (_, stream) in old.into_iter().step_by(20).take(100) {
        let mut bytes = [0u8; 512];
        // End of stream or a reset: closed (a 408 before the close counts too).
        if tokio::time::timeout(Duration::from_secs(2), stream.read(&mut bytes)).await.is_err() {
            open += 1;
        }
    }
    assert_eq!(open, 0, "idle and half-sent connections are closed after the header timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_02_out_of_file_descriptors_the_gateway_waits_instead_of_spinning() {
    // 600 descriptors: the gateway serves at most 88 connections at once (it keeps 512 for itself).
    let mut command = std::process::Command::new("sh");
    crate::harness::isolate(&mut command);
    command.args(["-c", r#"ulimit -n 600 && exec "$0" "$@""#]).arg(env!("CARGO_BIN_EXE_locus"));
    command.arg("serve").arg("--config-file").arg(&crate::harness::service().config_file);
    command.args([
        "--service-endpoint",
        &crate::harness::service().url,
        "--compartment-id",
        crate::harness::COMPARTMENT,
    ]);
    command.args(["--listen", "127.0.0.1:0", "--header-timeout", "2"]);
    let served = Served::spawn(command);
    let mut flood = Vec::new();
    for _ in 0..400 {
        if let Ok(stream) = tokio::net::TcpStream::connect(served.address).await {
            flood.push(stream);
        }
    }
    let before = served.cpu_ticks();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let spent = served.cpu_ticks() - before;
    assert!(spent < 20, "{spent} ticks of CPU in one second while the flood waits: spinning");
    assert!(served.stderr().contains("at most 88 connections"), "{}", served.stderr());
    // The flood goes away; a legitimate request is served at once.
    drop(flood);
    let health = exchange(served.address, &request("GET", served.address, "/healthz", &[], "")).await;
    assert_eq!(health.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_03_a_keyless_gateway_refuses_what_a_web_page_could_send() {
    let served = Served::start(&[]);
    let address = served.address;
    let body = chat_body("echo", false).to_string();
    // A form or a no-preflight fetch: text/plain.
    let form = request("POST", address, "/v1/chat/completions", &["content-type: text/plain"], &body);
    let reply = exchange(address, &form).await;
    assert_eq!(reply.status, 415, "{}", reply.body);
    // A page on another site.
    let foreign =
        post_json(address, "/v1/chat/completions", &chat_body("echo", false), &["origin: https://evil.example"]);
    let reply = exchange(address, &foreign).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.body.contains("evil.example"), "{}", reply.body);
    // DNS rebinding: the page's own name, resolved to 127.0.0.1.
    let rebound = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: rebind.evil.example:{}\r\ncontent-type: application/json\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        address.port(),
        body.len()
    );
    let reply = exchange(address, rebound.as_bytes()).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    // A local program, and a page served by the gateway's own origin.
    let own = format!("origin: http://{address}");
    for headers in [vec![], vec![own.as_str()]] {
        let reply =
            exchange(address, &post_json(address, "/v1/chat/completions", &chat_body("echo", false), &headers)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_04_sigterm_lets_a_stream_finish_then_exits_0() {
    for signal in ["TERM", "INT"] {
        let mut served = Served::start(&["--drain-timeout", "20"]);
        let address = served.address;
        let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
        stream
            .write_all(&post_json(address, "/v1/chat/completions", &chat_body("slow", true), &[]))
            .await
            .expect("send");
        let mut first = [0u8; 256];
        let n = stream.read(&mut first).await.expect("the stream starts");
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
        served.signal(signal);
        // No new connections once the signal is handled.
        let started = Instant::now();
        loop {
            match tokio::net::TcpStream::connect(address).await {
                Err(_) => break,
                Ok(_) if started.elapsed() > Duration::from_secs(2) => panic!("still accepting after SIG{signal}"),
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.expect("the stream goes on");
        let rest = String::from_utf8_lossy(&rest);
        assert!(rest.contains("data: [DONE]") && rest.ends_with("0\r\n\r\n"), "the stream finished whole: {rest}");
        assert_eq!(served.wait(Duration::from_secs(10)), Some(0), "{}", served.stderr());
        assert!(served.stderr().contains(&format!("SIG{signal}")), "{}", served.stderr());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_04_a_stream_longer_than_the_drain_is_cut_at_its_deadline() {
    let mut served = Served::start(&["--drain-timeout", "1"]);
    let address = served.address;
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(&post_json(address, "/v1/chat/completions", &chat_body("slower", true), &[])).await.expect("send");
    let mut first = [0u8; 64];
    let _ = stream.read(&mut first).await.expect("the stream starts");
    let started = Instant::now();
    served.signal("TERM");
    assert_eq!(served.wait(Duration::from_secs(5)), Some(0), "{}", served.stderr());
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(served.stderr().contains("1 cut"), "{}", served.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_05_every_upstream_call_takes_a_permit() {
    let served = Served::start(&["--max-calls", "2"]);
    let address = served.address;
    let calls = (0..6).map(|_| {
        let raw = post_json(address, "/v1/chat/completions", &chat_body("hostile.slow-first-byte", false), &[]);
        tokio::spawn(async move { exchange(address, &raw).await.status })
    });
    let mut statuses: Vec<u16> = futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429, 429, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_05_without_keys_the_rate_is_per_client_address() {
    let served = Served::start(&["--requests-per-minute", "2"]);
    let address = served.address;
    let ask = || post_json(address, "/v1/chat/completions", &chat_body("echo", false), &[]);
    let one: std::net::IpAddr = [127, 0, 0, 1].into();
    let two: std::net::IpAddr = [127, 0, 0, 2].into();
    let mut statuses = Vec::new();
    for source in [one, one, one, two] {
        statuses.push(exchange_from(source, address, &ask()).await.status);
    }
    assert_eq!(statuses, [200, 200, 429, 200], "another address has its own budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_05_keys_bearer_any_case_wrong_keys_throttled_empty_file_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "# clients\nsk-right\n").unwrap();
    let served = Served::start(&["--api-keys", keys.to_str().unwrap()]);
    let address = served.address;
    let with = |auth: &str| post_json(address, "/v1/chat/completions", &chat_body("echo", false), &[auth]);
    assert_eq!(exchange(address, &with("authorization: bearer sk-right")).await.status, 200);
    assert_eq!(exchange(address, &with("authorization: BEARER  sk-right")).await.status, 200);
    for _ in 0..10 {
        assert_eq!(exchange(address, &with("authorization: Bearer sk-guess")).await.status, 401);
    }
    let throttled = exchange(address, &with("authorization: Bearer sk-guess")).await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert!(throttled.body.contains("wrong API keys"), "{}", throttled.body);

    std::fs::write(&keys, "# nobody yet\n\n").unwrap();
    let empty = run(crate::harness::locus().args(["serve", "--api-keys", keys.to_str().unwrap()]));
    empty.assert_sane().assert_code(2);
    assert!(empty.stderr.contains("holds no keys"), "{}", empty.stderr);
}

/// An upstream that answers every request with a malformed HTTP body.
fn garbage_upstream() -> String {
    raw_server(|mut socket| {
        use std::io::Write;
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nZZZ\r\nnot a chunk\r\n");
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_06_upstream_faults_are_502_not_400() {
    let upstream = garbage_upstream();
    let served = Served::start_at(&upstream, &["--transport", "native"]);
    for stream in [true, false] {
        let reply = exchange(
            served.address,
            &post_json(served.address, "/v1/chat/completions", &chat_body("echo", stream), &[]),
        )
        .await;
        assert_eq!(reply.status, 502, "stream {stream}: {}", reply.body);
        assert!(reply.body.contains("api_error"), "{}", reply.body);
    }
    let chat = run(&mut chat_at(&upstream, &["--max-retries", "0", "hello"]));
    chat.assert_sane().assert_code(4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_07_model_flags_models_list_busy_port_and_one_log_line_per_request() {
    let served = Served::start(&["--model", "echo"]);
    let address = served.address;
    let no_model = json!({"messages": [{"role": "user", "content": "who answers?"}]});
    let reply = exchange(address, &post_json(address, "/v1/chat/completions", &no_model, &[])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["choices"][0]["message"]["content"], "who answers?");

    let models = exchange(address, &request("GET", address, "/v1/models", &[], "")).await;
    let ids: Vec<String> =
        models.json()["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.iter().any(|id| id == "echo") && ids.iter().any(|id| id == "slow"), "{ids:?}");

    // One info line per request: method, route, status, model, latency.
    let log = served.stderr();
    assert!(log.lines().any(|l| l.contains("POST /v1/chat/completions 200 model=echo latency_ms=")), "{log}");

    // --transport routes every model: a recording upstream sees the path.
    let (paths, upstream) = recording_upstream();
    for (transport, path) in [("native", "/20231130/actions/chat"), ("chat-completions", "/openai/v1/chat/completions")]
    {
        let served = Served::start_at(&upstream, &["--transport", transport]);
        let _ = exchange(
            served.address,
            &post_json(served.address, "/v1/chat/completions", &chat_body("meta.llama-3.3-70b-instruct", false), &[]),
        )
        .await;
        let seen = paths.recv_timeout(Duration::from_secs(5)).expect("the upstream was called");
        assert!(seen.starts_with(&format!("POST {path}")), "{transport}: {seen}");
    }

    // A busy port names the address.
    let listen = address.to_string();
    let config = crate::harness::service().config_file.to_str().unwrap();
    let busy = run(crate::harness::locus().args(["serve", "--listen", &listen, "--config-file", config]));
    busy.assert_sane().assert_code(2);
    assert!(busy.stderr.contains(&listen) && busy.stderr.contains("--listen"), "{}", busy.stderr);
}

/// An upstream that sends each request line to the returned receiver, then closes.
fn recording_upstream() -> (std::sync::mpsc::Receiver<String>, String) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            let n = socket.read(&mut buffer).unwrap_or(0);
            let line = String::from_utf8_lossy(&buffer[..n]).lines().next().unwrap_or_default().to_owned();
            let _ = sender.send(line);
        }
    });
    (receiver, url)
}
