//! Where a private key came from, for errors that name it.

use std::fmt;
use std::path::PathBuf;

/// Where a private key came from, so that key errors can say which one to fix.
///
/// ```
/// use oci_auth::KeySource;
/// let source = KeySource::File("/home/me/.oci/key.pem".into());
/// assert_eq!(source.to_string(), "key file /home/me/.oci/key.pem");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// A PEM file on disk.
    File(PathBuf),
    /// The `key_content` value of a profile in a config file.
    ConfigKeyContent {
        /// The config file.
        path: PathBuf,
        /// The profile that holds `key_content`.
        profile: String,
    },
    /// PEM text handed over in memory.
    Memory,
    /// Fetched from a URL (the instance metadata service).
    Url(String),
    /// The value of an environment variable, or the file it names.
    EnvVar(&'static str),
    /// A session key generated in this process.
    Generated,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "key file {}", path.display()),
            KeySource::ConfigKeyContent { path, profile } => {
                write!(f, "key_content of profile [{profile}] in {}", path.display())
            }
            KeySource::Memory => f.write_str("in-memory PEM key"),
            KeySource::Url(url) => write!(f, "key from {url}"),
            KeySource::EnvVar(name) => write!(f, "key in {name}"),
            KeySource::Generated => f.write_str("generated session key"),
        }
    }
}
