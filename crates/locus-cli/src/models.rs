//! `locus models`: the on-demand chat models of a region and the dedicated
//! endpoints of a compartment, from OCI Generative AI's management API.

use std::io::Write;
use std::sync::Arc;

use clap::Args;
use oci_auth::{OsEnv, SharedEnv};
use oci_genai_transport::{EndpointSummary, ModelSummary};

use crate::error::{CliError, ExitCode};
use crate::setup_args::ServiceArgs;

/// The arguments of `locus models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// The compartment, auth and region.
    #[command(flatten)]
    pub setup: ServiceArgs,
    /// Print one JSON object (`region`, `compartment_id`, `models`, `endpoints`).
    #[arg(long)]
    pub json: bool,
    /// Only the on-demand models.
    #[arg(long, conflicts_with = "endpoints_only")]
    pub models_only: bool,
    /// Only the dedicated endpoints.
    #[arg(long)]
    pub endpoints_only: bool,
}

/// Runs `locus models`.
pub async fn run(args: ModelsArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let env: SharedEnv = Arc::new(OsEnv);
    let settings = args.setup.settings(env.as_ref())?;
    let Some(compartment) = settings.compartment_id.clone().map(|c| c.value) else {
        return Err(CliError::Usage(
            "no compartment: pass --compartment-id (or set LOCUS_OCI_COMPARTMENT; your tenancy OCID lists the \
             models every compartment can use)"
                .into(),
        ));
    };
    let setup = args.setup.oci_setup_from(settings.clone(), env);
    let auth = setup.auth.build()?;
    let region = match settings.region.as_ref() {
        Some(region) => Some(region.value.clone()),
        None => auth.resolve_region().await?.map(|r| r.id().to_owned()),
    };
    let client = setup.client.auth(auth).build().map_err(CliError::Request)?;
    let models: Vec<ModelSummary> = if args.endpoints_only {
        Vec::new()
    } else {
        let mut models = client.list_models(&compartment, Some("CHAT")).await.map_err(CliError::Request)?;
        // What can be called on demand: base models, not retired, alive.
        models.retain(|m| {
            m.kind.as_deref().is_none_or(|k| k == "BASE") && m.lifecycle_state.as_deref() != Some("DELETED")
        });
        models.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        models.dedup_by(|a, b| a.display_name == b.display_name);
        models
    };
    let endpoints: Vec<EndpointSummary> = if args.models_only {
        Vec::new()
    } else {
        client.list_endpoints(&compartment).await.map_err(CliError::Request)?
    };
    if args.json {
        let value = serde_json::json!({
            "region": region,
            "compartment_id": compartment,
            "models": models,
            "endpoints": endpoints,
        });
        serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(ExitCode::Ok);
    }
    let region = region.as_deref().unwrap_or("the configured region");
    if !args.endpoints_only {
        writeln!(out, "On-demand chat models in {region} (use as --model NAME):")?;
        let width = models.iter().map(|m| m.display_name.len()).max().unwrap_or(0);
        for model in &models {
            let vendor = model.vendor.as_deref().unwrap_or("");
            let retiring =
                model.time_on_demand_retired.as_deref().map(|t| format!("  retires {t}")).unwrap_or_default();
            writeln!(out, "  {:width$}  {vendor}{retiring}", model.display_name)?;
        }
        if models.is_empty() {
            writeln!(out, "  (none)")?;
        }
    }
    if !args.models_only {
        writeln!(out, "Dedicated endpoints in {compartment} (use as --model OCID):")?;
        for endpoint in &endpoints {
            let name = endpoint.display_name.as_deref().unwrap_or("");
            let state = endpoint.lifecycle_state.as_deref().unwrap_or("?");
            writeln!(out, "  {}  {name}  {state}", endpoint.id)?;
        }
        if endpoints.is_empty() {
            writeln!(out, "  (none)")?;
        }
    }
    Ok(ExitCode::Ok)
}
