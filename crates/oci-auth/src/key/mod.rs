//! RSA private keys for request signing.
//!
//! Accepts the PEM forms found in OCI users' `key_file`s: PKCS#1
//! (`BEGIN RSA PRIVATE KEY`, plain or with OpenSSL's legacy `DEK-Info`
//! encryption), PKCS#8 (`BEGIN PRIVATE KEY`) and encrypted PKCS#8
//! (`BEGIN ENCRYPTED PRIVATE KEY`, PBES2). Signing uses `ring`.

mod backend;
mod legacy;

pub use backend::SigningBackend;

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use md5::{Digest, Md5};
use pkcs8::der::Encode as _;
use pkcs8::der::asn1::{AnyRef, BitStringRef};
use pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use pkcs8::{EncryptedPrivateKeyInfo, ObjectIdentifier, PrivateKeyInfo};
use ring::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use zeroize::Zeroizing;

use crate::error::{Error, KeySource, Result};
use crate::secret::Secret;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Known non-RSA key algorithms, to name what was found instead.
const OTHER_ALGORITHMS: &[(&str, &str)] = &[
    ("1.2.840.10045.2.1", "an EC key"),
    ("1.3.101.112", "an Ed25519 key"),
    ("1.3.101.113", "an Ed448 key"),
    ("1.2.840.10040.4.1", "a DSA key"),
    ("1.2.840.113549.1.1.10", "an RSASSA-PSS key"),
];

/// An RSA private key, ready to sign.
///
/// `Debug` shows the key's size and fingerprint, never the key.
///
/// ```
/// use oci_auth::PrivateKey;
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
/// let key = PrivateKey::from_pem(&pem, None)?;
/// assert_eq!(key.fingerprint(), "a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db");
/// assert_eq!(key.sign(b"message")?.len(), 256);
/// # Ok::<(), oci_auth::Error>(())
/// ```
pub struct PrivateKey {
    pair: RsaKeyPair,
    #[cfg(feature = "aws-lc-rs")]
    aws_lc: Option<backend::AwsLcPair>,
    backend: SigningBackend,
    public_key_der: Vec<u8>,
    fingerprint: String,
}

impl PrivateKey {
    /// Parses a PEM private key; `passphrase` is needed only for encrypted
    /// keys (and ignored for others, as the OCI SDK does).
    pub fn from_pem(pem: &str, passphrase: Option<&Secret>) -> Result<Self> {
        Self::from_pem_with_source(pem, passphrase, KeySource::Memory)
    }

    /// Reads and parses a PEM key file.
    pub fn from_pem_file(path: impl AsRef<Path>, passphrase: Option<&Secret>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::file::read_capped(path)
            .map(Zeroizing::new)
            .map_err(|source| Error::KeyFileUnreadable { path: path.to_owned(), source })?;
        let source = KeySource::File(path.to_owned());
        let Ok(text) = std::str::from_utf8(&text) else {
            return Err(Error::InvalidKey { key: source, message: "the file is not PEM text".into() });
        };
        Self::from_pem_with_source(text, passphrase, source)
    }

    /// Generates a fresh RSA-2048 key pair, as instance and resource
    /// principals do for each session (generated with `rsa`, signed with `ring`).
    ///
    /// ```
    /// let key = oci_auth::PrivateKey::generate_session_key()?;
    /// assert_eq!(key.bits(), 2048);
    /// # Ok::<(), oci_auth::Error>(())
    /// ```
    #[cfg(feature = "principals")]
    pub fn generate_session_key() -> Result<Self> {
        let der = generate_pkcs8()?;
        Loader { source: KeySource::Generated, passphrase: None }.pkcs8(der.as_bytes(), false)
    }

    /// Generates a fresh RSA-2048 key pair and also returns its private key as
    /// PKCS#8 PEM (to write a key file, as `locus emulator serve` does).
    #[cfg(feature = "principals")]
    pub fn generate_with_pem() -> Result<(Self, Secret)> {
        let der = generate_pkcs8()?;
        let key = Loader { source: KeySource::Generated, passphrase: None }.pkcs8(der.as_bytes(), false)?;
        let pem = Zeroizing::new(pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_bytes())));
        Ok((key, Secret::new(pem.as_str())))
    }

    /// Parses a PEM key and reports errors against `source`.
    pub fn from_pem_with_source(pem: &str, passphrase: Option<&Secret>, source: KeySource) -> Result<Self> {
        Loader { source, passphrase }.load(pem)
    }

    /// The API-key fingerprint: MD5 of the DER SubjectPublicKeyInfo, lowercase
    /// hex pairs joined by colons, as the OCI console shows it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    /// The public key as a PEM `BEGIN PUBLIC KEY` block.
    pub fn public_key_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.public_key_der.clone()))
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.pair.public().modulus_len() * 8
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 over SHA-256 (deterministic),
    /// with this key's [`SigningBackend`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        let signed = match self.backend {
            SigningBackend::Ring => {
                self.pair.sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message, &mut signature).is_ok()
            }
            #[cfg(feature = "aws-lc-rs")]
            SigningBackend::AwsLc => self.aws_lc.as_ref().is_some_and(|pair| pair.sign(message, &mut signature)),
        };
        if !signed {
            return Err(Error::SigningFailed);
        }
        Ok(signature)
    }

    /// The library that signs with this key ([`SigningBackend::default`] unless changed).
    pub fn signing_backend(&self) -> SigningBackend {
        self.backend
    }

    /// This key, signing with `backend` (a backend that could not load the
    /// key keeps the current one).
    pub fn with_signing_backend(mut self, backend: SigningBackend) -> Self {
        match backend {
            #[cfg(feature = "aws-lc-rs")]
            SigningBackend::AwsLc if self.aws_lc.is_none() => {}
            _ => self.backend = backend,
        }
        self
    }

    /// Signs `message` and returns the signature in standard base64.
    pub fn sign_base64(&self, message: &[u8]) -> Result<String> {
        Ok(base64::engine::general_purpose::STANDARD.encode(self.sign(message)?))
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.bits())
            .field("fingerprint", &self.fingerprint)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

struct Loader<'a> {
    source: KeySource,
    passphrase: Option<&'a Secret>,
}

impl Loader<'_> {
    fn invalid(&self, message: impl Into<String>) -> Error {
        Error::InvalidKey { key: self.source.clone(), message: message.into() }
    }

    fn load(self, text: &str) -> Result<PrivateKey> {
        if text.contains("BEGIN OPENSSH PRIVATE KEY") {
            return Err(self.invalid(
                "it is in OpenSSH format; OCI needs PEM: convert a copy with \
                 `ssh-keygen -p -m PEM -f FILE`, or create an API key with `oci setup keys`",
            ));
        }
        let blocks = pem::parse_many(text).map_err(|e| self.invalid(format!("malformed PEM: {e}")))?;
        let private = blocks.iter().find(|b| b.tag().ends_with("PRIVATE KEY"));
        let Some(block) = private else {
            return Err(match blocks.first() {
                Some(b) if b.tag().contains("PUBLIC KEY") || b.tag() == "CERTIFICATE" => {
                    Error::PublicKeyInsteadOfPrivate { key: self.source.clone(), label: b.tag().to_owned() }
                }
                Some(b) => self.invalid(format!("unexpected PEM block `{}`", b.tag())),
                None => self.invalid("no PEM block found (expected -----BEGIN PRIVATE KEY-----)"),
            });
        };
        match block.tag() {
            "RSA PRIVATE KEY" => self.pkcs1_block(block),
            "PRIVATE KEY" => self.pkcs8(block.contents(), false),
            "ENCRYPTED PRIVATE KEY" => self.encrypted_pkcs8(block.contents()),
            "EC PRIVATE KEY" => Err(self.not_rsa("an EC key")),
            "DSA PRIVATE KEY" => Err(self.not_rsa("a DSA key")),
            other => Err(self.invalid(format!("unsupported PEM block `{other}`"))),
        }
    }

    fn not_rsa(&self, found: &str) -> Error {
        Error::KeyNotRsa { key: self.source.clone(), found: found.to_owned() }
    }

    fn passphrase(&self) -> Result<&[u8]> {
        self.passphrase
            .map(|p| p.expose().as_bytes())
            .ok_or_else(|| Error::PassphraseMissing { key: self.source.clone() })
    }

    fn wrong_passphrase(&self) -> Error {
        Error::PassphraseWrong { key: self.source.clone() }
    }

    fn pkcs1_block(&self, block: &pem::Pem) -> Result<PrivateKey> {
        let headers = block.headers();
        let encrypted = headers.get("Proc-Type").is_some_and(|v| v.contains("ENCRYPTED"));
        if !encrypted {
            return self.pkcs1(block.contents(), false);
        }
        let dek_info =
            headers.get("DEK-Info").ok_or_else(|| self.invalid("encrypted PEM without a DEK-Info header"))?;
        let der = legacy::decrypt(dek_info, block.contents(), self.passphrase()?).map_err(|e| match e {
            legacy::LegacyError::Decrypt => self.wrong_passphrase(),
            legacy::LegacyError::BadHeader(m) => self.invalid(m),
            legacy::LegacyError::UnsupportedCipher(c) => self.invalid(format!(
                "unsupported legacy cipher {c}; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes256`"
            )),
        })?;
        self.pkcs1(&der, true)
    }

    fn encrypted_pkcs8(&self, der: &[u8]) -> Result<PrivateKey> {
        let info = EncryptedPrivateKeyInfo::try_from(der)
            .map_err(|e| self.invalid(format!("unsupported or malformed encrypted PKCS#8 ({e})")))?;
        let passphrase = self.passphrase()?;
        let document = info.decrypt(passphrase).map_err(|_| self.wrong_passphrase())?;
        self.pkcs8(document.as_bytes(), true)
    }

    fn pkcs8(&self, der: &[u8], decrypted: bool) -> Result<PrivateKey> {
        let info = match PrivateKeyInfo::try_from(der) {
            Ok(info) => info,
            Err(_) if decrypted => return Err(self.wrong_passphrase()),
            Err(e) => return Err(self.invalid(format!("malformed PKCS#8 ({e})"))),
        };
        let oid = info.algorithm.oid;
        if oid != RSA_ENCRYPTION {
            let oid = oid.to_string();
            let name = OTHER_ALGORITHMS.iter().find(|(o, _)| *o == oid).map(|(_, n)| (*n).to_owned());
            return Err(self.not_rsa(&name.unwrap_or_else(|| format!("algorithm {oid}"))));
        }
        self.pkcs1(info.private_key, false)
    }

    fn pkcs1(&self, der: &[u8], decrypted: bool) -> Result<PrivateKey> {
        let pair = RsaKeyPair::from_der(der).map_err(|rejected| {
            if decrypted {
                return self.wrong_passphrase();
            }
            match rejected.to_string().as_str() {
                "TooSmall" => self.invalid("the RSA key is smaller than 2048 bits; OCI needs 2048 or more"),
                "TooLarge" => self.invalid(
                    "the RSA key is larger than 4096 bits, the most the signer supports; OCI API keys are 2048 or \
                     4096 bits: make a new one with `oci setup keys` or `openssl genrsa 4096`",
                ),
                other => self.invalid(format!("the RSA key was rejected ({other})")),
            }
        })?;
        let public_key_der = spki_der(pair.public_key().as_ref()).map_err(|m| self.invalid(m))?;
        let fingerprint = colon_hex(&Md5::digest(&public_key_der));
        #[cfg(feature = "aws-lc-rs")]
        let aws_lc = backend::AwsLcPair::from_pkcs1_der(der);
        #[cfg(feature = "aws-lc-rs")]
        let backend = if aws_lc.is_some() { SigningBackend::default() } else { SigningBackend::Ring };
        #[cfg(not(feature = "aws-lc-rs"))]
        let backend = SigningBackend::default();
        Ok(PrivateKey {
            pair,
            #[cfg(feature = "aws-lc-rs")]
            aws_lc,
            backend,
            public_key_der,
            fingerprint,
        })
    }
}

/// A new RSA-2048 private key as PKCS#8 DER.
#[cfg(feature = "principals")]
fn generate_pkcs8() -> Result<pkcs8::SecretDocument> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let generation = |e: &dyn std::fmt::Display| Error::KeyGeneration { message: e.to_string() };
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(|e| generation(&e))?;
    key.to_pkcs8_der().map_err(|e| generation(&e))
}

/// Wraps a PKCS#1 `RSAPublicKey` in a SubjectPublicKeyInfo.
fn spki_der(rsa_public_key: &[u8]) -> Result<Vec<u8>, String> {
    let spki = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef { oid: RSA_ENCRYPTION, parameters: Some(AnyRef::NULL) },
        subject_public_key: BitStringRef::from_bytes(rsa_public_key).map_err(|e| e.to_string())?,
    };
    spki.to_der().map_err(|e| e.to_string())
}

/// Lowercase hex pairs joined by `:`.
pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests;
