//! `locus embed` and `locus rerank`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use locus_providers::{Embedder, InputType, OciEmbedder, OciReranker, Reranker};
use oci_auth::{OsEnv, SharedEnv};
use oci_genai_transport::models::Truncate;
use oci_genai_transport::{EmbedInput, GenAiClient};

use crate::error::{CliError, ExitCode};
use crate::setup_args::ServiceArgs;

/// The default embedding model.
pub const DEFAULT_EMBED_MODEL: &str = "cohere.embed-english-v3.0";
/// The default rerank model.
pub const DEFAULT_RERANK_MODEL: &str = "cohere.rerank-v3.5";

/// How vectors are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON array of floats per line, in input order.
    Jsonl,
    /// A NumPy `.npy` array of shape (inputs, dimensions), `float32`.
    Npy,
}

/// Where inputs are cut when too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cut {
    /// Refuse them (the service's default).
    None,
    /// Keep the end.
    Start,
    /// Keep the start.
    End,
}

/// The arguments of `locus embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Texts to embed (or --file).
    pub texts: Vec<String>,
    /// A file of inputs, one per line (empty lines skipped); `-` reads standard input.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// search_document, search_query, classification or clustering.
    #[arg(long, value_name = "TYPE", value_parser = parse_input_type)]
    pub input_type: Option<InputType>,
    /// Cut inputs longer than the model takes.
    #[arg(long, value_enum)]
    pub truncate: Option<Cut>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// The embedding model: a model name or OCID, `oci:` optional (default:
    /// cohere.embed-english-v3.0; LOCUS_MODEL_ID and the defaults file name chat models).
    #[arg(long)]
    pub model: Option<String>,
    /// The compartment, auth and client.
    #[command(flatten)]
    pub setup: ServiceArgs,
}

fn parse_input_type(value: &str) -> Result<InputType, String> {
    value.parse().map_err(|e: locus_providers::Error| e.to_string())
}

/// The arguments of `locus rerank`.
#[derive(Debug, Args)]
pub struct RerankArgs {
    /// The query.
    #[arg(long)]
    pub query: String,
    /// Documents to rank (or --file).
    pub documents: Vec<String>,
    /// A file of documents, one per line (empty lines skipped); `-` reads standard input.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Only the best N.
    #[arg(long, value_name = "N")]
    pub top_n: Option<usize>,
    /// One JSON object per ranked document: index, score, document.
    #[arg(long)]
    pub json: bool,
    /// The rerank model: a model name or OCID, `oci:` optional (default:
    /// cohere.rerank-v3.5; LOCUS_MODEL_ID and the defaults file name chat models).
    #[arg(long)]
    pub model: Option<String>,
    /// The compartment, auth and client.
    #[command(flatten)]
    pub setup: ServiceArgs,
}

/// The inputs: the arguments, else the file's lines.
fn inputs(arguments: &[String], file: Option<&PathBuf>, what: &str) -> Result<Vec<String>, CliError> {
    let mut items = arguments.to_vec();
    if let Some(path) = file {
        let text = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| CliError::Usage(format!("--file -: cannot read standard input: {e}")))?;
            text
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| CliError::Usage(format!("--file {}: cannot read it as text: {e}", path.display())))?
        };
        items.extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned));
    }
    if items.is_empty() {
        return Err(CliError::Usage(format!("no {what}: give them as arguments or with --file")));
    }
    Ok(items)
}

/// The client and compartment for `model` (`default_model` when `None`).
async fn client(
    setup: &ServiceArgs,
    model: Option<&str>,
    default_model: &str,
) -> Result<(GenAiClient, String, String), CliError> {
    let model = match model {
        Some(model) => locus_agent::oci_id(model).map_err(|e| CliError::Usage(format!("--model: {e}")))?,
        None => default_model.to_owned(),
    };
    let (client, compartment) = service_client(setup).await?;
    Ok((client, model, compartment))
}

/// The client and compartment of a command that calls no chat model.
pub(crate) async fn service_client(setup: &ServiceArgs) -> Result<(GenAiClient, String), CliError> {
    let env: SharedEnv = Arc::new(OsEnv);
    let settings = setup.settings(env.as_ref())?;
    let Some(compartment) = settings.compartment_id.clone().map(|c| c.value) else {
        return Err(CliError::Usage("no compartment: pass --compartment-id (or set LOCUS_OCI_COMPARTMENT)".into()));
    };
    let setup = setup.oci_setup_from(settings, env);
    let client = setup
        .client
        .auth(setup.auth.build()?)
        .on_retry(crate::terminal::announce_retry(crate::terminal::Terminal::detect()))
        .build()
        .map_err(CliError::Request)?;
    Ok((client, compartment))
}

/// Inputs per group: progress is reported, and output written, after each.
const GROUP: usize = 960;

/// Runs `locus embed`.
pub async fn embed(args: EmbedArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<ExitCode, CliError> {
    let texts = inputs(&args.texts, args.file.as_ref(), "inputs")?;
    if args.format == Format::Npy && crate::terminal::Terminal::detect().stdout {
        return Err(CliError::Usage("--format npy writes binary: redirect standard output to a file".into()));
    }
    let (client, model, compartment) = client(&args.setup, args.model.as_deref(), DEFAULT_EMBED_MODEL).await?;
    let mut embedder = OciEmbedder::new(client, &model, compartment).map_err(locus_agent::Error::from)?;
    if let Some(input_type) = args.input_type {
        embedder = embedder.input_type(input_type);
    }
    if let Some(cut) = args.truncate {
        embedder = embedder.truncate(match cut {
            Cut::None => Truncate::None,
            Cut::Start => Truncate::Start,
            Cut::End => Truncate::End,
        });
    }
    let total = texts.len();
    let mut done = 0;
    let mut header_written = false;
    for group in texts.chunks(GROUP) {
        let group: Vec<EmbedInput> = group.iter().map(|t| EmbedInput::Text(t.clone())).collect();
        let vectors = embedder.embed(&group).await.map_err(|e| match e {
            // A batch's number and inputs counted over the whole run, not this group.
            locus_providers::Error::Transport(e) => CliError::Request(e.after_inputs(done)),
            other => locus_agent::Error::from(other).into(),
        })?;
        match args.format {
            Format::Jsonl => {
                for vector in &vectors {
                    serde_json::to_writer(&mut *out, vector).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
            }
            Format::Npy => {
                if !header_written {
                    write_npy_header(out, total, vectors.first().map_or(0, Vec::len))?;
                    header_written = true;
                }
                for vector in &vectors {
                    for x in vector {
                        out.write_all(&x.to_le_bytes())?;
                    }
                }
            }
        }
        done += vectors.len();
        if total > GROUP {
            writeln!(err, "embedded {done} of {total}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// The `.npy` version 1.0 header of a C-ordered little-endian `float32` array of shape (rows, columns).
pub fn write_npy_header(out: &mut dyn Write, rows: usize, columns: usize) -> std::io::Result<()> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
    // Magic (6) + version (2) + length (2) + dict + padding + newline: a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(padding));
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())
}

/// Runs `locus rerank`.
pub async fn rerank(args: RerankArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let documents = inputs(&args.documents, args.file.as_ref(), "documents")?;
    if args.query.trim().is_empty() {
        return Err(CliError::Usage("--query is empty".into()));
    }
    let (client, model, compartment) = client(&args.setup, args.model.as_deref(), DEFAULT_RERANK_MODEL).await?;
    let reranker = OciReranker::new(client, &model, compartment).map_err(locus_agent::Error::from)?;
    let ranked = reranker.rerank(&args.query, &documents, args.top_n).await.map_err(locus_agent::Error::from)?;
    for rank in ranked {
        let document = &documents[rank.index];
        if args.json {
            let line = serde_json::json!({"index": rank.index, "score": rank.score, "document": document});
            writeln!(out, "{line}")?;
        } else {
            let shown: String = crate::terminal::one_line(document).chars().take(100).collect();
            writeln!(out, "{:.4}\t{}\t{shown}", rank.score, rank.index)?;
        }
    }
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_npy_header_is_aligned_and_says_the_shape() {
        let mut header = Vec::new();
        write_npy_header(&mut header, 1000, 256).unwrap();
        assert_eq!(header.len() % 64, 0);
        assert!(header.starts_with(b"\x93NUMPY\x01\x00"));
        let text = String::from_utf8_lossy(&header[10..]);
        assert!(text.contains("'shape': (1000, 256)") && text.ends_with('\n'), "{text}");
    }
}
