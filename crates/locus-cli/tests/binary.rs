//! The `locus` binary itself: arguments, exit codes, stdout and stderr.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn locus() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_locus"));
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    command.env_remove("OCI_CLI_AUTH").env_remove("OCI_CLI_PROFILE").env_remove("OCI_CONFIG_FILE");
    command
}

#[test]
fn help_and_version() {
    let output = locus().arg("--help").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("raw-request"));
    let output = locus().arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), concat!("locus ", env!("CARGO_PKG_VERSION")));
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
