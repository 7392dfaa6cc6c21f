//! OKE workload identity against a local fake of the cluster's token exchange:
//! the request the SDKs send, the answer's encodings, refresh, errors, and
//! TLS verified against the cluster CA alone.

#![cfg(all(feature = "reqwest", feature = "principals"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::{TestEnv, jwt, public_key_from_body};
use oci_auth::verify::{SignatureHeader, verify};
use oci_auth::{
    Auth, AuthType, Error, OkeWorkloadIdentityProvider, ProvideCredentials, ReqwestHttpClient, SignableBody,
    SignableRequest, SigningSettings, sign,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What the fake exchange saw: bearer tokens and pod keys, in order.
#[derive(Default)]
struct Seen {
    bearers: Vec<String>,
    pod_keys: Vec<String>,
}

/// Answers as OKE's exchange does: a quoted base64 string of `{"token": "ST$<jwt>"}`.
struct Exchange {
    env: Arc<TestEnv>,
    seen: Arc<Mutex<Seen>>,
}

impl wiremock::Respond for Exchange {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let header = |name: &str| request.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("content-type").as_deref(), Some("application/json"));
        assert!(header("opc-request-id").is_some_and(|id| id.len() == 32));
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let mut seen = self.seen.lock().unwrap();
        seen.bearers.push(header("authorization").unwrap());
        seen.pod_keys.push(body["podKey"].as_str().unwrap().to_owned());
        ResponseTemplate::new(200).set_body_string(answer(&jwt(self.env.secs() + 3_600, "workload")))
    }
}

fn answer(token: &str) -> String {
    let json = serde_json::json!({ "token": format!("ST${token}") }).to_string();
    format!("\"{}\"", base64::engine::general_purpose::STANDARD.encode(json))
}

/// A pod's environment: token and CA files in `dir`, the exchange host set.
fn pod(dir: &Path, token: &str) -> Arc<TestEnv> {
    let env = TestEnv::new();
    std::fs::write(dir.join("token"), format!("{token}\n")).unwrap();
    env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    env.set("OCI_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH", dir.join("token").to_str().unwrap());
    env.set("OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH", dir.join("ca.crt").to_str().unwrap());
    env.set("OCI_RESOURCE_PRINCIPAL_REGION", "phx");
    env
}

async fn signed_key_id(provider: &dyn ProvideCredentials, pod_key: &str) -> String {
    let credentials = provider.credentials().await.unwrap();
    let request = SignableRequest::new("GET", "https://x.example/a", [], SignableBody::Bytes(b""));
    let headers = sign(&request, &credentials, &SigningSettings::default()).unwrap().into_headers();
    let received =
        SignableRequest::new("GET", "/a", headers.iter().map(|(k, v)| (*k, v.as_str())), SignableBody::Bytes(b""));
    let header = SignatureHeader::parse(received.header("authorization").unwrap()).unwrap();
    verify(&received, &header, &public_key_from_body(pod_key)).unwrap();
    header.key_id().to_owned()
}

#[tokio::test]
async fn exchanges_the_service_account_token_and_refreshes_with_the_rotated_one() {
    let dir = tempfile::tempdir().unwrap();
    let env = pod(dir.path(), "sa-token-1");
    let server = MockServer::start().await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    Mock::given(method("POST"))
        .and(path("/resourcePrincipalSessionTokens"))
        .respond_with(Exchange { env: env.clone(), seen: seen.clone() })
        .mount(&server)
        .await;
    let provider = OkeWorkloadIdentityProvider::builder()
        .env(env.clone())
        .http_client(Arc::new(ReqwestHttpClient::default()))
        .exchange_url(format!("{}/resourcePrincipalSessionTokens", server.uri()))
        .build()
        .unwrap();
    assert_eq!(provider.region().unwrap().id(), "us-phoenix-1");

    provider.credentials().await.unwrap();
    let first_key = seen.lock().unwrap().pod_keys[0].clone();
    let key_id = signed_key_id(&provider, &first_key).await;
    assert_eq!(key_id, format!("ST${}", jwt(env.secs() + 3_600, "workload")));
    assert_eq!(seen.lock().unwrap().bearers, ["Bearer sa-token-1"], "cached until near expiry");

    // The kubelet rotates the token; near the session's expiry a new exchange uses the new one and a new key.
    std::fs::write(dir.path().join("token"), "sa-token-2").unwrap();
    env.advance(3_590);
    provider.credentials().await.unwrap();
    let second_key = seen.lock().unwrap().pod_keys[1].clone();
    assert_ne!(first_key, second_key, "each exchange binds a fresh session key");
    signed_key_id(&provider, &second_key).await;
    assert_eq!(seen.lock().unwrap().bearers, ["Bearer sa-token-1", "Bearer sa-token-2"]);
}

#[tokio::test]
async fn refusals_name_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let env = pod(dir.path(), "sa-token");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({"code": "Forbidden"})))
        .mount(&server)
        .await;
    let provider = |url: String| {
        OkeWorkloadIdentityProvider::builder()
            .env(env.clone())
            .http_client(Arc::new(ReqwestHttpClient::default()))
            .exchange_url(url)
            .build()
            .unwrap()
    };
    let err = provider(format!("{}/resourcePrincipalSessionTokens", server.uri())).credentials().await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("enhanced cluster"), "{err}");
    assert!(!err.to_string().contains("sa-token"), "the token never shows: {err}");

    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("not base64!"))
        .mount(&server)
        .await;
    let err = provider(server.uri()).credentials().await.unwrap_err();
    assert!(err.to_string().contains("not base64"), "{err}");
}

#[test]
fn configuration_errors_name_the_file_and_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let env = pod(dir.path(), "sa-token");
    let build = |env: Arc<TestEnv>| {
        Auth::builder().env(env).auth_type(AuthType::OkeWorkloadIdentity).build().map(|_| ()).unwrap_err()
    };
    // The CA file is missing.
    let err = build(env.clone());
    assert!(matches!(err, Error::KubernetesFile { what: "cluster CA certificate", .. }), "{err:?}");
    assert!(err.to_string().contains("OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH"), "{err}");

    std::fs::write(dir.path().join("ca.crt"), "not a certificate").unwrap();
    assert!(build(env.clone()).to_string().contains("no PEM certificate"));

    std::fs::remove_file(dir.path().join("token")).unwrap();
    let err = build(env.clone());
    assert!(matches!(err, Error::KubernetesFile { what: "service account token", .. }), "{err:?}");
    assert!(err.to_string().contains("OCI_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH"), "{err}");

    let bare = TestEnv::new();
    assert!(build(bare).to_string().contains("KUBERNETES_SERVICE_HOST is not set"));
}

/// A one-request-per-connection HTTPS exchange whose certificate, for
/// `localhost`, is issued by a CA of its own.
async fn tls_exchange(env: Arc<TestEnv>) -> (String, String, tokio::task::JoinHandle<()>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&leaf_key, &issuer).unwrap();

    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/resourcePrincipalSessionTokens", listener.local_addr().unwrap().port());
    let server = tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let Ok(mut tls) = acceptor.accept(socket).await else { continue };
            // The request is small: read until the JSON body has closed.
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.ends_with(b"}") {
                let n = tls.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let body = answer(&jwt(env.secs() + 3_600, "workload"));
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
            tls.write_all(head.as_bytes()).await.unwrap();
            tls.write_all(body.as_bytes()).await.unwrap();
            tls.shutdown().await.ok();
        }
    });
    (url, ca_cert.pem(), server)
}

#[tokio::test]
async fn the_exchange_is_trusted_through_the_cluster_ca_alone() {
    let dir = tempfile::tempdir().unwrap();
    let env = pod(dir.path(), "sa-token");
    let (url, ca_pem, server) = tls_exchange(env.clone()).await;
    let provider = || OkeWorkloadIdentityProvider::builder().env(env.clone()).exchange_url(&url).build().unwrap();

    std::fs::write(dir.path().join("ca.crt"), &ca_pem).unwrap();
    let credentials = provider().credentials().await.unwrap();
    assert!(credentials.key_id().expose().starts_with("ST$"));

    // Another CA (here: one that issued nothing the server shows) is refused.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.path().join("ca.crt"), other.cert.pem()).unwrap();
    let err = provider().credentials().await.unwrap_err();
    assert!(matches!(err, Error::AuthServiceUnreachable { .. }), "{err:?}");
    server.abort();
}
