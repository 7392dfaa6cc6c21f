//! `cargo xtask bench`: end-to-end client figures against the emulator, each
//! beside the official OCI Python SDK measured in the same run, written to
//! `docs/perf.md`.
//!
//! The emulator runs in its own process (`locus emulator serve`, release
//! build) so that client and server costs are separate. The Rust client is
//! `crates/locus-agent/examples/e2e_bench.rs`; the peer is
//! `xtask/bench/peer.py` (skipped, with a note, when Python or the `oci`
//! package is missing — never faked).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

mod report;
use report::report;

const FD_LIMIT: &str =
    "ulimit -n \"$(ulimit -Hn)\" 2>/dev/null || ulimit -n 65536 2>/dev/null || ulimit -n 4096 2>/dev/null || true";

fn run(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command.output().map_err(|e| format!("{what}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{what} failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let rustc = run(Command::new("rustc").arg("--version"), "rustc").unwrap_or_default();
    format!("{cores} cores ({cpu}), {memory} memory, {}", rustc.trim())
}

pub fn bench(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("==> building (release)");
    for target in [
        ["-p", "locus-cli", "--bin", "locus"],
        ["-p", "locus-agent", "--example", "e2e_bench"],
        ["-p", "oci-genai-transport", "--example", "floor_reader"],
        ["-p", "locus-gateway", "--example", "gateway_reader"],
        ["-p", "locus-agent", "--example", "mcp_bench"],
    ] {
        run(
            Command::new(&cargo).current_dir(root).args(["build", "--release"]).args(target),
            &format!("build {}", target[3]),
        )?;
    }

    let work = root.join("target/bench");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let config = std::fs::read_to_string(root.join("xtask/bench/emulator.json"))
        .map_err(|e| e.to_string())?
        .replace("__TEXT__", &"x".repeat(10_000))
        .replace("__TEXT50K__", &"x".repeat(50_000))
        .replace("__SMALL__", &"x".repeat(100));
    let config_path = work.join("emulator.json");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;

    eprintln!("==> starting the emulator in its own process");
    let locus = root.join("target/release/locus");
    let mut emulator = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{FD_LIMIT}; exec {} emulator serve --config {} --state-dir {}",
            locus.display(),
            config_path.display(),
            work.join("state").display()
        ))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("emulator: {e}"))?;
    let mut lines = BufReader::new(emulator.stdout.take().ok_or("no emulator stdout")?).lines();
    let mut line = || lines.next().and_then(Result::ok).unwrap_or_default();
    let url = line().rsplit(' ').next().unwrap_or_default().to_owned();
    let oci_config = line().split(' ').nth(2).unwrap_or_default().to_owned();
    // Drain the rest so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    let result = measure(root, &url, &oci_config);
    let _ = emulator.kill();
    let _ = emulator.wait();
    let (ours, peer) = result?;
    let report = report(&machine(), &ours, &peer);
    std::fs::write(root.join("docs/perf.md"), &report).map_err(|e| e.to_string())?;
    println!("{report}");
    Ok(())
}

fn measure(root: &Path, url: &str, oci_config: &str) -> Result<(Value, Value), String> {
    eprintln!("==> locus-rs client");
    let client = root.join("target/release/examples/e2e_bench");
    let ours = run(
        Command::new("sh").arg("-c").arg(format!("{FD_LIMIT}; exec {} {url} {oci_config}", client.display())),
        "e2e_bench",
    )?;
    let mut ours: Value = serde_json::from_str(ours.trim()).map_err(|e| format!("e2e_bench output: {e}"))?;

    eprintln!("==> the library on a 2-worker multi-thread runtime");
    let multi = run(Command::new(&client).args([url, oci_config, "--multi-thread"]), "e2e_bench --multi-thread")?;
    let multi: Value = serde_json::from_str(multi.trim()).map_err(|e| format!("e2e_bench output: {e}"))?;
    for per_write in ["1", "64"] {
        let key = format!("cpu_ms_per_1000_events_{per_write}_per_write");
        ours[format!("multi_thread_{key}")] = multi[&key].clone();
    }

    for per_write in ["1", "64"] {
        let model = format!("bench-50k-{per_write}");
        eprintln!("==> `locus chat --json`, the whole process, on 50,000 events at {per_write} per write");
        let locus = root.join("target/release/locus");
        let chat = |transport: &str| {
            format!(
                "{} chat --json --no-save --config-file {oci_config} --service-endpoint {url} --model oci:{model} \
                 --compartment-id ocid1.compartment.oc1..aaaaaaaaemulator --transport {transport} go",
                locus.display()
            )
        };
        ours[format!("process_cpu_ms_per_1000_events_{per_write}_per_write")] = process_cpu(&chat("native"))?.into();
        eprintln!("==> the same through the OpenAI-compatible chat completions API");
        ours[format!("chat_completions_process_cpu_ms_per_1000_events_{per_write}_per_write")] =
            process_cpu(&chat("chat-completions"))?.into();
        eprintln!("==> the floor reader at {per_write} per write");
        let floor = root.join("target/release/examples/floor_reader");
        let whole = format!("{} {url} {oci_config} {model} 0", floor.display());
        ours[format!("floor_process_cpu_ms_per_1000_events_{per_write}_per_write")] = process_cpu(&whole)?.into();
        let out = run(Command::new(floor).args([url, oci_config, model.as_str(), "3"]), "floor_reader")?;
        let floor: Value = serde_json::from_str(out.trim()).map_err(|e| format!("floor_reader output: {e}"))?;
        ours[format!("floor_cpu_ms_per_1000_events_{per_write}_per_write")] = floor["cpu_ms_per_1000_events"].clone();
    }

    eprintln!("==> the gateway (locus serve) in front of the emulator");
    match gateway_figures(root, url, oci_config) {
        Ok(figures) => {
            for (key, value) in figures.as_object().into_iter().flatten() {
                ours[key] = value.clone();
            }
        }
        Err(e) => eprintln!("gateway figures skipped: {e}"),
    }

    eprintln!("==> MCP tool calls over stdio (`locus emulator mcp-server`), ours and the floor");
    let mcp_bench = root.join("target/release/examples/mcp_bench");
    let locus = root.join("target/release/locus");
    match run(Command::new(mcp_bench).arg(&locus).args(["emulator", "mcp-server"]), "mcp_bench")
        .and_then(|out| serde_json::from_str::<Value>(out.trim()).map_err(|e| format!("mcp_bench output: {e}")))
    {
        Ok(figures) => {
            for (key, value) in figures.as_object().into_iter().flatten() {
                ours[key] = value.clone();
            }
        }
        Err(e) => eprintln!("MCP figures skipped: {e}"),
    }

    eprintln!("==> OCI Python SDK peer");
    let python = match peer_python(root) {
        Ok(python) => python,
        Err(reason) => return Ok((ours, serde_json::json!({ "skipped": reason }))),
    };
    let peer = match Command::new(python).arg(root.join("xtask/bench/peer.py")).args([url, oci_config]).output() {
        Ok(output) => serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| serde_json::json!({"skipped": String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("peer failed").to_owned()})),
        Err(e) => serde_json::json!({"skipped": format!("python3 is not available: {e}")}),
    };
    Ok((ours, peer))
}

/// CPU of a whole process reading one 50,000-event stream (user + system,
/// as the kernel accounts the child: `getrusage(RUSAGE_CHILDREN)`, read by a
/// few lines of Python for microseconds where the shell's `time` gives
/// milliseconds; start-up, config and key loading count) per 1,000 events:
/// the median of seven runs.
fn process_cpu(command: &str) -> Result<f64, String> {
    // Before and after: a launcher (a pyenv shim) may have left children's CPU on the account.
    const CHILD_CPU: &str = "import resource, shlex, subprocess, sys\n\
        cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_CHILDREN))\n\
        before = cpu()\n\
        subprocess.run(shlex.split(sys.argv[1]), stdout=subprocess.DEVNULL, check=True)\n\
        print(cpu() - before)";
    let mut runs = Vec::new();
    for _ in 0..7 {
        let out = run(Command::new("python3").args(["-c", CHILD_CPU, command]), command)?;
        let seconds: f64 = out.trim().parse().map_err(|e| format!("{command}: CPU time `{}`: {e}", out.trim()))?;
        runs.push(seconds * 1e3 / 50.0);
    }
    runs.sort_by(f64::total_cmp);
    Ok(runs[3])
}

/// The SDK version the peer figures are for.
const PEER_SDK: &str = "oci==2.189.0";

/// A Python with the official OCI SDK: a venv under `target/`, made (and the
/// SDK installed from PyPI) on first use, so a fresh machine needs nothing by hand.
fn peer_python(root: &Path) -> Result<std::path::PathBuf, String> {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    let has_sdk =
        |python: &Path| Command::new(python).args(["-c", "import oci"]).output().is_ok_and(|o| o.status.success());
    if has_sdk(&python) {
        return Ok(python);
    }
    eprintln!("==> installing {PEER_SDK} into {}", venv.display());
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv")
        .map_err(|e| format!("no Python venv for the peer: {e}"))?;
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", PEER_SDK]), "pip install")
        .map_err(|e| format!("the OCI Python SDK could not be installed: {e}"))?;
    if has_sdk(&python) { Ok(python) } else { Err("the OCI Python SDK does not import after installing".into()) }
}

/// User + system CPU of process `pid` so far, in seconds (`/proc/<pid>/stat`, clock ticks).
fn process_cpu_seconds(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("malformed /proc stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).ok_or("malformed /proc stat");
    let per_second = run(Command::new("getconf").arg("CLK_TCK"), "getconf")?.trim().parse::<f64>().unwrap_or(100.0);
    Ok((ticks(11)? + ticks(12)?) / per_second)
}

/// Peak resident size of process `pid`, in MiB.
fn peak_rss_mib(pid: u32) -> Result<f64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .ok_or("no VmHWM")?;
    Ok(kib / 1024.0)
}

/// The gateway's own CPU per streamed event (what it adds to a direct
/// client's), and its peak RSS through 1,000 concurrent streams.
fn gateway_figures(root: &Path, url: &str, oci_config: &str) -> Result<Value, String> {
    let (mut serve, gateway) = start_serve(root, url, oci_config, "--max-calls 4000")?;
    let pid = serve.id();
    let reader = root.join("target/release/examples/gateway_reader");
    let read = |model: &str, streams: &str, concurrent: &str| -> Result<f64, String> {
        let out = run(
            Command::new("sh")
                .arg("-c")
                .arg(format!("{FD_LIMIT}; exec {} {gateway} {model} {streams} {concurrent}", reader.display())),
            "gateway_reader",
        )?;
        out.trim().parse::<f64>().map_err(|e| format!("gateway_reader output `{}`: {e}", out.trim()))
    };
    let result: Result<Value, String> = (|| {
        read("bench-64", "1", "1")?;
        let mut figures = serde_json::Map::new();
        for (per_write, streams) in [("1", "2"), ("64", "4")] {
            let before = process_cpu_seconds(pid)?;
            let chunks = read(&format!("bench-50k-{per_write}"), streams, "1")?;
            let cpu = process_cpu_seconds(pid)? - before;
            figures.insert(format!("gateway_cpu_us_per_event_{per_write}_per_write"), (cpu * 1e6 / chunks).into());
        }
        read("bench-small", "1000", "1000")?;
        figures.insert("gateway_1000_streams_peak_rss_mib".into(), peak_rss_mib(pid)?.into());
        Ok(Value::Object(figures))
    })();
    let _ = serve.kill();
    let _ = serve.wait();
    let mut figures = result?;
    let (before, held) = idle_connections_rss(root, url, oci_config)?;
    if let Value::Object(map) = &mut figures {
        map.insert("gateway_idle_rss_mib_before".into(), before.into());
        map.insert("gateway_10000_idle_rss_mib".into(), held.into());
    }
    Ok(figures)
}

/// A fresh gateway's resident size (MiB) before and while 10,000 idle
/// connections are held (half with half a request head sent).
fn idle_connections_rss(root: &Path, url: &str, oci_config: &str) -> Result<(f64, f64), String> {
    let (mut serve, gateway) = start_serve(root, url, oci_config, "--header-timeout 120")?;
    let pid = serve.id();
    let result = (|| {
        let before = rss_mib(pid)?;
        let reader = root.join("target/release/examples/gateway_reader");
        let mut holder = Command::new("sh")
            .arg("-c")
            .arg(format!("{FD_LIMIT}; exec {} {gateway} idle 10000 5", reader.display()))
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("gateway_reader idle: {e}"))?;
        let mut out = BufReader::new(holder.stdout.take().ok_or("no reader stdout")?).lines();
        let ready = out.next().and_then(Result::ok).unwrap_or_default();
        // The gateway accepts what the kernel queued: a moment for the last ones.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let held = rss_mib(pid);
        let _ = holder.wait();
        if ready != "held 10000" {
            return Err(format!("gateway_reader idle said `{ready}`"));
        }
        Ok((before, held?))
    })();
    let _ = serve.kill();
    let _ = serve.wait();
    result
}

/// `locus serve` (release) in front of the emulator at `url`, with `flags`; the process and its base URL.
fn start_serve(root: &Path, url: &str, oci_config: &str, flags: &str) -> Result<(std::process::Child, String), String> {
    let mut serve = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{FD_LIMIT}; exec {} serve --listen 127.0.0.1:0 {flags} --service-endpoint {url} --config-file \
             {oci_config} --compartment-id ocid1.compartment.oc1..aaaaaaaaemulator",
            root.join("target/release/locus").display()
        ))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("locus serve: {e}"))?;
    let mut lines = BufReader::new(serve.stdout.take().ok_or("no serve stdout")?).lines();
    let line = lines.next().and_then(Result::ok).unwrap_or_default();
    let gateway = line.split(' ').nth(3).unwrap_or_default().trim_end_matches(':').to_owned();
    Ok((serve, gateway))
}

/// A process's resident size now, in MiB.
fn rss_mib(pid: u32) -> Result<f64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .ok_or("no VmRSS")?;
    Ok(kib / 1024.0)
}
