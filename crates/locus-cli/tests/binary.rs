//! The `locus` binary itself: arguments, exit codes, stdout and stderr.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn locus() -> Command {
    static DATA: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let data = DATA.get_or_init(|| tempfile::tempdir().unwrap());
    let mut command = Command::new(env!("CARGO_BIN_EXE_locus"));
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    command.env_remove("OCI_CLI_AUTH").env_remove("OCI_CLI_PROFILE").env_remove("OCI_CONFIG_FILE");
    // Sessions go to a directory of the test's own, and stdin is empty (not the test runner's).
    command.env("XDG_DATA_HOME", data.path()).env_remove("LOCUS_CONFIG").stdin(std::process::Stdio::null());
    command
}

#[test]
fn help_and_version() {
    let output = locus().arg("--help").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("raw-request"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("locus chat --emulator"), "the first thing to try");
    // Every command teaches by example (issue 28, item 18).
    for command in ["chat", "doctor", "models", "embed", "rerank", "guard", "serve", "sessions", "raw-request"] {
        let help = locus().args([command, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(text.contains("Examples:\n  locus"), "{command}: {text}");
    }
    let embed = locus().args(["embed", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&embed.stdout).contains("cohere.embed-english-v3.0"), "its default model");
    let output = locus().arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), concat!("locus ", env!("CARGO_PKG_VERSION")));
}

/// Completions come from the parser's own definition; bash loads them (when there is a bash).
#[test]
fn completions_for_each_shell_and_bash_loads_its_own() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = locus().args(["completions", shell]).output().unwrap();
        assert!(output.status.success() && !output.stdout.is_empty(), "{shell}");
    }
    assert_eq!(locus().args(["completions", "tcsh"]).output().unwrap().status.code(), Some(2));
    let script = locus().args(["completions", "bash"]).output().unwrap().stdout;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locus.bash");
    std::fs::write(&path, script).unwrap();
    let check = format!("source {}; complete -p locus", path.display());
    if let Ok(loaded) = Command::new("bash").args(["--norc", "-c", &check]).output() {
        assert!(String::from_utf8_lossy(&loaded.stdout).contains("locus"), "{loaded:?}");
    }
}

#[test]
fn the_readme_dry_run_prints_signed_json() {
    let output = locus()
        .args(["raw-request", "--dry-run", "--config-file", "docs/examples/oci-config", "--method", "GET"])
        .args([
            "--target-uri",
            "https://iaas.us-chicago-1.oraclecloud.com/20160918/instances?compartmentId=ocid1.compartment.oc1..example",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let authorization = json["headers"]["authorization"].as_str().unwrap();
    assert!(authorization.starts_with(r#"Signature algorithm="rsa-sha256",headers="date (request-target) host""#));
    assert_eq!(json["headers"]["host"], "iaas.us-chicago-1.oraclecloud.com");
}

#[test]
fn exit_codes() {
    let usage = locus().args(["raw-request", "--method", "GET"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let config = locus()
        .args([
            "raw-request",
            "--dry-run",
            "--config-file",
            "/nonexistent",
            "--method",
            "GET",
            "--target-uri",
            "https://h/",
        ])
        .output()
        .unwrap();
    assert_eq!(config.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&config.stderr).contains("error: cannot read OCI config file /nonexistent"));
}

/// A JWT whose `exp` is far in the future.
const RPST: &str = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6InJlc291cmNlIn0.c2ln";

#[test]
fn resource_principal_dry_run_shows_the_kind_never_the_token() {
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/../oci-auth/tests/fixtures/vectors/key-pkcs8.pem");
    let output = locus()
        .env("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
        .env("OCI_RESOURCE_PRINCIPAL_RPST", RPST)
        .env("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", key)
        .env("OCI_RESOURCE_PRINCIPAL_REGION", "us-chicago-1")
        .args(["raw-request", "--dry-run", "--auth", "resource_principal", "--method", "GET"])
        .args(["--target-uri", "https://iaas.us-chicago-1.oraclecloud.com/20160918/instances"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(r#"keyId=\"ST$<redacted>\""#), "{stdout}");
    assert!(!stdout.contains(RPST));
}

#[test]
fn instance_principal_off_an_instance_says_so() {
    let output = locus()
        .env("OCI_METADATA_BASE_URL", "http://127.0.0.1:9/opc/v2")
        .args(["raw-request", "--dry-run", "--auth", "instance_principal", "--method", "GET"])
        .args(["--target-uri", "https://iaas.us-chicago-1.oraclecloud.com/20160918/instances"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("instance metadata service") && stderr.contains("OCI compute instance"), "{stderr}");
}

#[test]
fn resource_principal_without_its_variables_names_them() {
    let output = locus()
        .env_remove("OCI_RESOURCE_PRINCIPAL_VERSION")
        .args([
            "raw-request",
            "--dry-run",
            "--auth",
            "resource_principal",
            "--method",
            "GET",
            "--target-uri",
            "https://h/",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("OCI_RESOURCE_PRINCIPAL_VERSION is not set"));
}

#[test]
fn chat_with_the_emulator_shows_the_calculator_and_391() {
    let output = locus().args(["chat", "--emulator", "what is 17*23?"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("391"), "{stdout}");
    assert!(
        stderr.contains("⚙ calculator {\"expression\":\"17*23\"}") && stderr.contains("✓ calculator → 391"),
        "{stderr}"
    );

    let output = locus().args(["chat", "--emulator", "--json", "what is 6*7?"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["stop_reason"], "completed");
    assert!(json["text"].as_str().unwrap().contains("42"));
    assert_eq!(json["tool_calls"][0]["name"], "calculator");
    assert!(json["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

/// `locus emulator serve` in the background, with the config it wrote.
struct Served {
    child: std::process::Child,
    url: String,
    config: String,
    _dir: tempfile::TempDir,
    /// Kept open: the server writes more lines after the ones read.
    _stdout: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Served {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = locus()
        .args(["emulator", "serve", "--state-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap().rsplit(' ').next().unwrap().to_owned();
    let config = lines.next().unwrap().unwrap().split(' ').nth(2).unwrap().to_owned();
    Served { child, url, config, _dir: dir, _stdout: lines }
}

#[test]
fn raw_request_and_doctor_against_a_served_emulator() {
    let served = serve();
    let body = format!(
        r#"{{"compartmentId":"{}","servingMode":{{"servingType":"ON_DEMAND","modelId":"echo"}},"chatRequest":{{"apiFormat":"GENERIC","messages":[{{"role":"USER","content":[{{"type":"TEXT","text":"ping"}}]}}]}}}}"#,
        oci_genai_emulator::DEMO_COMPARTMENT
    );
    let output = locus()
        .args(["raw-request", "--config-file", &served.config, "--method", "POST"])
        .args(["--target-uri", &format!("{}/20231130/actions/chat", served.url), "--request-body", &body])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"text\":\"ping\""));
    assert!(String::from_utf8_lossy(&output.stderr).contains("HTTP 200"));

    let output = locus()
        .args(["chat", "--config-file", &served.config, "--service-endpoint", &served.url, "--json"])
        .args([
            "--model",
            oci_genai_emulator::DEMO_ENDPOINT,
            "--compartment-id",
            oci_genai_emulator::DEMO_COMPARTMENT,
            "--tools",
            "builtin",
            "what is 2^10?",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("1024"));

    let output = locus()
        .args(["doctor", "--config-file", &served.config, "--model", oci_genai_emulator::DEMO_ENDPOINT])
        .args(["--compartment-id", oci_genai_emulator::DEMO_COMPARTMENT, "--service-endpoint", &served.url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for needle in
        ["✓ api_key from profile [DEFAULT]", "✓ credentials load", "through the native transport", "is listed"]
    {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
}

/// A region typo is caught before anything is sent (issue 28, item 9):
/// `doctor --offline` names the region, where it came from, and the known
/// region it most likely means.
#[test]
fn a_region_typo_is_named_with_the_nearest_known_region_before_sending() {
    let output = locus()
        .args(["doctor", "--offline", "--config-file", "docs/examples/oci-config", "--region", "us-chicgo-1"])
        .args(["--model", "meta.llama-3.3-70b-instruct", "--compartment-id", "ocid1.compartment.oc1..x"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("(region us-chicgo-1, from --region)"), "{stdout}");
    assert!(stdout.contains("did you mean us-chicago-1?"), "{stdout}");
    let fine = locus()
        .args(["doctor", "--offline", "--config-file", "docs/examples/oci-config", "--region", "us-chicago-1"])
        .args(["--model", "meta.llama-3.3-70b-instruct", "--compartment-id", "ocid1.compartment.oc1..x"])
        .output()
        .unwrap();
    assert_eq!(fine.status.code(), Some(0), "{}", String::from_utf8_lossy(&fine.stdout));
}
