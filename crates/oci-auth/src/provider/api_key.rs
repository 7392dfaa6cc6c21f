//! API-key credentials: `keyId = <tenancy>/<user>/<fingerprint>`.

use std::sync::Arc;

use crate::config::Profile;
use crate::credentials::{Credentials, KeyId, ProvideCredentials};
use crate::env::Env;
use crate::error::Result;
use crate::key::PrivateKey;

const NEEDED_FOR: &str = "API key authentication";

/// Signs as a user with an API signing key. The credentials never expire.
///
/// ```
/// use oci_auth::{ApiKeyProvider, PrivateKey};
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem")).unwrap();
/// let key = PrivateKey::from_pem(&pem, None)?;
/// let provider = ApiKeyProvider::new("ocid1.tenancy.oc1..t", "ocid1.user.oc1..u", "a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db", key);
/// assert!(provider.fingerprint_mismatch().is_none());
/// # Ok::<(), oci_auth::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ApiKeyProvider {
    credentials: Credentials,
    configured_fingerprint: String,
}

impl ApiKeyProvider {
    /// Credentials for `user` in `tenancy`, whose uploaded public key has
    /// `fingerprint`. A fingerprint that does not match `key` is logged as a
    /// warning (the service will answer 401).
    pub fn new(tenancy: &str, user: &str, fingerprint: &str, key: PrivateKey) -> Self {
        let provider = ApiKeyProvider {
            credentials: Credentials::new(KeyId::api_key(tenancy, user, fingerprint), Arc::new(key)),
            configured_fingerprint: fingerprint.to_owned(),
        };
        if let Some((configured, computed)) = provider.fingerprint_mismatch() {
            tracing::warn!(
                configured,
                computed,
                "the configured fingerprint does not match the private key; OCI will answer 401 \
                 unless the fingerprint of the uploaded public key is used"
            );
        }
        provider
    }

    /// Reads `user`, `tenancy`, `fingerprint` and the key (`key_file` or
    /// `key_content`, with `pass_phrase`) from a profile.
    pub fn from_profile(profile: &Profile, env: &dyn Env) -> Result<Self> {
        let session_hint = profile
            .get("security_token_file")
            .map(|_| "this profile has a security_token_file: use --auth security_token".to_owned());
        let user = profile.user().ok_or_else(|| profile.missing("user", NEEDED_FOR, session_hint.clone()))?;
        let tenancy = profile.require("tenancy", NEEDED_FOR)?;
        let fingerprint = profile.require("fingerprint", NEEDED_FOR)?;
        check_ocid(profile, "user", user)?;
        check_ocid(profile, "tenancy", tenancy)?;
        let key = super::profile_key(profile, env, NEEDED_FOR)?;
        if !is_fingerprint(fingerprint) {
            return Err(profile.invalid(
                "fingerprint",
                format!(
                    "must be 16 lowercase hex pairs separated by colons, as the OCI console shows it \
                     (the key file's is {})",
                    key.fingerprint()
                ),
            ));
        }
        Ok(Self::new(tenancy, user, fingerprint, key))
    }

    /// `(configured, computed)` when the configured fingerprint is not the key's.
    pub fn fingerprint_mismatch(&self) -> Option<(&str, &str)> {
        let computed = self.credentials.key().fingerprint();
        (self.configured_fingerprint != computed).then_some((self.configured_fingerprint.as_str(), computed))
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for ApiKeyProvider {
    async fn credentials(&self) -> Result<Credentials> {
        Ok(self.credentials.clone())
    }
}

/// The SDK's OCID shape: `ocid1.<type>.<realm>.[region].<id>`, letters,
/// digits, `-` and `_` between the separators.
fn check_ocid(profile: &Profile, key: &'static str, value: &str) -> Result<()> {
    let parts: Vec<&str> = value.split(['.', ':']).collect();
    let well_formed = parts.len() >= 5
        && !parts[0].is_empty()
        && parts.last().is_some_and(|p| !p.is_empty())
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if well_formed {
        Ok(())
    } else {
        Err(profile.invalid(key, format!("is not an OCID (expected ocid1.{key}.oc1..<id>)")))
    }
}

fn is_fingerprint(value: &str) -> bool {
    let pairs: Vec<&str> = value.split(':').collect();
    pairs.len() == 16
        && pairs.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, StaticEnv};

    const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem");
    const FP: &str = "a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db";

    fn profile(pairs: &[(&str, &str)]) -> Profile {
        let mut all = vec![
            ("user", "ocid1.user.oc1..aaaa"),
            ("tenancy", "ocid1.tenancy.oc1..bbbb"),
            ("fingerprint", FP),
            ("key_file", KEY),
        ];
        for (k, v) in pairs {
            all.retain(|(a, _)| a != k);
            all.push((k, v));
        }
        Profile::from_pairs("P", "/cfg", all)
    }

    fn err(pairs: &[(&str, &str)]) -> Error {
        ApiKeyProvider::from_profile(&profile(pairs), &StaticEnv::new()).unwrap_err()
    }

    #[tokio::test]
    async fn builds_the_key_id() {
        let p = ApiKeyProvider::from_profile(&profile(&[]), &StaticEnv::new()).unwrap();
        let c = p.credentials().await.unwrap();
        assert_eq!(c.key_id().expose(), format!("ocid1.tenancy.oc1..bbbb/ocid1.user.oc1..aaaa/{FP}"));
        assert_eq!(c.expires_at(), None);
    }

    #[test]
    fn missing_keys_are_named() {
        for key in ["user", "tenancy", "fingerprint", "key_file"] {
            let e = err(&[(key, "")]);
            assert!(matches!(e, Error::MissingConfigKey { key: k, .. } if k == key), "{key}: {e:?}");
            let msg = e.to_string();
            assert!(msg.contains("[P]") && msg.contains("/cfg") && msg.contains(key), "{msg}");
        }
    }

    #[test]
    fn session_profiles_get_a_hint() {
        let e = err(&[("user", ""), ("security_token_file", "/t")]);
        assert!(e.to_string().contains("--auth security_token"), "{e}");
    }

    #[test]
    fn malformed_values_are_named() {
        let e = err(&[("user", "me@example.com")]);
        assert!(matches!(e, Error::InvalidConfigValue { key: "user", .. }), "{e:?}");
        let e = err(&[("tenancy", "ocid1.tenancy")]);
        assert!(matches!(e, Error::InvalidConfigValue { key: "tenancy", .. }), "{e:?}");
        let e = err(&[("fingerprint", "A0:04:5F:C1:B3:9E:9C:DB:FE:4D:51:8D:F9:42:F8:DB")]);
        assert!(e.to_string().contains(FP), "the message shows the computed fingerprint: {e}");
    }

    #[test]
    fn fingerprint_mismatch_is_reported_not_fatal() {
        let other = "00:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db";
        let p = ApiKeyProvider::from_profile(&profile(&[("fingerprint", other)]), &StaticEnv::new()).unwrap();
        assert_eq!(p.fingerprint_mismatch(), Some((other, FP)));
    }

    #[test]
    fn key_content_and_passphrase_from_the_profile() {
        let pem = std::fs::read_to_string(KEY.replace("key-pkcs8.pem", "key-pkcs8-encrypted.pem")).unwrap();
        let p = profile(&[("key_file", ""), ("key_content", &pem), ("pass_phrase", "test passphrase")]);
        assert!(ApiKeyProvider::from_profile(&p, &StaticEnv::new()).is_ok());
        let p = profile(&[("key_file", ""), ("key_content", &pem)]);
        let e = ApiKeyProvider::from_profile(&p, &StaticEnv::new()).unwrap_err();
        assert!(e.to_string().contains("key_content of profile [P] in /cfg"), "{e}");
    }
}
