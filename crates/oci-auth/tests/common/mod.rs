//! Helpers for the token-fetching providers' tests: an environment with a
//! clock the test moves, JWTs, an instance PKI made with rcgen, and wiremock
//! services that check signatures as OCI does.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use oci_auth::verify::{self, PublicKey, SignatureHeader};
use oci_auth::{Env, SignableBody, SignableRequest};

pub const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaatest";
pub const KEY_PEM_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem");

/// Variables plus a clock the test moves (starting at the real time).
#[derive(Debug)]
pub struct TestEnv {
    vars: Mutex<HashMap<String, String>>,
    now: AtomicU64,
}

impl TestEnv {
    pub fn new() -> Arc<Self> {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        Arc::new(TestEnv { vars: Mutex::default(), now: AtomicU64::new(now) })
    }

    pub fn set(&self, name: &str, value: impl Into<String>) {
        self.vars.lock().unwrap().insert(name.to_owned(), value.into());
    }

    pub fn advance(&self, secs: u64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn secs(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

impl Env for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.lock().unwrap().get(name).cloned()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        None
    }
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.secs())
    }
}

/// A JWT (unsigned: clients never verify it) with `exp` and a subject.
pub fn jwt(exp: u64, sub: &str) -> String {
    let b64 = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#.into()), b64(format!(r#"{{"exp":{exp},"sub":"{sub}"}}"#)))
}

/// An instance's identity: an intermediate CA and a leaf certificate whose key is the fixture key.
pub struct Pki {
    pub leaf_pem: String,
    pub leaf_key_pem: String,
    pub intermediate_pem: String,
    pub leaf_sha1: String,
    pub leaf_public: PublicKey,
}

impl Pki {
    /// `tenant_unit` is the subject attribute that names the tenancy, e.g. `opc-tenant:<ocid>`;
    /// `as_organization` puts it in O instead of OU (older certificates).
    pub fn new(tenant_unit: &str, as_organization: bool) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "PKISVC Identity Intermediate r2");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);

        let leaf_key_pem = std::fs::read_to_string(KEY_PEM_PATH).unwrap();
        let leaf_key = KeyPair::from_pem_and_sign_algo(&leaf_key_pem, &rcgen::PKCS_RSA_SHA256).unwrap();
        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name.push(DnType::CommonName, "ocid1.instance.oc1.iad.test");
        leaf.distinguished_name.push(DnType::OrganizationalUnitName, "opc-certtype:instance");
        let tenant_type =
            if as_organization { DnType::OrganizationName } else { DnType::CustomDnType(vec![2, 5, 4, 11]) };
        leaf.distinguished_name.push(tenant_type, tenant_unit);
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();

        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, leaf_cert.der());
        let leaf_sha1 = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
        let leaf_public =
            PublicKey::from_pem(&std::fs::read_to_string(KEY_PEM_PATH.replace("key-pkcs8.pem", "public.pem")).unwrap())
                .unwrap();
        Pki { leaf_pem: leaf_cert.pem(), leaf_key_pem, intermediate_pem: ca_cert.pem(), leaf_sha1, leaf_public }
    }
}

/// Verifies a request wiremock received; `Ok(key id)`.
pub fn verify_received(request: &wiremock::Request, key: &PublicKey, required: &[&str]) -> Result<String, String> {
    let headers: Vec<(&str, &str)> =
        request.headers.iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default())).collect();
    let target = match request.url.query() {
        Some(q) => format!("{}?{q}", request.url.path()),
        None => request.url.path().to_owned(),
    };
    let signable = SignableRequest::new(request.method.as_str(), &target, headers, SignableBody::Bytes(&request.body));
    let authorization = signable.header("authorization").ok_or("no authorization")?;
    let header = SignatureHeader::parse(authorization).map_err(|e| e.to_string())?;
    if header.headers() != required {
        return Err(format!("signed {:?}, expected {required:?}", header.headers()));
    }
    verify::verify(&signable, &header, key).map_err(|e| e.to_string())?;
    Ok(header.key_id().to_owned())
}

/// The auth service's federation endpoint: checks the request like OCI and
/// issues tokens valid `lifetime` seconds from the test clock.
pub struct Federation {
    pub env: Arc<TestEnv>,
    pub pki_sha1: String,
    pub leaf_public: PublicKey,
    pub lifetime: u64,
    pub calls: AtomicU64,
    /// 0: answer normally; otherwise answer with this status.
    pub fail_with: AtomicU16,
    /// The session public keys received, newest last.
    pub session_keys: Mutex<Vec<String>>,
}

pub const FEDERATION_HEADERS: &[&str] =
    &["date", "(request-target)", "content-length", "content-type", "x-content-sha256"];

impl Federation {
    pub fn new(env: Arc<TestEnv>, pki: &Pki) -> Arc<Self> {
        Arc::new(Federation {
            env,
            pki_sha1: pki.leaf_sha1.clone(),
            leaf_public: pki.leaf_public.clone(),
            lifetime: 1_200,
            calls: AtomicU64::new(0),
            fail_with: AtomicU16::new(0),
            session_keys: Mutex::default(),
        })
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Shares a `Federation` with wiremock.
pub struct FederationResponder(pub Arc<Federation>);

impl wiremock::Respond for FederationResponder {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let f = &self.0;
        let n = f.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let fail = f.fail_with.load(Ordering::SeqCst);
        if fail != 0 {
            return wiremock::ResponseTemplate::new(fail)
                .insert_header("opc-request-id", "fed-req")
                .set_body_json(serde_json::json!({"code": "NotAuthenticated", "message": "injected failure"}));
        }
        let rejected = |reason: String| {
            wiremock::ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"code": "NotAuthenticated", "message": reason}))
        };
        let key_id = match verify_received(request, &f.leaf_public, FEDERATION_HEADERS) {
            Ok(key_id) => key_id,
            Err(reason) => return rejected(reason),
        };
        if key_id != format!("{TENANCY}/fed-x509/{}", f.pki_sha1) {
            return rejected(format!("unexpected keyId {key_id}"));
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        for field in ["certificate", "publicKey"] {
            if !body[field].as_str().is_some_and(|v| v.starts_with("MII") && !v.contains('\n')) {
                return rejected(format!("bad {field}"));
            }
        }
        if body["intermediateCertificates"].as_array().map(Vec::len) != Some(1) {
            return rejected("bad intermediateCertificates".into());
        }
        f.session_keys.lock().unwrap().push(body["publicKey"].as_str().unwrap_or_default().to_owned());
        let token = jwt(f.env.secs() + f.lifetime, &format!("instance-{n}"));
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({ "token": token }))
    }
}

/// Mounts the metadata service (`/opc/v2/…`, requiring `Authorization: Bearer Oracle`).
pub async fn mount_metadata(server: &wiremock::MockServer, pki: &Pki, region: &str) {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, ResponseTemplate};
    for (p, body) in [
        ("/opc/v2/instance/region", region.to_owned()),
        ("/opc/v2/instance/id", "ocid1.instance.oc1.iad.test".to_owned()),
        ("/opc/v2/identity/cert.pem", pki.leaf_pem.clone()),
        ("/opc/v2/identity/key.pem", pki.leaf_key_pem.clone()),
        ("/opc/v2/identity/intermediate.pem", pki.intermediate_pem.clone()),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .and(header("authorization", "Bearer Oracle"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(server)
            .await;
    }
}

/// A PEM public key from the base64 body the SDKs send.
pub fn public_key_from_body(body: &str) -> PublicKey {
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    PublicKey::from_spki_der(&der).unwrap()
}
