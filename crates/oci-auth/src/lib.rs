//! Oracle Cloud Infrastructure (OCI) request signing and credentials.
//!
//! Every call to an OCI API is an HTTP request signed with OCI's IAM scheme
//! (draft-cavage HTTP signatures, `rsa-sha256`, `version="1"`). This crate
//! reads the credentials OCI users already have and produces the headers that
//! make a request signed — byte for byte what the official SDKs produce. It
//! does not send anything: it works with any HTTP client.
//!
//! # The pieces
//!
//! - [`ConfigFile`] and [`Profile`]: the `~/.oci/config` file, as the OCI CLI
//!   reads it.
//! - [`PrivateKey`]: PEM RSA keys in every form OCI users have (PKCS#1,
//!   PKCS#8, encrypted either way), with the API-key fingerprint.
//! - [`ProvideCredentials`]: one async trait for every way to authenticate;
//!   [`ApiKeyProvider`], [`SessionTokenProvider`], `InstancePrincipalProvider`,
//!   `ResourcePrincipalProvider` and `OkeWorkloadIdentityProvider` (feature
//!   `principals`) implement it, and
//!   [`Auth`] picks one from the configuration. Expiring tokens live in a
//!   `LazyCredentialsCache` that refreshes them once, ahead of time.
//! - [`sign`]: a [`SignableRequest`] goes in, [`SigningInstructions`] (the
//!   headers to set) come out; [`verify`] is the service's side.
//! - [`region`]: region codes, realms and domains.
//!
//! # Signing a request
//!
//! ```no_run
//! use oci_auth::{sign, Auth, SignableBody, SignableRequest, SigningSettings};
//! # async fn run() -> oci_auth::Result<()> {
//! // ~/.oci/config, profile DEFAULT (or OCI_CLI_PROFILE), API key:
//! let auth = Auth::builder().build()?;
//! let credentials = auth.credentials().await?;
//!
//! let body = br#"{"compartmentId":"ocid1.compartment.oc1..example"}"#;
//! let request = SignableRequest::new(
//!     "POST",
//!     "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat",
//!     [("content-type", "application/json")],
//!     SignableBody::Bytes(body),
//! );
//! let instructions = sign(&request, &credentials, &SigningSettings::default())?;
//! for (name, value) in instructions.headers() {
//!     // set each header on the request you are about to send
//!     # let _ = (name, value);
//! }
//! # Ok(()) }
//! ```
//!
//! With the `reqwest` feature, `sign_reqwest_request` does the last step on
//! a `reqwest::Request`; with the `http` feature,
//! [`SigningInstructions::apply_to_http_request`] does it on an
//! `http::Request`.
//!
//! # Testing without touching the process
//!
//! Providers read environment variables, the home directory and the clock
//! through an [`Env`]. Hand them a [`StaticEnv`] in tests:
//!
//! ```
//! use std::sync::Arc;
//! use oci_auth::{Auth, StaticEnv};
//! let env = StaticEnv::new().with_var("OCI_CONFIG_FILE", "/nonexistent/config");
//! let err = Auth::builder().env(Arc::new(env)).build().unwrap_err();
//! assert!(err.to_string().contains("/nonexistent/config"));
//! ```
//!
//! # Secrets
//!
//! Private keys, passphrases, tokens and signatures never appear in `Debug` or
//! `Display` output, logs or errors: they live in [`Secret`], [`PrivateKey`]
//! and [`KeyId`], whose formatting redacts them.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `http` | [`SigningInstructions::apply_to_http_request`] |
//! | `principals` (default) | instance and resource principals, OKE workload identity, [`LazyCredentialsCache`], session key generation |
//! | `reqwest` | `sign_reqwest_request`, and `ReqwestHttpClient` as the default `HttpClient` of instance and resource principals (implies `http`) |
//! | `aws-lc-rs` | [`SigningBackend::AwsLc`], the default backend: AWS-LC computes RSA signatures, about twice as fast as ring (which still validates keys) |
//!
//! With no features the crate is the signing core: config file, keys, API
//! keys, session tokens, signing and verification — no HTTP client, no async
//! runtime, no certificate parsing. Instance and resource principals then
//! need an `HttpClient` of yours.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod auth_type;
mod backoff;
#[cfg(feature = "principals")]
mod cache;
mod config;
mod credentials;
mod env;
mod error;
mod error_body;
mod file;
#[cfg(feature = "principals")]
mod http_client;
mod jwt;
mod key;
mod provider;
pub mod region;
#[cfg(feature = "reqwest")]
mod reqwest_sign;
mod secret;
mod sign;
pub mod verify;

pub use auth::{Auth, AuthBuilder};
pub use auth_type::AuthType;
pub use backoff::Backoff;
#[cfg(feature = "principals")]
pub use cache::LazyCredentialsCache;
pub use config::{ConfigFile, DEFAULT_PROFILE, Profile};
pub use credentials::{Credentials, KeyId, KeyIdKind, ProvideCredentials, SharedCredentialsProvider};
pub use env::{Env, OsEnv, SharedEnv, StaticEnv};
pub use error::{AuthServiceError, Error, KeySource, Result};
pub use error_body::ErrorBody;
pub use file::MAX_CREDENTIAL_FILE_SIZE;
#[cfg(all(feature = "reqwest", feature = "principals"))]
pub use http_client::ReqwestHttpClient;
#[cfg(feature = "principals")]
pub use http_client::{HttpClient, HttpError, HttpRequest, HttpResponse, SharedHttpClient};
pub use key::{PrivateKey, SigningBackend};
pub use provider::{ApiKeyProvider, SessionTokenProvider};
#[cfg(feature = "principals")]
pub use provider::{
    InstancePrincipalBuilder, InstancePrincipalProvider, OkeWorkloadIdentityBuilder, OkeWorkloadIdentityProvider,
    ResourcePrincipalProvider,
};
#[cfg(feature = "reqwest")]
pub use reqwest_sign::sign_reqwest_request;
pub use secret::Secret;
pub use sign::{SignableBody, SignableRequest, SigningInstructions, SigningSettings, sign};
