//! Runs the `locus` binary as a user would, watching its exit code, time,
//! peak memory and output; plays misbehaving servers on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use oci_genai_emulator::{Behaviour, DEMO_COMPARTMENT, Emulator, EmulatorConfig, ModelConfig, Turn, TurnCall};

/// No case may take longer, whatever it waits for.
const HARD_TIME_LIMIT: Duration = Duration::from_secs(60);
/// A process past this resident size is stopped: growth without bound.
const HARD_MEMORY_LIMIT_KIB: u64 = 1024 * 1024;
/// What every case must stay under.
pub const PEAK_RSS_LIMIT_KIB: u64 = 256 * 1024;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn key_fixture(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../oci-auth/tests/fixtures");
    if dir.join("vectors").join(name).exists() { dir.join("vectors").join(name) } else { dir.join("keys").join(name) }
}

pub const USER: &str = "ocid1.user.oc1..hostile";
pub const COMPARTMENT: &str = DEMO_COMPARTMENT;

/// How one run of `locus` went.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub peak_rss_kib: u64,
}

impl Run {
    /// Checks what every case promises: an exit code that is not a panic's,
    /// bounded memory, and no secret in the output.
    pub fn assert_sane(&self) -> &Self {
        assert_ne!(self.code, Some(101), "a panic: {}", self.stderr);
        assert!(self.code.is_some(), "killed by a signal: {}", self.stderr);
        assert!(self.peak_rss_kib <= PEAK_RSS_LIMIT_KIB, "peak RSS {} KiB: {}", self.peak_rss_kib, self.stderr);
        let key = std::fs::read_to_string(key_fixture("key-pkcs8.pem")).unwrap_or_default();
        let secret_line = key.lines().nth(3).unwrap_or("no key line");
        for output in [&self.stdout, &self.stderr] {
            assert!(!output.contains(secret_line), "key material printed");
            assert!(!output.contains("PRIVATE KEY"), "key material printed");
            assert!(!output.contains("signature=\""), "a signature printed");
        }
        self
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }

    pub fn assert_faster_than(&self, limit: Duration) -> &Self {
        assert!(self.elapsed < limit, "took {:?}: {}", self.elapsed, self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// `locus` with a clean environment: no OCI or locus variables, a home of its
/// own, and a proxy on a closed local port so that nothing could leave the
/// machine even if a check failed.
pub fn locus() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_locus"));
    isolate(&mut command);
    command
}

/// The environment every run gets (see [`locus`]).
pub fn isolate(command: &mut Command) {
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home())
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .stdin(Stdio::null());
}

fn home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap_or_else(|e| panic!("temporary home: {e}"))).path()
}

/// Runs `command` to its end, sampling its peak resident size from /proc.
pub fn run(command: &mut Command) -> Run {
    let started = Instant::now();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("locus starts");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        let (hwm, rss) = memory(&status_file);
        peak = peak.max(hwm);
        if rss > HARD_MEMORY_LIMIT_KIB || started.elapsed() > HARD_TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("stopped after {:?} at {rss} KiB resident", started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    Run {
        code: status.code(),
        stdout: text(out.join().unwrap_or_default()),
        stderr: text(err.join().unwrap_or_default()),
        elapsed: started.elapsed(),
        peak_rss_kib: peak,
    }
}

/// (VmHWM, VmRSS) in KiB; zeros once the process is gone.
fn memory(status_file: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(status_file).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The emulator every case shares, with the faulty models of
/// `fixtures/hostile-emulator.json`, and an OCI config for it.
pub struct Service {
    pub url: String,
    pub config_file: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                let emulator = Emulator::start(emulator_config()).await.expect("emulator");
                let key = oci_auth::PrivateKey::from_pem_file(key_fixture("key-pkcs8.pem"), None).expect("key");
                emulator.register_api_key(USER, &key);
                let _ = sender.send((emulator.url().to_owned(), emulator.config().tenancy.clone(), key.fingerprint().to_owned()));
                std::future::pending::<()>().await;
            });
        });
        let (url, tenancy, fingerprint) = receiver.recv().expect("the emulator started");
        let dir = tempfile::tempdir().expect("tempdir");
        let config_file = dir.path().join("config");
        let config = format!(
            "[DEFAULT]\nuser = {USER}\nfingerprint = {fingerprint}\ntenancy = {tenancy}\nregion = us-chicago-1\nkey_file = {}\n",
            key_fixture("key-pkcs8.pem").display()
        );
        std::fs::write(&config_file, config).expect("config");
        Service { url, config_file, _dir: dir }
    })
}

fn emulator_config() -> EmulatorConfig {
    let text = std::fs::read_to_string(fixtures().join("hostile-emulator.json")).expect("fixture");
    let mut config: EmulatorConfig = serde_json::from_str(&text).expect("emulator config");
    // 100,000 nested parentheses: too large for a fixture file.
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let calls = vec![TurnCall { name: "calculator".into(), arguments: serde_json::json!({ "expression": deep }) }];
    let turns =
        vec![Turn { tool_calls: calls, ..Default::default() }, Turn { text: "gave up".into(), ..Default::default() }];
    config.models.push(ModelConfig {
        id: "hostile.deep".into(),
        behaviour: Behaviour::Script(turns),
        ..Default::default()
    });
    config
}

/// `locus chat` against the shared emulator, model `oci:<model>`.
pub fn chat(model: &str, extra: &[&str]) -> Command {
    chat_to(&service().url, model, extra)
}

/// `locus chat` against a server at `url`, with the shared config.
pub fn chat_at(url: &str, extra: &[&str]) -> Command {
    chat_to(url, "meta.llama-3.3-70b-instruct", extra)
}

fn chat_to(url: &str, model: &str, extra: &[&str]) -> Command {
    let mut command = locus();
    command.arg("chat").arg("--config-file").arg(&service().config_file);
    command.args(["--service-endpoint", url, "--model", &format!("oci:{model}"), "--compartment-id", COMPARTMENT]);
    // The hostile servers speak the native API.
    command.args(["--transport", "native"]);
    command.args(extra);
    command
}

/// A `[DEFAULT]` profile whose key is `key`.
pub fn profile_with_key(key: &Path) -> String {
    format!(
        "[DEFAULT]\nuser = ocid1.user.oc1..u\nfingerprint = aa:bb\ntenancy = ocid1.tenancy.oc1..t\nregion = us-chicago-1\nkey_file = {}\n",
        key.display()
    )
}

/// `text` in a config file of a temporary directory (kept while the first is).
pub fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    std::fs::write(&path, text).expect("config");
    (dir, path)
}

/// `locus chat "x"` with the config file `config` (and `extra` flags), for cases that fail before any request.
pub fn chat_with_config(config: &Path, extra: &[&str]) -> Command {
    let mut command = locus();
    command.arg("chat").arg("--config-file").arg(config);
    command.args(["--model", "oci:m", "--compartment-id", "c"]).args(extra).arg("x");
    command
}

/// A server on 127.0.0.1 that hands every connection, after its request was
/// read, to `answer` on a thread of its own.
pub fn raw_server(answer: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            std::thread::spawn(move || {
                read_request(&mut socket);
                answer(socket);
            });
        }
    });
    url
}

fn read_request(socket: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n) = socket.read(&mut chunk) {
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return;
            }
        }
    }
}

/// Writes a response head for a chunked body.
pub fn chunked_head(socket: &mut TcpStream, status: &str, content_type: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nopc-request-id: raw-request-id\r\n\r\n"
    );
    socket.write_all(head.as_bytes())
}

/// Writes one chunk of a chunked body.
pub fn chunk(socket: &mut TcpStream, data: &[u8]) -> std::io::Result<()> {
    socket.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
    socket.write_all(data)?;
    socket.write_all(b"\r\n")
}
