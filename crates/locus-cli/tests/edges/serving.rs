//! `locus serve` as a process, and a raw HTTP/1.1 client that can misbehave.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{COMPARTMENT, locus, service};

/// A running `locus serve`, killed when dropped.
pub struct Served {
    child: Child,
    pub address: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    /// `locus serve` on 127.0.0.1 (a free port) in front of the shared emulator.
    pub fn start(extra: &[&str]) -> Served {
        Served::start_at(&service().url, extra)
    }

    /// `locus serve` in front of the service at `upstream`.
    pub fn start_at(upstream: &str, extra: &[&str]) -> Served {
        let mut command = locus();
        command.arg("serve").arg("--config-file").arg(&service().config_file);
        command.args(["--service-endpoint", upstream, "--compartment-id", COMPARTMENT, "--max-retries", "0"]);
        command.args(["--listen", "127.0.0.1:0"]).args(extra);
        Served::spawn(command)
    }

    /// Runs `command` (a `locus serve`) and waits for its address.
    pub fn spawn(mut command: std::process::Command) -> Served {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("locus serve starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_else(|| {
            let _ = child.wait();
            panic!("locus serve did not start: {}", stderr.lock().unwrap())
        });
        std::thread::spawn(move || lines.for_each(drop));
        let url = first.split(' ').nth(3).expect("an address").trim_end_matches(':');
        let address = url.trim_start_matches("http://").parse().expect("host:port");
        Served { child, address, stderr }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (`TERM`, `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status =
            std::process::Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal}");
    }

    /// The exit code, once it exits within `limit` (`None`: killed by a signal).
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(started.elapsed() < limit, "still running after {limit:?}: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn status_field(&self, name: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// The peak resident size so far, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_field("VmHWM:")
    }

    /// The resident size now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_field("VmRSS:")
    }

    /// User and system CPU time so far, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command name (which may hold spaces) in parentheses.
        let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
            + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer read to the connection's end.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub _head: String,
    /// The body as sent (chunk framing included).
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A request with `Connection: close`; `headers` are whole lines without CRLF.
pub fn request(method: &str, address: SocketAddr, path: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    text.into_bytes()
}

/// A JSON POST, as a local OpenAI client sends it.
pub fn post_json(address: SocketAddr, path: &str, body: &serde_json::Value, headers: &[&str]) -> Vec<u8> {
    let mut all = vec!["content-type: application/json"];
    all.extend_from_slice(headers);
    request("POST", address, path, &all, &body.to_string())
}

/// Sends `raw` from `source` (any loopback address) and reads the answer to its end.
pub async fn exchange_from(source: std::net::IpAddr, address: SocketAddr, raw: &[u8]) -> Reply {
    let socket = if source.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() };
    let socket = socket.expect("socket");
    socket.bind(SocketAddr::new(source, 0)).expect("bind");
    let mut stream = socket.connect(address).await.expect("connect");
    stream.write_all(raw).await.expect("send");
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut bytes))
        .await
        .expect("an answer within 30 s")
        .expect("read");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, _head: head.to_owned(), body: body.to_owned() }
}

/// Sends `raw` from 127.0.0.1.
pub async fn exchange(address: SocketAddr, raw: &[u8]) -> Reply {
    exchange_from([127, 0, 0, 1].into(), address, raw).await
}
