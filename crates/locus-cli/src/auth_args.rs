//! The authentication flags every command shares.

use std::path::PathBuf;

use clap::Args;
use oci_auth::{AuthBuilder, AuthType};

/// `--profile`, `--config-file` and `--auth`.
#[derive(Debug, Clone, Default, Args)]
pub struct AuthArgs {
    /// Config profile (default: OCI_CLI_PROFILE, else DEFAULT).
    #[arg(long)]
    pub profile: Option<String>,
    /// Config file (default: OCI_CONFIG_FILE, else ~/.oci/config).
    #[arg(long)]
    pub config_file: Option<PathBuf>,
    /// api_key, security_token (session_token), instance_principal or resource_principal
    /// (default: OCI_CLI_AUTH, else api_key).
    #[arg(long = "auth", value_name = "TYPE", value_parser = parse_auth_type)]
    pub auth: Option<AuthType>,
}

fn parse_auth_type(value: &str) -> Result<AuthType, String> {
    value.parse().map_err(|e: oci_auth::Error| e.to_string())
}

impl AuthArgs {
    /// An `Auth` builder with these flags applied.
    pub fn builder(&self) -> AuthBuilder {
        let mut builder = oci_auth::Auth::builder();
        if let Some(path) = &self.config_file {
            builder = builder.config_file(path);
        }
        if let Some(profile) = &self.profile {
            builder = builder.profile(profile);
        }
        if let Some(auth) = self.auth {
            builder = builder.auth_type(auth);
        }
        builder
    }
}
