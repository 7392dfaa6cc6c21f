//! Signatures made by the official OCI Python SDK, reproduced byte for byte.
//!
//! `fixtures/vectors/vectors.json` comes from the project's shared reference;
//! `fixtures/sdk/extra-vectors.json` is made by `fixtures/sdk/generate.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_auth::{Credentials, KeyId, PrivateKey, Secret, SignableBody, SignableRequest, SigningSettings, sign};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

struct Case {
    name: String,
    method: String,
    wire_url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    credentials: Credentials,
    expected: BTreeMap<String, String>,
}

fn load(file: &Path) -> Vec<Case> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let str_of = |v: &Value, k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k}")).to_owned();
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let input = &case["input"];
            let pass = input["pass_phrase"].as_str().map(Secret::new);
            let key =
                PrivateKey::from_pem_file(fixtures().join("vectors").join(str_of(input, "key_file")), pass.as_ref())
                    .unwrap();
            let key_id = match input["key_id"].as_str() {
                Some(id) => KeyId::security_token(id.strip_prefix("ST$").unwrap()),
                None => {
                    KeyId::api_key(&str_of(input, "tenancy"), &str_of(input, "user"), &str_of(input, "fingerprint"))
                }
            };
            let headers = input["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let expected = case["expected_headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_owned()))
                .collect();
            Case {
                name: str_of(case, "name"),
                method: str_of(input, "method"),
                wire_url: case["wire_url"].as_str().map_or_else(|| str_of(input, "url"), str::to_owned),
                headers,
                body: input["body"].as_str().map(str::to_owned),
                credentials: Credentials::new(key_id, key),
                expected,
            }
        })
        .collect()
}

fn all_cases() -> Vec<Case> {
    let mut cases = load(&fixtures().join("vectors/vectors.json"));
    cases.extend(load(&fixtures().join("sdk/extra-vectors.json")));
    cases
}

/// The headers the SDK signed (from its Authorization), plus the Authorization.
fn signed_names(expected: &BTreeMap<String, String>) -> Vec<String> {
    let auth = &expected["authorization"];
    let list = auth.split("headers=\"").nth(1).unwrap().split('"').next().unwrap();
    list.split(' ').filter(|h| *h != "(request-target)").map(str::to_owned).chain(["authorization".into()]).collect()
}

/// Cases where we deliberately differ from the SDK: given a `host` header, the SDK still signs
/// the URL's host but sends the given one, so the service (which checks the `Host` it receives)
/// rejects it. We sign the host we send. `given_host_is_signed_as_sent` covers these.
const DEVIATIONS: &[&str] = &["post-given-host-api_key", "post-given-host-security_token"];

fn check(case: &Case, actual: &BTreeMap<String, String>) {
    if DEVIATIONS.contains(&case.name.as_str()) {
        assert_ne!(actual.get("authorization"), case.expected.get("authorization"), "{}", case.name);
        return;
    }
    for name in signed_names(&case.expected).iter().chain(std::iter::once(&"content-type".to_owned())) {
        assert_eq!(actual.get(name), case.expected.get(name), "{}: header {name}", case.name);
    }
}

#[test]
fn core_signer_matches_the_sdk() {
    let cases = all_cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for case in &cases {
        let body = case.body.as_deref().unwrap_or("").as_bytes();
        let request = SignableRequest::new(
            &case.method,
            &case.wire_url,
            case.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        );
        let instructions = sign(&request, &case.credentials, &SigningSettings::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let mut actual: BTreeMap<String, String> = case.headers.iter().cloned().collect();
        actual.extend(instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())));
        check(case, &actual);
    }
}

#[cfg(feature = "reqwest")]
#[test]
fn reqwest_integration_matches_the_sdk() {
    let client = reqwest::Client::new();
    let mut compared = 0;
    for case in &all_cases() {
        let url = reqwest::Url::parse(&case.wire_url).unwrap();
        // The url crate percent-encodes `'` in queries where requests does not, and drops default
        // ports; we sign what reqwest sends, so only identical wire URLs are comparable.
        if url.as_str() != case.wire_url {
            continue;
        }
        let mut builder = client.request(case.method.parse().unwrap(), url);
        for (k, v) in &case.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = &case.body {
            builder = builder.body(body.clone());
        }
        let mut request = builder.build().unwrap();
        oci_auth::sign_reqwest_request(&mut request, &case.credentials, &SigningSettings::default()).unwrap();
        let actual =
            request.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned())).collect();
        check(case, &actual);
        compared += 1;
    }
    assert!(compared >= 55, "only {compared} comparable cases");
}

#[test]
fn without_content_headers_signs_only_the_basic_three() {
    let case = all_cases().into_iter().find(|c| c.method == "PUT").unwrap();
    let request =
        SignableRequest::new("PUT", &case.wire_url, [("date", "Thu, 05 Jan 2014 21:31:40 GMT")], SignableBody::Stream);
    let instructions =
        sign(&request, &case.credentials, &SigningSettings::default().without_content_headers()).unwrap();
    let auth = instructions.header("authorization").unwrap();
    assert!(auth.contains(r#"headers="date (request-target) host""#), "{auth}");
    assert_eq!(instructions.header("x-content-sha256"), None);
    let err = sign(&request, &case.credentials, &SigningSettings::default()).unwrap_err();
    assert!(matches!(err, oci_auth::Error::UnsignableBody), "{err:?}");
}

#[test]
fn federation_style_signing_leaves_out_host() {
    let case = all_cases().into_iter().find(|c| c.method == "POST").unwrap();
    let request = SignableRequest::new(
        "POST",
        "https://auth.us-ashburn-1.oraclecloud.com/v1/x509",
        [],
        SignableBody::Bytes(b"{}"),
    );
    let instructions = sign(&request, &case.credentials, &SigningSettings::default().without_host()).unwrap();
    let auth = instructions.header("authorization").unwrap();
    assert!(auth.contains(r#"headers="date (request-target) content-length content-type x-content-sha256""#), "{auth}");
}

#[test]
fn other_methods_are_rejected() {
    let case = all_cases().into_iter().next().unwrap();
    for method in ["OPTIONS", "TRACE", "CONNECT", "PROPFIND"] {
        let request = SignableRequest::new(method, "https://h/", [], SignableBody::Bytes(b""));
        let err = sign(&request, &case.credentials, &SigningSettings::default()).unwrap_err();
        assert!(err.to_string().contains(method), "{err}");
    }
    let request = SignableRequest::new("get", "https://h/", [("x-bad", "a\r\nb")], SignableBody::Bytes(b""));
    assert!(sign(&request, &case.credentials, &SigningSettings::default()).is_err());
}

fn sign_case(case: &Case, url: &str, skip_header: Option<&str>) -> String {
    let headers = case.headers.iter().filter(|(k, _)| Some(k.as_str()) != skip_header);
    let request = SignableRequest::new(
        &case.method,
        url,
        headers.map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(case.body.as_deref().unwrap_or("").as_bytes()),
    );
    let instructions = sign(&request, &case.credentials, &SigningSettings::default()).unwrap();
    instructions.header("authorization").unwrap().to_owned()
}

#[test]
fn given_host_is_signed_as_sent() {
    let cases = all_cases();
    let deviations: Vec<&Case> = cases.iter().filter(|c| DEVIATIONS.contains(&c.name.as_str())).collect();
    assert_eq!(deviations.len(), DEVIATIONS.len());
    for case in deviations {
        let given_host = &case.headers.iter().find(|(k, _)| k == "host").unwrap().1;
        // Without the header we sign the URL's host: exactly the SDK's signature.
        assert_eq!(sign_case(case, &case.wire_url, Some("host")), case.expected["authorization"], "{}", case.name);
        // With it, the signature is the one for a URL naming that host.
        let url_with_given_host = case.wire_url.replace("10.0.0.1", given_host);
        assert_eq!(
            sign_case(case, &case.wire_url, None),
            sign_case(case, &url_with_given_host, Some("host")),
            "{}",
            case.name
        );
    }
}
