use std::time::Duration;

use base64::Engine as _;

use super::*;
use crate::StaticEnv;

const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem");

fn jwt(exp: u64, sub: &str) -> String {
    let b64 = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#.into()), b64(format!(r#"{{"exp":{exp},"sub":"{sub}"}}"#)))
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(token: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), format!("{token}\n")).unwrap();
        Setup { dir }
    }

    fn token_path(&self) -> PathBuf {
        self.dir.path().join("token")
    }

    fn profile(&self) -> Profile {
        Profile::from_pairs(
            "SESSION",
            "/cfg",
            [("security_token_file", self.token_path().to_string_lossy().into_owned()), ("key_file", KEY.to_owned())],
        )
    }

    fn provider(&self, now: u64) -> Result<SessionTokenProvider> {
        SessionTokenProvider::from_profile(&self.profile(), Arc::new(StaticEnv::new().with_now(at(now))))
    }
}

#[tokio::test]
async fn signs_with_st_and_the_token() {
    let token = jwt(2_000, "a");
    let setup = Setup::new(&token);
    let c = setup.provider(1_000).unwrap().credentials().await.unwrap();
    assert_eq!(c.key_id().expose(), format!("ST${token}"));
    assert_eq!(c.expires_at(), Some(at(2_000)));
    assert_eq!(format!("{:?}", c.key_id()), "KeyId(ST$<redacted>)");
}

#[tokio::test]
async fn rereads_the_token_when_the_file_changes() {
    let setup = Setup::new(&jwt(2_000, "a"));
    let provider = setup.provider(1_000).unwrap();
    let first = provider.credentials().await.unwrap();
    let refreshed = jwt(3_000, "refreshed");
    std::fs::write(setup.token_path(), &refreshed).unwrap();
    let second = provider.credentials().await.unwrap();
    assert_ne!(first.key_id(), second.key_id());
    assert_eq!(second.key_id().expose(), format!("ST${refreshed}"));
    assert_eq!(second.expires_at(), Some(at(3_000)));
}

#[tokio::test]
async fn an_expired_token_says_how_to_refresh() {
    let setup = Setup::new(&jwt(2_000, "a"));
    let provider = SessionTokenProvider::new(
        "SESSION",
        setup.token_path(),
        KEY,
        None,
        Arc::new(StaticEnv::new().with_now(at(2_000))),
    );
    let err = provider.credentials().await.unwrap_err();
    assert!(err.is_credential_expired());
    let msg = err.to_string();
    assert!(msg.contains("oci session refresh --profile SESSION"), "{msg}");
    assert!(msg.contains(&setup.token_path().display().to_string()), "{msg}");
    // `from_profile` checks at once.
    assert!(setup.provider(2_500).unwrap_err().is_credential_expired());
}

#[tokio::test]
async fn refresh_forces_a_reread() {
    let setup = Setup::new(&jwt(2_000, "a"));
    let provider = setup.provider(1_000).unwrap();
    assert!(provider.refresh().await.is_ok());
    std::fs::remove_file(setup.token_path()).unwrap();
    let err = provider.refresh().await.unwrap_err();
    assert!(matches!(err, Error::TokenFileUnreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("oci session authenticate"));
}

#[test]
fn missing_and_invalid_files_are_named() {
    let setup = Setup::new("not-a-jwt");
    let err = setup.provider(1_000).unwrap_err();
    assert!(matches!(err, Error::InvalidToken { .. }), "{err:?}");
    assert!(err.to_string().contains("token"));

    let setup = Setup::new("");
    assert!(setup.provider(1_000).unwrap_err().to_string().contains("empty"));

    let p = Profile::from_pairs("S", "/cfg", [("key_file", KEY)]);
    let err = SessionTokenProvider::from_profile(&p, Arc::new(StaticEnv::new())).unwrap_err();
    assert!(matches!(err, Error::MissingConfigKey { key: "security_token_file", .. }), "{err:?}");
    assert!(err.to_string().contains("oci session authenticate"));

    let p = Profile::from_pairs("S", "/cfg", [("security_token_file", "/t")]);
    let err = SessionTokenProvider::from_profile(&p, Arc::new(StaticEnv::new())).unwrap_err();
    assert!(matches!(err, Error::MissingConfigKey { key: "key_file", .. }), "{err:?}");
}

#[test]
fn tilde_paths_expand_from_the_env_home() {
    let setup = Setup::new(&jwt(2_000, "a"));
    let home = setup.dir.path().to_owned();
    let p = Profile::from_pairs("S", "/cfg", [("security_token_file", "~/token"), ("key_file", KEY)]);
    let env = Arc::new(StaticEnv::new().with_home(home).with_now(at(1)));
    assert!(SessionTokenProvider::from_profile(&p, env).is_ok());
}
