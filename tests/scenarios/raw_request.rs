//! `locus raw-request`: dry runs equal to the official SDK's headers, real signed
//! round trips, service errors and exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use locus_scenarios::{OciDir, OciResponder, Verifier, fixtures, locus};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Cases `given_host_is_signed_as_sent` (oci-auth) covers: the SDK signs a host it does not send.
const DEVIATIONS: &[&str] = &["post-given-host-api_key", "post-given-host-security_token"];

fn vectors() -> Vec<Value> {
    ["vectors/vectors.json", "sdk/extra-vectors.json"]
        .iter()
        .flat_map(|file| {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join(file)).unwrap()).unwrap();
            doc["vectors"].as_array().unwrap().clone()
        })
        .collect()
}

#[tokio::test]
async fn dry_run_prints_the_sdks_headers() {
    let mut compared = 0;
    for case in vectors() {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let url = case["wire_url"].as_str().or(input["url"].as_str()).unwrap();
        // We sign what reqwest sends; the url crate encodes `'` in queries, requests does not.
        if DEVIATIONS.contains(&name) || reqwest::Url::parse(url).unwrap().as_str() != url {
            continue;
        }
        let oci = OciDir::with_key(
            &fixtures().join("vectors").join(input["key_file"].as_str().unwrap()),
            input["pass_phrase"].as_str(),
        );
        let config = oci.config().display().to_string();
        let session = input["key_id"].is_string();
        let mut args = vec![
            "raw-request",
            "--dry-run",
            "--config-file",
            &config,
            "--method",
            input["method"].as_str().unwrap(),
            "--target-uri",
            url,
        ];
        args.extend(if session {
            ["--profile", "SESSION", "--auth", "security_token"]
        } else {
            ["--profile", "DEFAULT", "--auth", "api_key"]
        });
        let headers: Vec<String> = input["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap()))
            .collect();
        for header in &headers {
            args.extend(["--header", header]);
        }
        if let Some(body) = input["body"].as_str() {
            args.extend(["--request-body", body]);
        }

        let output = locus(&args).await;
        assert_eq!(output.code, 0, "{name}: {}", output.stderr);
        let printed: Value = serde_json::from_str(&output.stdout).unwrap();
        assert_eq!(printed["method"], input["method"], "{name}");
        assert_eq!(printed["url"], url, "{name}");
        let expected = case["expected_headers"].as_object().unwrap();
        let authorization = expected["authorization"].as_str().unwrap();
        let signed = authorization.split("headers=\"").nth(1).unwrap().split('"').next().unwrap();
        for header in signed.split(' ').filter(|h| *h != "(request-target)").chain(["content-type"]) {
            assert_eq!(printed["headers"][header], expected[header], "{name}: {header}");
        }
        let expected_authorization = match input["key_id"].as_str() {
            Some(key_id) => authorization.replace(key_id, "ST$<redacted>"),
            None => authorization.to_owned(),
        };
        assert_eq!(printed["headers"]["authorization"], expected_authorization, "{name}");
        compared += 1;
    }
    assert!(compared >= 60, "compared {compared}");
}

#[tokio::test]
async fn dry_run_never_prints_the_session_token() {
    let oci = OciDir::new();
    let config = oci.config().display().to_string();
    let output = locus(&[
        "raw-request",
        "--dry-run",
        "--config-file",
        &config,
        "--profile",
        "SESSION",
        "--auth",
        "session_token",
        "--method",
        "GET",
        "--target-uri",
        "https://iaas.us-ashburn-1.oraclecloud.com/20160918/instances",
    ])
    .await;
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(!output.stdout.contains(locus_scenarios::SESSION_TOKEN));
    assert!(output.stdout.contains(r#"keyId=\"ST$<redacted>\""#), "{}", output.stdout);
}

async fn oci_server(ok: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/20231130/actions/chat"))
        .respond_with(OciResponder { verifier: Verifier::for_test_key(), ok })
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn sends_a_signed_request_and_prints_the_response() {
    let server = oci_server(ResponseTemplate::new(200).set_body_string(r#"{"chatResponse":{"text":"hi"}}"#)).await;
    let oci = OciDir::new();
    let body_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(body_file.path(), r#"{"compartmentId":"ocid1.compartment.oc1..c"}"#).unwrap();
    let (config, url, body) = (
        oci.config().display().to_string(),
        format!("{}/20231130/actions/chat", server.uri()),
        format!("@{}", body_file.path().display()),
    );
    let output = locus(&[
        "raw-request",
        "--config-file",
        &config,
        "--method",
        "post",
        "--target-uri",
        &url,
        "--request-body",
        &body,
    ])
    .await;
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(output.stdout, "{\"chatResponse\":{\"text\":\"hi\"}}\n");
    assert!(output.stderr.contains("HTTP 200"), "{}", output.stderr);
    let received = &server.received_requests().await.unwrap()[0];
    assert_eq!(received.body, br#"{"compartmentId":"ocid1.compartment.oc1..c"}"#);
    assert!(received.headers["user-agent"].to_str().unwrap().starts_with("locus-rs/"));
}

/// `locus raw-request --method POST --request-body {} <extra>` against `server`'s chat path.
async fn post_chat(server: &MockServer, oci: &OciDir, extra: &[&str]) -> locus_scenarios::Output {
    let (config, url) = (oci.config().display().to_string(), format!("{}/20231130/actions/chat", server.uri()));
    let args =
        ["raw-request", "--config-file", &config, "--method", "POST", "--target-uri", &url, "--request-body", "{}"];
    locus(&[&args[..], extra].concat()).await
}

#[tokio::test]
async fn session_token_requests_round_trip() {
    let server = oci_server(ResponseTemplate::new(200)).await;
    let output = post_chat(&server, &OciDir::new(), &["--profile", "SESSION", "--auth", "security_token"]).await;
    assert_eq!(output.code, 0, "{}", output.stderr);
}

#[tokio::test]
async fn a_404_exits_3_with_code_message_and_request_id() {
    let server = oci_server(
        ResponseTemplate::new(404)
            .insert_header("opc-request-id", "ABC123/DEF")
            .set_body_json(serde_json::json!({"code": "NotAuthorizedOrNotFound", "message": "Authorization failed or requested resource not found."})),
    )
    .await;
    let output = post_chat(&server, &OciDir::new(), &[]).await;
    assert_eq!(output.code, 3);
    for needle in
        ["HTTP 404", "404 NotAuthorizedOrNotFound", "Authorization failed", "opc-request-id: ABC123/DEF", "hint:"]
    {
        assert!(output.stderr.contains(needle), "{needle}: {}", output.stderr);
    }
}

#[tokio::test]
async fn a_wrong_key_is_rejected_with_401_and_a_hint() {
    let server = oci_server(ResponseTemplate::new(200)).await;
    // Same fingerprint, different key: the server cannot verify the signature.
    let output = post_chat(&server, &OciDir::with_key(&fixtures().join("keys/other-rsa2048.pem"), None), &[]).await;
    assert_eq!(output.code, 3);
    assert!(output.stderr.contains("401 NotAuthenticated"), "{}", output.stderr);
    assert!(output.stderr.contains("fingerprint"), "{}", output.stderr);
}

#[tokio::test]
async fn config_problems_exit_3_and_usage_problems_exit_2() {
    let oci = OciDir::new();
    let config = oci.config().display().to_string();
    let get = ["--method", "GET", "--target-uri", "https://iaas.us-ashburn-1.oraclecloud.com/"];

    let output =
        locus(&[&["raw-request", "--dry-run", "--config-file", &config, "--profile", "NOPE"][..], &get].concat()).await;
    assert_eq!(output.code, 3);
    assert!(
        output.stderr.contains("profile [NOPE] not found") && output.stderr.contains("DEFAULT, SESSION"),
        "{}",
        output.stderr
    );

    let output =
        locus(&[&["raw-request", "--dry-run", "--config-file", "/nonexistent/config"][..], &get].concat()).await;
    assert_eq!(output.code, 3);
    assert!(output.stderr.contains("/nonexistent/config"), "{}", output.stderr);

    let output = locus(
        &[&["raw-request", "--dry-run", "--config-file", &config, "--auth", "resource_principal"][..], &get].concat(),
    )
    .await;
    assert_eq!(output.code, 3);

    for bad in [
        vec![
            "raw-request",
            "--dry-run",
            "--config-file",
            &config,
            "--header",
            "no-colon",
            "--method",
            "GET",
            "--target-uri",
            "https://h/",
        ],
        vec!["raw-request", "--dry-run", "--config-file", &config, "--method", "GET", "--target-uri", "not a url"],
        vec![
            "raw-request",
            "--dry-run",
            "--config-file",
            &config,
            "--auth",
            "password",
            "--method",
            "GET",
            "--target-uri",
            "https://h/",
        ],
        vec!["raw-request", "--method", "GET"],
    ] {
        let output = locus(&bad).await;
        assert_eq!(output.code, 2, "{bad:?}: {}", output.stderr);
    }

    let output =
        locus(&[&["raw-request", "--dry-run", "--config-file", &config, "--method", "TRACE"][..], &get[2..]].concat())
            .await;
    assert_eq!(output.code, 3, "{}", output.stderr);
    assert!(output.stderr.contains("TRACE"));
}

#[tokio::test]
async fn unreachable_services_exit_4() {
    let oci = OciDir::new();
    let config = oci.config().display().to_string();
    // Port 9 on loopback: nothing listens there.
    let output =
        locus(&["raw-request", "--config-file", &config, "--method", "GET", "--target-uri", "http://127.0.0.1:9/"])
            .await;
    assert_eq!(output.code, 4);
    assert!(output.stderr.contains("request to http://127.0.0.1:9/ failed"), "{}", output.stderr);
}
