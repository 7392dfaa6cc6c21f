//! Signing one request versus the RSA-2048 operation inside it.
//!
//! `cargo bench -p oci-auth --bench sign --features aws-lc-rs`: each
//! backend's raw RSA-2048 operation (`rsa2048/ring`, `rsa2048/aws-lc`) beside
//! signing a whole POST with it (`sign_post_chat_1kib/<backend>`). The
//! difference is our overhead: hashing the body, building the signing string
//! and headers, base64.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oci_auth::{Credentials, KeyId, PrivateKey, SignableBody, SignableRequest, SigningBackend, SigningSettings, sign};

const URL: &str = "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat";

fn key() -> PrivateKey {
    let pem =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
    PrivateKey::from_pem(&pem, None).unwrap()
}

/// A realistic chat request body of about 1 KiB.
fn chat_body() -> Vec<u8> {
    let text = "Summarise the quarterly report and list the three largest risks. ".repeat(12);
    format!(
        r#"{{"compartmentId":"ocid1.compartment.oc1..aaaaaaaaexample","servingMode":{{"servingType":"DEDICATED","endpointId":"ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaexample"}},"chatRequest":{{"apiFormat":"GENERIC","messages":[{{"role":"USER","content":[{{"type":"TEXT","text":"{text}"}}]}}],"isStream":true,"maxTokens":600}}}}"#
    )
    .into_bytes()
}

/// The backends this build has: ring always, AWS-LC with the `aws-lc-rs` feature.
fn backends() -> Vec<(&'static str, SigningBackend)> {
    let mut all = vec![("ring", SigningBackend::Ring)];
    #[cfg(feature = "aws-lc-rs")]
    all.push(("aws-lc", SigningBackend::AwsLc));
    all
}

fn benches(c: &mut Criterion) {
    let body = chat_body();
    let settings = SigningSettings::default().with_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_000_000));
    // The same signing string the POST below produces, for the raw RSA baseline.
    let signing_string = format!(
        "date: Mon, 24 Nov 2025 16:00:00 GMT\n(request-target): post /20231130/actions/chat\nhost: inference.generativeai.us-chicago-1.oci.oraclecloud.com\ncontent-length: {}\ncontent-type: application/json\nx-content-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        body.len()
    );
    let der = pem::parse(
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap(),
    )
    .unwrap()
    .into_contents();

    // Each backend's raw RSA-2048 operation, straight from the library: the floor of signing.
    let mut group = c.benchmark_group("rsa2048");
    let ring_pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    group.bench_function("ring", |b| {
        let rng = ring::rand::SystemRandom::new();
        let mut out = vec![0; ring_pair.public().modulus_len()];
        b.iter(|| {
            ring_pair
                .sign(&ring::signature::RSA_PKCS1_SHA256, &rng, black_box(signing_string.as_bytes()), &mut out)
                .unwrap()
        })
    });
    #[cfg(feature = "aws-lc-rs")]
    {
        let aws_pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        group.bench_function("aws-lc", |b| {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let mut out = vec![0; aws_pair.public_modulus_len()];
            b.iter(|| {
                aws_pair
                    .sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, black_box(signing_string.as_bytes()), &mut out)
                    .unwrap()
            })
        });
    }
    group.finish();

    // Signing one request (hashing, signing string, headers, base64, RSA) with each backend.
    let mut group = c.benchmark_group("sign_post_chat_1kib");
    group.throughput(Throughput::Elements(1));
    for (name, backend) in backends() {
        let key = key().with_signing_backend(backend);
        let fingerprint = key.fingerprint().to_owned();
        let credentials = Credentials::new(
            KeyId::api_key("ocid1.tenancy.oc1..aaaaaaaaexample", "ocid1.user.oc1..aaaaaaaaexample", &fingerprint),
            key,
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                let request = SignableRequest::new(
                    "POST",
                    URL,
                    [("content-type", "application/json")],
                    SignableBody::Bytes(black_box(&body)),
                );
                sign(&request, &credentials, &settings).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = sign_benches;
    config = Criterion::default().sample_size(200).measurement_time(Duration::from_secs(8));
    targets = benches
}
criterion_main!(sign_benches);
