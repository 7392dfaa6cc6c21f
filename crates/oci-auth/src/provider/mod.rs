//! Credential providers, one per auth type.

mod api_key;
#[cfg(feature = "principals")]
mod auth_service;
#[cfg(feature = "principals")]
mod instance_principal;
#[cfg(feature = "principals")]
mod metadata;
#[cfg(feature = "principals")]
mod oke_workload_identity;
#[cfg(feature = "principals")]
mod resource_principal;
mod session_token;

pub use api_key::ApiKeyProvider;
#[cfg(feature = "principals")]
pub use instance_principal::{InstancePrincipalBuilder, InstancePrincipalProvider};
#[cfg(feature = "principals")]
pub use oke_workload_identity::{OkeWorkloadIdentityBuilder, OkeWorkloadIdentityProvider};
#[cfg(feature = "principals")]
pub use resource_principal::ResourcePrincipalProvider;
pub use session_token::SessionTokenProvider;

use crate::config::Profile;
use crate::env::Env;
use crate::error::{KeySource, Result};
use crate::key::PrivateKey;

/// Loads the profile's private key from `key_content` or `key_file`.
fn profile_key(profile: &Profile, env: &dyn Env, needed_for: &'static str) -> Result<PrivateKey> {
    let passphrase = profile.pass_phrase();
    if let Some(content) = profile.key_content() {
        let source =
            KeySource::ConfigKeyContent { path: profile.path().to_owned(), profile: profile.name().to_owned() };
        return PrivateKey::from_pem_with_source(content.expose(), passphrase.as_ref(), source);
    }
    match profile.key_file(env) {
        Some(path) => PrivateKey::from_pem_file(path, passphrase.as_ref()),
        None => Err(profile.missing("key_file", needed_for, Some("or set `key_content` to the PEM text".into()))),
    }
}
