use super::*;
use std::path::PathBuf;

const FINGERPRINT: &str = "a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db";

fn fixture(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    if dir.join("vectors").join(name).exists() { dir.join("vectors").join(name) } else { dir.join("keys").join(name) }
}

fn pass() -> Secret {
    Secret::new("test passphrase")
}

fn load(name: &str, passphrase: Option<&Secret>) -> Result<PrivateKey> {
    PrivateKey::from_pem_file(fixture(name), passphrase)
}

#[test]
fn every_supported_form_loads_the_same_key() {
    let reference = load("key-pkcs8.pem", None).unwrap();
    for name in [
        "key-pkcs1.pem",
        "key-pkcs8-encrypted.pem",
        "key-pkcs1-encrypted-aes256.pem",
        "key-pkcs1-encrypted-des3.pem",
        "key-pkcs1-encrypted-aes128.pem",
        "key-pkcs1-encrypted-aes192.pem",
        "key-pkcs8-encrypted-aes128.pem",
        "key-pkcs8-encrypted-des3-sha1.pem",
    ] {
        let key = load(name, Some(&pass())).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.fingerprint(), FINGERPRINT, "{name}");
        assert_eq!(key.public_key_der(), reference.public_key_der(), "{name}");
    }
    assert_eq!(reference.bits(), 2048);
}

#[test]
fn public_key_pem_matches_openssl() {
    let key = load("key-pkcs8.pem", None).unwrap();
    let expected = std::fs::read_to_string(fixture("public.pem")).unwrap();
    assert_eq!(key.public_key_pem().replace("\r\n", "\n").trim(), expected.trim());
}

#[test]
fn passphrase_for_an_unencrypted_key_is_ignored() {
    assert!(load("key-pkcs1.pem", Some(&pass())).is_ok());
}

#[test]
fn missing_passphrase_is_its_own_error() {
    for name in ["key-pkcs8-encrypted.pem", "key-pkcs1-encrypted-aes256.pem", "key-pkcs1-encrypted-des3.pem"] {
        let err = load(name, None).unwrap_err();
        assert!(matches!(err, Error::PassphraseMissing { .. }), "{name}: {err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("the key file ")
                && text.ends_with(" is encrypted; set `pass_phrase` in the profile (or pass a passphrase)"),
            "{text}"
        );
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn wrong_passphrase_is_its_own_error() {
    let wrong = Secret::new("not it");
    for name in [
        "key-pkcs8-encrypted.pem",
        "key-pkcs1-encrypted-aes256.pem",
        "key-pkcs1-encrypted-des3.pem",
        "key-pkcs1-encrypted-aes128.pem",
        "key-pkcs8-encrypted-des3-sha1.pem",
    ] {
        let err = load(name, Some(&wrong)).unwrap_err();
        assert!(matches!(err, Error::PassphraseWrong { .. }), "{name}: {err:?}");
        assert!(!err.to_string().contains("not it"));
        let text = err.to_string();
        assert!(
            text.starts_with("wrong passphrase for the key file ")
                && text.ends_with("; check `pass_phrase` in the profile"),
            "{text}"
        );
    }
}

#[test]
fn public_keys_and_certificates_are_named() {
    for (name, label) in
        [("public.pem", "PUBLIC KEY"), ("rsa-public-pkcs1.pem", "RSA PUBLIC KEY"), ("certificate.pem", "CERTIFICATE")]
    {
        match load(name, None) {
            Err(e @ Error::PublicKeyInsteadOfPrivate { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(&format!("holds a public key ({label}); `key_file` must point at the private key")),
                    "{text}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn non_rsa_keys_are_named() {
    for (name, found) in [("ec-sec1.pem", "EC"), ("ec-pkcs8.pem", "EC"), ("ed25519-pkcs8.pem", "Ed25519")] {
        let err = load(name, None).unwrap_err();
        assert!(matches!(err, Error::KeyNotRsa { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(found), "{err}");
    }
}

#[test]
fn small_openssh_and_garbage_keys_are_invalid() {
    let err = load("rsa1024-pkcs1.pem", None).unwrap_err();
    assert!(err.to_string().contains("2048"), "{err}");
    let err = load("rsa8192-pkcs1.pem", None).unwrap_err();
    assert!(err.to_string().contains("larger than 4096 bits"), "{err}");
    assert!(!err.to_string().contains("larger than 8192"), "the limit is the signer's: {err}");
    let err = load("openssh.pem", None).unwrap_err();
    assert!(err.to_string().contains("ssh-keygen -p -m PEM"), "{err}");
    let err = PrivateKey::from_pem("hello", None).unwrap_err();
    assert!(err.to_string().contains("no PEM block"), "{err}");
    let err = PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", None).unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }), "{err:?}");
}

#[test]
fn unreadable_file_names_its_path() {
    let err = PrivateKey::from_pem_file("/no/such/key.pem", None).unwrap_err();
    assert!(matches!(err, Error::KeyFileUnreadable { .. }));
    assert!(err.to_string().contains("/no/such/key.pem"));
}

#[test]
fn debug_shows_no_key_material() {
    let key = load("key-pkcs8.pem", None).unwrap();
    let shown = format!("{key:?}");
    assert!(shown.contains(FINGERPRINT) && shown.contains("2048"));
    assert!(shown.len() < 120, "{shown}");
}

#[test]
fn key_files_that_are_devices_or_huge_are_refused_unread() {
    let err = PrivateKey::from_pem_file("/dev/zero", None).unwrap_err();
    assert!(matches!(err, Error::KeyFileUnreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("/dev/zero") && err.to_string().contains("not a regular file"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.pem");
    std::fs::write(&huge, vec![b'A'; 2 * 1024 * 1024]).unwrap();
    let err = PrivateKey::from_pem_file(&huge, None).unwrap_err();
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
}

#[cfg(feature = "aws-lc-rs")]
#[test]
fn both_backends_sign_identically() {
    let key = load("key-pkcs8.pem", None).unwrap();
    assert_eq!(key.signing_backend(), SigningBackend::AwsLc, "AWS-LC is the default with the feature");
    let by_aws_lc = key.sign(b"date: x\n(request-target): get /").unwrap();
    let key = key.with_signing_backend(SigningBackend::Ring);
    assert_eq!(key.sign(b"date: x\n(request-target): get /").unwrap(), by_aws_lc);
}
