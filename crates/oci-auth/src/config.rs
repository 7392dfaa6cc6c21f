//! The OCI config file (`~/.oci/config`).
//!
//! The file is INI as Python's `configparser` reads it (which is what the OCI
//! CLI and SDK use): `[PROFILE]` sections, `key = value` or `key: value`,
//! whole-line comments starting with `#` or `;`, indented continuation lines,
//! keys case-insensitive, and a `[DEFAULT]` section whose values every profile
//! inherits. Duplicate sections and duplicate keys are errors, as there.
//! Keys we do not know (tool-specific ones) are kept and ignored.
//!
//! ```
//! use oci_auth::ConfigFile;
//! let text = "[DEFAULT]\nregion = us-ashburn-1\n\n[DEV]\nuser = ocid1.user.oc1..a\n";
//! let config = ConfigFile::parse(text, "/home/me/.oci/config")?;
//! let dev = config.profile("DEV")?;
//! assert_eq!(dev.get("region"), Some("us-ashburn-1")); // inherited from [DEFAULT]
//! assert_eq!(dev.get("USER"), Some("ocid1.user.oc1..a")); // keys are case-insensitive
//! # Ok::<(), oci_auth::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::env::{Env, expand_tilde};
use crate::error::{Error, Result};

/// The name of the section every profile inherits from.
pub const DEFAULT_PROFILE: &str = "DEFAULT";

/// Keys whose values are secrets and never shown by `Debug`.
const SECRET_KEYS: &[&str] = &["pass_phrase", "key_content"];

/// A parsed OCI config file.
#[derive(Clone)]
pub struct ConfigFile {
    path: PathBuf,
    default: BTreeMap<String, String>,
    has_default_section: bool,
    /// Profiles in file order.
    sections: Vec<(String, BTreeMap<String, String>)>,
}

impl ConfigFile {
    /// Where the config file is: `explicit` if given, else `OCI_CONFIG_FILE`,
    /// else `~/.oci/config`.
    ///
    /// ```
    /// use oci_auth::{ConfigFile, StaticEnv};
    /// let env = StaticEnv::new().with_home("/home/me");
    /// assert_eq!(ConfigFile::locate(None, &env), std::path::PathBuf::from("/home/me/.oci/config"));
    /// let env = env.with_var("OCI_CONFIG_FILE", "~/other");
    /// assert_eq!(ConfigFile::locate(None, &env), std::path::PathBuf::from("/home/me/other"));
    /// ```
    pub fn locate(explicit: Option<&Path>, env: &dyn Env) -> PathBuf {
        if let Some(path) = explicit {
            return expand_tilde(&path.to_string_lossy(), env);
        }
        if let Some(path) = env.var("OCI_CONFIG_FILE").filter(|p| !p.is_empty()) {
            return expand_tilde(&path, env);
        }
        expand_tilde("~/.oci/config", env)
    }

    /// Which profile to use: `explicit` if given, else `OCI_CLI_PROFILE`,
    /// else `OCI_PROFILE`, else `DEFAULT`.
    ///
    /// ```
    /// use oci_auth::{ConfigFile, StaticEnv};
    /// assert_eq!(ConfigFile::profile_name(None, &StaticEnv::new()), "DEFAULT");
    /// let env = StaticEnv::new().with_var("OCI_PROFILE", "B").with_var("OCI_CLI_PROFILE", "A");
    /// assert_eq!(ConfigFile::profile_name(None, &env), "A");
    /// assert_eq!(ConfigFile::profile_name(Some("C"), &env), "C");
    /// ```
    pub fn profile_name(explicit: Option<&str>, env: &dyn Env) -> String {
        explicit
            .map(str::to_owned)
            .or_else(|| env.var("OCI_CLI_PROFILE").filter(|p| !p.is_empty()))
            .or_else(|| env.var("OCI_PROFILE").filter(|p| !p.is_empty()))
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::file::read_capped_text(path)
            .map_err(|source| Error::ConfigFileUnreadable { path: path.to_owned(), source })?;
        Self::parse(&text, path)
    }

    /// Parses config text; `path` is only used in error messages and for
    /// [`Profile::path`].
    pub fn parse(text: &str, path: impl Into<PathBuf>) -> Result<Self> {
        Parser::new(path.into()).parse(text)
    }

    /// The path this config was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names of the profiles defined, in file order (`DEFAULT` first when
    /// present).
    pub fn profile_names(&self) -> Vec<String> {
        let default = self.has_default_section.then(|| DEFAULT_PROFILE.to_owned());
        default.into_iter().chain(self.sections.iter().map(|(n, _)| n.clone())).collect()
    }

    /// The profile `name`, with `[DEFAULT]` values filled in.
    pub fn profile(&self, name: &str) -> Result<Profile> {
        let own = if name == DEFAULT_PROFILE && self.has_default_section {
            None
        } else {
            let found = self.sections.iter().find(|(n, _)| n == name);
            match found {
                Some((_, values)) => Some(values),
                None => {
                    return Err(Error::ProfileNotFound {
                        path: self.path.clone(),
                        profile: name.to_owned(),
                        available: self.profile_names(),
                    });
                }
            }
        };
        let mut values = self.default.clone();
        if let Some(own) = own {
            values.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(Profile { name: name.to_owned(), path: self.path.clone(), values })
    }
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field("profiles", &self.profile_names())
            .finish_non_exhaustive()
    }
}

/// One profile of a config file, `[DEFAULT]` values included.
#[derive(Clone)]
pub struct Profile {
    name: String,
    path: PathBuf,
    values: BTreeMap<String, String>,
}

impl Profile {
    /// Builds a profile from key/value pairs, as if read from `path`; useful
    /// for embedding and tests.
    ///
    /// ```
    /// use oci_auth::Profile;
    /// let p = Profile::from_pairs("DEFAULT", "/dev/null", [("Region", "us-phoenix-1")]);
    /// assert_eq!(p.region(), Some("us-phoenix-1"));
    /// ```
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let values = pairs.into_iter().map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.into())).collect();
        Profile { name: name.into(), path: path.into(), values }
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The config file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A value by key (case-insensitive); empty values count as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        let value = match self.values.get(key) {
            Some(v) => v,
            None => self.values.get(&key.to_ascii_lowercase())?,
        };
        Some(value.as_str()).filter(|v| !v.is_empty())
    }

    /// `region`, if set.
    pub fn region(&self) -> Option<&str> {
        self.get("region")
    }

    /// `tenancy`, if set.
    pub fn tenancy(&self) -> Option<&str> {
        self.get("tenancy")
    }

    /// `user`, if set.
    pub fn user(&self) -> Option<&str> {
        self.get("user")
    }

    /// `fingerprint`, if set.
    pub fn fingerprint(&self) -> Option<&str> {
        self.get("fingerprint")
    }

    /// `key_file` with `~` expanded, if set.
    pub fn key_file(&self, env: &dyn Env) -> Option<PathBuf> {
        self.get("key_file").map(|p| expand_tilde(p, env))
    }

    /// `security_token_file` with `~` expanded, if set.
    pub fn security_token_file(&self, env: &dyn Env) -> Option<PathBuf> {
        self.get("security_token_file").map(|p| expand_tilde(p, env))
    }

    /// `pass_phrase`, if set.
    pub fn pass_phrase(&self) -> Option<crate::Secret> {
        self.get("pass_phrase").map(crate::Secret::new)
    }

    /// `key_content` (PEM text in the file itself), if set.
    pub fn key_content(&self) -> Option<crate::Secret> {
        self.get("key_content").map(crate::Secret::new)
    }

    /// The value of `key`, or an error naming the file, profile and key.
    pub(crate) fn require(&self, key: &'static str, needed_for: &'static str) -> Result<&str> {
        self.get(key).ok_or_else(|| self.missing(key, needed_for, None))
    }

    pub(crate) fn missing(&self, key: &'static str, needed_for: &'static str, hint: Option<String>) -> Error {
        Error::MissingConfigKey { path: self.path.clone(), profile: self.name.clone(), key, needed_for, hint }
    }

    pub(crate) fn invalid(&self, key: &'static str, message: impl Into<String>) -> Error {
        Error::InvalidConfigValue { path: self.path.clone(), profile: self.name.clone(), key, message: message.into() }
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: BTreeMap<&str, &str> = self
            .values
            .iter()
            .map(|(k, v)| {
                let v = if SECRET_KEYS.contains(&k.as_str()) { "<redacted>" } else { v.as_str() };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("Profile").field("name", &self.name).field("path", &self.path).field("values", &shown).finish()
    }
}

struct Parser {
    path: PathBuf,
    default: BTreeMap<String, String>,
    has_default_section: bool,
    sections: Vec<(String, BTreeMap<String, String>)>,
    /// Positions in `sections` by name: a duplicate check per header must not scan them all.
    positions: HashMap<String, usize>,
    /// Index into `sections`, or `None` for `[DEFAULT]`; outer `None` before any header.
    current: Option<Option<usize>>,
    /// Key of the last value, for continuation lines.
    last_key: Option<String>,
}

impl Parser {
    fn new(path: PathBuf) -> Self {
        Parser {
            path,
            default: BTreeMap::new(),
            has_default_section: false,
            sections: Vec::new(),
            positions: HashMap::new(),
            current: None,
            last_key: None,
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> Error {
        Error::ConfigSyntax { path: self.path.clone(), line, message: message.into() }
    }

    fn section_mut(&mut self, which: Option<usize>) -> &mut BTreeMap<String, String> {
        match which {
            Some(i) => &mut self.sections[i].1,
            None => &mut self.default,
        }
    }

    fn parse(mut self, text: &str) -> Result<ConfigFile> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                self.last_key = None;
                continue;
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = raw.starts_with([' ', '\t']);
            if indented {
                if let (Some(which), Some(key)) = (self.current, self.last_key.clone()) {
                    if let Some(value) = self.section_mut(which).get_mut(&key) {
                        value.push('\n');
                        value.push_str(trimmed);
                    }
                    continue;
                }
            }
            if trimmed.starts_with('[') {
                self.header(trimmed, line_no)?;
                continue;
            }
            self.key_value(trimmed, line_no)?;
        }
        Ok(ConfigFile {
            path: self.path,
            default: self.default,
            has_default_section: self.has_default_section,
            sections: self.sections,
        })
    }

    fn header(&mut self, trimmed: &str, line_no: usize) -> Result<()> {
        let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
            return Err(self.error(line_no, "a section header must look like [PROFILE]"));
        };
        if name.is_empty() {
            return Err(self.error(line_no, "empty section name []"));
        }
        self.last_key = None;
        if name == DEFAULT_PROFILE {
            if self.has_default_section {
                return Err(self.error(line_no, "section [DEFAULT] appears twice"));
            }
            self.has_default_section = true;
            self.current = Some(None);
            return Ok(());
        }
        if self.positions.insert(name.to_owned(), self.sections.len()).is_some() {
            return Err(self.error(line_no, format!("section [{name}] appears twice")));
        }
        self.sections.push((name.to_owned(), BTreeMap::new()));
        self.current = Some(Some(self.sections.len() - 1));
        Ok(())
    }

    fn key_value(&mut self, trimmed: &str, line_no: usize) -> Result<()> {
        let Some(which) = self.current else {
            return Err(self.error(line_no, "a key appears before any [PROFILE] header"));
        };
        let Some(split) = trimmed.find(['=', ':']) else {
            return Err(self.error(line_no, "expected `key = value`"));
        };
        let key = trimmed[..split].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(self.error(line_no, "a line has a value but no key"));
        }
        let value = trimmed[split + 1..].trim().to_owned();
        let section = self.section_mut(which);
        if section.contains_key(&key) {
            return Err(self.error(line_no, format!("key `{key}` appears twice in this section")));
        }
        section.insert(key.clone(), value);
        self.last_key = Some(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
