//! The config parser and the key loader return errors, never panic, whatever they are fed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oci_auth::{ConfigFile, PrivateKey, Secret};
use proptest::prelude::*;

/// Lines that look like config syntax, so the parser's branches are reached often.
fn config_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\[[A-Za-z_ \\[\\]]{0,8}\\]?",
        "[ \t]{0,2}[a-z_]{0,8}[ ]?[=:]?[ ]?[^\n]{0,20}",
        "[#;][^\n]{0,10}",
        "[ \t]+[^\n]{0,10}",
        "[^\n]{0,30}",
        Just(String::new()),
    ]
}

/// PEM-shaped text with random labels, headers and bodies.
fn pem_like() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        Just("RSA PRIVATE KEY".to_owned()),
        Just("PRIVATE KEY".to_owned()),
        Just("ENCRYPTED PRIVATE KEY".to_owned()),
        Just("EC PRIVATE KEY".to_owned()),
        Just("PUBLIC KEY".to_owned()),
        "[A-Z ]{0,20}",
    ];
    let headers = prop_oneof![
        Just(String::new()),
        Just("Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n".to_owned()),
        "Proc-Type: 4,ENCRYPTED\nDEK-Info: [A-Z0-9-]{0,12},[0-9A-F]{0,40}\n\n",
    ];
    let body = proptest::collection::vec(any::<u8>(), 0..600).prop_map(|bytes| {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        text.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")
    });
    (label, headers, body)
        .prop_map(|(label, headers, body)| format!("-----BEGIN {label}-----\n{headers}{body}\n-----END {label}-----\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn config_parser_never_panics(text in "\\PC{0,400}") {
        if let Ok(config) = ConfigFile::parse(&text, "/cfg") {
            for name in config.profile_names() {
                let _ = config.profile(&name);
            }
        }
    }

    #[test]
    fn config_parser_never_panics_on_config_like_text(lines in proptest::collection::vec(config_line(), 0..20)) {
        let text = lines.join("\n");
        if let Ok(config) = ConfigFile::parse(&text, "/cfg") {
            for name in config.profile_names() {
                let profile = config.profile(&name).unwrap();
                let _ = format!("{profile:?}");
            }
        }
    }

    #[test]
    fn key_loader_never_panics_on_text(text in "\\PC{0,300}", pass in proptest::option::of("[a-z]{0,8}")) {
        let _ = PrivateKey::from_pem(&text, pass.map(Secret::new).as_ref());
    }

    #[test]
    fn key_loader_never_panics_on_pem_like_input(text in pem_like(), pass in proptest::option::of("[a-z ]{0,16}")) {
        let _ = PrivateKey::from_pem(&text, pass.map(Secret::new).as_ref());
    }
}

/// Truncated and bit-flipped real keys are errors, never panics.
#[test]
fn damaged_real_keys_are_errors() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/");
    let pass = Secret::new("test passphrase");
    for name in ["key-pkcs1.pem", "key-pkcs8.pem", "key-pkcs8-encrypted.pem", "key-pkcs1-encrypted-aes256.pem"] {
        let text = std::fs::read_to_string(format!("{dir}{name}")).unwrap_or_default();
        for cut in (0..text.len()).step_by(97) {
            let _ = PrivateKey::from_pem(&text[..cut], Some(&pass));
        }
        let mut bytes = text.clone().into_bytes();
        for i in (40..bytes.len().saturating_sub(40)).step_by(131) {
            let original = bytes[i];
            bytes[i] = if original == b'A' { b'B' } else { b'A' };
            let _ = PrivateKey::from_pem(&String::from_utf8_lossy(&bytes), Some(&pass));
            bytes[i] = original;
        }
    }
}
