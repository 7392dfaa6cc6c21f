//! Should streams use HTTP/2? Many concurrent streams read two ways from
//! one local server that speaks both HTTP/1.1 and h2c (cleartext HTTP/2,
//! prior knowledge), in a child process so that only the client is measured:
//!
//! - `h1`: `GenAiClient::chat_completions_stream`, each stream on its own
//!   HTTP/1.1 connection read in the stream's own poll (what locus-rs does);
//! - `h2`: reqwest with `http2_prior_knowledge`: every stream multiplexed on
//!   one connection, each chunk handed from the connection's task to the
//!   reader through hyper's channel, SSE split by the same parser.
//!
//! `cargo run --release -p oci-genai-transport --example h2_vs_h1 -- h1|h2 [streams] [events]`
//! prints one JSON line: client CPU per 1,000 events, peak RSS, wall time.

use std::convert::Infallible;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve(args.get(1).and_then(|e| e.parse().ok()).unwrap_or(100));
    }
    let mode = args.first().cloned().unwrap_or_else(|| "h1".into());
    let streams: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let events: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let mut server = std::process::Command::new(std::env::current_exe()?)
        .args(["serve", &events.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().ok_or("no stdout")?), &mut line)?;
    let url = line.trim().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let counted = runtime.block_on(async {
        match mode.as_str() {
            "h2" => read_h2(&url, streams).await,
            _ => read_h1(&url, streams).await,
        }
    })?;
    let (cpu, wall) = (cpu_seconds() - cpu_before, started.elapsed().as_secs_f64());
    let _ = server.kill();
    println!(
        "{{\"mode\": \"{mode}\", \"streams\": {streams}, \"events\": {counted}, \"cpu_ms_per_1000_events\": {:.3}, \
         \"peak_rss_mib\": {:.1}, \"seconds\": {wall:.2}}}",
        cpu * 1e6 / counted as f64,
        peak_rss_mib()
    );
    Ok(())
}

/// Chat completions chunks, one per frame, then `[DONE]`; HTTP/1.1 or h2c on one port.
fn serve(events: usize) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("http://{}", listener.local_addr()?);
        loop {
            let (socket, _) = listener.accept().await?;
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| async move {
                    let chunk = Bytes::from_static(
                        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n",
                    );
                    let last = Bytes::from_static(
                        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                    );
                    let frames = futures::stream::iter(
                        std::iter::repeat_n(chunk, events).chain([last]).map(|b| Ok::<_, Infallible>(Frame::data(b))),
                    );
                    let mut response = hyper::Response::new(BodyExt::boxed(StreamBody::new(frames)));
                    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/event-stream"));
                    Ok::<_, Infallible>(response)
                });
                let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                let _ = builder.serve_connection(hyper_util::rt::TokioIo::new(socket), service).await;
            });
        }
    })
}

async fn read_h1(url: &str, streams: usize) -> Result<usize, Box<dyn std::error::Error>> {
    use oci_genai_transport::openai::chat_completions::{ChatCompletionRequest, ChatMessage, Content};
    let client = oci_genai_transport::GenAiClient::builder().genai_api_key("sk-local").service_endpoint(url).build()?;
    let tasks = (0..streams).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let request = ChatCompletionRequest {
                model: "openai.gpt-5".into(),
                messages: vec![ChatMessage::User { content: Content::Text("hi".into()), name: None }],
                ..Default::default()
            };
            let mut stream = client.chat_completions_stream(oci_genai_transport::OpenAiCall::new(request)).await?;
            let mut count = 0;
            while let Some(event) = stream.next().await {
                event?;
                count += 1;
            }
            Ok::<usize, oci_genai_transport::Error>(count)
        })
    });
    let mut total = 0;
    for task in futures::future::join_all(tasks).await {
        total += task??;
    }
    Ok(total)
}

async fn read_h2(url: &str, streams: usize) -> Result<usize, Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder().http2_prior_knowledge().build()?;
    let target = format!("{url}/openai/v1/chat/completions");
    let tasks = (0..streams).map(|_| {
        let (client, target) = (client.clone(), target.clone());
        tokio::spawn(async move {
            let response = client.post(target).body("{}").send().await?;
            let mut body = response.bytes_stream();
            let (mut parser, mut events, mut count) = (oci_genai_transport::sse::SseParser::new(), Vec::new(), 0usize);
            while let Some(chunk) = body.next().await {
                // Errors from the parser would mean a broken server: counted out.
                let _ = parser.feed(&chunk?, &mut events);
                count += events.drain(..).filter(|e| e.data != "[DONE]").count();
            }
            Ok::<usize, reqwest::Error>(count)
        })
    });
    let mut total = 0;
    for task in futures::future::join_all(tasks).await {
        total += task??;
    }
    Ok(total)
}

/// User + system CPU of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks / 100.0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
