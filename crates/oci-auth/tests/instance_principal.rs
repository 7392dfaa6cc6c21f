//! Instance principals against wiremock playing IMDS and the federation service.

#![cfg(all(feature = "reqwest", feature = "principals"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{Federation, FederationResponder, Pki, TENANCY, TestEnv, mount_metadata, public_key_from_body};
use oci_auth::verify::{self, SignatureHeader};
use oci_auth::{
    Error, InstancePrincipalProvider, KeyIdKind, ProvideCredentials, SignableBody, SignableRequest, SigningSettings,
    sign,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Setup {
    server: MockServer,
    env: Arc<TestEnv>,
    federation: Arc<Federation>,
}

impl Setup {
    async fn new(pki: &Pki) -> Self {
        let server = MockServer::start().await;
        let env = TestEnv::new();
        mount_metadata(&server, pki, "iad").await;
        let federation = Federation::new(Arc::clone(&env), pki);
        Mock::given(method("POST"))
            .and(path("/v1/x509"))
            .respond_with(FederationResponder(Arc::clone(&federation)))
            .mount(&server)
            .await;
        Setup { server, env, federation }
    }

    async fn standard() -> Self {
        Self::new(&Pki::new(&format!("opc-tenant:{TENANCY}"), false)).await
    }

    fn provider(&self) -> InstancePrincipalProvider {
        InstancePrincipalProvider::builder()
            .env(self.env.clone())
            .metadata_base_url(format!("{}/opc/v2", self.server.uri()))
            .auth_endpoint(self.server.uri())
            .build()
            .unwrap()
    }
}

async fn token_of(provider: &InstancePrincipalProvider) -> String {
    provider.credentials().await.unwrap().key_id().expose().to_owned()
}

#[tokio::test]
async fn exchanges_the_certificate_and_signs_with_the_session_key() {
    let setup = Setup::standard().await;
    let provider = setup.provider();
    let credentials = provider.credentials().await.unwrap();
    assert_eq!(credentials.key_id().kind(), KeyIdKind::SecurityToken);
    assert!(credentials.key_id().expose().starts_with("ST$"));
    assert_eq!(provider.tenancy().as_deref(), Some(TENANCY));
    assert_eq!(provider.region().await.unwrap().id(), "us-ashburn-1");
    assert_eq!(setup.federation.calls(), 1);

    // A service request is signed with ST$<token> and the session key sent to the federation service.
    let request = SignableRequest::new(
        "POST",
        "https://inference.generativeai.us-ashburn-1.oci.oraclecloud.com/20231130/actions/chat",
        [],
        SignableBody::Bytes(b"{}"),
    );
    let headers = sign(&request, &credentials, &SigningSettings::default()).unwrap().into_headers();
    let received = SignableRequest::new(
        "POST",
        "/20231130/actions/chat",
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(b"{}"),
    );
    let header = SignatureHeader::parse(received.header("authorization").unwrap()).unwrap();
    assert_eq!(header.key_id(), credentials.key_id().expose());
    let session_public = public_key_from_body(setup.federation.session_keys.lock().unwrap().last().unwrap());
    verify::verify(&received, &header, &session_public).unwrap();
    assert!(verify::verify(&received, &header, &setup.federation.leaf_public).is_err(), "not the leaf key");
}

#[tokio::test]
async fn overrides_come_from_the_environment_too() {
    let setup = Setup::standard().await;
    setup.env.set("OCI_METADATA_BASE_URL", format!("{}/opc/v2", setup.server.uri()));
    setup.env.set("OCI_SDK_AUTH_CLIENT_REGION_URL", setup.server.uri());
    let provider = InstancePrincipalProvider::builder().env(setup.env.clone()).build().unwrap();
    assert!(token_of(&provider).await.starts_with("ST$"));
}

#[tokio::test]
async fn the_older_opc_identity_organisation_names_the_tenancy() {
    let setup = Setup::new(&Pki::new(&format!("opc-identity:{TENANCY}"), true)).await;
    let provider = setup.provider();
    token_of(&provider).await;
    assert_eq!(provider.tenancy().as_deref(), Some(TENANCY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_run_is_refreshed_once_for_200_concurrent_signers() {
    let setup = Setup::standard().await;
    let provider = Arc::new(setup.provider());
    let first = token_of(&provider).await;
    setup.env.advance(700); // past half of the 1,200 s lifetime
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let provider = Arc::clone(&provider);
            tokio::spawn(async move {
                let credentials = provider.credentials().await.unwrap();
                let uri = format!("https://objectstorage.us-ashburn-1.oraclecloud.com/n/ns/b/b/o/{i}");
                let request = SignableRequest::new("GET", &uri, [], SignableBody::Bytes(b""));
                sign(&request, &credentials, &SigningSettings::default()).unwrap();
                credentials.key_id().expose().to_owned()
            })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for task in tasks {
        tokens.insert(task.await.unwrap());
    }
    assert_eq!(setup.federation.calls(), 2, "one initial fetch, one refresh");
    assert_eq!(tokens.len(), 1);
    assert!(!tokens.contains(&first));
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_old_token_until_it_expires() {
    let setup = Setup::standard().await;
    let provider = setup.provider();
    let first = token_of(&provider).await;
    setup.federation.fail_with.store(503, Ordering::SeqCst);
    setup.env.advance(700);
    assert_eq!(token_of(&provider).await, first);
    assert!(setup.federation.calls() > 1, "a refresh was attempted (and retried)");
    setup.env.advance(600); // past expiry
    let err = provider.credentials().await.unwrap_err();
    assert!(matches!(err, Error::AuthService(_)) && err.status() == Some(503), "{err:?}");
    assert!(err.is_transient());
    setup.federation.fail_with.store(0, Ordering::SeqCst);
    setup.env.advance(20);
    assert_ne!(token_of(&provider).await, first);
}

#[tokio::test]
async fn a_401_forces_a_refresh() {
    let setup = Setup::standard().await;
    let provider = setup.provider();
    let first = token_of(&provider).await;
    let refreshed = provider.refresh().await.unwrap();
    assert_ne!(refreshed.key_id().expose(), first);
    assert_eq!(setup.federation.calls(), 2);
    assert_eq!(token_of(&provider).await, refreshed.key_id().expose());
}

#[tokio::test]
async fn an_unreachable_metadata_service_says_where_we_are() {
    let provider = InstancePrincipalProvider::builder()
        .env(TestEnv::new())
        .metadata_base_url("http://127.0.0.1:9/opc/v2")
        .build()
        .unwrap();
    let err = provider.credentials().await.unwrap_err();
    assert!(matches!(err, Error::MetadataUnreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("http://127.0.0.1:9/opc/v2/instance/region") && msg.contains("OCI compute instance"), "{msg}");
}

#[tokio::test]
async fn a_refused_certificate_gets_a_hint() {
    let setup = Setup::standard().await;
    setup.federation.fail_with.store(401, Ordering::SeqCst);
    let err = setup.provider().credentials().await.unwrap_err();
    assert!(matches!(err, Error::AuthService(_)) && err.status() == Some(401), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("federation service") && msg.contains("dynamic group") && msg.contains("fed-req"), "{msg}");
    assert_eq!(setup.federation.calls(), 1, "401 is not retried");
}

#[tokio::test]
async fn malformed_certificates_are_named() {
    let setup = Setup::new(&Pki::new("opc-instance:ocid1.instance.oc1..x", false)).await;
    let err = setup.provider().credentials().await.unwrap_err();
    assert!(matches!(err, Error::InvalidCertificate { what: "leaf certificate", .. }), "{err:?}");
    assert!(err.to_string().contains("opc-tenant:"), "{err}");

    let setup = Setup::standard().await;
    Mock::given(method("GET"))
        .and(path("/opc/v2/identity/cert.pem"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        )
        .with_priority(1)
        .mount(&setup.server)
        .await;
    let err = setup.provider().credentials().await.unwrap_err();
    assert!(matches!(err, Error::InvalidCertificate { .. }), "{err:?}");
    assert!(err.to_string().contains("not X.509"), "{err}");
}

#[tokio::test]
async fn the_region_can_be_given_instead_of_asked() {
    let setup = Setup::standard().await;
    let provider = InstancePrincipalProvider::builder()
        .env(setup.env.clone())
        .metadata_base_url(format!("{}/opc/v2", setup.server.uri()))
        .auth_endpoint(setup.server.uri())
        .region("ord")
        .build()
        .unwrap();
    assert_eq!(provider.region().await.unwrap().id(), "us-chicago-1");
}

#[tokio::test]
async fn an_oversized_metadata_answer_is_refused_not_buffered() {
    use oci_auth::{HttpClient, HttpRequest, ReqwestHttpClient};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 2 * 1024 * 1024]))
        .mount(&server)
        .await;
    let request = HttpRequest {
        method: "GET",
        url: format!("{}/opc/v2/identity/cert.pem", server.uri()),
        headers: vec![],
        body: vec![],
        timeout: std::time::Duration::from_secs(10),
    };
    let error = ReqwestHttpClient::default().send(request).await.unwrap_err();
    assert!(error.to_string().contains("larger than 1 MiB"), "{error}");
}
