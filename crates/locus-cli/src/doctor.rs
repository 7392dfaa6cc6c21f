//! `locus doctor`: the setup `locus chat` would use — each setting and
//! where it came from — checked by building exactly what `chat` builds,
//! then (unless `--offline`) one cheap signed request, with its answer explained.

use std::io::Write;
use std::sync::Arc;

use clap::Args;
use locus_agent::settings::Settings;
use oci_auth::{ApiKeyProvider, Auth, AuthType, OsEnv, SharedEnv};
use oci_genai_transport::{ErrorKind, GenAiClient, ServingMode};

use crate::error::{CliError, ExitCode};
use crate::setup_args::SetupArgs;

/// The arguments of `locus doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The model, auth and client to check, exactly as `locus chat` takes them.
    #[command(flatten)]
    pub setup: SetupArgs,
    /// Check the setup without sending the signed request.
    #[arg(long)]
    pub offline: bool,
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

/// Runs `locus doctor`: exit 0 when every check passes, 3 when the setup is
/// wrong, 4 when the service could not be reached.
pub async fn run(args: DoctorArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let env: SharedEnv = Arc::new(OsEnv);
    let mut report = Report { out, failed: 0 };
    let settings = match args.setup.settings(env.as_ref()) {
        Ok(settings) => settings,
        Err(e) => {
            report.fail(&e.to_string(), "fix the value the message names")?;
            return Err(CliError::ChecksFailed(report.failed));
        }
    };
    writeln!(report.out, "Settings (flags over LOCUS_* over OCI_* over the defaults file):")?;
    let rows = settings.rows();
    for (name, value, source) in &rows {
        writeln!(report.out, "  {name:<16} {value}  (from {source})")?;
    }
    if rows.is_empty() {
        writeln!(report.out, "  (none: the OCI config file's DEFAULT profile and the builders' defaults)")?;
    }
    let mut setup = args.setup.oci_setup_from(settings.clone(), Arc::clone(&env));
    setup.client = setup.client.on_retry(crate::terminal::announce_retry(crate::terminal::Terminal::detect()));

    // Authentication, exactly as chat builds it.
    let api_key = settings.genai_api_key.is_some();
    let auth = match setup.auth.clone().build() {
        Ok(auth) => {
            report.pass(&describe(&auth))?;
            check_credentials(&mut report, &auth, &env).await?;
            Some(auth)
        }
        Err(e) if api_key => {
            report
                .note(&format!("no OCI credentials ({e}); the GenAI API key serves the OpenAI-compatible API only"))?;
            None
        }
        Err(e) => {
            let fix = match settings.auth_type.as_ref().map(|a| a.value) {
                Some(AuthType::InstancePrincipal | AuthType::ResourcePrincipal | AuthType::OkeWorkloadIdentity) => {
                    "run where the principal exists"
                }
                _ => "run `oci setup config`, or pass --config-file / --profile (or set LOCUS_OCI_PROFILE)",
            };
            report.fail(&e.to_string(), fix)?;
            None
        }
    };

    let explicit = settings.region.as_ref().map(|r| r.value.clone());

    // The model, built exactly as chat builds it.
    let client = match (auth.clone(), api_key) {
        (Some(auth), _) => Some(setup.client.clone().auth(auth).build()),
        (None, true) => Some(setup.client.clone().build()),
        // The credentials' failure is reported above; a client without any would only repeat it.
        (None, false) => None,
    };
    let client = match client {
        Some(Ok(client)) => Some(client),
        Some(Err(e)) => {
            report.fail(&e.to_string(), "fix the client setting the message names")?;
            None
        }
        None => None,
    };
    if settings.model.is_none() {
        report.fail(
            "no model",
            "pass --model (a model name, model OCID or endpoint OCID; `locus models` lists them), or set \
             LOCUS_MODEL_ID, or `model` in the defaults file",
        )?;
        return finish(report);
    }
    let built = client.clone().map(|client| setup.model.clone().client(client).build());
    let serving = match built {
        Some(Ok(chat_model)) => {
            let serving = chat_model.serving_mode().clone();
            let kind = if serving.is_dedicated() { "dedicated endpoint" } else { "on-demand model" };
            report.pass(&format!("{kind} {} through the {} transport", serving.id(), chat_model.transport()))?;
            Some((serving, chat_model.transport()))
        }
        Some(Err(e)) => {
            report.fail(&e.to_string(), &model_fix(&e))?;
            None
        }
        None => None,
    };
    let Some((serving, transport)) = serving else { return finish(report) };

    // Where chat would send it, as the client decides it for a call.
    let Some(client) = client else { return finish(report) };
    match client.route(&serving, transport).await {
        Ok(route) => {
            let source = match (&settings.region, serving.is_dedicated()) {
                (Some(region), _) => format!("from {}", region.source),
                (None, true) => "the endpoint's own".to_owned(),
                (None, false) => "from the profile".to_owned(),
            };
            let region = route.region.as_deref().map(|r| format!(" (region {r}, {source})")).unwrap_or_default();
            report.pass(&format!("endpoint {}{region}", route.url))?;
            if let Some(warning) = &route.unknown_region {
                report.fail(warning, "check the region's spelling (--region, LOCUS_OCI_REGION or the profile's)")?;
            }
            for warning in &route.warnings {
                // An explicit region away from the endpoint's: 404 for sure. A profile's: chat calls the endpoint's.
                match explicit {
                    Some(_) => {
                        report.fail(warning, "drop --region (or LOCUS_OCI_REGION), or set it to the endpoint's")?
                    }
                    None => report.note(warning)?,
                }
            }
        }
        Err(e) => {
            report.fail(&e.to_string(), "set a region: --region, LOCUS_OCI_REGION, or `region` in the profile")?
        }
    }
    if report.failed > 0 {
        return finish(report);
    }
    if args.offline {
        report.note("no request sent (--offline)")?;
        return finish(report);
    }
    probe(&mut report, &client, &serving, &settings).await?;
    finish(report)
}

fn finish(report: Report<'_>) -> Result<ExitCode, CliError> {
    if report.failed > 0 { Err(CliError::ChecksFailed(report.failed)) } else { Ok(ExitCode::Ok) }
}

fn describe(auth: &Auth) -> String {
    match auth.profile() {
        Some(profile) => {
            format!("{} from profile [{}] in {}", auth.auth_type(), profile.name(), profile.path().display())
        }
        None => format!("{} (no config file needed)", auth.auth_type()),
    }
}

async fn check_credentials(report: &mut Report<'_>, auth: &Auth, env: &SharedEnv) -> std::io::Result<()> {
    if let (AuthType::ApiKey, Some(profile)) = (auth.auth_type(), auth.profile())
        && let Ok(provider) = ApiKeyProvider::from_profile(profile, env.as_ref())
        && let Some((configured, computed)) = provider.fingerprint_mismatch()
    {
        return report.fail(
            &format!("fingerprint {configured} is not the key's ({computed})"),
            "set `fingerprint` to the fingerprint the OCI console shows for the uploaded public key",
        );
    }
    match auth.credentials().await {
        Ok(_) => report.pass("credentials load"),
        Err(e) => report.fail(&e.to_string(), "fix what the message names (key file, passphrase, token, clock)"),
    }
}

fn model_fix(error: &locus_providers::Error) -> String {
    match error.kind() {
        ErrorKind::Configuration => {
            "pass --compartment-id (for a dedicated endpoint, the endpoint's compartment), or drop --transport".into()
        }
        _ => error.hint_for(&crate::error::FlagNames).unwrap_or_else(|| "fix what the message names".into()),
    }
}

/// One cheap signed request: the listing that should hold the model (no
/// tokens spent), and what its answer means.
async fn probe(
    report: &mut Report<'_>,
    client: &GenAiClient,
    serving: &ServingMode,
    settings: &Settings,
) -> std::io::Result<()> {
    let compartment = settings.compartment_id.as_ref().map(|c| c.value.clone()).unwrap_or_default();
    if compartment.is_empty() {
        return report.note("no signed request sent: no compartment to list models in");
    }
    let found = match serving {
        ServingMode::Dedicated { endpoint_id } => client
            .list_endpoints(&compartment)
            .await
            .map(|endpoints| endpoints.iter().any(|e| e.id.eq_ignore_ascii_case(endpoint_id))),
        ServingMode::OnDemand { model_id } => client
            .list_models(&compartment, Some("CHAT"))
            .await
            .map(|models| models.iter().any(|m| m.display_name.eq_ignore_ascii_case(model_id) || m.id == *model_id)),
        _ => return report.note("no signed request sent for this kind of model"),
    };
    match found {
        Ok(true) => report.pass(&format!("a signed request was answered, and {} is listed", serving.id())),
        Ok(false) => report.fail(
            &format!("a signed request was answered, but {} is not listed in compartment {compartment}", serving.id()),
            if serving.is_dedicated() {
                "check the endpoint OCID and that --compartment-id is the endpoint's compartment (`locus models` lists them)"
            } else {
                "check the model name and the region (`locus models` lists what the region offers)"
            },
        ),
        Err(e) => {
            let fix = match e.status() {
                Some(401) => "the key or the clock: check the key_file and fingerprint in the profile match the API key \
                              uploaded to the user, and that this machine's clock is right"
                    .to_owned(),
                Some(404) => format!(
                    "the region or a policy: check the region ({}) and the compartment, and add a policy such as \
                     `allow group <your-group> to use generative-ai-family in compartment id {compartment}`",
                    settings.region.as_ref().map_or("the configured one", |r| r.value.as_str())
                ),
                Some(403) => format!(
                    "a policy: add `allow group <your-group> to use generative-ai-family in compartment id {compartment}`"
                ),
                _ => e.hint_for(&crate::error::FlagNames).unwrap_or_else(|| "check the network and proxy (HTTPS_PROXY), then try again".into()),
            };
            report.fail(&format!("the signed request failed: {e}"), &fix)
        }
    }
}
