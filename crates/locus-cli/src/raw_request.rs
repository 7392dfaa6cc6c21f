//! `locus raw-request`: one signed request to any OCI API.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

use clap::Args;
use oci_auth::{AuthType, KeyIdKind, SigningSettings, sign_reqwest_request};
use reqwest::header::{HeaderName, HeaderValue};

use crate::error::CliError;
use crate::setup_args::AuthArgs;

/// The arguments of `locus raw-request`.
#[derive(Debug, Args)]
pub struct RawRequestArgs {
    /// HTTP method: GET, HEAD, DELETE, POST, PUT or PATCH.
    #[arg(long)]
    pub method: String,
    /// The full URL, e.g. `https://iaas.us-ashburn-1.oraclecloud.com/20160918/instances?compartmentId=…`
    #[arg(long)]
    pub target_uri: String,
    /// The body: text, `@FILE` to read a file, or `@-` to read standard input.
    #[arg(long)]
    pub request_body: Option<String>,
    /// An extra header, `name: value`; repeatable. A `date` given here is kept.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// How to authenticate.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Print the signed request as JSON instead of sending it.
    #[arg(long)]
    pub dry_run: bool,
    /// Send to a plain-http URL on a host that is not loopback (the signed
    /// request and its body would cross the network unencrypted).
    #[arg(long)]
    pub allow_http: bool,
}

/// The most of an error reply read to find its code and message.
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// Runs `locus raw-request`.
pub async fn run(args: RawRequestArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), CliError> {
    let method = reqwest::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::Usage(format!("--method `{}` is not an HTTP method", args.method)))?;
    let url = reqwest::Url::parse(&args.target_uri)
        .map_err(|e| CliError::Usage(format!("--target-uri `{}` is not a URL: {e}", args.target_uri)))?;
    let headers = parse_headers(&args.headers)?;
    let body = args.request_body.as_deref().map(read_body).transpose()?;

    // The one resolution path: flags over LOCUS_* over OCI_* over the defaults file.
    let env: oci_auth::SharedEnv = std::sync::Arc::new(oci_auth::OsEnv);
    let defaults = crate::defaults::DefaultsFile::load(None, env.as_ref())?;
    let settings = crate::setup_args::layered_without_model(args.auth.settings(), env.as_ref(), &defaults)?;
    let auth = locus_agent::OciSetup::from_settings(settings, env).auth.build()?;

    let client = reqwest::Client::builder()
        .user_agent(concat!("locus-rs/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| CliError::Transport(e.to_string()))?;
    let mut request = client.request(method, url).headers(headers);
    if let Some(body) = body {
        request = request.body(body);
    }
    let mut request = request.build().map_err(|e| CliError::Usage(e.to_string()))?;
    let credentials = auth.credentials().await?;
    sign_reqwest_request(&mut request, &credentials, &SigningSettings::default())?;

    if args.dry_run {
        let redact = credentials.key_id().kind() != KeyIdKind::ApiKey;
        let shown = DryRun::of(&request, redact.then(|| credentials.key_id().expose()));
        serde_json::to_writer_pretty(&mut *out, &shown).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }

    if request.url().scheme() == "http" && !args.allow_http && !oci_genai_transport::is_loopback(request.url()) {
        return Err(CliError::Usage(format!(
            "refusing to send a signed request over plain http to {}: use https, or pass --allow-http",
            request.url().host_str().unwrap_or_default()
        )));
    }
    let target = request.url().to_string();
    let failed = |e| CliError::Request(oci_genai_transport::Error::from_reqwest(&target, e, None));
    let mut response = client.execute(request).await.map_err(failed)?;
    let status = response.status();
    let request_id =
        response.headers().get("opc-request-id").and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned();
    writeln!(err, "HTTP {status}")?;
    let event_stream = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    // A success body streams through as it arrives (it may be an object of
    // any size); an event stream stops at its final event, not at the
    // connection's close; an error body is read, capped, to parse.
    let mut bytes = Vec::new();
    let mut last = None;
    let mut end = (event_stream && status.is_success()).then(StreamEnd::default);
    loop {
        let next = match end.as_ref().map(StreamEnd::grace) {
            Some(Some(grace)) => match tokio::time::timeout(grace, response.chunk()).await {
                Ok(next) => next,
                Err(_) => break, // no usage event after the finish event
            },
            _ => response.chunk().await,
        };
        let Some(chunk) = next.map_err(failed)? else { break };
        last = chunk.last().copied().or(last);
        if status.as_u16() < 400 {
            out.write_all(&chunk)?;
            out.flush()?;
            if end.as_mut().is_some_and(|end| end.feed(&chunk)) {
                break;
            }
        } else if bytes.len() < MAX_ERROR_BODY {
            bytes.extend_from_slice(&chunk[..chunk.len().min(MAX_ERROR_BODY - bytes.len())]);
        }
    }
    out.write_all(&bytes)?;
    if last.is_some_and(|b| b != b'\n') {
        writeln!(out)?;
    }
    if status.as_u16() >= 400 {
        let parsed = oci_auth::ErrorBody::parse(&bytes);
        return Err(CliError::Service {
            status: status.as_u16(),
            code: parsed.code.unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned()),
            message: parsed.message.unwrap_or_else(|| "(no message)".into()),
            request_id,
            hint: hint(status.as_u16(), auth.auth_type()),
        });
    }
    Ok(())
}

fn parse_headers(raw: &[String]) -> Result<reqwest::header::HeaderMap, CliError> {
    let mut map = reqwest::header::HeaderMap::new();
    for item in raw {
        let usage = |what: &str| CliError::Usage(format!("--header `{item}`: {what}; write it as `name: value`"));
        let (name, value) = item.split_once(':').ok_or_else(|| usage("no colon"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| usage("invalid header name"))?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| usage("invalid header value"))?;
        map.append(name, value);
    }
    Ok(map)
}

fn read_body(spec: &str) -> Result<Vec<u8>, CliError> {
    match spec.strip_prefix('@') {
        Some("-") => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| CliError::Usage(format!("cannot read the body from standard input: {e}")))?;
            Ok(body)
        }
        Some(path) => {
            std::fs::read(path).map_err(|e| CliError::Usage(format!("cannot read --request-body file {path}: {e}")))
        }
        None => Ok(spec.as_bytes().to_vec()),
    }
}

fn hint(status: u16, auth_type: AuthType) -> Option<String> {
    match status {
        401 => Some(AuthType::rejected_signature_hint(Some(auth_type)).into()),
        404 => Some("not found, or not authorized: check the region in the URL and your IAM policies".into()),
        _ => None,
    }
}

/// Where a GenAI event stream ends, whichever API sent it: `[DONE]`; a
/// Responses `response.completed`, `.incomplete`, `.failed` or `error`; a
/// native or chat-completions event with a finish reason and usage, or one
/// with a finish reason and then, within half a second, one with usage.
#[derive(Default)]
struct StreamEnd {
    parser: oci_genai_transport::sse::SseParser,
    events: Vec<oci_genai_transport::sse::SseEvent>,
    finished: bool,
}

impl StreamEnd {
    /// How long to wait for more once the answer has finished.
    fn grace(&self) -> Option<Duration> {
        self.finished.then_some(Duration::from_millis(500))
    }

    /// Takes a chunk; `true` once the final event has come.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        if self.parser.feed(chunk, &mut self.events).is_err() {
            return false;
        }
        for event in self.events.drain(..) {
            if event.is_done() {
                return true;
            }
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&event.data) else { continue };
            let kind = event.event.as_deref().or(json["type"].as_str()).unwrap_or_default();
            if matches!(kind, "response.completed" | "response.incomplete" | "response.failed" | "error") {
                return true;
            }
            let finish = !json["finishReason"].is_null() || !json["choices"][0]["finish_reason"].is_null();
            let usage = !json["usage"].is_null();
            if (finish || self.finished) && usage {
                return true;
            }
            self.finished |= finish;
        }
        false
    }
}

/// What `--dry-run` prints.
#[derive(serde::Serialize)]
struct DryRun {
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
}

impl DryRun {
    /// `token_key_id`, when given, is replaced by `ST$<redacted>` in `authorization`.
    fn of(request: &reqwest::Request, token_key_id: Option<&str>) -> Self {
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                let mut value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                if let (true, Some(key_id)) = (name == "authorization", token_key_id) {
                    value = value.replace(key_id, "ST$<redacted>");
                }
                (name.as_str().to_owned(), value)
            })
            .collect();
        DryRun { method: request.method().to_string(), url: request.url().to_string(), headers }
    }
}
