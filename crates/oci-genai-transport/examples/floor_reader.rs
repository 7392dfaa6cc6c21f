//! The floor of `cargo xtask bench`: the least work a client can do for one
//! streamed chat — one signed POST over a blocking socket, the chunked body
//! taken apart, events counted by their `data:` lines, stopping at the finish
//! event. No JSON parsed, no async runtime while streaming: what any client
//! must at least spend, for the figures beside it.
//!
//! ```sh
//! floor_reader <emulator url> <oci config file> <model> <streams>
//! ```
//!
//! Prints `{"events": N, "cpu_ms_per_1000_events": X}` (this process's CPU
//! across the streams only, after one warm-up stream). With `<streams>` 0 it
//! reads one stream with no warm-up and prints only its event count: the
//! whole process is then measured from outside, as `locus chat` is.

// A measuring harness: it should stop loudly at the first failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use oci_auth::{Credentials, SignableBody, SignableRequest, SigningSettings, sign};

const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaaemulator";

/// CPU time of this process so far (all threads), from /proc.
fn cpu() -> Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
                total += text.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    Duration::from_nanos(total)
}

/// One stream: the events it carried.
fn stream(address: &str, host: &str, credentials: &Credentials, model: &str) -> u64 {
    let body = format!(
        r#"{{"compartmentId":"{COMPARTMENT}","servingMode":{{"servingType":"ON_DEMAND","modelId":"{model}"}},"chatRequest":{{"apiFormat":"GENERIC","messages":[{{"role":"USER","content":[{{"type":"TEXT","text":"go"}}]}}],"isStream":true}}}}"#
    );
    let target = format!("http://{host}/20231130/actions/chat");
    let length = body.len().to_string();
    let headers = [("host", host), ("content-type", "application/json"), ("content-length", length.as_str())];
    let request = SignableRequest::new("POST", &target, headers, SignableBody::Bytes(body.as_bytes()));
    let signed = sign(&request, credentials, &SigningSettings::default()).expect("sign");
    let mut head = String::from("POST /20231130/actions/chat HTTP/1.1\r\nconnection: close\r\n");
    for (name, value) in headers.into_iter().chain(signed.headers()) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut socket = TcpStream::connect(address).expect("connect");
    socket.set_nodelay(true).expect("nodelay");
    socket.write_all(head.as_bytes()).expect("write");
    socket.write_all(body.as_bytes()).expect("write");

    let mut buffer = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut headers_done = false;
    let mut events = 0u64;
    loop {
        let read = socket.read(&mut buffer).expect("read");
        if read == 0 {
            return events;
        }
        pending.extend_from_slice(&buffer[..read]);
        if !headers_done {
            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            pending.drain(..end + 4);
            headers_done = true;
        }
        // Chunked framing: `<hex size>\r\n<data>\r\n`, repeated.
        let mut at = 0;
        while let Some(line_end) = pending[at..].windows(2).position(|w| w == b"\r\n") {
            let size_text = std::str::from_utf8(&pending[at..at + line_end]).expect("chunk size");
            let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
            let start = at + line_end + 2;
            if size == 0 || pending.len() < start + size + 2 {
                if size == 0 {
                    return events;
                }
                break;
            }
            let data = &pending[start..start + size];
            events += data.windows(6).filter(|w| w == b"data: ").count() as u64;
            if data.windows(14).any(|w| w == b"\"finishReason\"") {
                return events;
            }
            at = start + size + 2;
        }
        pending.drain(..at);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, config, model) = (&args[0], &args[1], &args[2]);
    let streams: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let auth = oci_auth::Auth::builder().config_file(config).build().expect("auth");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let credentials = runtime.block_on(auth.credentials()).expect("credentials");
    let host = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    if streams == 0 {
        println!(r#"{{"events": {}}}"#, stream(&host, &host, &credentials, model));
        return;
    }
    stream(&host, &host, &credentials, model); // warm up
    let (before, mut events) = (cpu(), 0);
    for _ in 0..streams {
        events += stream(&host, &host, &credentials, model);
    }
    let cpu_ms = (cpu() - before).as_secs_f64() * 1e3;
    println!(r#"{{"events": {events}, "cpu_ms_per_1000_events": {}}}"#, cpu_ms * 1000.0 / events as f64);
}
