//! The settings of an OCI chat model, each with where it came from — the one
//! resolution path behind [`OciSetup::from_settings`](crate::OciSetup::from_settings),
//! `locus chat`, `locus doctor` and `locus raw-request`.

use std::fmt;
use std::path::PathBuf;

use locus_providers::ApiFormat;
use oci_auth::{AuthType, Env, Secret};
use oci_genai_transport::Transport;

use crate::error::Error;
use crate::registry::oci_id;

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A command-line flag (`--region`).
    Flag(&'static str),
    /// An environment variable (`LOCUS_OCI_REGION`).
    Env(&'static str),
    /// A defaults file (`~/.config/locus/config.toml`).
    File(PathBuf),
    /// An alias of a defaults file.
    Alias {
        /// The alias.
        name: String,
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "{flag}"),
            Source::Env(name) => write!(f, "{name}"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Alias { name, path } => write!(f, "alias `{name}` in {}", path.display()),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Setting<T> {
    /// `value` from `source`.
    pub fn new(value: T, source: Source) -> Self {
        Setting { value, source }
    }
}

/// Everything that configures an OCI chat model, each part optional and
/// traced to its source. Layers combine with [`or`](Self::or): flags over
/// `LOCUS_*` over `OCI_*` over a defaults file; what none sets is left to
/// the OCI config file (profile, region) and the builders' defaults.
///
/// ```
/// use locus_agent::settings::{Settings, Source};
/// use oci_auth::StaticEnv;
/// let env = StaticEnv::new().with_var("OCI_REGION", "us-ashburn-1").with_var("LOCUS_OCI_REGION", "us-chicago-1");
/// let settings = Settings::from_env(&env)?;
/// let region = settings.region.unwrap();
/// assert_eq!((region.value.as_str(), region.source), ("us-chicago-1", Source::Env("LOCUS_OCI_REGION")));
/// # Ok::<(), locus_agent::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The model: a model name, model OCID or endpoint OCID (`oci:` removed).
    pub model: Option<Setting<String>>,
    /// The compartment.
    pub compartment_id: Option<Setting<String>>,
    /// The OCI config file.
    pub config_file: Option<Setting<PathBuf>>,
    /// The profile in it.
    pub profile: Option<Setting<String>>,
    /// The auth type.
    pub auth_type: Option<Setting<AuthType>>,
    /// The region.
    pub region: Option<Setting<String>>,
    /// The service endpoint, instead of the regional one.
    pub service_endpoint: Option<Setting<String>>,
    /// The transport.
    pub transport: Option<Setting<Transport>>,
    /// The native request shape.
    pub api_format: Option<Setting<ApiFormat>>,
    /// A Generative AI API key (OpenAI-compatible API).
    pub genai_api_key: Option<Setting<Secret>>,
    /// A Generative AI project OCID.
    pub project_id: Option<Setting<String>>,
}

/// `LOCUS_*` first, then the OCI one.
fn var(env: &dyn Env, locus: &'static str, oci: Option<&'static str>) -> Option<Setting<String>> {
    let read =
        |name: &'static str| env.var(name).filter(|v| !v.trim().is_empty()).map(|v| Setting::new(v, Source::Env(name)));
    read(locus).or_else(|| oci.and_then(read))
}

/// A text setting parsed into `T`; a bad value is an error naming its source.
fn parse<T: std::str::FromStr>(setting: Option<Setting<String>>) -> Result<Option<Setting<T>>, Error>
where
    T::Err: fmt::Display,
{
    setting
        .map(|s| match s.value.parse::<T>() {
            Ok(value) => Ok(Setting::new(value, s.source)),
            Err(e) => Err(Error::Config(format!("{}: {e}", s.source))),
        })
        .transpose()
}

impl Settings {
    /// The environment's settings: `LOCUS_MODEL_ID` (with
    /// `LOCUS_MODEL_PROVIDER`, default and only `oci`), `LOCUS_OCI_PROFILE`
    /// (`OCI_CLI_PROFILE`), `LOCUS_OCI_COMPARTMENT` (`OCI_COMPARTMENT_ID`),
    /// `LOCUS_OCI_REGION` (`OCI_REGION`), `LOCUS_OCI_AUTH_TYPE`
    /// (`OCI_CLI_AUTH`), `LOCUS_OCI_SERVICE_ENDPOINT` (`OCI_GENAI_ENDPOINT`),
    /// `OCI_CONFIG_FILE`, `LOCUS_OCI_API_FORMAT`, `LOCUS_OCI_TRANSPORT`,
    /// `LOCUS_OCI_GENAI_API_KEY` (`OCI_GENAI_API_KEY`), `LOCUS_OCI_PROJECT`
    /// (`OCI_GENAI_PROJECT_ID`). A value that does not parse is an error
    /// naming its variable.
    pub fn from_env(env: &dyn Env) -> Result<Settings, Error> {
        let model = match var(env, "LOCUS_MODEL_ID", None) {
            Some(model) => {
                let provider = env.var("LOCUS_MODEL_PROVIDER").filter(|p| !p.trim().is_empty());
                let qualified =
                    match (provider, model.value.contains(':') || oci_genai_transport::is_ocid(&model.value)) {
                        (Some(provider), false) => format!("{provider}:{}", model.value),
                        _ => model.value.clone(),
                    };
                Some(Setting::new(oci_id(&qualified)?, model.source))
            }
            None => None,
        };
        Ok(Settings {
            model,
            compartment_id: var(env, "LOCUS_OCI_COMPARTMENT", Some("OCI_COMPARTMENT_ID")),
            config_file: var(env, "OCI_CONFIG_FILE", None).map(|s| Setting::new(PathBuf::from(s.value), s.source)),
            profile: var(env, "LOCUS_OCI_PROFILE", Some("OCI_CLI_PROFILE")),
            auth_type: parse(var(env, "LOCUS_OCI_AUTH_TYPE", Some("OCI_CLI_AUTH")))?,
            region: var(env, "LOCUS_OCI_REGION", Some("OCI_REGION")),
            service_endpoint: var(env, "LOCUS_OCI_SERVICE_ENDPOINT", Some("OCI_GENAI_ENDPOINT")),
            transport: parse(var(env, "LOCUS_OCI_TRANSPORT", None))?,
            api_format: parse(var(env, "LOCUS_OCI_API_FORMAT", None))?,
            genai_api_key: var(env, "LOCUS_OCI_GENAI_API_KEY", Some("OCI_GENAI_API_KEY"))
                .map(|s| Setting::new(Secret::new(s.value), s.source)),
            project_id: var(env, "LOCUS_OCI_PROJECT", Some("OCI_GENAI_PROJECT_ID")),
        })
    }

    /// These settings, with what they leave unset taken from `lower`.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            model: self.model.or(lower.model),
            compartment_id: self.compartment_id.or(lower.compartment_id),
            config_file: self.config_file.or(lower.config_file),
            profile: self.profile.or(lower.profile),
            auth_type: self.auth_type.or(lower.auth_type),
            region: self.region.or(lower.region),
            service_endpoint: self.service_endpoint.or(lower.service_endpoint),
            transport: self.transport.or(lower.transport),
            api_format: self.api_format.or(lower.api_format),
            genai_api_key: self.genai_api_key.or(lower.genai_api_key),
            project_id: self.project_id.or(lower.project_id),
        }
    }

    /// Each setting that is set, as `(name, shown value, source)`; secrets
    /// are shown as `<set>`.
    pub fn rows(&self) -> Vec<(&'static str, String, &Source)> {
        fn text(s: &Option<Setting<String>>) -> Option<(String, &Source)> {
            s.as_ref().map(|s| (s.value.clone(), &s.source))
        }
        fn shown<T>(s: &Option<Setting<T>>, show: impl Fn(&T) -> String) -> Option<(String, &Source)> {
            s.as_ref().map(|s| (show(&s.value), &s.source))
        }
        let all = [
            ("model", text(&self.model)),
            ("compartment", text(&self.compartment_id)),
            ("config file", shown(&self.config_file, |p| p.display().to_string())),
            ("profile", text(&self.profile)),
            ("auth", shown(&self.auth_type, ToString::to_string)),
            ("region", text(&self.region)),
            ("service endpoint", text(&self.service_endpoint)),
            ("transport", shown(&self.transport, ToString::to_string)),
            ("api format", shown(&self.api_format, |f| format!("{f:?}").to_ascii_lowercase())),
            ("GenAI API key", shown(&self.genai_api_key, |_| "<set>".to_owned())),
            ("project", text(&self.project_id)),
        ];
        all.into_iter().filter_map(|(name, row)| row.map(|(value, source)| (name, value, source))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_auth::StaticEnv;

    #[test]
    fn locus_variables_win_over_oci_ones_and_bad_values_name_their_variable() {
        let env = StaticEnv::new()
            .with_var("OCI_CLI_PROFILE", "OCI")
            .with_var("LOCUS_OCI_PROFILE", "LOCUS")
            .with_var("OCI_COMPARTMENT_ID", "ocid1.compartment.oc1..c")
            .with_var("LOCUS_MODEL_ID", "meta.llama-3.3-70b-instruct");
        let settings = Settings::from_env(&env).unwrap();
        assert_eq!(settings.profile.unwrap().value, "LOCUS");
        assert_eq!(settings.compartment_id.unwrap().source, Source::Env("OCI_COMPARTMENT_ID"));
        assert_eq!(settings.model.unwrap().value, "meta.llama-3.3-70b-instruct");
        let err = Settings::from_env(&StaticEnv::new().with_var("LOCUS_OCI_TRANSPORT", "grpc")).unwrap_err();
        assert!(err.to_string().contains("LOCUS_OCI_TRANSPORT"), "{err}");
    }

    #[test]
    fn a_higher_layer_wins_and_the_lower_fills_the_gaps() {
        let flags = Settings {
            region: Some(Setting::new("us-chicago-1".into(), Source::Flag("--region"))),
            ..Default::default()
        };
        let env =
            Settings::from_env(&StaticEnv::new().with_var("OCI_REGION", "x").with_var("OCI_CLI_PROFILE", "P")).unwrap();
        let merged = flags.or(env);
        assert_eq!(merged.region.unwrap().source, Source::Flag("--region"));
        assert_eq!(merged.profile.unwrap().value, "P");
        let secret = Settings {
            genai_api_key: Some(Setting::new(Secret::new("sk-x"), Source::Env("OCI_GENAI_API_KEY"))),
            ..Default::default()
        };
        assert_eq!(secret.rows()[0].1, "<set>");
    }
}
