//! The client side of the gateway bench (`cargo xtask bench`): streams a
//! model through a running gateway as an OpenAI client would, counting the
//! chunks and parsing nothing, so the figure measured is the gateway's.
//!
//! `gateway_reader <gateway url> <model> <streams> <concurrent>` prints the
//! chunks received. `gateway_reader <gateway url> idle <connections> <secs>`
//! holds that many idle connections (half of them with half a request head
//! sent), prints `held N` once they are open, and lets go after `secs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::future::join_all;

async fn one(http: &reqwest::Client, url: &str, model: &str) -> u64 {
    let body = format!(r#"{{"model":"{model}","stream":true,"messages":[{{"role":"user","content":"go"}}]}}"#);
    let mut response = http
        .post(format!("{url}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("gateway");
    assert!(response.status().is_success(), "{}", response.status());
    let mut chunks = 0;
    while let Some(bytes) = response.chunk().await.expect("stream") {
        chunks += memchr_count(&bytes);
    }
    chunks
}

fn memchr_count(bytes: &[u8]) -> u64 {
    bytes.windows(2).filter(|w| w == b"\n\n").count() as u64
}

async fn hold_idle(url: &str, connections: usize, secs: u64) {
    use tokio::io::AsyncWriteExt;
    let address = url.trim_start_matches("http://");
    let mut held = Vec::with_capacity(connections);
    for i in 0..connections {
        let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
        if i % 2 == 0 {
            stream.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n").await.expect("send");
        }
        held.push(stream);
    }
    println!("held {}", held.len());
    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, model) = (&args[0], &args[1]);
    if model == "idle" {
        return hold_idle(url, args[2].parse().expect("connections"), args[3].parse().expect("secs")).await;
    }
    let streams: usize = args[2].parse().expect("streams");
    let concurrent: usize = args[3].parse().expect("concurrent");
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrent).build().expect("client");
    let mut total = 0;
    for _ in 0..streams.div_ceil(concurrent) {
        total += join_all((0..concurrent).map(|_| one(&http, url, model))).await.iter().sum::<u64>();
    }
    println!("{total}");
}
