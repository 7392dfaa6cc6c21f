//! `locus doctor`: checks the setup a chat needs, and says what to fix.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use oci_auth::{ApiKeyProvider, AuthType, ConfigFile, Env, OsEnv, Profile, ProvideCredentials, SessionTokenProvider};
use oci_genai_transport::{RegionSettings, ServingMode, Transport, resolve_endpoint};

use crate::error::{CliError, ExitCode};
use crate::setup_args::SetupArgs;

/// The arguments of `locus doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The model, auth and client to check, as `locus chat` takes them
    /// (principals are checked where they run).
    #[command(flatten)]
    pub setup: SetupArgs,
    /// Also try to reach the inference endpoint (TCP connect, 5 s).
    #[arg(long)]
    pub online: bool,
}

struct Report<'a> {
    out: &'a mut dyn Write,
    failed: usize,
}

impl Report<'_> {
    fn pass(&mut self, what: &str) -> std::io::Result<()> {
        writeln!(self.out, "✓ {what}")
    }

    fn fail(&mut self, what: &str, fix: &str) -> std::io::Result<()> {
        self.failed += 1;
        writeln!(self.out, "✗ {what}\n  fix: {fix}")
    }

    fn note(&mut self, what: &str) -> std::io::Result<()> {
        writeln!(self.out, "· {what}")
    }
}

/// Runs `locus doctor`: exit 0 when every check passes, 3 otherwise.
pub async fn run(args: DoctorArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let env: Arc<dyn Env> = Arc::new(OsEnv);
    let mut report = Report { out, failed: 0 };
    let path = ConfigFile::locate(args.setup.auth.config_file.as_deref(), env.as_ref());
    let profile = match ConfigFile::load(&path) {
        Ok(config) => {
            report.pass(&format!("config file {}", path.display()))?;
            let name = ConfigFile::profile_name(args.setup.auth.profile.as_deref(), env.as_ref());
            match config.profile(&name) {
                Ok(profile) => {
                    report.pass(&format!("profile [{name}]"))?;
                    Some(profile)
                }
                Err(e) => {
                    report
                        .fail(&e.to_string(), "pass --profile with one of the profiles listed, or add the profile")?;
                    None
                }
            }
        }
        Err(e) => {
            report.fail(&e.to_string(), "run `oci setup config`, or pass --config-file")?;
            None
        }
    };
    if let Some(profile) = &profile {
        check_credentials(&mut report, profile, args.setup.auth.auth, &env).await?;
    }

    let configured =
        args.setup.client.region.clone().or_else(|| profile.as_ref().and_then(|p| p.region().map(str::to_owned)));
    match &configured {
        Some(region) => report.pass(&format!("region {region}"))?,
        None => report.fail("no region configured", "add `region = <region>` to the profile, or pass --region")?,
    }

    let model = args.setup.model.model.clone().or_else(|| env.var("LOCUS_MODEL_ID"));
    match model.as_deref().map(|m| m.strip_prefix("oci:").unwrap_or(m)) {
        None => report.note("no model given (--model or LOCUS_MODEL_ID): model checks skipped")?,
        Some(id) => match ServingMode::from_model_id(id) {
            Err(e) => report.fail(&e.to_string(), "use a model name, a model OCID or an endpoint OCID")?,
            Ok(serving) => {
                let kind = if serving.is_dedicated() { "dedicated endpoint" } else { "on-demand model" };
                report.pass(&format!("{kind} {id}"))?;
                check_model(&mut report, &serving, &args, configured, env.as_ref()).await?;
            }
        },
    }
    if report.failed > 0 { Err(CliError::ChecksFailed(report.failed)) } else { Ok(ExitCode::Ok) }
}

async fn check_credentials(
    report: &mut Report<'_>,
    profile: &Profile,
    auth: Option<AuthType>,
    env: &Arc<dyn Env>,
) -> std::io::Result<()> {
    let auth = auth.or_else(|| env.var("OCI_CLI_AUTH").and_then(|v| v.parse().ok())).unwrap_or(AuthType::ApiKey);
    match auth {
        AuthType::ApiKey => match ApiKeyProvider::from_profile(profile, env.as_ref()) {
            Ok(provider) => {
                report.pass("API key loads")?;
                match provider.fingerprint_mismatch() {
                    None => report.pass("fingerprint matches the key")?,
                    Some((configured, computed)) => report.fail(
                        &format!("fingerprint {configured} is not the key's ({computed})"),
                        "set `fingerprint` to the fingerprint the OCI console shows for the uploaded public key",
                    )?,
                }
            }
            Err(e) => report.fail(&e.to_string(), "fix the profile as the message says")?,
        },
        AuthType::SecurityToken => match SessionTokenProvider::from_profile(profile, Arc::clone(env)) {
            Ok(provider) => match provider.credentials().await {
                Ok(_) => report.pass("session token valid")?,
                Err(e) => report.fail(&e.to_string(), "run `oci session refresh` or `oci session authenticate`")?,
            },
            Err(e) => report.fail(&e.to_string(), "run `oci session authenticate`")?,
        },
        other => report.note(&format!("{other}: credentials are checked on the instance or resource itself"))?,
    }
    Ok(())
}

async fn check_model(
    report: &mut Report<'_>,
    serving: &ServingMode,
    args: &DoctorArgs,
    configured: Option<String>,
    env: &dyn Env,
) -> std::io::Result<()> {
    if serving.is_dedicated() {
        match &args.setup.model.compartment_id.clone().or_else(|| env.var("LOCUS_OCI_COMPARTMENT")) {
            Some(c) => report.pass(&format!("compartment {c}"))?,
            None => report.fail(
                "no compartment for the dedicated endpoint",
                "pass --compartment-id (or LOCUS_OCI_COMPARTMENT) with the endpoint's compartment",
            )?,
        }
        let configured_region = configured.as_deref().and_then(|r| oci_auth::region::resolve(r, env).ok());
        if let (Some(own), Some(called)) = (serving.endpoint_region(env), configured_region) {
            if own.id() == called.id() {
                report.pass(&format!("the endpoint is in the configured region {}", own.id()))?;
            } else {
                report.note(&format!(
                    "the endpoint is in {} while the configured region is {}: requests go to {} (the endpoint's region) unless --region forces another",
                    own.id(),
                    called.id(),
                    own.id()
                ))?;
            }
        }
    }
    let transport = match (args.setup.model.transport, env.var("LOCUS_OCI_TRANSPORT").filter(|t| !t.trim().is_empty()))
    {
        (Some(transport), _) => Ok(transport),
        (None, Some(text)) => text.parse::<Transport>(),
        (None, None) if args.setup.model.api_format.is_some() => Ok(Transport::Native),
        (None, None) => Ok(Transport::for_model(serving)),
    };
    let transport = match transport.and_then(|t| t.check(serving).map(|()| t)) {
        Ok(transport) => {
            report.pass(&format!("transport {transport}"))?;
            transport
        }
        Err(e) => {
            report.fail(&e.to_string(), "pass --transport native (or unset LOCUS_OCI_TRANSPORT)")?;
            Transport::Native
        }
    };
    let path = match transport {
        Transport::Native => "/20231130/actions/chat",
        Transport::ChatCompletions => "/openai/v1/chat/completions",
        Transport::Responses => "/openai/v1/responses",
    };
    let regions = RegionSettings { explicit: args.setup.client.region.clone(), configured };
    match resolve_endpoint(None, &regions, serving, env) {
        Ok(resolved) => {
            report.pass(&format!("endpoint {}{path}", resolved.url))?;
            for warning in &resolved.warnings {
                report.fail(warning, "change --region, or the profile's region, to the endpoint's region")?;
            }
            if args.online {
                let host = resolved.url.trim_start_matches("https://").to_owned();
                let reachable =
                    tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect((host.as_str(), 443)))
                        .await;
                match reachable {
                    Ok(Ok(_)) => report.pass(&format!("{host}:443 reachable"))?,
                    _ => report.fail(&format!("{host}:443 not reachable"), "check network access, proxies and DNS")?,
                }
            } else {
                report.note("endpoint reachability not checked (add --online)")?;
            }
        }
        Err(e) => report.fail(&e.to_string(), "set a region")?,
    }
    Ok(())
}
