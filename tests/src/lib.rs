//! Helpers for the scenario tests: fixtures, config files, a signature
//! verifier playing the OCI service, and an in-process `locus` runner.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, missing_debug_implementations)]

use std::path::{Path, PathBuf};

use base64::Engine as _;

/// The `oci-auth` fixtures: SDK vectors and keys.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/oci-auth/tests/fixtures")
}

/// The test key (the vectors' key, unencrypted PKCS#8).
pub fn key_file() -> PathBuf {
    fixtures().join("vectors/key-pkcs8.pem")
}

pub const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
pub const USER: &str = "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";
pub const FINGERPRINT: &str = "a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db";
/// A JWT with `exp` in 2100, as in the vectors.
pub const SESSION_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6Im9jaWQxLnVzZXIub2MxLi5hYWEifQ.c2ln";

/// A temporary `~/.oci` with a config holding an API-key profile `[DEFAULT]`
/// and a session profile `[SESSION]`.
pub struct OciDir {
    dir: tempfile::TempDir,
}

impl OciDir {
    pub fn new() -> Self {
        Self::with_key(&key_file(), None)
    }

    /// A config whose profiles use `key` (and `pass_phrase`, if given).
    pub fn with_key(key: &Path, pass_phrase: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), SESSION_TOKEN).unwrap();
        let pass = pass_phrase.map(|p| format!("pass_phrase = {p}\n")).unwrap_or_default();
        let config = format!(
            "[DEFAULT]\nuser = {USER}\nfingerprint = {FINGERPRINT}\ntenancy = {TENANCY}\nregion = us-ashburn-1\n\
             key_file = {}\n{pass}\n[SESSION]\nsecurity_token_file = {}\n",
            key.display(),
            dir.path().join("token").display()
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        OciDir { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }
}

impl Default for OciDir {
    fn default() -> Self {
        Self::new()
    }
}

/// What `locus` printed and returned.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `locus <args>` in-process.
pub async fn locus(args: &[&str]) -> Output {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = locus_cli::run(std::iter::once("locus").chain(args.iter().copied()), &mut out, &mut err).await;
    Output { code, stdout: String::from_utf8(out).unwrap(), stderr: String::from_utf8(err).unwrap() }
}

/// Checks OCI request signatures the way the service does.
pub struct Verifier {
    public_key: Vec<u8>,
}

impl Verifier {
    /// Verifies against the public half of the test key.
    pub fn for_test_key() -> Self {
        let pem = std::fs::read_to_string(fixtures().join("vectors/public.pem")).unwrap();
        let der = pem::parse(&pem).unwrap().into_contents();
        let info = pkcs8::spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()).unwrap();
        Verifier { public_key: info.subject_public_key.raw_bytes().to_vec() }
    }

    /// `Ok(key_id)` when the request carries a valid signature over the
    /// headers OCI requires, with a body hash matching the body.
    pub fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<String, String> {
        let header = |name: &str| -> Result<&str, String> {
            headers.get(name).ok_or(format!("missing header {name}"))?.to_str().map_err(|e| e.to_string())
        };
        let authorization = header("authorization")?;
        let params = authorization.strip_prefix("Signature ").ok_or("not a Signature authorization")?;
        let param = |name: &str| -> Result<&str, String> {
            let start = params.find(&format!("{name}=\"")).ok_or(format!("no {name}"))? + name.len() + 2;
            let len = params[start..].find('"').ok_or("unterminated")?;
            Ok(&params[start..start + len])
        };
        if param("algorithm")? != "rsa-sha256" || param("version")? != "1" {
            return Err("wrong algorithm or version".into());
        }
        let signed: Vec<&str> = param("headers")?.split(' ').collect();
        let mut required = vec!["date", "(request-target)", "host"];
        if matches!(method, "POST" | "PUT" | "PATCH") {
            required.extend(["content-length", "content-type", "x-content-sha256"]);
            let digest = ring::digest::digest(&ring::digest::SHA256, body);
            if header("x-content-sha256")? != base64::engine::general_purpose::STANDARD.encode(digest) {
                return Err("x-content-sha256 does not match the body".into());
            }
            if header("content-length")? != body.len().to_string() {
                return Err("content-length does not match the body".into());
            }
        }
        if signed != required {
            return Err(format!("signed headers {signed:?}, expected {required:?}"));
        }
        let mut lines = Vec::new();
        for name in signed {
            lines.push(match name {
                "(request-target)" => format!("(request-target): {} {path_and_query}", method.to_ascii_lowercase()),
                other => format!("{other}: {}", header(other)?),
            });
        }
        let signature =
            base64::engine::general_purpose::STANDARD.decode(param("signature")?).map_err(|e| e.to_string())?;
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &self.public_key)
            .verify(lines.join("\n").as_bytes(), &signature)
            .map_err(|_| "signature does not verify".to_owned())?;
        Ok(param("keyId")?.to_owned())
    }

    /// [`verify`](Self::verify) for a request received by wiremock.
    pub fn verify_wiremock(&self, request: &wiremock::Request) -> Result<String, String> {
        let url = &request.url;
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        self.verify(request.method.as_str(), &target, &request.headers, &request.body)
    }
}

/// A wiremock responder that answers like OCI: 401 `NotAuthenticated` for a
/// bad signature, otherwise `ok` with the verified key id in `x-key-id`.
pub struct OciResponder {
    pub verifier: Verifier,
    pub ok: wiremock::ResponseTemplate,
}

impl wiremock::Respond for OciResponder {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        match self.verifier.verify_wiremock(request) {
            Ok(key_id) => self.ok.clone().insert_header("x-key-id", key_id.as_str()),
            Err(reason) => wiremock::ResponseTemplate::new(401)
                .insert_header("opc-request-id", "req-401")
                .set_body_json(serde_json::json!({"code": "NotAuthenticated", "message": reason})),
        }
    }
}

/// A scripted OCI Generative AI: one reply per request (the last repeats),
/// every request body kept.
#[derive(Clone, Default)]
pub struct ScriptedModel {
    replies: std::sync::Arc<std::sync::Mutex<Vec<wiremock::ResponseTemplate>>>,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl ScriptedModel {
    /// Serves `replies` on `POST /20231130/actions/chat`.
    pub async fn serve(replies: Vec<wiremock::ResponseTemplate>) -> (wiremock::MockServer, Self) {
        use wiremock::matchers::{method, path};
        let server = wiremock::MockServer::start().await;
        let model =
            ScriptedModel { replies: std::sync::Arc::new(std::sync::Mutex::new(replies)), ..Default::default() };
        wiremock::Mock::given(method("POST"))
            .and(path("/20231130/actions/chat"))
            .respond_with(model.clone())
            .mount(&server)
            .await;
        (server, model)
    }

    /// The request bodies received.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// A GENERIC stream of `events` (JSON chunks).
    pub fn sse(events: &[serde_json::Value]) -> wiremock::ResponseTemplate {
        let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        wiremock::ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
    }
}

impl wiremock::Respond for ScriptedModel {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        self.bodies.lock().unwrap().push(serde_json::from_slice(&request.body).unwrap_or_default());
        let mut replies = self.replies.lock().unwrap();
        if replies.len() > 1 { replies.remove(0) } else { replies[0].clone() }
    }
}

/// A client of `emulator`, signing as a user whose fresh key the emulator
/// has registered; finish it with retries and timeouts as the test needs.
pub fn emulator_client(emulator: &oci_genai_emulator::RunningEmulator) -> oci_genai_transport::GenAiClientBuilder {
    let user = "ocid1.user.oc1..scenario";
    let key = oci_auth::PrivateKey::generate_session_key().unwrap();
    emulator.register_api_key(user, &key);
    let fingerprint = key.fingerprint().to_owned();
    let provider = oci_auth::ApiKeyProvider::new(&emulator.config().tenancy, user, &fingerprint, key);
    oci_genai_transport::GenAiClient::builder()
        .credentials_provider(std::sync::Arc::new(provider))
        .service_endpoint(emulator.url())
}
