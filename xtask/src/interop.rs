//! `cargo xtask interop`: official clients against our emulator and gateway. The
//! `openai` Python package, unchanged, calls `locus emulator serve`'s
//! OpenAI-compatible API with a Generative AI API key and with OCI request
//! signing (the official `oci` SDK's signer): chat completions and Responses,
//! whole and streamed, with a tool round trip, and the errors it types.
//! Then the same package through `locus serve`: a dedicated endpoint and a
//! Cohere R model by OpenAI requests, a client-driven tool round trip, a
//! streamed tool call with usage, a 404 typed. The official `oci` SDK calls
//! the emulator's `applyGuardrails` and a COHEREV2 chat with documents, and
//! reads their typed results (PII offsets, citations). Installs what it needs into a venv under `target/` on first use; needs
//! PyPI, so it is not part of `cargo xtask ci` (which runs offline).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The clients checked, pinned so a run today and a run next month check the same thing.
const PACKAGES: [&str; 3] = ["openai==1.109.1", "oci==2.189.0", "requests"];

pub fn interop(root: &Path) -> Result<(), String> {
    let python = venv(root)?;
    eprintln!("==> building locus");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built =
        Command::new(&cargo).current_dir(root).args(["build", "-q", "-p", "locus-cli", "--bin", "locus"]).status();
    if !built.is_ok_and(|s| s.success()) {
        return Err("cannot build locus".into());
    }
    let state = root.join("target/interop/state");
    eprintln!("==> starting the emulator");
    let mut emulator = Command::new(root.join("target/debug/locus"))
        .args(["emulator", "serve", "--state-dir"])
        .arg(&state)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("emulator: {e}"))?;
    let mut lines = BufReader::new(emulator.stdout.take().ok_or("no emulator stdout")?).lines();
    let url = lines.next().and_then(Result::ok).unwrap_or_default().rsplit(' ').next().unwrap_or_default().to_owned();
    std::thread::spawn(move || for _ in lines {});
    eprintln!("==> the openai package against {url}/openai/v1");
    let status = Command::new(&python)
        .arg(root.join("xtask/interop/openai_client.py"))
        .arg(&url)
        .arg(state.join("config"))
        .arg(state.join("genai-api-key"))
        .arg("ocid1.compartment.oc1..aaaaaaaaemulator")
        .status();
    // The official SDK on the native API's newer operations.
    let status = status.and_then(|first| {
        if !first.success() {
            return Ok(first);
        }
        eprintln!("==> the oci SDK against {url}");
        Command::new(&python)
            .arg(root.join("xtask/interop/oci_sdk_client.py"))
            .arg(&url)
            .arg(state.join("config"))
            .arg("ocid1.compartment.oc1..aaaaaaaaemulator")
            .status()
    });
    // The same package against the gateway, in front of the same emulator.
    let gateway_status = status.as_ref().ok().filter(|s| s.success()).map(|_| gateway(root, &python, &url, &state));
    let _ = emulator.kill();
    let _ = emulator.wait();
    if let Some(result) = gateway_status {
        result?;
    }
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("the openai package disagreed with the emulator ({status})")),
        Err(e) => Err(format!("cannot run the interop script: {e}")),
    }
}

/// A venv under `target/` with the pinned clients, made on first use.
fn venv(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target/interop-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python).args(["-c", "import openai, oci, requests"]).output().is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    eprintln!("==> installing {} into {}", PACKAGES.join(" "), venv.display());
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
    if !made.is_ok_and(|s| s.success()) {
        return Err("python3 -m venv failed: install Python 3 with venv".into());
    }
    let installed = Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(PACKAGES).status();
    if !installed.is_ok_and(|s| s.success()) || !ready(&python) {
        return Err(format!("cannot install {} from PyPI", PACKAGES.join(" ")));
    }
    Ok(python)
}

/// `locus serve` in front of the emulator, and the openai package through it.
fn gateway(root: &Path, python: &Path, emulator: &str, state: &Path) -> Result<(), String> {
    eprintln!("==> the openai package against locus serve");
    let listen = "127.0.0.1:18089";
    let mut serve = Command::new(root.join("target/debug/locus"))
        .args(["serve", "--listen", listen, "--service-endpoint", emulator, "--config-file"])
        .arg(state.join("config"))
        .args(["--compartment-id", "ocid1.compartment.oc1..aaaaaaaaemulator"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("locus serve: {e}"))?;
    let mut lines = BufReader::new(serve.stdout.take().ok_or("no serve stdout")?).lines();
    let started = lines.next().and_then(Result::ok).unwrap_or_default();
    let status = if started.contains("OpenAI base URL") {
        Command::new(python)
            .arg(root.join("xtask/interop/gateway_client.py"))
            .arg(format!("http://{listen}"))
            .status()
            .map_err(|e| format!("cannot run the gateway script: {e}"))
    } else {
        Err(format!("locus serve did not start: {started}"))
    };
    let _ = serve.kill();
    let _ = serve.wait();
    match status? {
        status if status.success() => Ok(()),
        status => Err(format!("the openai package disagreed with the gateway ({status})")),
    }
}
