//! The ways to authenticate to OCI.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// How requests are authenticated, as named by the OCI CLI's `--auth` and
/// `OCI_CLI_AUTH`.
///
/// ```
/// use oci_auth::AuthType;
/// assert_eq!("session_token".parse::<AuthType>()?, AuthType::SecurityToken);
/// assert_eq!(AuthType::InstancePrincipal.to_string(), "instance_principal");
/// assert!("password".parse::<AuthType>().is_err());
/// # Ok::<(), oci_auth::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthType {
    /// A user's API signing key from the config file.
    ApiKey,
    /// A session token from `oci session authenticate` (alias `session_token`).
    SecurityToken,
    /// The identity of the OCI compute instance we run on.
    InstancePrincipal,
    /// The identity of an OCI resource (Functions, Data Science, OKE workloads).
    ResourcePrincipal,
    /// The identity of a workload on an OKE enhanced cluster (its cluster,
    /// namespace and Kubernetes service account).
    OkeWorkloadIdentity,
}

impl AuthType {
    /// Every auth type, in the order the docs list them.
    pub const ALL: [AuthType; 5] = [
        AuthType::ApiKey,
        AuthType::SecurityToken,
        AuthType::InstancePrincipal,
        AuthType::ResourcePrincipal,
        AuthType::OkeWorkloadIdentity,
    ];

    /// What to check when OCI answers 401 to a request signed this way:
    /// the one place these hints are written.
    ///
    /// ```
    /// use oci_auth::AuthType;
    /// assert!(AuthType::rejected_signature_hint(Some(AuthType::SecurityToken)).contains("oci session refresh"));
    /// assert!(AuthType::rejected_signature_hint(None).contains("clock"));
    /// ```
    pub fn rejected_signature_hint(auth_type: Option<AuthType>) -> &'static str {
        match auth_type {
            Some(AuthType::ApiKey) => {
                "OCI rejected the signature: check that `fingerprint` is that of the public key uploaded for `user`, \
                 that `tenancy` and `user` are right, and that this machine's clock is correct"
            }
            Some(AuthType::SecurityToken) => {
                "the session may have ended: run `oci session refresh --profile <profile>`"
            }
            Some(AuthType::InstancePrincipal | AuthType::ResourcePrincipal) => {
                "the principal's token was refused: check that a dynamic group includes this instance or resource, \
                 and the machine's clock"
            }
            Some(AuthType::OkeWorkloadIdentity) => {
                "the workload's token was refused: check that a policy allows the workload (request.principal.type \
                 = 'workload', with its cluster, namespace and service account), and the machine's clock"
            }
            None => {
                "check the key and fingerprint (API key), run `oci session refresh` (session token), and check the \
                 machine's clock"
            }
        }
    }

    /// The canonical name (`api_key`, `security_token`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::ApiKey => "api_key",
            AuthType::SecurityToken => "security_token",
            AuthType::InstancePrincipal => "instance_principal",
            AuthType::ResourcePrincipal => "resource_principal",
            AuthType::OkeWorkloadIdentity => "oke_workload_identity",
        }
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthType {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "api_key" => Ok(AuthType::ApiKey),
            "security_token" | "session_token" => Ok(AuthType::SecurityToken),
            "instance_principal" => Ok(AuthType::InstancePrincipal),
            "resource_principal" => Ok(AuthType::ResourcePrincipal),
            "oke_workload_identity" => Ok(AuthType::OkeWorkloadIdentity),
            _ => Err(Error::UnknownAuthType { value: value.to_owned() }),
        }
    }
}
