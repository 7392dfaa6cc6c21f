//! Resource principals, every version, from environment to signed request.

#![cfg(all(feature = "reqwest", feature = "principals"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{
    Federation, FederationResponder, KEY_PEM_PATH, Pki, TENANCY, TestEnv, jwt, mount_metadata, public_key_from_body,
    verify_received,
};
use oci_auth::verify::{PublicKey, required_headers};
use oci_auth::{
    Error, ProvideCredentials, ResourcePrincipalProvider, SignableBody, SignableRequest, SigningSettings, sign,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RESOURCE: &str = "ocid1.datasciencejob.oc1.iad.job";

fn fixture_public_key() -> PublicKey {
    PublicKey::from_pem(&std::fs::read_to_string(KEY_PEM_PATH.replace("key-pkcs8.pem", "public.pem")).unwrap()).unwrap()
}

/// What the resource principal token services saw.
#[derive(Default)]
struct Seen {
    key_ids: Vec<String>,
    security_context: Vec<Option<String>>,
    session_keys: Vec<String>,
}

/// Plays both the RPT endpoint (GET) and the RPST endpoint (POST), checking signatures with `key()`.
struct TokenService {
    key: Box<dyn Fn() -> PublicKey + Send + Sync>,
    env: Arc<TestEnv>,
    seen: Arc<Mutex<Seen>>,
}

impl wiremock::Respond for TokenService {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let required = required_headers(request.method.as_str());
        let key_id = match verify_received(request, &(self.key)(), required) {
            Ok(key_id) => key_id,
            Err(reason) => {
                return ResponseTemplate::new(401)
                    .set_body_json(serde_json::json!({"code": "NotAuthenticated", "message": reason}));
            }
        };
        let mut seen = self.seen.lock().unwrap();
        seen.key_ids.push(key_id);
        if request.method.as_str() == "GET" {
            seen.security_context.push(request.headers.get("security-context").map(|v| v.to_str().unwrap().to_owned()));
            return ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"resourcePrincipalToken": "rpt", "servicePrincipalSessionToken": "spst"}),
            );
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            (body["resourcePrincipalToken"].as_str(), body["servicePrincipalSessionToken"].as_str()),
            (Some("rpt"), Some("spst"))
        );
        seen.session_keys.push(body["sessionPublicKey"].as_str().unwrap().to_owned());
        let token = jwt(self.env.secs() + 1_200, &format!("rpst-{}", seen.session_keys.len()));
        ResponseTemplate::new(200).set_body_json(serde_json::json!({ "token": token }))
    }
}

async fn mount_token_service(server: &MockServer, rpt_path: &str, service: TokenService) {
    let service = Arc::new(service);
    struct Shared(Arc<TokenService>);
    impl wiremock::Respond for Shared {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            self.0.respond(request)
        }
    }
    Mock::given(method("GET")).and(path(rpt_path)).respond_with(Shared(Arc::clone(&service))).mount(server).await;
    Mock::given(method("POST"))
        .and(path("/rpst/v1/resourcePrincipalSessionToken"))
        .respond_with(Shared(service))
        .mount(server)
        .await;
}

/// Signs a service request with the provider's credentials and checks it verifies with `key`.
async fn signs_with(provider: &ResourcePrincipalProvider, key: &PublicKey) -> String {
    let credentials = provider.credentials().await.unwrap();
    let request = SignableRequest::new(
        "GET",
        "https://iaas.us-ashburn-1.oraclecloud.com/20160918/instances",
        [],
        SignableBody::Bytes(b""),
    );
    let headers = sign(&request, &credentials, &SigningSettings::default()).unwrap().into_headers();
    let received = SignableRequest::new(
        "GET",
        "/20160918/instances",
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(b""),
    );
    let header = oci_auth::verify::SignatureHeader::parse(received.header("authorization").unwrap()).unwrap();
    oci_auth::verify::verify(&received, &header, key).unwrap();
    header.key_id().to_owned()
}

fn provider(env: &Arc<TestEnv>) -> oci_auth::Result<ResourcePrincipalProvider> {
    ResourcePrincipalProvider::from_env(env.clone(), None)
}

#[tokio::test]
async fn v2_2_with_values() {
    let env = TestEnv::new();
    let token = jwt(env.secs() + 3_600, "rp");
    env.set("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2");
    env.set("OCI_RESOURCE_PRINCIPAL_RPST", &token);
    env.set("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", std::fs::read_to_string(KEY_PEM_PATH).unwrap());
    env.set("OCI_RESOURCE_PRINCIPAL_REGION", "iad");
    let provider = provider(&env).unwrap();
    assert_eq!(provider.region().unwrap().id(), "us-ashburn-1");
    assert_eq!(signs_with(&provider, &fixture_public_key()).await, format!("ST${token}"));
}

#[tokio::test]
async fn v2_2_with_files_rereads_them_when_rotated() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let (rpst, pem, pass) = (dir.path().join("rpst"), dir.path().join("key.pem"), dir.path().join("pass"));
    std::fs::write(&rpst, jwt(env.secs() + 3_600, "first")).unwrap();
    std::fs::copy(KEY_PEM_PATH.replace("key-pkcs8.pem", "key-pkcs8-encrypted.pem"), &pem).unwrap();
    std::fs::write(&pass, "test passphrase\n").unwrap();
    env.set("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2");
    env.set("OCI_RESOURCE_PRINCIPAL_RPST", rpst.to_string_lossy());
    env.set("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", pem.to_string_lossy());
    env.set("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE", pass.to_string_lossy());
    let provider = provider(&env).unwrap();
    let first = signs_with(&provider, &fixture_public_key()).await;

    let rotated = jwt(env.secs() + 3_600, "rotated");
    std::fs::write(&rpst, &rotated).unwrap();
    assert_eq!(signs_with(&provider, &fixture_public_key()).await, first, "cached until refresh time");
    assert_eq!(provider.refresh().await.unwrap().key_id().expose(), format!("ST${rotated}"));
    // Rotated again and past half life: picked up without a forced refresh.
    let later = jwt(env.secs() + 7_200, "later");
    std::fs::write(&rpst, &later).unwrap();
    env.advance(1_900);
    assert_eq!(signs_with(&provider, &fixture_public_key()).await, format!("ST${later}"));
}

#[tokio::test]
async fn v2_2_passphrase_as_a_value() {
    let env = TestEnv::new();
    env.set("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2");
    env.set("OCI_RESOURCE_PRINCIPAL_RPST", jwt(env.secs() + 3_600, "rp"));
    env.set(
        "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
        KEY_PEM_PATH.replace("key-pkcs8.pem", "key-pkcs1-encrypted-aes256.pem"),
    );
    env.set("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE", "test passphrase");
    assert!(signs_with(&provider(&env).unwrap(), &fixture_public_key()).await.starts_with("ST$"));
    env.set("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE", "wrong");
    let err = provider(&env).unwrap().credentials().await.unwrap_err();
    assert!(matches!(err, Error::PassphraseWrong { .. }), "{err:?}");
    assert!(err.to_string().contains("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"), "{err}");
}

struct V21 {
    _server: MockServer,
    env: Arc<TestEnv>,
    seen: Arc<Mutex<Seen>>,
}

async fn v2_1_setup(version: &str, rpt_path: &str, pem_as_path: bool) -> V21 {
    let server = MockServer::start().await;
    let env = TestEnv::new();
    let seen = Arc::new(Mutex::new(Seen::default()));
    mount_token_service(
        &server,
        rpt_path,
        TokenService { key: Box::new(fixture_public_key), env: env.clone(), seen: seen.clone() },
    )
    .await;
    env.set("OCI_RESOURCE_PRINCIPAL_VERSION", version);
    env.set("OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT", server.uri());
    env.set("OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT", format!("{}/rpst", server.uri()));
    env.set("OCI_RESOURCE_PRINCIPAL_RESOURCE_ID", RESOURCE);
    env.set("OCI_RESOURCE_PRINCIPAL_TENANCY_ID", TENANCY);
    let pem = if pem_as_path { KEY_PEM_PATH.to_owned() } else { std::fs::read_to_string(KEY_PEM_PATH).unwrap() };
    env.set("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", pem);
    env.set("OCI_RESOURCE_PRINCIPAL_REGION", "us-ashburn-1");
    V21 { _server: server, env, seen }
}

#[tokio::test]
async fn v2_1_signs_with_the_resource_key() {
    for pem_as_path in [false, true] {
        let setup = v2_1_setup("2.1", &format!("/20180711/resourcePrincipalTokenV2/{RESOURCE}"), pem_as_path).await;
        let provider = provider(&setup.env).unwrap();
        let key_id = signs_with(&provider, &fixture_public_key()).await;
        assert!(key_id.starts_with("ST$"));
        let seen = setup.seen.lock().unwrap();
        assert_eq!(seen.key_ids, [format!("resource/v2.1/{RESOURCE}"), format!("resource/v2.1/{RESOURCE}")]);
        assert_eq!(public_key_from_body(&seen.session_keys[0]).fingerprint(), fixture_public_key().fingerprint());
    }
}

#[tokio::test]
async fn v2_1_1_names_the_tenancy() {
    let setup = v2_1_setup("2.1.1", &format!("/20180711/resourcePrincipalTokenV2/{RESOURCE}"), true).await;
    signs_with(&provider(&setup.env).unwrap(), &fixture_public_key()).await;
    assert_eq!(setup.seen.lock().unwrap().key_ids[0], format!("resource/v2.1.1/{TENANCY}/{RESOURCE}"));
}

#[tokio::test]
async fn v2_1_2_uses_its_path_and_security_context() {
    let setup = v2_1_setup("2.1.2", &format!("/20180711/resourcePrincipalTokenV212/{RESOURCE}"), true).await;
    setup.env.set("OCI_RESOURCE_PRINCIPAL_SECURITY_CONTEXT", "ctx-123");
    signs_with(&provider(&setup.env).unwrap(), &fixture_public_key()).await;
    let seen = setup.seen.lock().unwrap();
    assert_eq!(seen.key_ids[0], format!("resource/v2.1.2/{TENANCY}/{RESOURCE}"));
    assert_eq!(seen.security_context, [Some("ctx-123".to_owned())]);
}

#[tokio::test]
async fn v2_1_2_rpt_path_forms() {
    for (template, expected) in [
        ("/custom/{}", format!("/custom/{RESOURCE}")),
        ("/prefix", format!("/prefix/{RESOURCE}")),
        ("/prefix/", format!("/prefix/{RESOURCE}")),
    ] {
        let setup = v2_1_setup("2.1.2", &expected, true).await;
        setup.env.set("OCI_RESOURCE_PRINCIPAL_RPT_PATH", template);
        signs_with(&provider(&setup.env).unwrap(), &fixture_public_key()).await;
        assert_eq!(setup.seen.lock().unwrap().key_ids.len(), 2, "{template}");
    }
}

#[tokio::test]
async fn v1_1_signs_with_the_instance_principal_and_a_fresh_session_key() {
    let server = MockServer::start().await;
    let env = TestEnv::new();
    let pki = Pki::new(&format!("opc-tenant:{TENANCY}"), false);
    mount_metadata(&server, &pki, "iad").await;
    let federation = Federation::new(env.clone(), &pki);
    Mock::given(method("POST"))
        .and(path("/v1/x509"))
        .respond_with(FederationResponder(federation.clone()))
        .mount(&server)
        .await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let instance_key = {
        let federation = federation.clone();
        move || public_key_from_body(federation.session_keys.lock().unwrap().last().unwrap())
    };
    mount_token_service(
        &server,
        "/20180711/resourcePrincipalToken/ocid1.instance.oc1.iad.test",
        TokenService { key: Box::new(instance_key), env: env.clone(), seen: seen.clone() },
    )
    .await;
    env.set("OCI_RESOURCE_PRINCIPAL_VERSION", "1.1");
    env.set("OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT", server.uri());
    env.set("OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT", format!("{}/rpst", server.uri()));
    env.set("OCI_METADATA_BASE_URL", format!("{}/opc/v2", server.uri()));
    env.set("OCI_SDK_AUTH_CLIENT_REGION_URL", server.uri());

    let provider = provider(&env).unwrap();
    let credentials = provider.credentials().await.unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.key_ids.iter().all(|k| k.starts_with("ST$")), "signed by the instance principal: {:?}", seen.key_ids);
    assert_eq!(federation.calls(), 1);
    // The final token is bound to a fresh session key, not the instance's.
    let session = public_key_from_body(&seen.session_keys[0]);
    assert_ne!(session.fingerprint(), fixture_public_key().fingerprint());
    drop(seen);
    let request = SignableRequest::new("GET", "https://h/x", [], SignableBody::Bytes(b""));
    let headers = sign(&request, &credentials, &SigningSettings::default()).unwrap().into_headers();
    let received =
        SignableRequest::new("GET", "/x", headers.iter().map(|(k, v)| (*k, v.as_str())), SignableBody::Bytes(b""));
    let header = oci_auth::verify::SignatureHeader::parse(received.header("authorization").unwrap()).unwrap();
    oci_auth::verify::verify(&received, &header, &session).unwrap();
}

#[test]
fn missing_variables_are_named() {
    let env = TestEnv::new();
    let err = provider(&env).unwrap_err();
    assert!(matches!(err, Error::MissingEnvVar { name: "OCI_RESOURCE_PRINCIPAL_VERSION", .. }), "{err:?}");

    env.set("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2");
    let err = provider(&env).unwrap_err();
    assert!(err.to_string().starts_with("OCI_RESOURCE_PRINCIPAL_RPST is not set"), "{err}");
    env.set("OCI_RESOURCE_PRINCIPAL_RPST", "a.b.c");
    assert!(provider(&env).unwrap_err().to_string().contains("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"));

    for (version, needs) in [
        ("2.1", "OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT"),
        ("2.1.1", "OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT"),
        ("1.1", "OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT"),
    ] {
        let env = TestEnv::new();
        env.set("OCI_RESOURCE_PRINCIPAL_VERSION", version);
        let err = provider(&env).unwrap_err();
        assert!(matches!(err, Error::MissingEnvVar { name, .. } if name == needs), "{version}: {err:?}");
    }
    let env = TestEnv::new();
    for (name, value) in [
        ("OCI_RESOURCE_PRINCIPAL_VERSION", "2.1.1"),
        ("OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT", "http://127.0.0.1:9"),
        ("OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT", "http://127.0.0.1:9"),
        ("OCI_RESOURCE_PRINCIPAL_RESOURCE_ID", RESOURCE),
        ("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", KEY_PEM_PATH),
    ] {
        env.set(name, value);
    }
    let err = provider(&env).unwrap_err();
    assert!(matches!(err, Error::MissingEnvVar { name: "OCI_RESOURCE_PRINCIPAL_TENANCY_ID", .. }), "{err:?}");
}

#[test]
fn unsupported_versions_list_the_supported_ones() {
    for version in ["3.0", "2.0", "latest"] {
        let env = TestEnv::new();
        env.set("OCI_RESOURCE_PRINCIPAL_VERSION", version);
        let err = provider(&env).unwrap_err();
        assert!(matches!(err, Error::UnsupportedResourcePrincipalVersion { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("2.2, 2.1, 2.1.1, 2.1.2, 1.1"), "{msg}");
        assert_eq!(msg.contains("nested"), version == "3.0", "{msg}");
    }
}

#[tokio::test]
async fn unreadable_files_and_bad_tokens_are_named() {
    let env = TestEnv::new();
    env.set("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2");
    env.set("OCI_RESOURCE_PRINCIPAL_RPST", "/nonexistent/rpst");
    env.set("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", KEY_PEM_PATH);
    let err = provider(&env).unwrap().credentials().await.unwrap_err();
    assert!(err.to_string().contains("OCI_RESOURCE_PRINCIPAL_RPST: cannot read the file /nonexistent/rpst"), "{err}");
    env.set("OCI_RESOURCE_PRINCIPAL_RPST", "not-a-jwt");
    let err = provider(&env).unwrap().credentials().await.unwrap_err();
    assert!(matches!(err, Error::InvalidToken { .. }), "{err:?}");
}
