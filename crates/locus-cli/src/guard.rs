//! `locus guard`: the service's guardrails on a text (and images) —
//! content moderation, prompt injection, personal information.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use oci_genai_transport::{GenAiClient, GuardrailChecks, GuardrailReport, GuardrailsCall};

use crate::error::{CliError, ExitCode};
use crate::input::Stdin;
use crate::setup_args::ServiceArgs;

/// A guardrail check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Check {
    /// Content moderation (OVERALL, BLOCKLIST).
    Moderation,
    /// Prompt injection.
    Injection,
    /// Personal information (see --pii-types).
    Pii,
}

/// The arguments of `locus guard`.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// The text to check; `-` (or no argument, with input piped in) reads standard input.
    pub text: Option<String>,
    /// An image to check too (png, jpeg, webp, gif); images need guardrails
    /// version 1.1.0 or later, which is pinned unless --guardrail-version says otherwise.
    #[arg(long, value_name = "FILE")]
    pub image: Vec<PathBuf>,
    /// The checks to run, comma-separated (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub checks: Vec<Check>,
    /// The personal-information types looked for (default: PERSON,EMAIL,TELEPHONE_NUMBER).
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub pii_types: Vec<String>,
    /// Pin a guardrails version (default: the service's).
    #[arg(long = "guardrail-version", value_name = "VERSION")]
    pub version: Option<String>,
    /// The score at which a check counts as found (the service scores 0 or 1).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Print only the text with personal information replaced by `[LABEL]`
    /// (exit 1 only for moderation or an injection).
    #[arg(long, conflicts_with = "json")]
    pub redact: bool,
    /// The report as JSON: moderation, prompt_injection, pii (label, text,
    /// offset, length, score), version, flagged.
    #[arg(long)]
    pub json: bool,
    /// Against a local emulator started here (it flags e-mail addresses,
    /// telephone numbers and a few phrases).
    #[arg(long)]
    pub emulator: bool,
    /// The compartment, auth and client.
    #[command(flatten)]
    pub setup: ServiceArgs,
}

/// Runs `locus guard`: exit 0 when nothing was found, 1 when something was.
pub async fn run(args: GuardArgs, stdin: Stdin, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    if !(0.0..=1.0).contains(&args.threshold) {
        return Err(CliError::Usage(format!("--threshold {}: give a score from 0 to 1", args.threshold)));
    }
    // The argument is the text; without one (or with `-`), standard input is. A chat prompt's
    // composition (argument plus piped text, `--file` attachments) is not what is checked here.
    let text = match args.text.as_deref() {
        None | Some("-") => stdin.read_all()?.map(|t| t.trim_end().to_owned()).unwrap_or_default(),
        Some(text) => text.to_owned(),
    };
    if text.trim().is_empty() && args.image.is_empty() {
        return Err(CliError::Usage("nothing to check: give a text, pipe one in, or pass --image".into()));
    }
    let mut call = GuardrailsCall::new(String::new(), text.clone()).checks(checks(&args));
    let images_since = oci_genai_transport::IMAGE_GUARDRAILS_VERSION;
    call.version = args.version.clone().or_else(|| (!args.image.is_empty()).then(|| images_since.to_owned()));
    for path in &args.image {
        call.images.push(crate::input::image_url(path, "--image")?);
    }
    let mut _emulator = None;
    let client = if args.emulator {
        let (emulator, credentials) = crate::emulator::start_local().await?;
        let client = GenAiClient::builder().credentials_provider(credentials).service_endpoint(emulator.url());
        call.compartment_id = emulator.config().compartment_id.clone();
        _emulator = Some(emulator);
        client.build().map_err(CliError::Request)?
    } else {
        let (client, compartment) = crate::retrieval::service_client(&args.setup).await?;
        call.compartment_id = compartment;
        client
    };
    let report = client.guardrails(&call).await.map_err(CliError::Request)?;
    let threshold = args.threshold;
    let harmful =
        report.flagged_category(threshold).is_some() || report.prompt_injection.is_some_and(|s| s >= threshold);
    let personal = report.pii.iter().any(|p| p.score >= threshold);
    if args.redact {
        writeln!(out, "{}", report.redact(&text))?;
        return Ok(if harmful { ExitCode::Flagged } else { ExitCode::Ok });
    }
    if args.json {
        let mut value = serde_json::to_value(&report).map_err(std::io::Error::from)?;
        value["flagged"] = (harmful || personal).into();
        serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        describe(&report, threshold, out)?;
    }
    Ok(if harmful || personal { ExitCode::Flagged } else { ExitCode::Ok })
}

fn checks(args: &GuardArgs) -> GuardrailChecks {
    let mut checks = GuardrailChecks::default();
    if !args.pii_types.is_empty() {
        checks.pii_types = args.pii_types.iter().map(|t| t.trim().to_ascii_uppercase()).collect();
    }
    if !args.checks.is_empty() {
        checks.content_moderation = args.checks.contains(&Check::Moderation);
        checks.prompt_injection = args.checks.contains(&Check::Injection);
        if !args.checks.contains(&Check::Pii) {
            checks.pii_types.clear();
        }
    }
    checks
}

/// One line per check: what it scored, and whether that counts.
fn describe(report: &GuardrailReport, threshold: f64, out: &mut dyn Write) -> std::io::Result<()> {
    let mark = |score: f64| if score >= threshold { "  ← flagged" } else { "" };
    if !report.moderation.is_empty() {
        let scores: Vec<String> = report.moderation.iter().map(|(name, score)| format!("{name} {score}")).collect();
        writeln!(out, "moderation: {}{}", scores.join(", "), mark(report.moderation_score()))?;
    }
    if let Some(score) = report.prompt_injection {
        writeln!(out, "prompt injection: {score}{}", mark(score))?;
    }
    for pii in &report.pii {
        let text = crate::terminal::one_line(&pii.text);
        writeln!(out, "pii: {} \"{text}\" at {} (score {}){}", pii.label, pii.offset, pii.score, mark(pii.score))?;
    }
    if let Some(version) = &report.version {
        writeln!(out, "guardrails version {version}")?;
    }
    Ok(())
}
