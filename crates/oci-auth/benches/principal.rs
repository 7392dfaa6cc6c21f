//! Signing through a provider: API key vs a cached instance-principal token.
//!
//! `cargo bench -p oci-auth --features reqwest --bench principal`. The
//! instance principal fetches its token once from wiremock (IMDS and the
//! federation service on 127.0.0.1); every measured iteration then takes the
//! cached credentials and signs, exactly like the API-key case.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use common::{Federation, FederationResponder, Pki, TENANCY, TestEnv, mount_metadata};
use criterion::{Criterion, criterion_group, criterion_main};
use oci_auth::{
    ApiKeyProvider, InstancePrincipalProvider, PrivateKey, ProvideCredentials, SignableBody, SignableRequest,
    SigningSettings, sign,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const URL: &str = "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat";
const BODY: &[u8] = br#"{"compartmentId":"ocid1.compartment.oc1..aaaa","servingMode":{"servingType":"ON_DEMAND","modelId":"openai.gpt-5"},"chatRequest":{"apiFormat":"GENERIC","messages":[{"role":"USER","content":[{"type":"TEXT","text":"Hello"}]}]}}"#;

async fn sign_once(provider: &dyn ProvideCredentials) {
    let credentials = provider.credentials().await.unwrap();
    let request = SignableRequest::new("POST", URL, [("content-type", "application/json")], SignableBody::Bytes(BODY));
    black_box(sign(&request, &credentials, &SigningSettings::default()).unwrap());
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (_server, instance) = runtime.block_on(async {
        let server = MockServer::start().await;
        let env = TestEnv::new();
        let pki = Pki::new(&format!("opc-tenant:{TENANCY}"), false);
        mount_metadata(&server, &pki, "ord").await;
        let federation = Federation::new(env.clone(), &pki);
        Mock::given(method("POST"))
            .and(path("/v1/x509"))
            .respond_with(FederationResponder(federation))
            .mount(&server)
            .await;
        let instance = InstancePrincipalProvider::builder()
            .env(env)
            .metadata_base_url(format!("{}/opc/v2", server.uri()))
            .auth_endpoint(server.uri())
            .build()
            .unwrap();
        instance.credentials().await.unwrap(); // the one fetch
        (server, instance)
    });
    let key = PrivateKey::from_pem_file(common::KEY_PEM_PATH, None).unwrap();
    let fingerprint = key.fingerprint().to_owned();
    let api_key = ApiKeyProvider::new(TENANCY, "ocid1.user.oc1..aaaa", &fingerprint, key);
    let instance = Arc::new(instance);

    let mut group = c.benchmark_group("provider_sign_post");
    group.bench_function("api_key", |b| b.iter(|| runtime.block_on(sign_once(&api_key))));
    group.bench_function("instance_principal_cached", |b| b.iter(|| runtime.block_on(sign_once(instance.as_ref()))));
    group.finish();
}

criterion_group! {
    name = principal_benches;
    config = Criterion::default().sample_size(200).measurement_time(Duration::from_secs(8));
    targets = benches
}
criterion_main!(principal_benches);
