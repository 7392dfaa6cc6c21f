//! Signing one request versus the RSA-2048 operation inside it.
//!
//! `cargo bench -p oci-auth --bench sign`. The difference between
//! `sign/post_chat_1kib` and `rsa2048/pkcs1_sha256` is our overhead: hashing
//! the body, building the signing string and headers, base64.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oci_auth::{Credentials, KeyId, PrivateKey, SignableBody, SignableRequest, SigningSettings, sign};

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

fn benches(c: &mut Criterion) {
    let key = key();
    let fingerprint = key.fingerprint().to_owned();
    let credentials = Credentials::new(
        KeyId::api_key("ocid1.tenancy.oc1..aaaaaaaaexample", "ocid1.user.oc1..aaaaaaaaexample", &fingerprint),
        key,
    );
    let body = chat_body();
    let settings = SigningSettings::default().with_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_000_000));

    // The same signing string the POST below produces, for the raw RSA baseline.
    let signing_string = format!(
        "date: Mon, 24 Nov 2025 16:00:00 GMT\n(request-target): post /20231130/actions/chat\nhost: inference.generativeai.us-chicago-1.oci.oraclecloud.com\ncontent-length: {}\ncontent-type: application/json\nx-content-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        body.len()
    );

    let mut group = c.benchmark_group("rsa2048");
    group.bench_function("pkcs1_sha256", |b| {
        b.iter(|| credentials.key().sign(black_box(signing_string.as_bytes())).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1));
    group.bench_function("post_chat_1kib", |b| {
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
    group.bench_function("get", |b| {
        b.iter(|| {
            let request = SignableRequest::new("GET", black_box(URL), [], SignableBody::Bytes(&[]));
            sign(&request, &credentials, &settings).unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = sign_benches;
    config = Criterion::default().sample_size(200).measurement_time(Duration::from_secs(8));
    targets = benches
}
criterion_main!(sign_benches);
