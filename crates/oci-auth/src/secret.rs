//! A string that must never be shown.

use std::fmt;

use zeroize::Zeroizing;

/// A secret string (passphrase, token, PEM text): its `Debug` and `Display`
/// print `<redacted>`, and its memory is zeroed when dropped.
///
/// ```
/// use oci_auth::Secret;
/// let pass = Secret::new("hunter2");
/// assert_eq!(format!("{pass:?}"), "<redacted>");
/// assert_eq!(pass.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself: call this only where the value is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
