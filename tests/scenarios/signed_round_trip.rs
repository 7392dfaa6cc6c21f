//! oci-auth's reqwest integration against a server that checks signatures as OCI does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use locus_scenarios::{OciDir, OciResponder, SESSION_TOKEN, Verifier};
use oci_auth::{Auth, AuthType, SigningSettings, sign_reqwest_request};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(OciResponder { verifier: Verifier::for_test_key(), ok: ResponseTemplate::new(200) })
        .mount(&server)
        .await;
    server
}

async fn send(auth: &Auth, request: reqwest::RequestBuilder) -> reqwest::Response {
    let mut request = request.build().unwrap();
    let credentials = auth.credentials().await.unwrap();
    sign_reqwest_request(&mut request, &credentials, &SigningSettings::default()).unwrap();
    reqwest::Client::new().execute(request).await.unwrap()
}

#[tokio::test]
async fn every_method_round_trips_with_an_api_key_and_a_session_token() {
    let server = server().await;
    let oci = OciDir::new();
    let api_key =
        Auth::builder().config_file(oci.config()).profile("DEFAULT").auth_type(AuthType::ApiKey).build().unwrap();
    let session = Auth::builder()
        .config_file(oci.config())
        .profile("SESSION")
        .auth_type(AuthType::SecurityToken)
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/20231130/actions/chat?q=a%20b&x=%C3%BC", server.uri());
    for auth in [&api_key, &session] {
        for method in ["GET", "HEAD", "DELETE", "POST", "PUT", "PATCH"] {
            let mut request = client.request(method.parse().unwrap(), &url);
            if matches!(method, "POST" | "PUT" | "PATCH") {
                request = request.body(r#"{"text":"Ünïcode ✓"}"#);
            }
            let response = send(auth, request).await;
            assert_eq!(response.status(), 200, "{method} {:?}", auth.auth_type());
            let key_id = response.headers()["x-key-id"].to_str().unwrap().to_owned();
            match auth.auth_type() {
                AuthType::SecurityToken => assert_eq!(key_id, format!("ST${SESSION_TOKEN}")),
                _ => assert!(key_id.ends_with(locus_scenarios::FINGERPRINT)),
            }
        }
    }
}

#[tokio::test]
async fn empty_bodies_are_hashed_and_signed() {
    let server = server().await;
    let auth = Auth::builder().config_file(OciDir::new().config()).auth_type(AuthType::ApiKey).build().unwrap();
    let response = send(&auth, reqwest::Client::new().post(format!("{}/x", server.uri()))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_verifier_rejects_tampering() {
    let server = server().await;
    let auth = Auth::builder().config_file(OciDir::new().config()).auth_type(AuthType::ApiKey).build().unwrap();
    let credentials = auth.credentials().await.unwrap();
    let client = reqwest::Client::new();

    // A body changed after signing.
    let mut request = client.post(format!("{}/x", server.uri())).body("{}").build().unwrap();
    sign_reqwest_request(&mut request, &credentials, &SigningSettings::default()).unwrap();
    *request.body_mut() = Some("{\"changed\":1}".into());
    request.headers_mut().insert("content-length", "13".parse().unwrap());
    let response = client.execute(request).await.unwrap();
    assert_eq!(response.status(), 401);

    // A path changed after signing.
    let mut request = client.get(format!("{}/a", server.uri())).build().unwrap();
    sign_reqwest_request(&mut request, &credentials, &SigningSettings::default()).unwrap();
    *request.url_mut() = format!("{}/b", server.uri()).parse().unwrap();
    let response = client.execute(request).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["message"], "signature does not verify");
}

#[tokio::test]
async fn a_shared_provider_signs_concurrently() {
    let server = server().await;
    let auth =
        Arc::new(Auth::builder().config_file(OciDir::new().config()).auth_type(AuthType::ApiKey).build().unwrap());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (auth, uri) = (Arc::clone(&auth), server.uri());
        tasks.push(tokio::spawn(async move {
            send(&auth, reqwest::Client::new().post(format!("{uri}/n/{i}")).body(format!("{{\"i\":{i}}}")))
                .await
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
}
