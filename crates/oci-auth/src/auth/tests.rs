use super::*;
use crate::{Error, StaticEnv};

const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem");
const FP: &str = "a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db";
// {"exp": 4102444800} — 2100-01-01.
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln";

struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".oci")).unwrap();
        std::fs::write(dir.path().join(".oci/token"), TOKEN).unwrap();
        let config = format!(
            "[DEFAULT]\nregion = us-chicago-1\ntenancy = ocid1.tenancy.oc1..t\nkey_file = {KEY}\n\n\
             [USER]\nuser = ocid1.user.oc1..u\nfingerprint = {FP}\n\n\
             [SESSION]\nregion = eu-frankfurt-1\nsecurity_token_file = ~/.oci/token\n"
        );
        std::fs::write(dir.path().join(".oci/config"), config).unwrap();
        Home(dir)
    }

    fn env(&self) -> StaticEnv {
        StaticEnv::new().with_home(self.0.path())
    }
}

fn build(env: StaticEnv, configure: impl FnOnce(AuthBuilder) -> AuthBuilder) -> Result<Auth> {
    configure(Auth::builder().env(Arc::new(env))).build()
}

#[tokio::test]
async fn api_key_from_the_default_location() {
    let home = Home::new();
    let auth = build(home.env(), |b| b.profile("USER")).unwrap();
    assert_eq!(auth.auth_type(), AuthType::ApiKey);
    assert_eq!(auth.region().map(RegionInfo::id), Some("us-chicago-1"));
    let id = auth.credentials().await.unwrap().key_id().expose().to_owned();
    assert_eq!(id, format!("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/{FP}"));
}

#[tokio::test]
async fn profile_and_auth_type_from_the_environment() {
    let home = Home::new();
    let env = home.env().with_var("OCI_CLI_PROFILE", "SESSION").with_var("OCI_CLI_AUTH", "session_token");
    let auth = build(env, |b| b).unwrap();
    assert_eq!(auth.auth_type(), AuthType::SecurityToken);
    assert_eq!(auth.region().map(RegionInfo::id), Some("eu-frankfurt-1"));
    assert_eq!(auth.credentials().await.unwrap().key_id().expose(), format!("ST${TOKEN}"));
    assert_eq!(auth.profile().map(Profile::name), Some("SESSION"));
}

#[test]
fn explicit_settings_win_over_the_environment() {
    let home = Home::new();
    let env = home.env().with_var("OCI_CLI_PROFILE", "NOPE").with_var("OCI_CLI_AUTH", "bogus");
    let auth = build(env, |b| b.profile("USER").auth_type(AuthType::ApiKey)).unwrap();
    assert_eq!(auth.profile().map(Profile::name), Some("USER"));
}

#[test]
fn config_file_from_oci_config_file() {
    let home = Home::new();
    let moved = home.0.path().join("elsewhere");
    std::fs::rename(home.0.path().join(".oci/config"), &moved).unwrap();
    let env = home.env().with_var("OCI_CONFIG_FILE", moved.to_string_lossy());
    assert!(build(env, |b| b.profile("USER")).is_ok());
    let err = build(home.env(), |b| b.profile("USER")).unwrap_err();
    assert!(matches!(err, Error::ConfigFileUnreadable { .. }), "{err:?}");
}

#[test]
fn errors_name_what_to_fix() {
    let home = Home::new();
    let err = build(home.env(), |b| b.profile("MISSING")).unwrap_err();
    assert!(err.to_string().contains("DEFAULT, USER, SESSION"), "{err}");
    let err = build(home.env().with_var("OCI_CLI_AUTH", "kerberos"), |b| b).unwrap_err();
    assert!(matches!(err, Error::UnknownAuthType { .. }), "{err:?}");
    let err = build(home.env(), |b| b.auth_type(AuthType::ResourcePrincipal)).unwrap_err();
    #[cfg(feature = "principals")]
    assert!(matches!(err, Error::MissingEnvVar { name: "OCI_RESOURCE_PRINCIPAL_VERSION", .. }), "{err:?}");
    #[cfg(not(feature = "principals"))]
    assert_eq!(err.to_string(), "resource_principal authentication needs oci-auth's `principals` feature");
    // DEFAULT has no user: API key auth says so.
    let err = build(home.env(), |b| b).unwrap_err();
    assert!(matches!(err, Error::MissingConfigKey { key: "user", .. }), "{err:?}");
}

#[cfg(feature = "principals")]
#[test]
fn principals_build_without_network_and_regions_resolve() {
    let home = Home::new();
    let auth = build(home.env(), |b| b.auth_type(AuthType::InstancePrincipal)).unwrap();
    assert_eq!(auth.region(), None, "known only after asking the metadata service");
    let env = home
        .env()
        .with_var("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
        .with_var("OCI_RESOURCE_PRINCIPAL_RPST", "a.b.c")
        .with_var("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", KEY)
        .with_var("OCI_RESOURCE_PRINCIPAL_REGION", "fra");
    let auth = build(env.clone(), |b| b.auth_type(AuthType::ResourcePrincipal)).unwrap();
    assert_eq!(auth.region().map(RegionInfo::id), Some("eu-frankfurt-1"));
    let auth = build(env, |b| b.auth_type(AuthType::ResourcePrincipal).region("iad")).unwrap();
    assert_eq!(auth.region().map(RegionInfo::id), Some("us-ashburn-1"));
}

#[test]
fn debug_shows_no_secrets() {
    let home = Home::new();
    let auth = build(home.env(), |b| b.profile("SESSION").auth_type(AuthType::SecurityToken)).unwrap();
    let shown = format!("{auth:?} {:?}", auth.provider());
    assert!(!shown.contains(TOKEN), "{shown}");
}
