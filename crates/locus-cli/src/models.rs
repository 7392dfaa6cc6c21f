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
    /// Which on-demand models: chat (the default), embed or rerank.
    #[arg(long, value_enum, default_value_t = Capability::Chat)]
    pub capability: Capability,
}

/// What an on-demand model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Capability {
    /// Chat models (`CHAT`).
    Chat,
    /// Embedding models (`TEXT_EMBEDDINGS`).
    Embed,
    /// Rerank models (`TEXT_RERANK`).
    Rerank,
}

impl Capability {
    /// The management API's name for it.
    pub fn wire(self) -> &'static str {
        match self {
            Capability::Chat => "CHAT",
            Capability::Embed => "TEXT_EMBEDDINGS",
            Capability::Rerank => "TEXT_RERANK",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Capability::Chat => "chat",
            Capability::Embed => "embedding",
            Capability::Rerank => "rerank",
        }
    }
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
        let wire = args.capability.wire();
        let mut models = client.list_models(&compartment, Some(wire)).await.map_err(CliError::Request)?;
        // A capability is a filter of the service's; a listing that ignored it is filtered here too.
        models.retain(|m| m.capabilities.is_empty() || m.capabilities.iter().any(|c| c == wire));
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
        writeln!(out, "On-demand {} models in {region} (use as --model NAME):", args.capability.noun())?;
        let width = models.iter().map(|m| m.display_name.len()).max().unwrap_or(0);
        let today = oci_genai_transport::today_utc(std::time::SystemTime::now());
        for model in &models {
            let vendor = model.vendor.as_deref().unwrap_or("");
            writeln!(out, "  {:width$}  {vendor}{}", model.display_name, lifecycle(model, &today))?;
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

/// `  (deprecated since 2026-01-31, retires on demand 2027-06-30)`: dates only, past ones said as such.
fn lifecycle(model: &ModelSummary, today: &str) -> String {
    let day = |t: &str| t.get(..10).unwrap_or(t).to_owned();
    let mut notes = Vec::new();
    if let Some(t) = model.time_deprecated.as_deref() {
        let verb = if model.is_deprecated_on(today) { "deprecated since" } else { "deprecated from" };
        notes.push(format!("{verb} {}", day(t)));
    }
    if let Some(t) = model.time_on_demand_retired.as_deref() {
        let verb = if model.is_retired_on(today) { "retired on demand since" } else { "retires on demand" };
        notes.push(format!("{verb} {}", day(t)));
    }
    if notes.is_empty() { String::new() } else { format!("  ({})", notes.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_dates_read_as_past_or_future() {
        let model = ModelSummary {
            time_deprecated: Some("2026-01-31T00:00:00.000Z".into()),
            time_on_demand_retired: Some("2027-06-30T00:00:00Z".into()),
            ..Default::default()
        };
        assert_eq!(lifecycle(&model, "2026-12-04"), "  (deprecated since 2026-01-31, retires on demand 2027-06-30)");
        assert_eq!(lifecycle(&model, "2025-12-04"), "  (deprecated from 2026-01-31, retires on demand 2027-06-30)");
        assert_eq!(lifecycle(&ModelSummary::default(), "2026-12-04"), "");
    }
}
