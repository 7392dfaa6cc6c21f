//! Which library computes a key's RSA signatures.

/// The library that computes RSA-SHA256 (PKCS#1 v1.5) signatures. Both give
/// the same, deterministic signatures; they differ in speed. `ring` is the
/// default; with the `aws-lc-rs` feature, AWS-LC is (about twice as fast
/// for RSA-2048 on x86-64, see `cargo bench -p oci-auth --bench sign`).
///
/// ```
/// use oci_auth::SigningBackend;
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
/// let key = oci_auth::PrivateKey::from_pem(&pem, None)?.with_signing_backend(SigningBackend::Ring);
/// assert_eq!(key.signing_backend(), SigningBackend::Ring);
/// # Ok::<(), oci_auth::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningBackend {
    /// `ring`.
    Ring,
    /// AWS-LC, through `aws-lc-rs` (feature `aws-lc-rs`).
    #[cfg(feature = "aws-lc-rs")]
    AwsLc,
}

impl Default for SigningBackend {
    /// AWS-LC with the `aws-lc-rs` feature, else ring.
    fn default() -> Self {
        #[cfg(feature = "aws-lc-rs")]
        {
            SigningBackend::AwsLc
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            SigningBackend::Ring
        }
    }
}

/// The key pair of the AWS-LC backend, beside ring's (which validates keys
/// and gives the public key, so both backends accept and reject the same keys).
#[cfg(feature = "aws-lc-rs")]
pub(crate) struct AwsLcPair(aws_lc_rs::signature::RsaKeyPair);

#[cfg(feature = "aws-lc-rs")]
impl AwsLcPair {
    /// From the PKCS#1 DER that ring already accepted.
    pub fn from_pkcs1_der(der: &[u8]) -> Option<Self> {
        aws_lc_rs::signature::RsaKeyPair::from_der(der).ok().map(AwsLcPair)
    }

    pub fn sign(&self, message: &[u8], signature: &mut [u8]) -> bool {
        let random = aws_lc_rs::rand::SystemRandom::new();
        self.0.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &random, message, signature).is_ok()
    }
}
